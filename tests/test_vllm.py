"""HFEngine and VLLMEngine held to one contract on the tiny checkpoint (vLLM's CPU build here, `tools/setup_vllm.sh`).

Run with `pytest -m vllm` in the environment that script builds; everywhere else these tests skip, saying why.
"""
import json, math, os, subprocess, sys
from pathlib import Path
import pytest

try:
    import vllm  # noqa: F401
    HAS_VLLM = True
except ImportError: HAS_VLLM = False

pytestmark = [pytest.mark.vllm,
              pytest.mark.skipif(not HAS_VLLM, reason="vllm is not importable: build its environment with tools/setup_vllm.sh, "
                                                      "then `. .venv-vllm/bin/activate && pytest -m vllm`")]

from rise_nb.tasks.arithmetic import ArithmeticTask
from rise_nb.engines import HFEngine, SamplingParams
from rise_nb.mdp import Turn

TASK = ArithmeticTask()
# Eager mode: every engine start-up otherwise runs inductor's C++ compiles (minutes on a busy 2-core machine); the numbers
# are the same kernels' in float32, and bench/peers.py measures the compiled default.
EAGER = {'enforce_eager': True}

def _convs(n=16):
    "First-turn states and multi-turn states (earlier wrong attempts with feedback), so the chat template is exercised fully."
    mdp, probs = TASK.mdp(), TASK.load('test', n)
    out = []
    for i, p in enumerate(probs):
        turns = []
        for k in range(i % 3):  # 0, 1 or 2 earlier attempts
            t = Turn(f"attempt {k}: 1+1=3\n#### 3", answer='3', reward=0.0)
            t.feedback = mdp.feedback(p, t, oracle=True)
            turns.append(t)
        out.append(mdp.state(p, turns))
    return out

@pytest.fixture(scope='module')
def hf(boosted_checkpoint): return HFEngine(boosted_checkpoint, device='cpu', progress=False)

@pytest.fixture(scope='module')
def veng(boosted_checkpoint):
    from rise_nb.engines import VLLMEngine
    e = VLLMEngine(str(boosted_checkpoint), max_model_len=1024, progress=False, **EAGER, seed=0)
    # the very first call of an engine started with seed 0, kept for the repeatability test
    e.first_sample = e.generate(_convs(8), SamplingParams(n=4, temperature=1.0, max_new_tokens=32, seed=3))
    yield e
    e.close()

def test_cpu_defaults(veng):
    info = veng.info()
    assert info['backend'] == 'cpu' and info['engine'] == 'vllm'
    assert veng.llm_args['dtype'] == 'float32'  # the float32 checkpoint is not downcast to bf16
    assert 0 < veng.llm_args['gpu_memory_utilization'] < 0.85  # a share of RAM that is free, not the GPU default

def test_same_prompt_token_ids(hf, veng):
    convs = _convs()
    veng.generate(convs, SamplingParams(temperature=0, max_new_tokens=4))
    assert veng.prompt_ids == hf.encode(convs)
    assert any(len(c) > 2 for c in convs)  # multi-turn states were among them
    assert [veng.prompt_len(c) for c in convs] == [len(x) for x in veng.prompt_ids]  # what collection fits to the context
    assert veng.prompt_limit(4) == 1024 - 4 and hf.prompt_limit(4) == hf.model.config.max_position_embeddings - 4

def test_greedy_outputs_equal(hf, veng):
    convs, sp = _convs(), SamplingParams(temperature=0, max_new_tokens=48)
    a, b = hf.generate(convs, sp), veng.generate(convs, sp)
    assert [[c.text for c in r] for r in a] == [[c.text for c in r] for r in b]
    assert [[c.tokens for c in r] for r in a] == [[c.tokens for c in r] for r in b]
    assert [[c.finish for c in r] for r in a] == [[c.finish for c in r] for r in b]

def test_n_and_max_new_tokens(hf, veng):
    convs = _convs(6)
    for eng in (hf, veng):
        res = eng.generate(convs, SamplingParams(n=5, temperature=1.0, max_new_tokens=6))
        assert [len(r) for r in res] == [5]*6
        assert all(1 <= c.tokens <= 6 for r in res for c in r)
        assert all(c.finish == 'length' for r in res for c in r if c.tokens == 6 and c.text)

def test_stop_strings(hf, veng):
    convs, sp = _convs(), SamplingParams(temperature=0, max_new_tokens=48, stop=('>>', '\n'))
    a, b = hf.generate(convs, sp), veng.generate(convs, sp)
    assert [r[0].text for r in a] == [r[0].text for r in b]
    full = hf.generate(convs, SamplingParams(temperature=0, max_new_tokens=48))
    assert any(('>>' in r[0].text or '\n' in r[0].text) for r in full)  # the stop strings occur, so the cut is tested
    assert all('>>' not in r[0].text and '\n' not in r[0].text for r in b)
    assert all(f[0].text.startswith(r[0].text) for f, r in zip(full, b))
    assert all(r[0].finish == 'stop' for f, r in zip(full, b) if r[0].text != f[0].text)

