"""Profile of one batched generation: where a decode step's time goes (torch.profiler), for the engine and for
transformers' own `generate` on the same padded batch, at fp32 and at bf16 autocast.

    python bench/profile_generation.py                                   # tiny model on the CPU
    python bench/profile_generation.py --device cuda --size 110m          # on a GPU

Prints milliseconds per decode step of each variant (all rows run `--steps` steps: the model is not boosted, so no row
stops early), how the step's cost grows with the number of rows decoded together (which bounds what batching can gain
over one sample per call), and the operators that take most of the engine's time. On a CPU it also times the attention
of one decode step at the evaluation shape (`--attn-rows` rows, both layers) over keys and values held three ways: in a
buffer sized for the whole generation, as the engine holds them (a view of its first n positions), in a buffer with
`--attn-slack` spare positions, and as a tensor of exactly the n positions held (contiguous); the outputs are compared
bit for bit.
"""
import argparse, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from common import machine, tiny_model, SIZES, default_task
from rise_nb.models import load_model
from rise_nb.train import autocast
from rise_nb.engines import HFEngine, decode

def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()

def attention_layouts(model, rows:int, slack:int, cap:int, reps:int=50):
    "Milliseconds of one decode step's attention (every layer) over n cached positions, for three layouts of the same keys and values."
    import torch.nn.functional as F
    c = model.config; H, D, L = c.num_attention_heads, c.hidden_size // c.num_attention_heads, c.num_hidden_layers
    def ms(f):
        for _ in range(3): f()
        t = time.perf_counter()
        for _ in range(reps): f()
        return 1000 * (time.perf_counter() - t) / reps
    print(f"\nattention of one decode step, {rows} rows × {H} heads × {D}, all {L} layers (SDPA, ms), with the keys and values held three ways:")
    print(f"\n| positions held (n) | buffer of {cap} positions (the engine's: longest prompt + 160 new) | buffer of n + {slack} | exactly n (contiguous) | "
          f"engine's / contiguous | outputs identical |\n|---|---|---|---|---|---|")
    g = torch.Generator().manual_seed(0)
    for n in (60, 100, 150):
        q = torch.randn(rows, H, 1, D, generator=g)
        full = [[torch.randn(rows, H, cap, D, generator=g) for _ in 'kv'] for _ in range(L)]
        spare = [[x[:, :, :n + slack].clone() for x in kv] for kv in full]
        exact = [[x[:, :, :n].clone() for x in kv] for kv in full]
        step = lambda kvs: [F.scaled_dot_product_attention(q, K[:, :, :n], V[:, :, :n]) for K, V in kvs]
        same = all(torch.equal(a, b) for a, b in zip(step(full), step(exact)))
        t = [ms(lambda kvs=kvs: step(kvs)) for kvs in (full, spare, exact)]
        print(f"| {n} | {t[0]:.2f} | {t[1]:.2f} | {t[2]:.2f} | {t[0]/t[2]:.2f}× | {'yes' if same else 'no'} |")

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--size', default='tiny', choices=list(SIZES))
    ap.add_argument('--rows', type=int, default=32)
    ap.add_argument('--steps', type=int, default=64)
    ap.add_argument('--attn-rows', type=int, default=128, help='rows of the attention-layout table (the evaluation shape)')
    ap.add_argument('--attn-slack', type=int, default=8, help='spare positions of its middle layout')
    ap.add_argument('--scaling', type=int, nargs='+', default=[1, 8, 32, 128, 256], help='row counts of the scaling table')
    args = ap.parse_args()
    model, tok = load_model(tiny_model(size=args.size), device=args.device, dtype='float32')
    task = default_task(); eng = HFEngine(model, tok, progress=False)
    ids = eng.encode([task.mdp().state(p) for p in task.load('test', args.rows)])
    dev = model.device; eos = -1  # never stops: every row runs every step
    print(f"machine: {machine()}\nmodel: {sum(p.numel() for p in model.parameters())/1e6:.1f}M parameters; {args.rows} rows, "
          f"{args.steps} decode steps, prompts {min(map(len, ids))}-{max(map(len, ids))} tokens\n")
    L = max(map(len, ids))
    inp = torch.full((len(ids), L), tok.pad_token_id); att = torch.zeros_like(inp)
    for r, s in enumerate(ids): inp[r, L-len(s):] = torch.tensor(s); att[r, L-len(s):] = 1
    inp, att = inp.to(dev), att.to(dev)
    def engine(): return decode(model, ids, [1]*len(ids), args.steps, eos, tok.pad_token_id, gen=torch.Generator(device=dev).manual_seed(0))
    def hf(): return model.generate(inp, attention_mask=att, do_sample=True, top_k=0, max_new_tokens=args.steps, min_new_tokens=args.steps,
                                    pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    print("| variant | precision | ms per decode step |\n|---|---|---|")
    for name, f in [('engine `decode`', engine), ('transformers `generate`, same batch', hf)]:
        for prec in ('fp32', 'bf16'):
            with autocast(dev, prec):
                f(); sync(dev)  # warm-up
                t = time.perf_counter(); f(); sync(dev); s = time.perf_counter() - t
            print(f"| {name} | {prec} | {1000*s/args.steps:.1f} |")
    # how a decode step's cost grows with the rows decoded at once: the most batching can give over one row per call
    print("\n| rows decoded together | ms per decode step | tokens/s | tokens/s over 1 row |\n|---|---|---|---|")
    base = None
    for rows in args.scaling:
        sub = (ids * (rows // len(ids) + 1))[:rows]
        f = lambda k: decode(model, sub, [1]*rows, k, eos, tok.pad_token_id, gen=torch.Generator(device=dev).manual_seed(0))
        with autocast(dev, 'bf16' if dev.type == 'cuda' else 'fp32'):
            f(4); sync(dev); t = time.perf_counter(); f(args.steps); sync(dev); s = (time.perf_counter() - t) / args.steps
        base = base or rows / s
        print(f"| {rows} | {1000*s:.1f} | {rows/s:.0f} | {rows/s/base:.1f}× |")
    if dev.type == 'cpu': attention_layouts(model, args.attn_rows, args.attn_slack, L + 160)
    from torch.profiler import profile, ProfilerActivity
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == 'cuda' else [])
    with autocast(dev, 'bf16' if dev.type == 'cuda' else 'fp32'), profile(activities=acts) as prof: engine(); sync(dev)
    key = 'self_cuda_time_total' if dev.type == 'cuda' else 'self_cpu_time_total'
    print(f"\nengine `decode`, {'bf16' if dev.type == 'cuda' else 'fp32'}, top operators by self CPU time:\n")
    print("```\n" + prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=15, max_name_column_width=40) + "\n```")
    if dev.type == 'cuda':
        print("\ntop operators by self CUDA time:\n")
        print("```\n" + prof.key_averages().table(sort_by=key, row_limit=10, max_name_column_width=40) + "\n```")

if __name__ == '__main__': main()
