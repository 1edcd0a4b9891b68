"""The guess-and-check task end to end on the smoke preset: its tokenizer knows the words of a revision, Boost trains
`revise` of the last attempt where a state holds one, and every stage runs on its problems."""
import json, subprocess
from rise_nb.mdp import Trajectory
from rise_nb.models import load_tokenizer, build_tiny_model
from rise_nb.presets import get_preset
from rise_nb.tasks import GuessTask, ArithmeticTask

ARGS = ['run', '--preset', 'smoke', '--set', 'task=guess', '--set', 'rise.iterations=1', '--set', 'eval.problems=4']

def test_guess_task_runs_every_stage(tmp_path):
    run = tmp_path/'run'
    r = subprocess.run(['rise_nb', *ARGS, '--out', str(run)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    cfg = json.loads((run/'config.json').read_text())
    assert cfg['task'] == 'guess' and GuessTask(**cfg['task_args']).config() == GuessTask().config()
    mf = json.loads((run/'manifest.json').read_text())['stages']
    assert {'boost', 'eval_boost', 'collect_1', 'train_1', 'eval_1', 'sft', 'eval_sft'} <= set(mf)
    trajs = [Trajectory.from_json(l) for l in (run/'collect_1.jsonl').read_text().splitlines()]
    assert trajs and all(t.problem.id.startswith('guess/train/') and 'did' in t.problem.question for t in trajs)
    tok = load_tokenizer(run/'base')
    t = GuessTask(); p = t.load('train', 1)[0]
    text = t.revise(p, t.slipped(p, __import__('random').Random(0)))
    assert tok.decode(tok(text, add_special_tokens=False)['input_ids']) == text
    plain = load_tokenizer(build_tiny_model(tmp_path/'plain', task=ArithmeticTask(), cfg=get_preset('smoke').model))
    n = lambda t: len(t(text, add_special_tokens=False)['input_ids'])
    assert n(tok) < n(plain)  # the run's tokenizer was fitted on revisions too: their words take fewer tokens
