"""Memory benchmark: peak resident memory (RSS) of collection and of training as the number of problems grows.

Each measurement runs in a fresh process (so peaks do not carry over) on the smoke-sized embedded model:
collection is one turn, one sample per problem, written to a JSONL file in chunks; training is one epoch of RWR over
one example per problem. Both should be bounded by the batch and token budget, not by the dataset: the script prints
each peak and the ratio of the largest to the smallest.

    python bench/memory.py [--sizes 1000 4000 16000]
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
from rise_nb.arithmetic import ArithmeticTask
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
else:
    from rise_nb.rwr import train_rwr, RWRConfig
    ds = rise_examples(load_tokenizer(model), n); base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    train_rwr(model, out/'m', ds, RWRConfig(epochs=1, batch_size=64, lr=1e-4), progress=False)
print(json.dumps({{'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024, 'before_mb': base/1024,
                  'seconds': time.perf_counter()-t}}))
'''

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sizes', type=int, nargs='+', default=[1000, 4000, 16000])
    ap.add_argument('--kinds', nargs='+', default=['collect', 'train'], choices=['collect', 'train'])
    args = ap.parse_args()
    from rise_nb.arithmetic import ArithmeticTask
    from rise_nb.models import build_tiny_model, TinyConfig
    tmp = Path(tempfile.mkdtemp())
    build_tiny_model(tmp/'model', ArithmeticTask(), TinyConfig(vocab_size=400, hidden_size=64, num_hidden_layers=2,
                     num_attention_heads=2, intermediate_size=128, corpus_size=300))
    (tmp/'child.py').write_text(CHILD.format(bench=str(Path(__file__).parent.resolve())))
    print(f"machine: {machine()}\nmodel: smoke-sized embedded model (2 layers, width 64)\n")
    print("| stage | problems | peak RSS (MB) | RSS before the stage (MB) | seconds |\n|---|---|---|---|---|")
    peaks = {}
    for kind in args.kinds:
        for n in args.sizes:
            d = tmp/f'{kind}-{n}'; d.mkdir()
            r = subprocess.run([sys.executable, str(tmp/'child.py'), kind, str(tmp/'model'), str(n), str(d)], capture_output=True, text=True)
            if r.returncode: print(r.stderr[-3000:]); sys.exit(f"{kind} with {n} problems failed")
            m = json.loads(r.stdout.strip().splitlines()[-1]); peaks.setdefault(kind, []).append(m['peak_mb'])
            print(f"| {kind} | {n} | {m['peak_mb']:.0f} | {m['before_mb']:.0f} | {m['seconds']:.1f} |", flush=True)
    for kind, p in peaks.items():
        print(f"\n{kind}: peak RSS at {args.sizes[-1]} problems / at {args.sizes[0]}: {p[-1]/p[0]:.2f}× "
              f"for {args.sizes[-1]/args.sizes[0]:.0f}× the problems")

if __name__ == '__main__': main()
