"""No engine outlives its stage: every engine a run opens is closed before the next stage starts, also when a stage fails.

The pipeline's engines are replaced by one that records its life cycle (`get_engine` in `rise_nb.pipeline`), and the
training stages by a stand-in that writes nothing (no weights are trained: the life cycle is the point)."""
import pytest
import rise_nb.pipeline as pl
from rise_nb.engines import Engine, Completion
from rise_nb.pipeline import apply_overrides, get_preset, run_pipeline

class Recorder(Engine):
    "Answers `#### 7` to everything; logs `open`/`close` events, with its number, to a shared list."
    def __init__(self, log, fail_on=None):
        self.log, self.fail_on, self.n = log, fail_on, sum(e[0] == 'open' for e in log)
        self.closed = False; log.append(('open', self.n))
    def generate(self, convs, params):
        if self.fail_on and any(e == ('start', self.fail_on) for e in self.log): raise self.fail_on_exc
        return [[Completion('#### 7', 3, 'stop') for _ in range(params.n)] for _ in convs]
    def close(self):
        if not self.closed: self.closed = True; self.log.append(('close', self.n))

def _patch(monkeypatch, log, fail_on=None, exc=RuntimeError('generation failed')):
    def engine(kind, model=None, **kw):
        e = Recorder(log, fail_on); e.fail_on_exc = exc; return e
    monkeypatch.setattr(pl, 'get_engine', engine)
    monkeypatch.setattr(pl, '_train_rwr', lambda start, out, ds, tc: {'final_loss': 0.0})
    real = pl.stage_fn
    def stage_fn(name):
        f = real(name)
        def wrapped(run):
            log.append(('start', name))
            try: return f(run)
            finally: log.append(('end', name))
        return wrapped
    monkeypatch.setattr(pl, 'stage_fn', stage_fn)

def _cfg(teacher=False):
    sets = ['boost.steps=0', 'rise.iterations=1', 'rise.problems=4', 'eval.problems=3']
    return apply_overrides(get_preset('smoke'), sets + (['rise.teacher=some/teacher'] if teacher else []))

def _check(log):
    "Every engine opened inside a stage is closed before that stage ends; returns {stage: engines it opened}."
    stage, opened, per = None, set(), {}
    for ev, x in log:
        if ev == 'start': stage, opened = x, set()
        elif ev == 'open': assert stage is not None, f"engine {x} opened outside a stage"; opened.add(x); per[stage] = per.get(stage, 0) + 1
        elif ev == 'close': opened.discard(x)
        elif ev == 'end': assert not opened, f"stage {x} ended with engine(s) {sorted(opened)} still open"; stage = None
    return per

@pytest.mark.parametrize('teacher', [False, True])
def test_every_engine_closed_before_the_next_stage(tmp_path, monkeypatch, teacher):
    log = []; _patch(monkeypatch, log)
    run_pipeline(tmp_path/'r', _cfg(teacher))
    per = _check(log)
    assert per == {'eval_boost': 1, 'collect_1': 2 if teacher else 1, 'eval_1': 1, 'eval_sft': 1}, per
    assert sum(e[0] == 'open' for e in log) == sum(e[0] == 'close' for e in log)

@pytest.mark.parametrize('exc', [RuntimeError('generation failed'), KeyboardInterrupt()])
@pytest.mark.parametrize('stage', ['collect_1', 'eval_1'])
def test_engines_closed_when_a_stage_fails(tmp_path, monkeypatch, stage, exc):
    log = []; _patch(monkeypatch, log, fail_on=stage, exc=exc)
    with pytest.raises(type(exc)): run_pipeline(tmp_path/'r', _cfg(teacher=True))
    _check(log)
    assert ('end', stage) in log and log[-1] == ('end', stage)  # the run stopped in the failing stage
    opened = {x for e, x in log if e == 'open'}
    assert opened and opened == {x for e, x in log if e == 'close'}
