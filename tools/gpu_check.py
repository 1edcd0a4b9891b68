#!/usr/bin/env python
"""GPU acceptance: one command, no installs, under 8 minutes; prints one table (check, status, seconds, note).

Checks, each in its own process under its own time limit (and all of them under `--budget`):

- `cuda`: torch sees a CUDA device (every other check needs one and is skipped, with the reason, when it does not);
- `notebooks (gpu cells)`: the notebook cells flagged `#| gpu` (and `#| vllm` when vLLM imports), run by
  `nbdev_test --flags ...`, one notebook at a time;
- `tiny preset, hf engine`: `rise_nb run --preset tiny` on the GPU at reduced sizes (one iteration, fewer steps and
  problems: `--set` below), every stage, with the transformers engine;
- `tiny preset, vllm engine`: if `import vllm` works, the boosted model of the previous check evaluated with the
  vLLM engine (`--set engine=vllm`);
- `data-parallel training (2 processes)`: with two or more GPUs, `rise_nb train --preset smoke --processes 2` (Boost
  and RWR each launched by `accelerate launch`, one process per GPU) and checks both training logs say 2 processes;
- `real shape 1B`, then `real shape 8B` (`--shapes`): with vLLM, a randomly initialised model with the shape of
  Llama 3.2 1B, then of Llama 3 8B (`SHAPES`: hidden size, layers, heads, KV heads, MLP width, vocabulary; nothing is
  downloaded) and a tokenizer trained on the local GSM8K fixture (tests/data), padded to the model's vocabulary, runs
  the `gsm8k-gpu` stages on a handful of problems in one process, as a user's run would: collection with vLLM, LoRA
  training in bf16, evaluation with vLLM. It prints the peak GPU memory of each stage (all processes on the device,
  sampled) beside the memory plan's figure. Accuracy is meaningless there; memory, the hand-over from generation to
  training and back, and the plumbing are the point. The 1B shape runs first so that a failure is cheap. They need
  more than the default budget: `python tools/gpu_check.py --budget 20`.

Exit codes: 0 every check that ran passed (some may be skipped, e.g. no vLLM or one GPU); 1 a check failed or timed
out; 3 no CUDA device, so every GPU check was skipped and nothing was tested (what a CPU machine reports).
"""
from __future__ import annotations
import argparse, json, os, shutil, subprocess, sys, tempfile, textwrap, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXIT_OK, EXIT_FAILED, EXIT_NO_GPU = 0, 1, 3
TINY_SETS = ['rise.iterations=1', 'boost.steps=300', 'rise.problems=200', 'eval.problems=100', 'rise.sft_baseline=false']


def run(cmd:list, timeout:float, cwd=ROOT, env=None)->tuple[bool, str]:
    "Run `cmd`; (passed, last lines of its output); a timeout is a failure that says so. `rise_nb` is this interpreter's, where PATH lacks it."
    if cmd[0] == 'rise_nb': cmd = [shutil.which('rise_nb', path=str(Path(sys.executable).parent)) or 'rise_nb'] + cmd[1:]
    try: r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=max(timeout, 1), env=env)
    except subprocess.TimeoutExpired: return False, f'timed out after {timeout:.0f}s'
    except FileNotFoundError as e: return False, f'cannot run {cmd[0]}: {e}'
    return r.returncode == 0, (r.stdout + r.stderr).strip()[-2000:]

def probe(code:str, timeout:float=120)->str:
    "Output of a short Python snippet in a fresh process ('' on failure)."
    ok, out = run([sys.executable, '-c', code], timeout)
    return out.strip().splitlines()[-1] if ok and out.strip() else ''

def flagged_notebooks(flags:list[str])->list[Path]:
    "Notebooks in nbs/ with a code cell whose first lines hold `#| FLAG` for one of `flags`."
    out = []
    for nb in sorted((ROOT/'nbs').glob('*.ipynb')):
        cells = json.loads(nb.read_text(encoding='utf-8')).get('cells', [])
        heads = [''.join(c.get('source', '')).lstrip().split('\n')[:3] for c in cells if c.get('cell_type') == 'code']
        if any(l.replace(' ', '') in {f'#|{f}' for f in flags} for h in heads for l in h): out.append(nb)
    return out

