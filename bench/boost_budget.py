"""Boost's budget: first-turn accuracy of the boosted model against Boost's steps and batch size, and the time each took.

Boost is the slowest stage of `--preset tiny`, so the first way to shorten the run is a shorter Boost. This script
measures what a shorter Boost gives: it boosts the tiny model (built once, as `rise_nb run` builds it, or with
`--layers N`) for each `STEPSxBATCH` given, with the preset's other Boost settings (or peak rate `--lr`) and the
warm-up scaled with the steps, and samples 2 first-turn answers per held-out problem from each boosted model.
`--reference DIR` adds a checkpoint boosted earlier (e.g. `runs/tiny/boost`), measured the same way without boosting
it again. The section in BENCHMARKS.md measured the earlier 4-layer default (600 steps of 64 at 3e-3):

    python bench/boost_budget.py --layers 4 --lr 3e-3 --configs 200x64 400x32 --reference runs/tiny-4l/boost   # about 15 minutes on 2 cores
"""
import argparse, json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import machine

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--configs', nargs='+', default=['200x64', '400x32'], metavar='STEPSxBATCH', help='Boost runs to make')
    ap.add_argument('--reference', help='an already boosted checkpoint to measure as well (its rise_nb.json gives its steps)')
    ap.add_argument('--problems', type=int, default=500, help='held-out problems (2 samples each)')
    ap.add_argument('--layers', type=int, default=None, help="the model's layers (default: TinyConfig's)")
    ap.add_argument('--lr', type=float, default=None, help="Boost's peak rate (default: BoostConfig's)")
    args = ap.parse_args()
    from rise_nb.tasks.arithmetic import ArithmeticTask
    from rise_nb.models import BoostConfig, TinyConfig, boost, build_tiny_model, load_model
    from rise_nb.train import release_memory
    from rise_nb.engines import first_turn_accuracy
    task, tmp = ArithmeticTask(), Path(tempfile.mkdtemp())
    probs = task.load('test', args.problems)
    build_tiny_model(tmp/'base', task, TinyConfig(num_hidden_layers=args.layers or TinyConfig().num_hidden_layers), seed=0)
    rows = []
    def measure(path, steps, batch, secs, loss, note=''):
        m, tok = load_model(path, device='cpu')
        a = first_turn_accuracy(m, tok, task, probs, n=2, progress=False)
        rows.append((steps, batch, steps*batch, secs, loss, 100*a['accuracy'], 100*a['pass@2'], note)); release_memory()
    for c in args.configs:
        try: steps, batch = map(int, c.lower().split('x'))
        except ValueError: raise SystemExit(f"--configs: expected STEPSxBATCH such as 200x64, got {c!r}")
        cfg = BoostConfig(steps=steps, batch_size=batch, warmup=max(1, round(BoostConfig().warmup * steps / BoostConfig().steps)),
                          lr=args.lr or BoostConfig().lr)
        t = time.perf_counter(); info = boost(tmp/'base', tmp/c, task, cfg, progress=False)
        measure(tmp/c, steps, batch, time.perf_counter() - t, info['final_loss'])
    if args.reference:
        ref = Path(args.reference)
        info = json.loads((ref/'rise_nb.json').read_text())['rise_nb']
        measure(ref, info['boost']['steps'], info['boost']['batch_size'], info['seconds'], info['final_loss'],
                note=f' ({ref}, its time when made)')
    print(f"machine: {machine()}\n")
    print(f"first-turn accuracy: 2 samples at temperature 1.0 for each of {args.problems} held-out problems\n")
    print("| Boost steps × batch | examples | seconds | final loss | first-turn accuracy | pass@2 |\n|---|---|---|---|---|---|")
    for s, b, n, secs, loss, acc, p2, note in rows:
        print(f"| {s} × {b}{note} | {n:,} | {secs:.0f} | {loss:.3f} | {acc:.1f}% | {p2:.1f}% |")
    best = max(rows, key=lambda r: r[5])
    for r in rows:
        if r is not best: print(f"\n{r[0]} × {r[1]}: {r[3]/best[3]:.2f}× the time of {best[0]} × {best[1]} for {r[5]:.1f}% against {best[5]:.1f}% first-turn accuracy")

if __name__ == '__main__': main()
