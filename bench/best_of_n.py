"""Best-of-N benchmark: N = 16 samples for each state of a collected turn, as self-distillation draws them.

Three ways to get the same 16 samples per state, timed in this run on the same states and checkpoint:

- `one call, n=16`: the engine prefills each state once and decodes its 16 samples together (what `collect` does);
- `16 calls, n=1`: the engine is called 16 times over the batch of states (the shared prompt is encoded 16 times);
- `reference`: one `generate` call per sample, one after another (the RISE reference code's pattern, minus HTTP),
  on the first `--ref-states` states only, scaled per state.

It also reports whether the shared prompt is encoded once (prefill tokens vs prompt tokens × N) and the prefill
share of the one-call time (a forward over the prompts, timed alone).

    python bench/best_of_n.py [--model runs/tiny/boost] [--states 32] [--n 16]
"""
import argparse, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from common import machine, tiny_model, Timer
from rise_nb.tasks.arithmetic import ArithmeticTask
from rise_nb.models import load_model
from rise_nb.engines import HFEngine, SamplingParams
from rise_nb.mdp import Turn

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', help='checkpoint (default: build and briefly boost the tiny model)')
    ap.add_argument('--states', type=int, default=32, help='states in the collected turn')
    ap.add_argument('--n', type=int, default=16, help='samples per state')
    ap.add_argument('--ref-states', type=int, default=4, help='states the slow reference pattern is timed on')
    ap.add_argument('--max-new-tokens', type=int, default=160)
    args = ap.parse_args()
    path = tiny_model(args.model, boost_steps=60)
    model, tok = load_model(path, device='cpu')
    eng = HFEngine(model, tok, progress=False)
    task = ArithmeticTask(); mdp = task.mdp()
    probs = task.load('test', args.states)
    # turn-2 states: the first attempt was another problem's worked solution, judged wrong
    states = [mdp.state(p, [Turn(task.oracle(probs[i-1]), None, 0.0, feedback=mdp.feedback(p, Turn('', None, 0.0)))])
              for i, p in enumerate(probs)]
    ids = eng.encode(states)
    sp = lambda n, seed: SamplingParams(n=n, temperature=1.0, max_new_tokens=args.max_new_tokens, seed=seed)
    print(f"machine: {machine()}\nmodel {path} ({sum(p.numel() for p in model.parameters())/1e6:.2f}M parameters); "
          f"{args.states} turn-2 states of {sum(map(len, ids))/len(ids):.0f} prompt tokens on average; N = {args.n}\n")

    with Timer() as a: res = eng.generate(states, sp(args.n, 0))
    st = dict(eng.stats); ta = sum(c.tokens for r in res for c in r)
    with Timer() as b:
        tb = 0; pre_b = 0
        for k in range(args.n):
            r = eng.generate(states, sp(1, k)); tb += sum(c.tokens for x in r for c in x); pre_b += eng.stats['prefill_tokens']
    # reference: one generate call per sample, one after another
    with Timer() as c:
        torch.manual_seed(0); tc = 0
        for s in ids[:args.ref_states]:
            x = torch.tensor([s])
            for _ in range(args.n):
                g = model.generate(x, attention_mask=torch.ones_like(x), do_sample=True, temperature=1.0, top_p=1.0, top_k=0,
                                   max_new_tokens=args.max_new_tokens, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)[0, len(s):].tolist()
                tc += g.index(tok.eos_token_id)+1 if tok.eos_token_id in g else len(g)
    # prefill alone: one forward over the left-padded prompts, with the cache, as the engine's first step
    L = max(map(len, ids)); pad = tok.pad_token_id
    inp = torch.tensor([[pad]*(L-len(s)) + s for s in ids]); att = (torch.arange(L)[None] >= torch.tensor([L-len(s) for s in ids])[:, None]).long()
    with torch.no_grad(), Timer() as p: model(input_ids=inp, attention_mask=att, use_cache=True, logits_to_keep=1)

    per = lambda t, n_states: t / n_states
    print("| pattern | states | prompt tokens encoded | new tokens | seconds | s per state | tokens/s | speed-up vs reference |")
    print("|---|---|---|---|---|---|---|---|")
    ref_ps = per(c.s, args.ref_states)
    print(f"| reference: one sample per call, sequential | {args.ref_states} | {sum(map(len, ids[:args.ref_states]))*args.n} | {tc} | {c.s:.1f} | {ref_ps:.2f} | {tc/c.s:.0f} | 1.0× |")
    print(f"| engine, 16 calls of n=1 | {args.states} | {pre_b} | {tb} | {b.s:.1f} | {per(b.s, args.states):.3f} | {tb/b.s:.0f} | {ref_ps/per(b.s, args.states):.1f}× |")
    print(f"| engine, one call of n={args.n} | {args.states} | {st['prefill_tokens']} | {ta} | {a.s:.1f} | {per(a.s, args.states):.3f} | {ta/a.s:.0f} | {ref_ps/per(a.s, args.states):.1f}× |")
    once = st['prefill_tokens'] == sum(map(len, ids))
    print(f"\nshared prompt encoded once per state: {'yes' if once else 'no'} "
          f"({st['prefill_tokens']} prefill tokens for {st['prompt_tokens']} prompt tokens × samples; 16 calls encode {pre_b})")
    print(f"prefill share of the one-call time: {p.s:.2f} s of {a.s:.1f} s = {100*p.s/a.s:.1f}%")
    print(f"one call of n={args.n} vs 16 calls of n=1: {b.s/a.s:.2f}× faster per collected turn")

if __name__ == '__main__': main()