SHAPES = {'1b': ('meta-llama/Llama-3.2-1B-Instruct', 'Llama 3.2 1B'), '8b': ('meta-llama/Meta-Llama-3-8B-Instruct', 'Llama 3 8B')}
SHAPE_SETS = ['rise.iterations=1', 'rise.problems=8', 'rise.turns=2', 'rise.operator_args.samples=[1, 4]', 'rise.sft_baseline=false',
              'eval.problems=8', 'eval.turns=2', 'eval.k=2', 'max_new_tokens=64', 'rise.train.batch_size=8', 'rise.train.grad_accum=1',
              'engine_args.max_model_len=2048', 'engine_args.gpu_memory_utilization=0.5', 'rise.train.save_every=0']

def pad_vocab(tok_dir:Path, size:int):
    "Grow the BPE vocabulary saved in `tok_dir` to `size` entries with filler tokens (`x0`, `x1`, ...: plain printable text), so ids up to `size` decode."
    f = tok_dir/'tokenizer.json'
    js = json.loads(f.read_text(encoding='utf-8'))
    vocab = js['model']['vocab']
    n = 1 + max([*vocab.values(), *(t['id'] for t in js.get('added_tokens', []))])
    if n > size: raise ValueError(f"pad_vocab: the tokenizer already has {n} tokens, more than {size}")
    for i in range(n, size): vocab[f'x{i}'] = i
    f.write_text(json.dumps(js, ensure_ascii=False), encoding='utf-8')

def gsm8k_corpus(data:Path=ROOT/'tests'/'data'/'gsm8k')->list[str]:
    "Questions and worked answers of the local GSM8K fixture's train split: what the tokenizer is trained on."
    rows = [json.loads(l) for l in (Path(data)/'train.jsonl').read_text(encoding='utf-8').splitlines() if l.strip()]
    return [r['question'] + '\n' + r['answer'] for r in rows]

def build_shape_model(dest:Path, shape:dict, corpus:list[str], device:str='cpu', dtype:str='bfloat16')->Path:
    "A checkpoint with the shape `shape` (config.json numbers), randomly initialised, and a tokenizer trained on `corpus` padded to its vocabulary."
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
    from rise_nb.train import train_tokenizer
    dest = Path(dest); dest.mkdir(parents=True, exist_ok=True)
    train_tokenizer(corpus, vocab_size=2048).save_pretrained(dest)
    pad_vocab(dest, shape['vocab_size'])
    tok = AutoTokenizer.from_pretrained(dest)
    cfg = LlamaConfig(**shape, max_position_embeddings=4096, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                      pad_token_id=tok.pad_token_id, initializer_range=0.02)
    old = torch.get_default_dtype(); torch.set_default_dtype(getattr(torch, dtype))
    try:
        with torch.device(device): model = LlamaForCausalLM(cfg)  # initialised where it will run: seconds on a GPU for 8B
    finally: torch.set_default_dtype(old)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(dest, safe_serialization=True)
    return dest

def memory_table(rows:list[tuple])->str:
    "Markdown table of `(stage, measured peak GiB or None, planned GiB or None)` rows."
    f = lambda v: '' if v is None else f"{v:.1f}"
    return '\n'.join(['| stage | peak GPU memory, measured (GiB) | memory plan (GiB) |', '|---|---|---|'] +
                      [f"| {s} | {f(m)} | {f(p)} |" for s, m, p in rows])

SHAPE_RUN = r"""
import json, sys, threading, time, torch
import rise_nb.pipeline as pl
from rise_nb.config import apply_overrides
from rise_nb.presets import get_preset
from rise_nb.memory import memory_plan, plan_markdown
out, base, data, sets = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
cfg = apply_overrides(get_preset('gsm8k-gpu'), [f'base="{base}"', f'task_args.source="{data}"', *sets])
plan = memory_plan(cfg)
print(plan_markdown(plan), flush=True)
peaks, cur, stop = {}, [None], threading.Event()
def watch():
    while not stop.is_set():
        used = sum(t - f for f, t in (torch.cuda.mem_get_info(d) for d in range(torch.cuda.device_count()))) / 2**30
        if cur[0]: peaks[cur[0]] = max(peaks.get(cur[0], 0), used)
        time.sleep(0.2)
threading.Thread(target=watch, daemon=True).start()
real = pl.stage_fn
def stage_fn(name):
    f = real(name)
    def wrapped(run):
        cur[0] = name
        try: return f(run)
        finally: cur[0] = None
    return wrapped
pl.stage_fn = stage_fn
pl.run_pipeline(out, cfg)
stop.set()
kind = lambda s: 'generate' if s.startswith(('collect', 'eval')) else 'train' if s.startswith(('train', 'sft')) else 'boost' if s == 'boost' else None
planned = {r['stage'].split(' ')[0]: r['total'] / 2**30 for r in plan['rows']}
print('ROWS ' + json.dumps([(s, peaks.get(s), planned.get(kind(s))) for s in pl.stages(cfg) if kind(s)]), flush=True)
"""

