"""End-to-end benchmark: wall time of `rise_nb run` per stage.

Runs the pipeline with the CLI in a fresh run directory and prints each stage's seconds from the run's manifest, the
total, and the total without Boost. Targets on 2 cores: `--preset tiny` ≤ 15 minutes in all; the quick demo
(`--preset smoke`) ≤ 3 minutes. `--run DIR` prints the table of a run that has already finished instead.

    python bench/end_to_end.py --preset smoke          # seconds
    python bench/end_to_end.py --preset tiny           # about half an hour on 2 cores
    python bench/end_to_end.py --run runs/tiny         # a finished run's stage times
"""
import argparse, json, subprocess, sys, tempfile, time
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

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--preset', default='smoke', help='preset to run (smoke, tiny)')
    ap.add_argument('--run', help='print the stage times of this finished run instead of running one')
    ap.add_argument('--set', action='append', default=[], metavar='KEY=VALUE', help='passed on to rise_nb run')
    args = ap.parse_args()
    print(f"machine: {machine()}\n")
    if args.run: table(Path(args.run)); return
    out = Path(tempfile.mkdtemp())/args.preset
    cmd = ['rise_nb', 'run', '--preset', args.preset, '--out', str(out)] + [x for s in args.set for x in ('--set', s)]
    print('command:', ' '.join(cmd), '\n', flush=True)
    t = time.perf_counter(); r = subprocess.run(cmd); wall = time.perf_counter() - t
    if r.returncode: sys.exit(f"rise_nb run failed with exit code {r.returncode}")
    tot = table(out, wall)
    if args.preset in TARGET:
        print(f"target <= {TARGET[args.preset]/60:.0f} min: {'met' if wall <= TARGET[args.preset] else 'not met'}")

if __name__ == '__main__': main()
