"""Generation benchmark: the batched transformers engine vs the reference pattern (one sample per call, sequential).

Both generate for the same requests from the same checkpoint, and the script prints tokens/s of each and their ratio,
measured in this run. Two request shapes, as a RISE iteration issues them:

- `eval`: first-turn states of held-out problems, one sample each (evaluation);
- `collect`: first-turn states with 16 samples each (best-of-16 self-distillation).

The reference pattern calls `model.generate` once per sample, one call after another — what the RISE reference code
does over HTTP, minus the HTTP.

    python bench/generation.py                       # builds and briefly boosts the tiny model if no checkpoint is given
    python bench/generation.py --model runs/tiny/boost
    python bench/generation.py --device cuda --size 110m --precision bf16   # on a GPU, a 110M-parameter model from `build_tiny_model`
"""
import argparse, sys, time
from pathlib import Path
import torch
from rise_nb.models import load_model
from rise_nb.train import autocast
sys.path.insert(0, str(Path(__file__).parent))
from common import machine, tiny_model, SIZES, default_task
from rise_nb.engines import HFEngine, SamplingParams

def reference(model, tok, ids, n, max_new_tokens, seed, precision='fp32'):
    "One `generate` call per sample, one after another, at the engine's `precision`; returns new tokens generated."
    torch.manual_seed(seed); dev = next(model.parameters()).device
    with autocast(dev, precision): return _reference(model, tok, ids, n, max_new_tokens, dev)

def _reference(model, tok, ids, n, max_new_tokens, dev):
    total = 0
    for s in ids:
        x = torch.tensor([s], device=dev); att = torch.ones_like(x)
        for _ in range(n):
            g = model.generate(x, attention_mask=att, do_sample=True, temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=max_new_tokens,
                               eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)[0, len(s):].tolist()
            total += g.index(tok.eos_token_id)+1 if tok.eos_token_id in g else len(g)
    return total

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', help='checkpoint (default: build and briefly boost the tiny model)')
    ap.add_argument('--eval-requests', type=int, default=256, help='requests of the eval shape (1 sample each)')
    ap.add_argument('--collect-requests', type=int, default=32, help='requests of the collect shape (16 samples each)')
    ap.add_argument('--max-new-tokens', type=int, default=160)
    ap.add_argument('--precision', default='fp32', choices=['fp32', 'bf16', 'auto'], help='engine precision')
    ap.add_argument('--threads', type=int, default=None, help='torch threads (default: torch decides)')
    ap.add_argument('--device', default='cpu', help='`cpu` or `cuda`')
    ap.add_argument('--size', default='tiny', choices=list(SIZES), help='tiny model size when no --model is given')
    ap.add_argument('--boost-steps', type=int, default=60, help='boost steps of the tiny model built when no --model is given')
    ap.add_argument('--token-budget', type=int, default=65536, help="the engine's most tokens in one batch")
    ap.add_argument('--no-cudnn-attention', action='store_true', help="turn off PyTorch's cuDNN attention for the reference pattern too (the engine never uses it: it plans anew for every KV length)")
    args = ap.parse_args()
    if args.no_cudnn_attention: torch.backends.cuda.enable_cudnn_sdp(False)
    if args.threads: torch.set_num_threads(args.threads)
    task = default_task()
    args.model = tiny_model(args.model, boost_steps=args.boost_steps, size=args.size, device=args.device)
    model, tok = load_model(args.model, device=args.device, dtype='float32')
    eng = HFEngine(model, tok, progress=False, precision=args.precision, token_budget=args.token_budget)
    probs = task.load('test', max(args.eval_requests, args.collect_requests))
    print(f"machine: {machine()}")
    print(f"model {args.model} ({sum(p.numel() for p in model.parameters())/1e6:.2f}M parameters), {torch.get_num_threads()} threads, "
          f"max_new_tokens {args.max_new_tokens}, temperature 1.0, "
          f"precision {args.precision} for both patterns, device {args.device}"
          f"{', cuDNN attention off' if args.no_cudnn_attention else ''}\n")
    print("| shape | requests × samples | pattern | new tokens | seconds | tokens/s | speed-up |")
    print("|---|---|---|---|---|---|---|")
    tot = {'ref_tok': 0, 'ref_s': 0, 'eng_tok': 0, 'eng_s': 0}
    for shape, nreq, n in [('eval', args.eval_requests, 1), ('collect', args.collect_requests, 16)]:
        convs = [task.mdp().state(p) for p in probs[:nreq]]
        ids = eng.encode(convs)
        if args.device.startswith('cuda'): reference(model, tok, ids[:1], 1, 8, 0, args.precision); eng.generate(convs[:2], SamplingParams(n=2, max_new_tokens=8, seed=0))  # warm-up
        t0 = time.perf_counter(); rt = reference(model, tok, ids, n, args.max_new_tokens, 0, args.precision); rs = time.perf_counter() - t0
        sp = SamplingParams(n=n, temperature=1.0, max_new_tokens=args.max_new_tokens, seed=0)
        t0 = time.perf_counter(); res = eng.generate(convs, sp); es = time.perf_counter() - t0
        et = sum(c.tokens for r in res for c in r)
        print(f"| {shape} | {nreq} × {n} | one sample per call, sequential | {rt} | {rs:.1f} | {rt/rs:.0f} | 1.0× |")
        print(f"| {shape} | {nreq} × {n} | HFEngine ({eng.stats['batches']} batches, prefill {eng.stats['prefill_tokens']} of "
              f"{eng.stats['prompt_tokens']} prompt tokens) | {et} | {es:.1f} | {et/es:.0f} | {(et/es)/(rt/rs):.1f}× |")
        for k, v in zip(('ref_tok','ref_s','eng_tok','eng_s'), (rt, rs, et, es)): tot[k] += v
    r = (tot['eng_tok']/tot['eng_s']) / (tot['ref_tok']/tot['ref_s'])
    print(f"\nspeed-up over both shapes (tokens/s ratio, target >= 20x): {r:.1f}x")

if __name__ == '__main__': main()
