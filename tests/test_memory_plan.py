"""The memory plan's estimate against measured peaks: randomly initialised Llama models at three sizes (7M-70M
parameters), two training steps each in a fresh process on the CPU (float32), peak RSS over the resident memory after imports."""
import json, subprocess, sys
from pathlib import Path
import pytest
from rise_nb.memory import training_memory, param_counts, memory_plan, plan_markdown, check_plan
from rise_nb.presets import get_preset
from rise_nb.config import apply_overrides

ROOT = Path(__file__).resolve().parents[1]
MEASURE = r'''
import json, resource, sys
import torch
torch.set_num_threads(1)
from transformers import LlamaConfig, LlamaForCausalLM
from rise_nb.rwr import rwr_loss
from rise_nb.train import enable_checkpointing
shape, B, T, ckpt = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == '1'
def status(key):  # KiB, from this process's own memory map: ru_maxrss would start at the parent's high-water mark (kept across fork and exec)
    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith(key + ':'))
base = status('VmRSS')  # resident after imports
torch.manual_seed(0)
m = enable_checkpointing(LlamaForCausalLM(LlamaConfig(**shape, max_position_embeddings=1024)), ckpt).train()
opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
ids = torch.randint(0, shape['vocab_size'], (B, T))
for step in range(2):  # the second step runs with the optimizer state in place, as every later one does
    rwr_loss(m(input_ids=ids, attention_mask=torch.ones_like(ids)).logits, ids, torch.ones(B)).backward()
    if step == 0: opt.step(); opt.zero_grad(set_to_none=True)
print(json.dumps({'peak': (status('VmHWM') - base) * 1024}))
'''
def _shape(h, L, heads, i, V=16384): return dict(hidden_size=h, num_hidden_layers=L, num_attention_heads=heads, num_key_value_heads=heads,
                                                 intermediate_size=i, vocab_size=V, tie_word_embeddings=True)
SIZES = [(_shape(256, 4, 4, 704), 2, 512, False),  # 7.4M parameters, activations (mostly the loss's logits) dominate
         (_shape(512, 6, 8, 1408), 2, 256, True),  # 28M, gradient checkpointing
         (_shape(768, 8, 12, 2048), 1, 256, False)]  # 69M, weights and AdamW state dominate

