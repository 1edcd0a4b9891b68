"""Machine-limit benchmark: achieved FLOP/s of training and of generation as a fraction of this machine's measured
matmul rate (model FLOPs utilisation, MFU).

- matmul rate: the best of several fp32 `torch.mm` of `--matmul-size`² matrices (2·n³ FLOPs each), in this run;
- training: forward + backward of the RWR loss over length-grouped batches, 6 · N · tokens FLOPs (N = parameters in
  matmuls: every weight matrix, the output layer included, the input embedding excluded) plus the attention scores
  (6 · 2 · layers · hidden · T per sequence of T tokens, causal half counted);
- generation: the engine on evaluation-shaped requests, 2 · N FLOPs per processed token (prompt and new) plus attention.

Tokens counted are real tokens, so padding, Python overhead and memory-bound decoding all show up as lost utilisation.

    python bench/mfu.py [--model runs/tiny/boost]
"""
import argparse, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from common import machine, tiny_model, rise_examples, Timer
from rise_nb.arithmetic import ArithmeticTask
from rise_nb.models import load_model
from rise_nb.train import collate_padded as _collate
from rise_nb.rwr import rwr_loss, length_grouped_batches
from rise_nb.engines import HFEngine, SamplingParams

def matmul_rate(n:int, reps:int=5)->float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b); best = float('inf')
    for _ in range(reps):
        t = time.perf_counter(); torch.mm(a, b); best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best

def matmul_params(model)->int:
    emb = model.get_input_embeddings().weight
    return sum(p.numel() for n, p in model.named_parameters() if p.dim() == 2 and p is not emb) + \
           (emb.numel() if model.config.tie_word_embeddings else 0)

def attn_flops(cfg, T:int)->float:
    "Forward FLOPs of QKᵀ and AV for one causal sequence of T tokens."
    return 2 * 2 * cfg.num_hidden_layers * cfg.hidden_size * T * T / 2

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', help='checkpoint (default: build and briefly boost the tiny model)')
    ap.add_argument('--matmul-size', type=int, default=2048)
    ap.add_argument('--train-batches', type=int, default=8)
    ap.add_argument('--requests', type=int, default=128)
    args = ap.parse_args()
    peak = matmul_rate(args.matmul_size)
    model, tok = load_model(tiny_model(args.model, boost_steps=60), device='cpu', dtype='float32')
    N, cfg = matmul_params(model), model.config
    print(f"machine: {machine()}\nmeasured fp32 matmul rate ({args.matmul_size}²): {peak/1e9:.1f} GFLOP/s\n"
          f"model: {sum(p.numel() for p in model.parameters())/1e6:.2f}M parameters, {N/1e6:.2f}M in matmuls, "
          f"hidden {cfg.hidden_size}, {cfg.num_hidden_layers} layers\n")

    model.train(); ds = rise_examples(tok, args.train_batches*32)
    lens = [len(x) for x in ds['input_ids']]
    batches = length_grouped_batches(lens, 32, 0)[:args.train_batches]
    flops = 0.0
    with Timer() as tt:
        for b in batches:
            rows = [ds[i] for i in b]; ids, att, lab = _collate(rows, tok.pad_token_id)
            rwr_loss(model(input_ids=ids, attention_mask=att).logits, lab, torch.tensor([r['weight'] for r in rows])).backward()
            model.zero_grad()
            flops += sum(6 * N * lens[i] + 3 * attn_flops(cfg, lens[i]) for i in b)
    model.eval()
    task = ArithmeticTask(); convs = [task.mdp().state(p) for p in task.load('test', args.requests)]
    eng = HFEngine(model, tok, progress=False)
    with Timer() as tg: res = eng.generate(convs, SamplingParams(n=1, temperature=1.0, max_new_tokens=160, seed=0))
    plens = [len(x) for x in eng.encode(convs)]
    gflops = sum(2 * N * (p + c.tokens) + attn_flops(cfg, p + c.tokens) for p, r in zip(plens, res) for c in r)
    print("| stage | real tokens | seconds | achieved GFLOP/s | MFU (of measured matmul rate) |\n|---|---|---|---|---|")
    print(f"| training (fwd + bwd, RWR loss, batch 32) | {sum(lens[i] for b in batches for i in b)} | {tt.s:.2f} | {flops/tt.s/1e9:.2f} | {100*flops/tt.s/peak:.1f}% |")
    print(f"| generation (HFEngine, {args.requests} requests) | {eng.stats['prefill_tokens'] + eng.stats['new_tokens']} | {tg.s:.2f} | "
          f"{gflops/tg.s/1e9:.2f} | {100*gflops/tg.s/peak:.1f}% |")

if __name__ == '__main__': main()
