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

@pytest.mark.parametrize('lines', ['noun_first', 'plain'])
def test_lost_right_answers_are_sorted_by_the_first_line_at_fault(lines):
    t = GuessTask(lines=lines); ps = t.load('train', 40)
    keep = [_traj(t, p, p.solution, t.revise(p, p.solution)) for p in ps[:20]]  # a right answer checked and kept
    eq = [_traj(t, p, p.solution, t.revise(p, p.solution, miss=3)) for p in ps[20:30]]  # checked right, then a difference of 3 between equal amounts
    fresh = [_traj(t, p, p.solution, f"Try {int(p.answer) + 1}.\n#### {int(p.answer) + 1}") for p in ps[30:35]]  # no check of the answer
    wrong_first = [_traj(t, p, f"#### {int(p.answer) + 4}", t.revise(p, f"#### {int(p.answer) + 4}")) for p in ps[35:]]  # not after a right answer
    r = guess_lines.lost_right(keep + eq + fresh + wrong_first)
    assert (r['after right'], r['kept']) == (35, round(100*20/35, 1))
    assert r['lost: difference of equal amounts'] == round(100*10/15, 1) and r['lost: check another number'] == round(100*5/15, 1)
    assert r['lost: check'] == r['lost: difference'] == r['lost: move'] == r['lost: other'] == 0.0

def test_a_false_check_of_a_right_answer_is_a_check_fault():
    t = GuessTask(lines='plain'); ps = t.load('train', 10)
    def slipped(p):  # the check's last line one too high, and the difference and the move follow from it
        a, n = t.revise(p, p.solution), int(p.answer)
        amount = int(a.split('Need ')[1].split(':')[0])
        return a.split('\nNeed')[0].rsplit('=', 1)[0] + f"={amount + 1}.\nNeed {amount}: {amount}-{amount + 1}=-1.\nTry {n}-1={n - 1}.\n#### {n - 1}"
    r = guess_lines.lost_right([_traj(t, p, p.solution, slipped(p)) for p in ps])
    assert (r['after right'], r['kept'], r['lost: check']) == (10, 0.0, 100.0)

def test_false_calculations_are_counted_after_right_and_wrong_answers():
    t = GuessTask(lines='plain'); ps = t.load('train', 20)
    clean = [_traj(t, p, p.solution, t.revise(p, p.solution)) for p in ps[:10]]  # a right answer kept, every line true
    slip = [_traj(t, p, f"#### {int(p.answer) + 4}", t.revise(p, f"#### {int(p.answer) + 4}", miss=2)) for p in ps[10:]]  # the difference off by 2: false, and wrong
    r = guess_lines.false_calculations(clean + slip)
    assert r == {'false calculation: after right': 0.0, 'false calculation: after wrong': 100.0, 'false calculation: right': 0.0, 'false calculation: wrong': 100.0}
