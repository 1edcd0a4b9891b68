"""A task of the user's own, defined in a file outside the package, run end to end by the `rise_nb` command: found through
`--import` in the command itself and in the data-parallel training processes it launches (`--processes 2`)."""
import json, os, re, subprocess, sys
from pathlib import Path
import pytest

TASK = (Path(__file__).resolve().parents[1]/'examples'/'my_tasks.py').read_text()  # the README's example task
_SCRIPT = Path(sys.executable).with_name('rise_nb')
RISE = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, '-m', 'rise_nb.cli']  # the console script, as a user runs it
EVALS = ('eval_boost', 'eval_1', 'eval_2', 'eval_sft')

@pytest.fixture(scope='module')
def workdir(tmp_path_factory):
    "A folder holding `my_tasks.py` and nothing of rise_nb's: the working directory of every command below."
    d = tmp_path_factory.mktemp('own_task')
    (d/'my_tasks.py').write_text(TASK)
    return d

def rise(cwd, *args):
    env = {k: v for k, v in os.environ.items() if k != 'RISE_NB_IMPORT'}
    return subprocess.run([*RISE, *args], cwd=cwd, env=env, capture_output=True, text=True)

def records(f): return [json.loads(l) for l in Path(f).read_text().splitlines()]

def check_run(out:Path, problems:int, turns:int):
    "The run computed on the task's own problems: its records name them, its metrics exist for every model."
    assert json.loads((out/'config.json').read_text())['task'] == 'sums'
    for stage in EVALS:
        no = records(out/stage/'no_oracle.jsonl')
        assert [r['problem']['id'] for r in no] == [f'sums/test/{i}' for i in range(problems)], stage
        assert all(re.fullmatch(r'What is \d+ \+ \d+\?', r['problem']['question']) and len(r['turns']) == turns for r in no)
        row = json.loads((out/stage/'metrics.json').read_text())['row']
        assert set(row) == {'m1@t1', f'm{turns}@t1', f'm1@t{turns}', f'p1@t{turns}'} and all(0 <= v <= 100 for v in row.values())
        assert json.loads((out/stage/'per_problem.json').read_text())['ids'] == [r['problem']['id'] for r in no]
    coll = records(out/'collect_1.jsonl')
    assert coll and all(r['problem']['id'].startswith('sums/train/') for r in coll)
    res = json.loads((out/'results.json').read_text())
    assert {'boosted base', 'RISE iteration 1', 'RISE iteration 2', 'SFT on oracle'} <= {k.split(' (')[0] for k in res}  # a user operator's rows carry its name

def test_unknown_without_import(workdir):
    "Without `--import` the command does not know the task, says how to make it known, and runs nothing."
    r = rise(workdir, 'run', '--preset', 'smoke', '--set', 'task=sums', '--out', 'none')
    assert r.returncode == 2, r.stderr[-2000:]
    assert "Unknown task 'sums'" in r.stderr and '--import MODULE' in r.stderr
    assert not (workdir/'none'/'manifest.json').exists()

def test_own_task_end_to_end(workdir):
    "`rise_nb run --import my_tasks --set task=sums`: every stage, in this one process, on the task's problems."
    r = rise(workdir, 'run', '--import', 'my_tasks', '--preset', 'smoke', '--set', 'task=sums', '--out', 'one')
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    check_run(workdir/'one', problems=6, turns=3)
    assert 'processes' not in json.loads((workdir/'one'/'boost_log.json').read_text())

def test_own_task_in_two_processes(workdir):
    "With `--processes 2` the training stages run in two launched processes; Boost's workers build the task by its name."
    r = rise(workdir, 'run', '--import', 'my_tasks', '--preset', 'smoke', '--set', 'task=sums', '--processes', '2', '--out', 'two')
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    check_run(workdir/'two', problems=6, turns=3)
    assert json.loads((workdir/'two'/'boost_log.json').read_text())['processes'] == 2
    assert json.loads((workdir/'two'/'train_1'/'rise_nb.json').read_text())['rise_nb']['processes'] == 2

def test_own_task_and_operator_from_a_yaml_config_in_two_processes(workdir):
    "A config written by `rise_nb config`, edited to name the user's task and operator, runs from `--config run.yaml` in two processes."
    ops = (Path(__file__).resolve().parents[1]/'examples'/'my_ops.py').read_text()
    (workdir/'my_ops.py').write_text(ops)
    r = rise(workdir, 'config', '--preset', 'smoke', '--out', 'run.yaml')
    assert r.returncode == 0 and (workdir/'run.yaml').exists(), r.stderr[-2000:]
    y = (workdir/'run.yaml').read_text()
    assert re.search(r"^task: arithmetic\b", y, re.M) and re.search(r"^\s+operator: best_of_n\b", y, re.M), y[:1500]
    y = re.sub(r"^task: arithmetic\b", "task: sums", y, flags=re.M)
    (workdir/'run.yaml').write_text(re.sub(r"^(\s+)operator: best_of_n\b", r"\1operator: shortest_best", y, flags=re.M))
    r = rise(workdir, 'run', '--import', 'my_tasks', '--import', 'my_ops', '--config', 'run.yaml', '--processes', '2', '--out', 'yaml')
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    check_run(workdir/'yaml', problems=6, turns=3)
    cfg = json.loads((workdir/'yaml'/'config.json').read_text())
    assert (cfg['task'], cfg['rise']['operator']) == ('sums', 'shortest_best')
    assert json.loads((workdir/'yaml'/'train_1'/'rise_nb.json').read_text())['rise_nb']['processes'] == 2
    assert 'RISE iteration 1 (shortest_best)' in json.loads((workdir/'yaml'/'results.json').read_text())
