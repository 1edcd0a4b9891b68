#!/usr/bin/env python
"""Compare two run directories file by file: records, metrics and weights must be byte-identical once each run's own
path is replaced by a placeholder; in JSON files the wall-clock fields (`seconds`, `finished`) are left out.
A tracker's files (`tensorboard/`, written when `report_to` asks for it) are not records and are skipped.

    python tools/compare_runs.py runs/h24/before-s0 runs/h24/after-s0

Exit 0 when every file matches, 1 otherwise; `run.log` and lock files are skipped (they hold times and commands).
"""
import argparse, json, sys
from pathlib import Path

SKIP = {'run.log', '.lock'}
SKIP_DIRS = {'tensorboard'}  # top-level folders that hold no records
CLOCK = {'seconds', 'finished'}

def drop_clock(o):
    "A JSON value without its wall-clock fields (`CLOCK`), at any depth."
    if isinstance(o, dict): return {k: drop_clock(v) for k, v in o.items() if k not in CLOCK}
    if isinstance(o, list): return [drop_clock(v) for v in o]
    return o

def normal(f:Path, root:Path)->bytes:
    "The bytes of `f` with `root`'s path replaced by `RUN` (text files) and the clock fields dropped (JSON files)."
    b = f.read_bytes()
    try: t = b.decode('utf-8')
    except UnicodeDecodeError: return b
    t = t.replace(str(root.resolve()), 'RUN').replace(str(root), 'RUN')
    if f.suffix == '.json':
        try: return json.dumps(drop_clock(json.loads(t)), sort_keys=True).encode()
        except json.JSONDecodeError: pass
    return t.encode()

def compare(a:Path, b:Path)->tuple[list, list, list]:
    "`(same, different, only_in_one)` relative paths of the files of runs `a` and `b`."
    files = lambda r: {p.relative_to(r) for p in r.rglob('*') if p.is_file() and p.name not in SKIP and p.relative_to(r).parts[0] not in SKIP_DIRS}
    fa, fb = files(a), files(b)
    same, diff = [], []
    for r in sorted(fa & fb): (same if normal(a/r, a) == normal(b/r, b) else diff).append(str(r))
    return same, diff, sorted(map(str, fa ^ fb))

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('a'); ap.add_argument('b')
    x = ap.parse_args(argv)
    a, b = Path(x.a), Path(x.b)
    for d in (a, b):
        if not (d/'config.json').exists(): print(f"{d}: no config.json; expected a run directory", file=sys.stderr); return 2
    same, diff, lone = compare(a, b)
    for r in diff: print(f"differs: {r}")
    for r in lone: print(f"in one run only: {r}")
    print(f"{len(same)} files identical, {len(diff)} differ, {len(lone)} in one run only")
    return 0 if not diff and not lone else 1

if __name__ == '__main__': sys.exit(main())
