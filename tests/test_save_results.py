"""tools/save_results.py: the summaries of a run go to results/, with each evaluation's per-problem outcomes (built from
the records where the run predates `per_problem.json`, into the copy only), and they give back the run's results row."""
import json, sys
from pathlib import Path
from rise_nb.mdp import Problem, Turn, Trajectory
from rise_nb.evaluate import cut_at_success, per_problem_row, read_per_problem

sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'tools'))
from save_results import save, relative_paths

def _eval(d:Path):
    "An evaluation directory of 2 problems, 2 turns, 2 samples, with the metrics its records give."
    no = [Trajectory(Problem('a', 'q', '4'), [Turn('', '5', 0), Turn('', '4', 1)]), Trajectory(Problem('b', 'q', '4'), [Turn('', '4', 1), Turn('', '4', 1)])]
    par = [Trajectory(Problem(p, 'q', '4'), [Turn('', '4', 1, meta={'candidates': [{'text': '', 'answer': a, 'reward': r} for a, r in c]})])
           for p, c in (('a', [('4', 1), ('3', 0)]), ('b', [('3', 0), ('3', 0)]))]
    d.mkdir(parents=True)
    for f, ts in (('no_oracle', no), ('oracle', [cut_at_success(t) for t in no]), ('parallel', par)):
        (d/f'{f}.jsonl').write_text(''.join(t.to_json() + '\n' for t in ts))
    (d/'metrics.json').write_text(json.dumps({'row': {'m1@t1': 50.0, 'm2@t1': 0.0, 'm1@t2': 100.0, 'p1@t2': 100.0}}))

def test_per_problem_is_built_for_an_older_run(tmp_path):
    run, dest = tmp_path/'run', tmp_path/'results'/'run'
    _eval(run/'eval_boost'); (run/'config.json').write_text('{"seed": 0}')
    files = save(run, dest)
    assert files == ['config.json', 'eval_boost/metrics.json', 'eval_boost/per_problem.json']
    assert not (run/'eval_boost'/'per_problem.json').exists()  # the run directory is left as it was
    pp = read_per_problem(dest/'eval_boost')
    assert pp['correct'] == ['01', '11'] and pp['oracle_first'] == [2, 1] and pp['samples'] == ['10', '00']
    assert per_problem_row(pp) == json.loads((run/'eval_boost'/'metrics.json').read_text())['row']
    (run/'eval_boost'/'per_problem.json').write_text('{"kept": 1}')
    save(run, dest)  # a run that has the file: copied as it is
    assert (dest/'eval_boost'/'per_problem.json').read_text() == '{"kept": 1}'

def test_no_machine_paths_in_results(tmp_path):
    run = tmp_path/'runs'/'tiny-s0'
    _eval(run/'eval_boost')
    (run/'manifest.json').write_text(json.dumps({'boost': {'model': f'{run.resolve()}/boost'}, 'train_1': {'model': f'{run}/train_1', 'run': str(run)},
                                                 'other': '/elsewhere/boost'}))
    (run/'config.json').write_text('{"seed": 0}')
    save(run, tmp_path/'results'/'tiny-s0')
    m = json.loads((tmp_path/'results'/'tiny-s0'/'manifest.json').read_text())
    assert m == {'boost': {'model': 'boost'}, 'train_1': {'model': 'train_1', 'run': '.'}, 'other': '/elsewhere/boost'}
    assert relative_paths('"runs/a/boost" "runs/ab/x"', Path('runs/a')) == '"boost" "runs/ab/x"'

def test_committed_results_name_no_machine_path():
    "The summaries under results/ hold paths relative to their run, never a folder of the machine that made them."
    root = Path(__file__).resolve().parents[1]/'results'
    bad = [str(f.relative_to(root)) for f in root.rglob('*.json') if '"/' in f.read_text(encoding='utf-8')]
    assert bad == [], bad
