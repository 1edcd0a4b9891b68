"""tools/guess_lines.py: the rates it gives for the lines of guess-task revisions, checked on trajectories written here
with the task's own `slipped` and `revise`, and its refusal of another task's records."""
import json, random, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import guess_lines
from rise_nb.mdp import Trajectory, Turn
from rise_nb.tasks import GuessTask, ArithmeticTask

def _traj(task, p, first, second):
    c1, c2 = task.check(first, p), task.check(second, p)
    return Trajectory(p, [Turn(first, c1.answer, c1.reward), Turn(second, c2.answer, c2.reward)])

@pytest.mark.parametrize('lines', ['noun_first', 'plain'])
def test_right_revisions_score_every_line(lines):
    t = GuessTask(lines=lines); ps = t.load('train', 40)
    trajs = [_traj(t, p, f"Try {int(p.answer) + 7}.\n#### {int(p.answer) + 7}", t.revise(p, f"#### {int(p.answer) + 7}")) for p in ps]
    r = guess_lines.revision_lines(trajs)
    assert r['accuracy'] == [0.0, 100.0] and r['revisions'] == 40
    assert (r['check'], r['amount'], r['result'], r['difference'], r['move'], r['no difference line']) == (100.0,) * 5 + (0.0,)
    assert r['first miss'] == {'median': 7.0, 'p90': 7.0}

@pytest.mark.parametrize('lines', ['noun_first', 'plain'])
def test_a_false_difference_is_counted_and_a_missing_line_too(lines):
    t = GuessTask(lines=lines); ps = t.load('train', 20)
    bad = [_traj(t, p, p.solution, t.revise(p, p.solution, miss=2)) for p in ps[:10]]  # the difference off by 2, the move right for it
    none = [_traj(t, p, p.solution, p.solution) for p in ps[10:]]  # a second turn that guesses again: no difference line
    r = guess_lines.revision_lines(bad + none)
    assert (r['difference'], r['move'], r['no difference line']) == (0.0, 50.0, 50.0)
    assert r['first miss'] is None  # every first turn right

def test_refuses_records_of_another_task(tmp_path):
    a = ArithmeticTask(); p = a.load('test', 1)[0]
    (tmp_path/'run'/'eval_boost').mkdir(parents=True)
    (tmp_path/'run'/'eval_boost'/'no_oracle.jsonl').write_text(Trajectory(p, [Turn(p.solution, p.answer, 1)]).to_json() + '\n')
    with pytest.raises(SystemExit, match='not the guess task'): guess_lines.main([str(tmp_path/'run'), '--name', 'x'])
