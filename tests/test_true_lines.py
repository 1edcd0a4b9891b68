"""`rise.examples.true_lines` end to end on the smoke preset with the guess task: training leaves out every selected turn
that writes a false calculation, counts them in the manifest, and the iteration-1 ablations follow the same rule."""
import json, re, shutil, subprocess
import pytest
from rise_nb.mdp import Turn
from rise_nb.collect import read_records
from rise_nb.rwr import select_turns
from rise_nb.tasks import GuessTask
from rise_nb.analysis import run_ablation

ARGS = ['run', '--preset', 'smoke', '--set', 'task=guess', '--set', 'rise.iterations=1', '--set', 'rise.sft_baseline=false',
        '--set', 'eval.problems=4', '--set', 'rise.past_right=true', '--set', 'rise.examples.true_lines=true']

def test_true_lines_leaves_out_false_calculations(tmp_path):
    run = tmp_path/'run'
    r = subprocess.run(['rise_nb', *ARGS, '--out', str(run)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((run/'config.json').read_text())['rise']['examples']['true_lines'] is True
    trajs, task = read_records(run/'collect_1.jsonl'), GuessTask()
    picked = [t.turns[i].action for t in trajs for i in select_turns(t, 'all', dedupe=True, past_right=True)]
    false = sum(task.false_lines(a) > 0 for a in picked)
    train = json.loads((run/'manifest.json').read_text())['stages']['train_1']
    assert train['false_lines'] == false and train['examples'] + train['dropped'] == len(picked) - false
    right = [t.turns[i].action for t in trajs for i in select_turns(t, 'success', dedupe=True, past_right=True)]
    clean = sum(task.false_lines(a) == 0 for a in right)
    if not clean:  # the smoke model is rarely right: the ablation then says it has nothing to train
        with pytest.raises(ValueError, match='gives no training example'): run_ablation(run, 'success_only')
        return
    m = run_ablation(run, 'success_only')  # builds its examples by the run's rules, this one included
    assert 'm1@t1' in m['row']
    assert json.loads((run/'ablations'/'success_only'/'train_log.json').read_text())['examples'] <= clean

def _false(text):
    "`text` with its first calculation's result one too high."
    return re.sub(r'=(-?\d+)', lambda m: f'={int(m[1]) + 1}', text, count=1)

def test_true_lines_trains_none_of_a_collection_of_slips(tmp_path):
    "The smoke model's own turns rarely hold a calculation: its collection is replaced by one where every first turn writes a false one and every second turn is the oracle's revision; training resumes on it."
    run, task = tmp_path/'run', GuessTask()
    r = subprocess.run(['rise_nb', *ARGS, '--set', 'eval.turns=2', '--out', str(run)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    trajs = read_records(run/'collect_1.jsonl')
    for t in trajs:
        first = _false(t.problem.solution); second = task.revise(t.problem, first)
        c1, c2 = task.check(first, t.problem), task.check(second, t.problem)
        t.turns = [Turn(first, c1.answer, c1.reward, t.turns[0].feedback), Turn(second, c2.answer, c2.reward)]
        assert task.false_lines(first) == 1 and task.false_lines(second) == 0
    (run/'collect_1.jsonl').write_text(''.join(t.to_json() + '\n' for t in trajs))
    mf = json.loads((run/'manifest.json').read_text())
    for s in ('train_1', 'eval_1', 'sft', 'eval_sft', 'report'): mf['stages'].pop(s, None)
    (run/'manifest.json').write_text(json.dumps(mf))
    shutil.rmtree(run/'train_1'); shutil.rmtree(run/'eval_1')
    r = subprocess.run(['rise_nb', 'run', '--out', str(run)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    train = json.loads((run/'manifest.json').read_text())['stages']['train_1']
    assert (train['false_lines'], train['examples']) == (len(trajs), len(trajs))  # every first turn left out, every revision trained
