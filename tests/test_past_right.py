"""`rise.past_right` end to end on the smoke preset: collection runs without an oracle (every problem gets every turn,
each followed by the retry message), and training selects its turns by the past-right rules, not the official cut."""
import json, shutil, subprocess
from rise_nb.mdp import Trajectory, Turn
from rise_nb.rwr import select_turns

ARGS = ['run', '--preset', 'smoke', '--set', 'rise.iterations=1', '--set', 'rise.sft_baseline=false', '--set', 'eval.problems=4',
        '--set', 'rise.past_right=true']

def test_past_right_collects_every_turn_and_trains_by_its_rules(tmp_path):
    r = subprocess.run(['rise_nb', *ARGS, '--out', str(tmp_path/'run')], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    trajs = [Trajectory.from_json(l) for l in (tmp_path/'run'/'collect_1.jsonl').read_text().splitlines()]
    cfg = json.loads((tmp_path/'run'/'config.json').read_text())
    assert cfg['rise']['past_right'] is True and len(trajs) == cfg['rise']['problems']
    assert all(len(t.turns) == cfg['rise']['turns'] and t.meta['oracle'] is False for t in trajs)
    assert all(t.turns[0].feedback.startswith('The answer is incorrect.') for t in trajs)  # right or wrong, as in evaluation without oracle
    train = json.loads((tmp_path/'run'/'manifest.json').read_text())['stages']['train_1']
    want = sum(len(select_turns(t, 'all', dedupe=True, past_right=True)) for t in trajs)
    assert train['examples'] + train['dropped'] == want
    assert sum(train['kinds'].values()) == train['examples']

def test_past_right_trains_a_right_answer_kept(tmp_path):
    "The smoke model is rarely right, so its collection is replaced by one where every first turn is right and kept: training resumes on it."
    run = tmp_path/'run'
    r = subprocess.run(['rise_nb', *ARGS, '--set', 'eval.turns=2', '--out', str(run)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    trajs = [Trajectory.from_json(l) for l in (run/'collect_1.jsonl').read_text().splitlines()]
    for t in trajs: t.turns = [Turn(t.problem.solution, t.problem.answer, 1.0, t.turns[0].feedback), Turn(t.problem.solution, t.problem.answer, 1.0)]
    (run/'collect_1.jsonl').write_text(''.join(t.to_json() + '\n' for t in trajs))
    mf = json.loads((run/'manifest.json').read_text())
    for s in ('train_1', 'eval_1', 'report'): mf['stages'].pop(s)
    (run/'manifest.json').write_text(json.dumps(mf))
    shutil.rmtree(run/'train_1'); shutil.rmtree(run/'eval_1')
    r = subprocess.run(['rise_nb', 'run', '--out', str(run)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    train = json.loads((run/'manifest.json').read_text())['stages']['train_1']
    assert train['kinds']['kept_right'] == train['kinds']['first_right'] == len(trajs)  # the official cut would train the first turn alone
