#!/usr/bin/env python
"""Run every notebook in `nbs/` top to bottom, each in a fresh kernel, including the `#| slow` cells.

Each notebook runs in its own process with `nbdev_test --flags slow` (nbdev's notebook runner: a fresh IPython shell
started in `nbs/`, cells flagged `#| gpu` skipped unless `--flags` names them). Prints a table notebook → seconds →
status and the total; exits 1 if a notebook fails or the total is over `--budget` minutes (default 30).

The slow cells of notebook 07 make the default run, `runs/tiny`, and resume it where it stands, so the script says
first how much of that run exists: run it on a fresh clone (or after moving `runs/tiny` away) to time everything from
nothing.
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def notebooks(nbs:Path=ROOT/'nbs')->list[Path]:
    "The notebooks in reading (file) order."
    return sorted(p for p in nbs.glob('*.ipynb') if not p.name.startswith(('_', '.')))

def run_one(nb:Path, flags:list, timeout:float)->tuple[bool, float, str]:
    "Run `nb` with `nbdev_test` in a fresh process; return (passed, seconds, tail of its output)."
    cmd = ['nbdev_test', '--path', str(nb.relative_to(ROOT)), '--n_workers', '0']
    if flags: cmd += ['--flags', ' '.join(flags)]
    t0 = time.time()
    try: r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired: return False, time.time()-t0, f'timed out after {timeout:.0f}s'
    return r.returncode == 0, time.time()-t0, (r.stdout + r.stderr)[-3000:]

def run_state(run:Path=ROOT/'runs'/'tiny')->str:
    "How much of the default run exists: the notebooks' slow cells resume it."
    m = run/'manifest.json'
    if not m.exists(): return f"{run.relative_to(ROOT)}: absent, so this run times every stage from nothing"
    done = list(json.loads(m.read_text()).get('stages', {}))  # the manifest lists finished stages only
    return f"{run.relative_to(ROOT)}: {len(done)} stages finished already ({', '.join(done)}), which the slow cells resume, not redo"

def main(argv=None)->int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                epilog='exit codes: 0 every notebook passed within the budget, 1 otherwise')
    p.add_argument('--flags', default='slow', help="cell flags to run that nbdev_test skips by default (default: 'slow')")
    p.add_argument('--budget', type=float, default=30, help='minutes the whole set may take (default: 30)')
    p.add_argument('--only', action='append', default=[], metavar='NOTEBOOK', help='only this notebook (stem, repeatable)')
    a = p.parse_args(argv)
    nbs = [nb for nb in notebooks() if not a.only or nb.stem in a.only]
    print(f"running {len(nbs)} notebooks with nbdev_test --flags '{a.flags}' on {os.cpu_count()} CPUs", flush=True)
    print(run_state(), flush=True)
    rows, t0 = [], time.time()
    for nb in nbs:
        left = a.budget*60 - (time.time()-t0)
        ok, s, tail = run_one(nb, a.flags.split(), timeout=max(left, 1))
        rows.append((nb.name, s, ok))
        print(f"  {nb.name:24} {s:8.1f}s  {'ok' if ok else 'FAILED'}", flush=True)
        if not ok: print('\n'.join('    ' + l for l in tail.strip().splitlines()[-40:]), flush=True)
        if time.time()-t0 > a.budget*60: break
    total = time.time()-t0
    w = max(len(r[0]) for r in rows)
    print(f"\n| {'notebook':{w}} | seconds | status |\n|{'-'*(w+2)}|---------|--------|")
    for n, s, ok in rows: print(f"| {n:{w}} | {s:7.1f} | {'ok' if ok else 'FAILED':6} |")
    skipped = [nb.name for nb in nbs[len(rows):]]
    print(f"| {'total':{w}} | {total:7.1f} | {total/60:.1f} min of {a.budget:g} |")
    bad = [n for n, _, ok in rows if not ok] + skipped
    if skipped: print(f"not run (over the budget): {', '.join(skipped)}")
    print('all notebooks passed within the budget' if not bad and total <= a.budget*60 else f"FAILED: {', '.join(bad) or 'over the budget'}")
    return 0 if not bad and total <= a.budget*60 else 1

if __name__ == '__main__': sys.exit(main())
