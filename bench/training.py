"""Training benchmark: the batched RWR loss vs a per-example loop with the same semantics, the weighted loss's
overhead over the plain causal-LM loss, and the padding each way of forming batches wastes.

On the same RISE-shaped examples (first-turn and multi-turn states → answer, weights exp(r/τ)-normalised) and the same
model, measured in this run:

- tokens/s of forward + backward with `rwr_loss` over a batch at once, vs one forward + backward per example
  (loss_i = w_i · mean NLL_i / B, gradients accumulated: the reference code's loop);
- overhead of `rwr_loss` over the transformers causal-LM loss (`labels=` in the forward) on identical batches
  (target ≤ 5%);
- padding waste (pad tokens / all tokens) of random batches, of `length_grouped_batches`, and of packing (`pack_rows`).

    python bench/training.py [--model runs/tiny/boost] [--examples 512] [--batch-size 32]
    python bench/training.py --device cuda --size 110m --precision bf16   # on a GPU, a 110M-parameter model from `build_tiny_model`
"""
import argparse, random, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from common import machine, tiny_model, rise_examples, Timer, SIZES
from rise_nb.models import load_model
from rise_nb.train import collate_padded as _collate, pack_rows, autocast
from rise_nb.rwr import rwr_loss, length_grouped_batches

PREC = 'fp32'  # autocast precision of every step (set from --precision)

def batch(rows, pad, dev):
    return [t.to(dev) for t in _collate(rows, pad)] + [torch.tensor([r['weight'] for r in rows], device=dev)]

def step_batched(model, rows, pad):
    dev = model.device; ids, att, lab, w = batch(rows, pad, dev)
    with autocast(dev, PREC): loss = rwr_loss(model(input_ids=ids, attention_mask=att).logits, lab, w)
    loss.backward(); return loss.item()

def step_loop(model, rows, pad):
    tot, dev = 0.0, model.device
    for r in rows:
        ids, att, lab, w = batch([r], pad, dev)
        with autocast(dev, PREC): l = rwr_loss(model(input_ids=ids, attention_mask=att).logits, lab, w) / len(rows)
        l.backward(); tot += l.item()
    return tot

def step_plain(model, rows, pad):
    dev = model.device; ids, att, lab, _ = batch(rows, pad, dev)
    with autocast(dev, PREC): loss = model(input_ids=ids, attention_mask=att, labels=lab).loss
    loss.backward(); return loss.item()

def waste(batches, lens):
    real = sum(lens[i] for b in batches for i in b); tot = sum(len(b)*max(lens[i] for i in b) for b in batches)
    return 1 - real/tot

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', help='checkpoint (default: build the tiny model)')
    ap.add_argument('--examples', type=int, default=512)
    ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--loop-batches', type=int, default=4, help='batches the per-example loop is timed on')
    ap.add_argument('--repeats', type=int, default=3, help='interleaved repeats of the loss-overhead timing')
    ap.add_argument('--device', default='cpu', help='`cpu` or `cuda`')
    ap.add_argument('--size', default='tiny', choices=list(SIZES), help='tiny model size when no --model is given')
    ap.add_argument('--precision', default='fp32', choices=['fp32', 'bf16'], help='autocast precision of every step (weights stay float32)')
    args = ap.parse_args()
    global PREC; PREC = args.precision
    model, tok = load_model(tiny_model(args.model, size=args.size), device=args.device, dtype='float32'); model.train()
    ds = rise_examples(tok, args.examples)
    lens = [len(x) for x in ds['input_ids']]; pad = tok.pad_token_id
    batches = length_grouped_batches(lens, args.batch_size, 0)
    rows = lambda b: [ds[i] for i in b]
    ntok = lambda bs: sum(lens[i] for b in bs for i in b)
    print(f"machine: {machine()}\nmodel: {sum(p.numel() for p in model.parameters())/1e6:.2f}M parameters; "
          f"{len(ds)} examples of {sum(lens)/len(lens):.0f} tokens on average (max {max(lens)}); batch {args.batch_size}; "
          f"device {args.device}, precision {args.precision}\n")

    # agreement first: the two implementations give the same loss and gradients
    b0 = rows(batches[0]); model.zero_grad()
    la = step_batched(model, b0, pad); ga = [p.grad.clone() for p in model.parameters()]; model.zero_grad()
    lb = step_loop(model, b0, pad); gb = [p.grad.clone() for p in model.parameters()]; model.zero_grad()
    gdiff = max((x-y).abs().max().item() for x, y in zip(ga, gb))

    sub = batches[:args.loop_batches]
    step_batched(model, rows(sub[0]), pad); model.zero_grad()  # warm-up
    with Timer() as tb:
        for b in sub: step_batched(model, rows(b), pad); model.zero_grad()
    with Timer() as tl:
        for b in sub: step_loop(model, rows(b), pad); model.zero_grad()
    print("| loss computation | batches | tokens | seconds | tokens/s | speed-up |\n|---|---|---|---|---|---|")
    print(f"| per-example loop (reference) | {len(sub)} | {ntok(sub)} | {tl.s:.2f} | {ntok(sub)/tl.s:.0f} | 1.0× |")
    print(f"| batched `rwr_loss` | {len(sub)} | {ntok(sub)} | {tb.s:.2f} | {ntok(sub)/tb.s:.0f} | {tl.s/tb.s:.1f}× |")
    print(f"\nsame semantics: loss {la:.6f} vs {lb:.6f}, largest gradient difference {gdiff:.2e}")

    # weighted vs plain loss on identical batches, interleaved to share machine noise
    tw = tp = 0.0
    for _ in range(args.repeats):
        for b in batches:
            r = rows(b)
            t = time.perf_counter(); step_plain(model, r, pad); model.zero_grad(); tp += time.perf_counter() - t
            t = time.perf_counter(); step_batched(model, r, pad); model.zero_grad(); tw += time.perf_counter() - t
    print(f"\n| loss | batches × repeats | seconds | tokens/s |\n|---|---|---|---|")
    print(f"| causal-LM loss (`labels=`) | {len(batches)} × {args.repeats} | {tp:.2f} | {args.repeats*sum(lens)/tp:.0f} |")
    print(f"| RWR weighted loss | {len(batches)} × {args.repeats} | {tw:.2f} | {args.repeats*sum(lens)/tw:.0f} |")
    print(f"\nweighted-loss overhead over the plain loss: {100*(tw/tp-1):+.1f}% (target <= 5%)")

    rng = random.Random(0); idx = list(range(len(ds))); rng.shuffle(idx)
    rand = [idx[i:i+args.batch_size] for i in range(0, len(idx), args.batch_size)]
    packed = pack_rows(lens, max(lens)*4)
    pw = 1 - sum(lens) / (len(packed) * max(sum(lens[i] for i in r) for r in packed))
    print(f"\n| batches | padding waste (pad / all tokens) |\n|---|---|")
    print(f"| random | {100*waste(rand, lens):.1f}% |\n| length-grouped (`length_grouped_batches`) | {100*waste(batches, lens):.1f}% |")
    print(f"| packed rows (`pack_rows`, {max(lens)*4} tokens a row) | {100*pw:.1f}% |")

if __name__ == '__main__': main()
