"""tools/compare_runs.py, which checks that a change left a run's records byte-identical: clock fields and the run's
own path are ignored, any other difference is reported by file."""
import json, subprocess, sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[1]/'tools'/'compare_runs.py'

def _run(d:Path, reward:int, seconds:float):
    (d/'eval_1').mkdir(parents=True)
    (d/'config.json').write_text(json.dumps({'seed': 0}))
    (d/'manifest.json').write_text(json.dumps({'stages': {'train_1': {'seconds': seconds, 'start': str(d/'boost'), 'final_loss': 0.5}}}))
    (d/'eval_1'/'no_oracle.jsonl').write_text(json.dumps({'turns': [{'reward': reward}]}) + '\n')
    (d/'run.log').write_text(f'took {seconds}s\n')
    return d

def _compare(a, b):
    r = subprocess.run([sys.executable, str(TOOL), str(a), str(b)], capture_output=True, text=True)
    return r.returncode, r.stdout

def test_same_records_other_clock_and_path(tmp_path):
    rc, out = _compare(_run(tmp_path/'a', 1, 3.0), _run(tmp_path/'b', 1, 9.5))
    assert (rc, out.splitlines()[-1]) == (0, '3 files identical, 0 differ, 0 in one run only')

def test_tracker_files_are_not_records(tmp_path):
    "A tracked run (`report_to`) has TensorBoard's event files in `tensorboard/`; they hold times, not records, and are skipped."
    a, b = _run(tmp_path/'a', 1, 3.0), _run(tmp_path/'b', 1, 3.0)
    (b/'tensorboard'/'1.5').mkdir(parents=True); (b/'tensorboard'/'events.out.tfevents.1').write_bytes(b'x'); (b/'tensorboard'/'1.5'/'hparams.yml').write_text('seed: 0')
    rc, out = _compare(a, b)
    assert (rc, out.splitlines()[-1]) == (0, '3 files identical, 0 differ, 0 in one run only')
    (b/'eval_1'/'tensorboard.jsonl').write_text('{}')  # only the top-level folder is skipped
    assert 'in one run only: eval_1/tensorboard.jsonl' in _compare(a, b)[1]

def test_a_changed_record_is_named(tmp_path):
    a, b = _run(tmp_path/'a', 1, 3.0), _run(tmp_path/'b', 0, 3.0)
    (b/'extra.json').write_text('{}')
    rc, out = _compare(a, b)
    assert rc == 1 and 'differs: eval_1/no_oracle.jsonl' in out and 'in one run only: extra.json' in out

def test_not_a_run(tmp_path):
    r = subprocess.run([sys.executable, str(TOOL), str(tmp_path), str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 2 and 'no config.json' in r.stderr
