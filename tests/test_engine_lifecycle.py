"""No engine outlives its stage: every engine a run opens is closed before the next stage starts, also when a stage fails.

The pipeline's engines are replaced by one that records its life cycle (`get_engine` in `rise_nb.engines`, which
`engine_for` calls), and the training stages by a stand-in that writes nothing (no weights are trained: the life cycle
is the point)."""
import pytest
import rise_nb.engines as en
import rise_nb.pipeline as pl
from rise_nb.engines import Engine, Completion
from rise_nb.config import apply_overrides
from rise_nb.presets import get_preset
from rise_nb.pipeline import run_pipeline

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
    monkeypatch.setattr(en, 'get_engine', engine)
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
    return apply_overrides(get_preset('smoke'), sets + (['rise.operator=teacher', 'rise.operator_args.model=some/teacher'] if teacher else []))

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

# --- vLLM (opt-in: `pytest -m vllm` in the environment tools/setup_vllm.sh builds) ---
_VLLM_STAGE = r'''
import json, sys, psutil
import rise_nb.engines as en
from rise_nb.config import apply_overrides
from rise_nb.presets import get_preset
from rise_nb.pipeline import run_pipeline
me = psutil.Process()
def tree_mb(): return sum(p.memory_info().rss for p in [me, *me.children(recursive=True)]) / 2**20
base = tree_mb(); seen = {}
real = en.VLLMEngine.generate
def generate(self, convs, params):
    out = real(self, convs, params); seen['during'] = max(seen.get('during', 0), tree_mb()); return out
en.VLLMEngine.generate = generate
cfg = apply_overrides(get_preset('smoke'), ['base="%s"', 'boost.steps=0', 'engine=vllm', 'eval.problems=4',
                                            'engine_args={"enforce_eager": true, "max_model_len": 1024}'])
run_pipeline(sys.argv[1], cfg, until='eval_boost')
kids = [' '.join(p.cmdline()) for p in me.children(recursive=True)]  # Python's own multiprocessing resource tracker stays for the process's life
print(json.dumps({'base': base, 'during': seen['during'], 'after': tree_mb(), 'children': [k for k in kids if 'multiprocessing.resource_tracker' not in k]}))
'''

try:
    import vllm  # noqa: F401
    HAS_VLLM = True
except ImportError: HAS_VLLM = False

@pytest.mark.vllm
@pytest.mark.skipif(not HAS_VLLM, reason="vllm is not importable: build its environment with tools/setup_vllm.sh, then `pytest -m vllm`")
def test_vllm_memory_returns_after_a_stage(tmp_path, boosted_checkpoint):
    "vLLM's CPU build: after `eval_boost` the engine-core process is gone and the process tree holds what it held before the engine."
    import json, subprocess, sys
    r = subprocess.run([sys.executable, '-c', _VLLM_STAGE % boosted_checkpoint, str(tmp_path/'r')], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads(r.stdout.strip().splitlines()[-1])
    assert m['children'] == [], m  # the engine core exited (only Python's resource tracker, 13 MB, may remain)
    assert m['during'] - m['base'] > 500, m  # the stage did hold vLLM's memory (weights, KV cache share, engine core)
    assert m['after'] - m['base'] < 0.25 * (m['during'] - m['base']), m  # and handed it back
