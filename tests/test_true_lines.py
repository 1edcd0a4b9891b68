"""`rise.examples.true_lines` end to end on the smoke preset with the guess task: training leaves out every selected turn
that writes a false calculation, counts them in the manifest, and the iteration-1 ablations follow the same rule."""
import json, subprocess
import pytest
from rise_nb.rundir import Run
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
