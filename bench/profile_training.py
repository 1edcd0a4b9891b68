"""Profile of the slowest stage, Boost (multi-turn batches of the tiny model, in the layout the `tiny` preset boosts with), by operator.

Runs a few Boost-shaped training steps under `torch.profiler` and prints where the time goes: the operators with
the most self CPU time, and the shares of matrix multiplies (what a faster machine or a smaller model would change)
versus everything else (what code changes could remove: padding, copies, Python overhead).

    python bench/profile_training.py [--steps 4] [--batch-size 32] [--layout grouped|packed]
"""
import argparse, random, sys, time
from collections import defaultdict
from pathlib import Path
import torch
from torch.profiler import profile, ProfilerActivity
sys.path.insert(0, str(Path(__file__).parent))
from common import machine, tiny_model, rise_examples
from rise_nb.models import load_model
from rise_nb.train import collate_packed, collate_grouped, token_nll
from rise_nb.presets import get_preset

MATMUL = ('aten::mm', 'aten::addmm', 'aten::bmm', 'aten::matmul', 'aten::linear', 'aten::_scaled_dot_product', 'aten::baddbmm')

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', help='checkpoint (default: build the tiny model)')
    ap.add_argument('--steps', type=int, default=4)
    ap.add_argument('--batch-size', type=int, default=get_preset('tiny').boost.batch_size)
    ap.add_argument('--layout', choices=['grouped', 'packed'], default=get_preset('tiny').boost.layout,
                    help="a batch as length groups (the `tiny` preset's Boost) or as packed rows")
    args = ap.parse_args()
    model, tok = load_model(tiny_model(args.model), device='cpu', dtype='float32'); model.train()
    ds = rise_examples(tok, args.batch_size*args.steps, multi_turn=0.3)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    lens = [len(x) for x in ds['input_ids']]
    batches = [list(range(i, i+args.batch_size)) for i in range(0, len(ds), args.batch_size)]
    def step(b):
        rows = [ds[i] for i in b]
        if args.layout == 'packed':  # examples packed end to end
            ids, pos, lab = collate_packed(rows, tok.pad_token_id)
            model(input_ids=ids, position_ids=pos, labels=lab, use_cache=False).loss.backward()
        else:  # length groups, the token mean over the batch, as `boost` takes it
            parts = [token_nll(model(input_ids=ids, use_cache=False).logits, lab) for ids, lab in collate_grouped(rows, tok.pad_token_id)]
            (sum(p[0] for p in parts) / sum(p[1] for p in parts)).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step(); opt.zero_grad()
    step(batches[0])  # warm-up
    t = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for b in batches[1:] or batches: step(b)
    wall = time.perf_counter() - t
    ev = prof.key_averages()
    tot = sum(e.self_cpu_time_total for e in ev)
    mm = sum(e.self_cpu_time_total for e in ev if e.key.startswith(MATMUL))
    print(f"machine: {machine()}\n{len(batches)-1 or 1} Boost-shaped steps (batch {args.batch_size}, {args.layout}), {wall:.1f} s wall\n")
    print("| operator | self CPU ms | share |\n|---|---|---|")
    for e in sorted(ev, key=lambda e: -e.self_cpu_time_total)[:12]:
        print(f"| `{e.key}` | {e.self_cpu_time_total/1000:.0f} | {100*e.self_cpu_time_total/tot:.1f}% |")
    print(f"\nmatrix multiplies: {100*mm/tot:.1f}% of operator time; everything else: {100*(1-mm/tot):.1f}%")

if __name__ == '__main__': main()