@pytest.mark.parametrize('shape,B,T,ckpt', SIZES)
def test_estimate_within_25_percent_of_measured_peak(shape, B, T, ckpt):
    r = subprocess.run([sys.executable, '-c', MEASURE, json.dumps(shape), str(B), str(T), '1' if ckpt else '0'], capture_output=True, text=True,
                       timeout=600, env={'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT), 'PATH': '/usr/bin:/bin'})
    assert r.returncode == 0, r.stderr[-2000:]
    measured = json.loads(r.stdout.strip().splitlines()[-1])['peak']
    est = sum(training_memory(shape, None, B*T, 4, 4, ckpt).values())
    print(f"{param_counts(shape)[0]/1e6:.1f}M parameters, {B*T} tokens, checkpointing {ckpt}: estimate {est/2**20:.0f} MiB, measured {measured/2**20:.0f} MiB")
    assert abs(est - measured) <= 0.25 * measured, (est/2**20, measured/2**20)

def test_gpu_presets_fit_eight_80gib_gpus():
    for name in ('gsm8k-gpu', 'math-gpu'):
        p = memory_plan(get_preset(name), processes=8, gpu_gib=80, tensor_parallel=8)
        check_plan(p)  # raises where a stage does not fit
        assert 'LoRA' in plan_markdown(p)

def test_refuses_with_a_way_out():
    full = apply_overrides(get_preset('gsm8k-gpu'), ['rise.train.lora=null'])
    p = memory_plan(full, processes=8, gpu_gib=80, tensor_parallel=8)
    with pytest.raises(ValueError, match='ZeRO-3'): check_plan(p)
    one = memory_plan(get_preset('gsm8k-gpu'), processes=1, gpu_gib=80, tensor_parallel=1)
    with pytest.raises(ValueError, match='--processes'): check_plan(one)

def _paper_scale_commands()->list[list[str]]:
    "The `rise_nb` command lines of the README's paper-scale section (continuation lines joined, comments dropped)."
    import re, shlex
    md = (ROOT/'README.md').read_text(encoding='utf-8')
    sec = md.split('## Paper scale', 1)[1].split('\n## ', 1)[0]
    block = re.search(r'```sh\n(.*?)```', sec, re.S).group(1).replace('\\\n', ' ')
    return [shlex.split(l.split('#', 1)[0]) for l in block.splitlines() if l.startswith('rise_nb ')]

def test_readme_paper_scale_commands_parse_and_fit():
    "Every paper-scale command parses, its --set keys are valid, and its plan fits 8 GPUs of 80 GiB; the full fine-tuning one runs at 1e-5 under ZeRO-3."
    from rise_nb.cli import cli_parser, _sharding
    from rise_nb.rwr import checkpoint_steps
    cmds = _paper_scale_commands()
    assert len(cmds) >= 4 and any('lora=null' in ' '.join(c) for c in cmds)
    for c in cmds:
        a = cli_parser().parse_args(c[1:])
        cfg = apply_overrides(get_preset(a.preset), a.set)  # raises on an unknown key or a bad value
        acfg = str(ROOT/a.accelerate_config) if a.accelerate_config else None
        p = memory_plan(cfg, a.processes, *_sharding(acfg), gpu_gib=80, tensor_parallel=8)
        check_plan(p)
        if cfg.rise.train.lora is None:
            assert cfg.rise.train.lr == 1e-5 and _sharding(acfg) == (3, False)
            assert checkpoint_steps(cfg.rise.train, 'DEEPSPEED')[0] == 0  # save_every is set aside, not refused

# --- tools/gpu_check.py: the pieces of the real-shape check that run on a CPU ---
def _gpu_check():
    import importlib.util
    spec = importlib.util.spec_from_file_location('gpu_check', ROOT/'tools'/'gpu_check.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m

def test_shape_model_scaled_down(tmp_path):
    "The shape builder on a scaled-down shape: the tokenizer trained on the GSM8K fixture is padded to the model's vocabulary, and the checkpoint loads and generates."
    from rise_nb.models import load_model
    from rise_nb.engines import HFEngine, SamplingParams
    gc = _gpu_check()
    shape = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, intermediate_size=128, vocab_size=3000,
                 tie_word_embeddings=False)
    d = gc.build_shape_model(tmp_path/'m', shape, gc.gsm8k_corpus()[:200], device='cpu', dtype='float32')
    model, tok = load_model(d, device='cpu')
    assert len(tok) == 3000 == model.get_input_embeddings().weight.shape[0]
    assert tok.decode([2999]) == 'x2999'  # a filler id decodes to plain text
    with HFEngine(model, tok, progress=False) as e:
        out = e.generate([[{'role': 'user', 'content': 'What is 2+3?'}]], SamplingParams(n=2, max_new_tokens=8))
    assert [len(r) for r in out] == [2] and all(c.tokens >= 1 for c in out[0])
    with pytest.raises(ValueError, match='more than'): gc.pad_vocab(d, 100)

def test_memory_table():
    t = _gpu_check().memory_table([('collect_1', 61.25, 69.0), ('train_1', None, 29.94)])
    assert t.splitlines()[2] == '| collect_1 | 61.2 | 69.0 |' and t.splitlines()[3] == '| train_1 |  | 29.9 |'

def test_gpu_check_without_a_gpu_exits_3():
    import torch
    if torch.cuda.is_available(): pytest.skip('a CUDA device is visible: this checks the CPU machine behaviour')
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'gpu_check.py'), '--budget', '1'], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 3, r.stdout[-2000:] + r.stderr[-2000:]
    assert 'nothing was tested' in r.stdout and 'real shape 8B' in r.stdout

def test_gpu_check_runs_this_interpreters_rise_nb(monkeypatch):
    "With a PATH that lacks the environment's bin folder, the check still runs the `rise_nb` installed beside its interpreter."
    gc = _gpu_check()
    monkeypatch.setenv('PATH', '/usr/bin:/bin')
    if not (Path(sys.executable).parent/'rise_nb').exists(): pytest.skip('rise_nb is not installed beside this interpreter')
    ok, out = gc.run(['rise_nb', '--help'], 120)
    assert ok and 'rise_nb run --preset tiny' in out, out
