"""Memory benchmark: peak resident memory (RSS) of collection and of training as the number of problems grows,
and of Boost as its steps grow.

Each measurement runs in a fresh process (so peaks do not carry over). Collection and RWR training run on the
smoke-sized tiny model: collection is one turn, one sample per problem, written to a JSONL file in chunks; training
is one epoch of RWR over one example per problem. Both should be bounded by the batch and token budget, not by the
dataset. Boost runs the default-sized tiny model with the default batch (packed), once as `boost`
does by default (freed memory handed back to the operating system whenever the process has grown 1 GB,
`BoostConfig.release_mb=1024`) and once never handing it back (`release_mb=None`). The script prints each peak and the ratio of
the largest to the smallest.

    python bench/memory.py [--sizes 1000 4000 16000] [--boost-steps 15 30 60]
"""
import argparse, json, subprocess, sys, tempfile
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import machine

CHILD = r'''
import json, sys, time, resource
from pathlib import Path
sys.path.insert(0, {bench!r})
from common import rise_examples
from rise_nb.tasks.arithmetic import ArithmeticTask
from rise_nb.models import load_model, load_tokenizer
kind, model, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
task = ArithmeticTask()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if kind == 'collect':
    from rise_nb.engines import HFEngine, SamplingParams
    from rise_nb.collect import collect
    probs = task.load('train', n); base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    collect(out/'c.jsonl', HFEngine(model, device='cpu', progress=False), task, probs, task.mdp(), turns=1,
            params=SamplingParams(max_new_tokens=24, seed=0), chunk=256, progress=False)
elif kind.startswith('boost'):
    from rise_nb.models import boost, BoostConfig
    keep = dict(release_mb=None) if kind == 'boost-keep' else dict()  # else BoostConfig's default
    boost(model, out/'b', task, BoostConfig(steps=n, n_train=BoostConfig().batch_size*n, **keep), progress=False)
else:
    from rise_nb.rwr import train_rwr, RWRConfig
    ds = rise_examples(load_tokenizer(model), n); base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    train_rwr(model, out/'m', ds, RWRConfig(epochs=1, batch_size=64, lr=1e-4), progress=False)
print(json.dumps({{'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024, 'before_mb': base/1024,
                  'seconds': time.perf_counter()-t}}))
'''

def measure(tmp:Path, kind:str, model:Path, n:int)->dict:
    "Run one measurement in a fresh process; return its peak and before RSS (MB) and seconds."
    d = tmp/f'{kind}-{n}'; d.mkdir()
    r = subprocess.run([sys.executable, str(tmp/'child.py'), kind, str(model), str(n), str(d)], capture_output=True, text=True)
    if r.returncode: print(r.stderr[-3000:]); sys.exit(f"{kind} with n={n} failed")
    return json.loads(r.stdout.strip().splitlines()[-1])

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sizes', type=int, nargs='+', default=[1000, 4000, 16000])
    ap.add_argument('--boost-steps', type=int, nargs='+', default=[15, 30, 60])
    ap.add_argument('--kinds', nargs='+', default=['collect', 'train', 'boost'], choices=['collect', 'train', 'boost'])
    args = ap.parse_args()
    from rise_nb.tasks.arithmetic import ArithmeticTask
    from rise_nb.models import build_tiny_model, TinyConfig
    tmp = Path(tempfile.mkdtemp())
    build_tiny_model(tmp/'model', ArithmeticTask(), TinyConfig(vocab_size=400, hidden_size=64, num_hidden_layers=2,
                     num_attention_heads=2, intermediate_size=128, corpus_size=300))
    (tmp/'child.py').write_text(CHILD.format(bench=str(Path(__file__).parent.resolve())))
    print(f"machine: {machine()}\nmodel: smoke-sized tiny model (2 layers, width 64)\n")
    print("| stage | problems | peak RSS (MB) | RSS before the stage (MB) | seconds |\n|---|---|---|---|---|")
    peaks = {}
    for kind in [k for k in args.kinds if k != 'boost']:
        for n in args.sizes:
            m = measure(tmp, kind, tmp/'model', n); peaks.setdefault(kind, []).append(m['peak_mb'])
            print(f"| {kind} | {n} | {m['peak_mb']:.0f} | {m['before_mb']:.0f} | {m['seconds']:.1f} |", flush=True)
    for kind, p in peaks.items():
        print(f"\n{kind}: peak RSS at {args.sizes[-1]} problems / at {args.sizes[0]}: {p[-1]/p[0]:.2f}× "
              f"for {args.sizes[-1]/args.sizes[0]:.0f}× the problems")
    if 'boost' not in args.kinds: return
    build_tiny_model(tmp/'tiny', ArithmeticTask())
    from rise_nb.models import BoostConfig
    tc, bc = TinyConfig(), BoostConfig()
    print(f"\nBoost: default-sized tiny model ({tc.num_hidden_layers} layers, width {tc.hidden_size}), batch {bc.batch_size} packed\n")
    print("| freed memory | steps | peak RSS (MB) | RSS before the stage (MB) | seconds |\n|---|---|---|---|---|")
    bp = {}
    for kind, label in (('boost', 'handed back at each 1 GB of growth'), ('boost-keep', 'kept by the C library')):
        for n in args.boost_steps:
            m = measure(tmp, kind, tmp/'tiny', n); bp.setdefault(label, []).append(m)
            print(f"| {label} | {n} | {m['peak_mb']:.0f} | {m['before_mb']:.0f} | {m['seconds']:.1f} |", flush=True)
    for label, ms in bp.items():
        print(f"\nBoost, memory {label}: peak RSS at {args.boost_steps[-1]} steps / at {args.boost_steps[0]}: "
              f"{ms[-1]['peak_mb']/ms[0]['peak_mb']:.2f}× for {args.boost_steps[-1]/args.boost_steps[0]:.0f}× the steps")
    a, b = (sum(m['seconds'] for m in ms) for ms in bp.values())
    print(f"\nBoost time, memory handed back vs kept: {a:.0f} s against {b:.0f} s ({a/b-1:+.0%})")

if __name__ == '__main__': main()