def test_seeded_requests_and_repeatability(boosted_checkpoint, veng):
    """Seeded requests run on the CPU backend (a per-request seed used to kill its engine core) and sample; greedy is repeatable
    across fresh engines. Sampled outputs are *not* repeatable there even with the same global seed (documented in 03_engines);
    this test says so if that ever changes."""
    from rise_nb.engines import VLLMEngine
    res = veng.first_sample
    assert [len(r) for r in res] == [4]*8
    assert any(len({c.text for c in r}) > 1 for r in res)  # temperature 1: the samples of a state differ
    again = VLLMEngine(str(boosted_checkpoint), max_model_len=1024, progress=False, **EAGER, seed=0)
    try:
        sampled = again.generate(_convs(8), SamplingParams(n=4, temperature=1.0, max_new_tokens=32, seed=3))
        greedy = [again.generate(_convs(8), SamplingParams(temperature=0, max_new_tokens=32)) for _ in range(2)]
    finally: again.close()
    assert greedy[0] == greedy[1] == veng.generate(_convs(8), SamplingParams(temperature=0, max_new_tokens=32))
    if veng.cpu and sampled == res: print("note: vLLM's CPU sampling was repeatable this time: update the 03_engines note")

@pytest.fixture(scope='module')
def adapter(boosted_checkpoint, tmp_path_factory, hf):
    "A LoRA adapter trained by `train_rwr` on rollouts of the boosted model, strong enough to change its greedy answers."
    from rise_nb.collect import collect
    from rise_nb.rwr import build_examples, train_rwr, RWRConfig
    tmp = tmp_path_factory.mktemp('lora')
    trajs = collect(tmp/'rollouts.jsonl', hf, TASK, TASK.load('train', 48), TASK.mdp(), turns=2, samples=[1, 4],
                    params=SamplingParams(max_new_tokens=48, seed=0), progress=False)
    ds = build_examples(hf.tok, TASK.mdp(), trajs, dedupe=False)
    train_rwr(boosted_checkpoint, tmp/'adapter', ds, RWRConfig(epochs=2, batch_size=8, lr=3e-3, lora={'r': 8, 'alpha': 16, 'dropout': 0.0},
                                                              precision='fp32', save_every=0), progress=False)
    assert (tmp/'adapter'/'adapter_config.json').exists()
    return tmp/'adapter'

def test_lora_adapter_served_equals_merged(boosted_checkpoint, adapter, hf):
    from rise_nb.models import load_model
    from rise_nb.engines import VLLMEngine
    model, tok = load_model(adapter, device='cpu', dtype='float32')
    merged = HFEngine(model.merge_and_unload(), tok, progress=False)
    convs, sp = _convs(), SamplingParams(temperature=0, max_new_tokens=48)
    want = [r[0].text for r in merged.generate(convs, sp)]
    assert want != [r[0].text for r in hf.generate(convs, sp)]  # the adapter changes what the model says
    base = json.loads((adapter/'adapter_config.json').read_text())['base_model_name_or_path']
    v = VLLMEngine(base, lora=str(adapter), max_model_len=1024, max_lora_rank=8, progress=False, **EAGER)
    try: got = [r[0].text for r in v.generate(convs, sp)]
    finally: v.close()
    assert got == want

def _accuracy_ci(a, b, n, z=1.96):
    "Whether two accuracies on n problems each agree within the CI (z standard errors) of their difference under sampling noise."
    se = math.sqrt(max(a*(1-a), 1/n)/n + max(b*(1-b), 1/n)/n)
    return abs(a - b) <= z*se, se

def test_evaluation_agrees_with_hf(boosted_checkpoint, tmp_path, hf):
    "The tiny preset's evaluation shape (its problems, turns and samples) on the boosted model: vLLM and HF agree within sampling noise."
    from rise_nb.engines import VLLMEngine
    from rise_nb.evaluate import evaluate_policy
    from rise_nb.presets import get_preset
    tiny = get_preset('tiny'); ev = tiny.eval
    n = min(ev.problems, int(os.environ.get('RISE_NB_VLLM_EVAL_PROBLEMS', '200')))
    probs, sp = TASK.load('test', n), SamplingParams(temperature=tiny.temperature, max_new_tokens=tiny.max_new_tokens, seed=0)
    rows = {}
    v = VLLMEngine(str(boosted_checkpoint), max_model_len=1024, progress=False, **EAGER, seed=1)
    try:
        for name, eng in (('hf', hf), ('vllm', v)):
            res = evaluate_policy(eng, TASK, probs, TASK.mdp(window=ev.window), tmp_path/name, turns=ev.turns, k=ev.k, params=sp)
            rows[name] = res['row']
    finally: v.close()
    print(json.dumps(rows, default=float))
    keys = [k for k in rows['hf'] if 0 <= float(rows['hf'][k]) <= 100]
    z = 2.50 if len(keys) == 4 else 1.96  # 95% for the family of 4 metrics together (Bonferroni: 98.75% each)
    for key in keys:
        a, b = float(rows['hf'][key]) / 100, float(rows['vllm'][key]) / 100
        ok, se = _accuracy_ci(a, b, n, z)
        assert ok, f"{key}: HF {a:.3f} vs vLLM {b:.3f} differ by more than {z} × {se:.3f} on {n} problems"

def test_smoke_run_end_to_end(tmp_path):
    "`rise_nb run --preset smoke --set engine=vllm`: every stage runs, and the records name the vLLM engine."
    out = tmp_path/'smoke'
    r = subprocess.run([str(Path(sys.executable).parent/'rise_nb'), 'run', '--preset', 'smoke', '--set', 'engine=vllm', '--set', 'engine_args={"enforce_eager": true}', '--out', str(out)],
                       capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    man = json.loads((out/'manifest.json').read_text())
    assert 'report' in man['stages'], man['stages'].keys()
    rec = json.loads((out/'collect_1.jsonl').read_text().splitlines()[0])
    assert rec['meta']['engines'][0]['engine'] == 'vllm', rec['meta']['engines']
