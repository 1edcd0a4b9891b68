"""End-to-end benchmark: wall time of `rise_nb run` per stage.

Runs the pipeline with the CLI in a fresh run directory and prints each stage's seconds from the run's manifest, the
total, and the total without Boost. Targets on 2 cores: `--preset tiny` ≤ 15 minutes in all; the quick demo
(`--preset smoke`) ≤ 3 minutes. `--run DIR` prints the table of a run that has already finished instead.

`--after KEY=VALUE` runs the preset a second time with those settings, right after the first on the same machine, and
prints both runs' stage times side by side (before / after). `--more KEY=VALUE` then runs a third configuration, the
after settings plus these (more problems, more iterations), which reuses the after run's build, Boost and Boost
evaluation (copied: none of them depends on the RISE settings) and says what the whole configuration costs.

    python bench/end_to_end.py --preset smoke          # seconds
    python bench/end_to_end.py --preset tiny           # about a quarter of an hour on 2 cores
    python bench/end_to_end.py --run runs/tiny         # a finished run's stage times
    python bench/end_to_end.py --preset tiny --after engine_args.sampler=inverse_cdf \
        --more rise.problems=4000 --more rise.iterations=3   # about 45 minutes
"""
import argparse, json, shutil, subprocess, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import machine

TARGET = {'tiny': 15*60, 'smoke': 3*60}

def table(run:Path, wall:float|None=None):
    st = json.loads((run/'manifest.json').read_text())['stages']
    print("| stage | seconds | note |\n|---|---|---|")
    for k, v in st.items():
        note = f"copied from {v['copied_from']} (its time when made)" if 'copied_from' in v else ''
        print(f"| {k} | {v.get('seconds', float('nan')):.1f} | {note} |")
    tot = sum(v.get('seconds', 0) for v in st.values()); nb = tot - st.get('boost', {}).get('seconds', 0)
    print(f"\nstages total: {tot:.0f} s ({tot/60:.1f} min); without Boost: {nb:.0f} s ({nb/60:.1f} min)" +
          (f"; wall time of the command: {wall:.0f} s ({wall/60:.1f} min)" if wall is not None else ''))
    return tot

REUSED = {'build': ['base'], 'boost': ['boost', 'boost_log.json'], 'eval_boost': ['eval_boost']}  # stages that RISE settings do not change

def run(preset:str, sets:list, out:Path)->float:
    "Run `rise_nb run` into `out`; its wall time."
    cmd = ['rise_nb', 'run', '--preset', preset, '--out', str(out)] + [x for s in sets for x in ('--set', s)]
    print('command:', ' '.join(cmd), '\n', flush=True)
    exe = shutil.which('rise_nb', path=str(Path(sys.executable).parent)) or 'rise_nb'  # this interpreter's, where PATH lacks it
    t = time.perf_counter(); r = subprocess.run([exe, *cmd[1:]]); wall = time.perf_counter() - t
    if r.returncode: sys.exit(f"rise_nb run failed with exit code {r.returncode}")
    return wall

def reuse(src:Path, dst:Path):
    "Start run `dst` from `src`'s finished build, Boost and Boost evaluation: their files, and manifest entries that say where they came from."
    dst.mkdir(parents=True)
    st = json.loads((src/'manifest.json').read_text())['stages']
    for stage, names in REUSED.items():
        for n in names:
            f = src/n
            if f.is_dir(): shutil.copytree(f, dst/n)
            elif f.exists(): shutil.copy2(f, dst/n)
    (dst/'manifest.json').write_text(json.dumps({'stages': {k: {**st[k], 'copied_from': str(src)} for k in REUSED if k in st}}, indent=1))

def side_by_side(a:Path, b:Path, names=('before', 'after')):
    "Stage seconds of two runs, their ratio, and the totals."
    sa, sb = (json.loads((r/'manifest.json').read_text())['stages'] for r in (a, b))
    print(f"| stage | {names[0]} (s) | {names[1]} (s) | speed-up |\n|---|---|---|---|")
    for k in sa:
        x, y = sa[k].get('seconds', float('nan')), sb.get(k, {}).get('seconds', float('nan'))
        print(f"| {k} | {x:.1f} | {y:.1f} | {x/y:.2f}× |" if y > 0.05 else f"| {k} | {x:.1f} | {y:.1f} |  |")
    ta, tb = (sum(v.get('seconds', 0) for v in s.values()) for s in (sa, sb))
    gen = lambda s: sum(v.get('seconds', 0) for k, v in s.items() if k.startswith(('eval', 'collect')))
    print(f"| **total** | {ta:.0f} | {tb:.0f} | {ta/tb:.2f}× |\n\nstages total: {names[0]} {ta:.0f} s ({ta/60:.1f} min), {names[1]} {tb:.0f} s "
          f"({tb/60:.1f} min); generation stages (evaluations and collections): {gen(sa):.0f} s against {gen(sb):.0f} s ({gen(sa)/gen(sb):.2f}×)")

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--preset', default='smoke', help='preset to run (smoke, tiny)')
    ap.add_argument('--run', help='print the stage times of this finished run instead of running one')
    ap.add_argument('--set', action='append', default=[], metavar='KEY=VALUE', help='passed on to rise_nb run')
    ap.add_argument('--after', action='append', default=[], metavar='KEY=VALUE', help='a second run with these settings on top of --set, compared stage by stage')
    ap.add_argument('--more', action='append', default=[], metavar='KEY=VALUE', help="a third run: the --after settings plus these, from the after run's Boost")
    ap.add_argument('--keep', help='put the runs in this folder (default: a temporary one)')
    args = ap.parse_args()
    print(f"machine: {machine()}\n")
    if args.run: table(Path(args.run)); return
    if args.more and not args.after: sys.exit('--more builds on --after: give both')
    top = Path(args.keep) if args.keep else Path(tempfile.mkdtemp())
    out = top/args.preset
    for d in (out, top/f'{args.preset}-after', top/f'{args.preset}-more'):
        if d.exists(): sys.exit(f"{d} exists: a run there would resume, not be timed; remove it or give another --keep")
    wall = run(args.preset, args.set, out)
    tot = table(out, wall)
    if args.preset in TARGET:
        print(f"target <= {TARGET[args.preset]/60:.0f} min: {'met' if tot <= TARGET[args.preset] else 'not met'} (stage time)")
    if not args.after: return
    print(f"\n### after: {' '.join(args.after)}\n", flush=True)
    after = top/f'{args.preset}-after'
    wall = run(args.preset, args.set + args.after, after)
    table(after, wall); print()
    side_by_side(out, after)
    if not args.more: return
    print(f"\n### more: {' '.join(args.after + args.more)}\n", flush=True)
    more = top/f'{args.preset}-more'
    reuse(after, more)
    wall = run(args.preset, args.set + args.after + args.more, more)
    tot = table(more, wall)
    if args.preset in TARGET:
        print(f"target <= {TARGET[args.preset]/60:.0f} min: {'met' if tot <= TARGET[args.preset] else 'not met'} (stage time, copied stages at their time when made)")

if __name__ == '__main__': main()
