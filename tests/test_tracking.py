"""`report_to`: a run's training losses and stage numbers reach the tracker (TensorBoard's event files, read back here),
stages finished before are not sent again, and tracking changes no record."""
import json, re
from dataclasses import replace
import pytest
pytest.importorskip('tensorboard', reason='pip install "rise_nb[track]" (the dev extra has it)')
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from rise_nb.pipeline import smoke_run, run_pipeline

def _losses(run, stage): return json.loads((run.path/f'{stage}_log.json').read_text())['losses']

def test_tracked_stage_matches_its_records(tmp_path):
    ref, run = smoke_run(tmp_path/'ref'), smoke_run(tmp_path/'tracked')
    run = run_pipeline(run.path, replace(run.cfg, report_to='tensorboard'), force=['sft'])  # redo sft, eval_sft, report: tracked
    ea = EventAccumulator(str(run.path/'tensorboard')); ea.Reload()
    tags = set(ea.Tags()['scalars'])
    assert not any(t.startswith(('boost/', 'train_1/', 'eval_1/')) for t in tags)  # finished before this call: not sent again
    before = sum(len(_losses(run, s)) for s in ('boost', 'train_1', 'train_2'))  # ... but their steps count
    losses, got = _losses(run, 'sft'), [(e.step, e.value) for e in ea.Scalars('sft/loss')]
    assert [s for s, _ in got] == list(range(before + 1, before + len(losses) + 1))
    assert all(abs(v - l) <= 1e-6 * max(1.0, abs(l)) for (_, v), l in zip(got, losses))  # float32 in the event file
    row = run.manifest['stages']['eval_sft']
    for m in ('m1@t1', 'p1@t3'):
        assert [(e.step, round(e.value, 4)) for e in ea.Scalars(f'eval_sft/{m}')] == [(before + len(losses), round(row[m], 4))]
    for f in sorted(p.relative_to(ref.path) for d in ('sft', 'eval_sft') for p in (ref.path/d).rglob('*') if p.is_file()):
        if f.name == 'rise_nb.json': continue  # the training log: paths and seconds
        same = lambda p: re.sub(rb'"[^"]*/sft"', b'"SFT"', p.read_bytes())  # the model's path: the copy's (or the cached run's)
        assert same(ref.path/f) == same(run.path/f), f"{f} changed under tracking"