def shape_check(key:str, work:Path, timeout:float)->tuple[bool, str]:
    "Build the `key` shape, run the gsm8k-gpu stages on it in one process; (passed, the memory table or the failure)."
    from rise_nb.memory import KNOWN_SHAPES
    hub, _ = SHAPES[key]
    data = ROOT/'tests'/'data'/'gsm8k'
    code = (f"import sys; sys.path.insert(0, {str(ROOT/'tools')!r}); from gpu_check import build_shape_model, gsm8k_corpus; "
            f"build_shape_model({str(work/key)!r}, {KNOWN_SHAPES[hub]!r}, gsm8k_corpus(), device='cuda')")
    t0 = time.time()
    ok, out = run([sys.executable, '-c', code], timeout)
    if not ok: return False, 'building the model: ' + out[-1500:]
    ok, out = run([sys.executable, '-c', SHAPE_RUN, str(work/f'{key}-run'), str(work/key), str(data), json.dumps(SHAPE_SETS)], timeout - (time.time() - t0))
    if not ok: return False, out[-1500:]
    line = [l for l in out.splitlines() if l.startswith('ROWS ')]
    return True, memory_table(json.loads(line[-1][5:])) if line else out[-1500:]

def main(argv=None)->int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog='exit codes: 0 every check that ran passed; 1 a check failed; 3 no CUDA device (all skipped)')
    p.add_argument('--budget', type=float, default=8, help='minutes for everything (default: 8)')
    p.add_argument('--keep', default=None, help='directory to keep the runs in (default: a temporary one, removed)')
    p.add_argument('--shapes', default='1b,8b', help="real-shape checks to run, in order, from: 1b, 8b (default: 1b,8b; '' for none)")
    a = p.parse_args(argv)
    t0, rows = time.time(), []
    left = lambda cap: max(1.0, min(cap, a.budget*60 - (time.time() - t0) - 5))
    def add(name, status, secs, note=''): rows.append((name, status, secs, note)); print(f"{name}: {status} ({secs:.1f}s) {note}", flush=True)
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix='gpu_check_'))
    work.mkdir(parents=True, exist_ok=True)

    s = time.time()
    info = probe("import torch, json; print(json.dumps({'cuda': torch.cuda.is_available(), 'n': torch.cuda.device_count(), "
                 "'name': torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}))")
    info = json.loads(info) if info.startswith('{') else {'cuda': False, 'n': 0, 'name': None}
    gpu, n_gpu = bool(info['cuda']), int(info['n'])
    add('cuda', 'passed' if gpu else 'skipped', time.time()-s, f"{n_gpu} x {info['name']}" if gpu else 'no CUDA device: torch.cuda.is_available() is False')
    no_gpu = 'no CUDA device'
    has_vllm = gpu and probe("import vllm; print(vllm.__version__)") != ''
    has_acc = probe("import accelerate; print(accelerate.__version__)") != '' and shutil.which('accelerate') is not None

    # notebook cells flagged for a GPU
    s = time.time()
    flags = ['gpu'] + (['vllm'] if has_vllm else [])
    nbs = flagged_notebooks(flags)
    if not gpu: add('notebooks (gpu cells)', 'skipped', 0.0, no_gpu)
    elif not nbs: add('notebooks (gpu cells)', 'skipped', 0.0, f"no notebook has cells flagged {' or '.join('#| '+f for f in flags)}")
    else:
        bad = []
        for nb in nbs:
            ok, out = run(['nbdev_test', '--path', str(nb.relative_to(ROOT)), '--n_workers', '0', '--flags', ' '.join(flags)], left(240))
            if not ok: bad.append(nb.name); print(textwrap.indent(out[-1500:], '    '))
        add('notebooks (gpu cells)', 'FAILED' if bad else 'passed', time.time()-s,
            f"{len(nbs)} notebook(s), flags {' '.join(flags)}" + (f"; failed: {', '.join(bad)}" if bad else ''))

    # the tiny preset on the GPU, transformers engine
    s, hf_run = time.time(), work/'tiny_hf'
    if not gpu: add('tiny preset, hf engine', 'skipped', 0.0, no_gpu)
    else:
        cmd = ['rise_nb', 'run', '--preset', 'tiny', '--out', str(hf_run)] + [x for v in TINY_SETS for x in ('--set', v)]
        ok, out = run(cmd, left(200))
        if not ok: print(textwrap.indent(out[-1500:], '    '))
        st = json.loads((hf_run/'manifest.json').read_text())['stages'] if (hf_run/'manifest.json').exists() else {}
        add('tiny preset, hf engine', 'passed' if ok else 'FAILED', time.time()-s,
            ', '.join(f"{k} {v.get('seconds', 0):.0f}s" for k, v in st.items()) or (out.splitlines() or [''])[-1][:120])

    # the same boosted model through vLLM
    s = time.time()
    if not gpu: add('tiny preset, vllm engine', 'skipped', 0.0, no_gpu)
    elif not has_vllm: add('tiny preset, vllm engine', 'skipped', 0.0, 'vllm is not importable (pip install -e ".[vllm]")')
    elif not (hf_run/'boost'/'config.json').exists(): add('tiny preset, vllm engine', 'skipped', 0.0, 'no boosted model: the hf check did not get that far')
    else:
        cmd = ['rise_nb', 'run', '--preset', 'tiny', '--out', str(work/'tiny_vllm'), '--until', 'eval_boost', '--set', f'base="{hf_run/"boost"}"',
               '--set', 'boost.steps=0', '--set', 'engine=vllm', '--set', 'engine_args.gpu_memory_utilization=0.3'] + \
              [x for v in TINY_SETS for x in ('--set', v)]
        ok, out = run(cmd, left(200))
        if not ok: print(textwrap.indent(out[-1500:], '    '))
        add('tiny preset, vllm engine', 'passed' if ok else 'FAILED', time.time()-s, 'build, boost (kept), eval_boost with engine=vllm')

    # data-parallel training: the CLI's training stages under `accelerate launch`, one process per GPU
    s, name = time.time(), 'data-parallel training (2 processes)'
    if not gpu: add(name, 'skipped', 0.0, no_gpu)
    elif n_gpu < 2: add(name, 'skipped', 0.0, f'{n_gpu} GPU: needs 2 or more')
    elif not has_acc: add(name, 'skipped', 0.0, 'accelerate (module and `accelerate` command) is not installed')
    else:
        ok, out = run(['rise_nb', 'train', '--preset', 'smoke', '--out', str(work/'dp'), '--processes', '2'], left(240))
        if not ok: print(textwrap.indent(out[-1500:], '    '))
        logs = [work/'dp'/f for f in ('boost_log.json', 'train_1_log.json')]
        procs = [json.loads(f.read_text()).get('processes') if f.exists() else None for f in logs]
        add(name, 'passed' if ok and procs == [2, 2] else 'FAILED', time.time()-s, f'boost and train_1 ran in {procs} processes (rise_nb train --processes 2)')

    # the gsm8k-gpu stages on randomly initialised models of the real shapes: memory, hand-over and plumbing
    failed = False
    for key in [k for k in a.shapes.split(',') if k]:
        s, name = time.time(), f'real shape {key.upper()} ({SHAPES[key][1]})'
        if not gpu: add(name, 'skipped', 0.0, no_gpu)
        elif not has_vllm: add(name, 'skipped', 0.0, 'vllm is not importable (pip install -e ".[vllm]")')
        elif failed: add(name, 'skipped', 0.0, 'a smaller shape failed first')
        elif left(420) < 180: add(name, 'skipped', 0.0, 'less than 3 minutes of the --budget left (each real shape builds a model and starts vLLM twice: --budget 20)')
        else:
            ok, table = shape_check(key, work, left(420))
            failed = not ok
            print(textwrap.indent(table, '    '))
            add(name, 'passed' if ok else 'FAILED', time.time()-s, 'collect (vLLM), train (LoRA, bf16), eval (vLLM) in one process; peak GPU memory per stage above')

    if not a.keep: shutil.rmtree(work, ignore_errors=True)
    total = time.time() - t0
    w = max(len(r[0]) for r in rows)
    print(f"\n| {'check':{w}} | status  | seconds | note |\n|{'-'*(w+2)}|---------|---------|------|")
    for n, st, sec, note in rows: print(f"| {n:{w}} | {st:7} | {sec:7.1f} | {note} |")
    print(f"\ntotal {total:.0f}s of a {a.budget:.0f}-minute budget")
    if any(r[1] == 'FAILED' for r in rows): return EXIT_FAILED
    if not gpu: print("no CUDA device: every GPU check was skipped, nothing was tested (exit 3)"); return EXIT_NO_GPU
    return EXIT_OK

if __name__ == '__main__': sys.exit(main())
