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
  and RWR each launched by `accelerate launch`, one process per GPU) and checks both training logs say 2 processes.

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
    "Run `cmd`; (passed, last lines of its output); a timeout is a failure that says so."
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

def main(argv=None)->int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog='exit codes: 0 every check that ran passed; 1 a check failed; 3 no CUDA device (all skipped)')
    p.add_argument('--budget', type=float, default=8, help='minutes for everything (default: 8)')
    p.add_argument('--keep', default=None, help='directory to keep the runs in (default: a temporary one, removed)')
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
