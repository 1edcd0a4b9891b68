"""Generation benchmark: the batched transformers engine vs the reference pattern (one sample per call, sequential).

Both generate for the same requests (first-turn states of held-out arithmetic problems, sampled at temperature 1)
from the same checkpoint; the script prints tokens/s of each and their ratio, measured in this run.

    python bench/generation.py                       # builds a small embedded model if no checkpoint is given
    python bench/generation.py --model runs/tiny/boost --requests 256
"""
import argparse, tempfile, time
from pathlib import Path
import torch
from rise_nb.arithmetic import ArithmeticTask
from rise_nb.models import build_tiny_model, load_model, boost, BoostConfig
from rise_nb.engines import HFEngine, SamplingParams

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', help='checkpoint (default: build and briefly boost the embedded model)')
    ap.add_argument('--requests', type=int, default=128, help='number of requests (each one sample)')
    ap.add_argument('--max-new-tokens', type=int, default=96)
    ap.add_argument('--precision', default='fp32', choices=['fp32', 'bf16', 'auto'], help='engine precision')
    ap.add_argument('--threads', type=int, default=None, help='torch threads (default: torch decides)')
    args = ap.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    task = ArithmeticTask()
    if args.model is None:
        tmp = Path(tempfile.mkdtemp())
        build_tiny_model(tmp/'base', task)
        boost(tmp/'base', tmp/'boost', task, BoostConfig(steps=60, n_train=3840), progress=False)
        args.model = tmp/'boost'
    model, tok = load_model(args.model, device='cpu')
    convs = [task.mdp().state(p) for p in task.load('test', args.requests)]
    sp = SamplingParams(n=1, temperature=1.0, max_new_tokens=args.max_new_tokens, seed=0)
    eng = HFEngine(model, tok, progress=False, precision=args.precision)

    # reference pattern: one request, one sample, one call after another (as the RISE reference code's HTTP sampling)
    t0 = time.perf_counter(); ref_tokens = 0
    for c in convs:
        ref_tokens += sum(x.tokens for x in eng.generate([c], sp)[0])
    ref_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    res = eng.generate(convs, sp)
    eng_s = time.perf_counter() - t0
    eng_tokens = sum(x.tokens for r in res for x in r)

    ref_tps, eng_tps = ref_tokens/ref_s, eng_tokens/eng_s
    print(f"| pattern | requests | new tokens | seconds | tokens/s |")
    print(f"|---|---|---|---|---|")
    print(f"| one sample per call, sequential | {len(convs)} | {ref_tokens} | {ref_s:.1f} | {ref_tps:.0f} |")
    print(f"| HFEngine, batched ({eng.stats['batches']} batches) | {len(convs)} | {eng_tokens} | {eng_s:.1f} | {eng_tps:.0f} |")
    print(f"speed-up (tokens/s ratio, target >= 20x): {eng_tps/ref_tps:.1f}x")

if __name__ == '__main__': main()
