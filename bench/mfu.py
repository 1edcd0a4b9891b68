"""Machine limit: model FLOPs utilisation (MFU) of generation and training, against the fp32 matmul rate this machine
reaches in the same run, on the default tiny model and its 4-layer variant, for today's code and the code it replaced.

- matmul rate: the best of 20 fp32 `torch.mm` of `--matmul-size`² matrices (2·n³ FLOPs each), in this run, at the
  threads the models run at;
- the prompts are the default preset's task (`default_task()`: the guess-and-check task), at the shapes the default runs:
  evaluation-shaped requests (500 problems, one sample each) and collection-shaped ones (8 samples of each state, the
  default operator's best of eight);
- generation: `HFEngine` on those requests; 2 · N FLOPs per processed token (N = parameters in matmuls: every weight matrix, the output layer included,
  the input embedding excluded) plus attention (QKᵀ and AV over the tokens before it), a shared prompt counted once;
- training: Boost-shaped steps (batches of 32 examples, 30% with earlier attempts) and RWR-shaped ones (length-grouped
  batches of 32 weighted examples, half with earlier attempts, padded to a multiple of 64, `rwr_loss`, as `train_rwr`
  runs them: with the attention mask, as the code before, and without it, as today's, which gives the same losses bit
  for bit; and as length groups, `rise.train.layout=grouped`): forward, backward, clipping and the AdamW step;
  6 · N FLOPs per token plus the attention of each example (causal half counted).

Each stage also runs once under `torch.profiler` (the default run's engine settings for generation; length groups for
training, as Boost and the `tiny` preset's RWR run) and says how much of its time the matrix-multiply and attention
kernels take (`aten::mm`, `addmm`, `bmm`, and the fused attention forward and backward), and the MFU it would reach if
everything else took no time: the ceiling that removing Python, framework and elementwise overhead could reach with
today's fp32 kernels.

Tokens counted are real tokens, so padding, masked attention, Python overhead and memory-bound decoding all show up as
lost utilisation. Each stage runs the current code (`new`) and the code it replaced (`previous`: the model's own
forward for every decode step, `HFEngine(decode_step='reference')`; examples packed into rows, `BoostConfig(layout=
'packed')`) alternately, `--reps` times each, and keeps each one's fastest, so the ratio compares them on the same
machine state. Generation also times the two settings the `tiny` preset turns on (`engine_args`), alone and both
together (the default run's engine), with their speed-up over `HFEngine`'s defaults: `HFEngine(sampler='inverse_cdf')` (one uniform draw per row instead of `torch.multinomial`'s exponential draw
per vocabulary entry: the same distribution, other samples, so its completions are not compared token for token) and
`HFEngine(decode_step='shared')` (a prompt's keys and values held once for all its samples: the same attention to float
rounding, so it says how many completions still equal the default's). Generation also says how many completions are
identical; training, how far the two losses are apart.

    python bench/mfu.py                                 # both sizes, torch's default threads
    python bench/mfu.py --threads 1 --layers 2          # one thread, the default model only
    python bench/mfu.py --models runs/tiny/boost        # a finished run's model instead of a briefly boosted one
"""
import argparse, copy, sys, time
from pathlib import Path
import torch
from torch.profiler import profile
sys.path.insert(0, str(Path(__file__).parent))
from common import machine, tiny_model, rise_examples, default_task
from rise_nb.models import load_model, TinyConfig
from rise_nb.train import collate_packed, collate_grouped, collate_padded, token_nll, length_groups
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

def attn_flops(cfg, T:int, T0:int=0)->float:
    "Forward FLOPs of QKᵀ and AV for the tokens T0..T of one causal sequence (each attends to those before it)."
    return 2 * 2 * cfg.num_hidden_layers * cfg.hidden_size * (T * T - T0 * T0) / 2

KERNELS = ('aten::mm', 'aten::addmm', 'aten::bmm', 'aten::_scaled_dot_product_flash_attention_for_cpu',
           'aten::_scaled_dot_product_flash_attention_for_cpu_backward')

def kernel_time(f)->tuple[float,float]:
    "Run `f` once under `torch.profiler`: the seconds the matmul and attention kernels (`KERNELS`) take, and the whole run's seconds."
    t = time.perf_counter()
    with profile() as p: f()
    total = time.perf_counter() - t
    return sum(e.self_cpu_time_total for e in p.key_averages() if e.key in KERNELS) / 1e6, total

def paired(fs:dict, reps:int)->dict:
    "Run each function of `fs` in turn, `reps` rounds; each one's fastest time and its last result."
    best, out = {k: float('inf') for k in fs}, {}
    for _ in range(reps):
        for k, f in fs.items():
            t = time.perf_counter(); out[k] = f(); best[k] = min(best[k], time.perf_counter() - t)
    return {k: (best[k], out[k]) for k in fs}

VARIANTS = {'reference': dict(decode_step='reference'), 'auto': dict(decode_step='auto'), 'compiled': dict(decode_step='compiled'),
            'inverse_cdf': dict(decode_step='auto', sampler='inverse_cdf'), 'shared': dict(decode_step='shared'),
            'fast': dict(decode_step='shared', sampler='inverse_cdf'), 'compiled_fast': dict(decode_step='compiled', sampler='inverse_cdf')}
LABELS = {'reference': 'previous', 'auto': 'new', 'compiled': 'new, compiled', 'inverse_cdf': "new, sampler='inverse_cdf'",
          'shared': "new, decode_step='shared'", 'fast': "new, decode_step='shared', sampler='inverse_cdf'",
          'compiled_fast': "new, decode_step='compiled', sampler='inverse_cdf'"}
SAME = ('reference', 'auto', 'compiled')  # the variants that give the reference's tokens

def generation(model, tok, convs, n, reps, steps):
    cfg, N = model.config, matmul_params(model)
    engs = {s: HFEngine(model, tok, progress=False, **VARIANTS[s]) for s in steps}
    sp = SamplingParams(n=n, temperature=1.0, max_new_tokens=160, seed=0)
    res = paired({s: (lambda e=e: e.generate(convs, sp)) for s, e in engs.items()}, reps)
    plens = [len(x) for x in engs[steps[0]].encode(convs)]
    def flops(r): return sum(2 * N * p + attn_flops(cfg, p) + sum(2 * N * c.tokens + attn_flops(cfg, p + c.tokens, p) for c in cs)
                             for p, cs in zip(plens, r))
    kern = kernel_time(lambda: engs['fast'].generate(convs, sp)) if 'fast' in engs else None
    same = [s for s in steps if s in SAME][-1]  # the last variant that should give the reference's tokens
    eq = lambda x, y: sum(a == b for ra, rb in zip(res[x][1], res[y][1]) for a, b in zip(ra, rb))
    shared = f"; decode_step='shared' vs 'auto': {eq('shared', 'auto')} of {len(convs) * n} identical" if 'shared' in res else ''
    return {s: (res[s][0], flops(res[s][1]), sum(plens) + sum(c.tokens for cs in res[s][1] for c in cs)) for s in steps}, \
           eq(steps[0], same), len(convs) * n, same + shared, kern

def boost_loss(layout, model, rows, pad):
    "The token-mean loss of one Boost batch, as `boost` computes it with `layout`."
    if layout == 'packed':
        ids, pos, lab = collate_packed(rows, pad)
        return model(input_ids=ids, position_ids=pos, labels=lab, use_cache=False).loss
    parts = [token_nll(model(input_ids=ids, use_cache=False).logits, lab) for ids, lab in collate_grouped(rows, pad)]
    return sum(p[0] for p in parts) / sum(p[1] for p in parts)

def timed_training(model, batches, losses:dict, lr:float, reps:int, profiled:str)->tuple:
    "Train from the same weights on `batches` with each loss of `losses` (name → `loss(rows)`): clipping and AdamW as the trainers do, `paired` timing; the weights are put back after. Returns `paired`'s result (each name's fastest seconds and per-step losses), the FLOPs, the real tokens and `kernel_time` of one more run with loss `profiled`."
    cfg, N = model.config, matmul_params(model)
    state = copy.deepcopy(model.state_dict())
    def run(loss_of):
        model.load_state_dict(state); model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98)); out = []
        for rows in batches:
            loss = loss_of(rows); loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step(); opt.zero_grad(set_to_none=True)
            out.append(loss.item())
        return out
    res = paired({k: (lambda f=f: run(f)) for k, f in losses.items()}, reps)
    kern = kernel_time(lambda: run(losses[profiled]))
    model.load_state_dict(state)
    lens = [len(r['input_ids']) for b in batches for r in b]
    return res, sum(6 * N * l + 3 * attn_flops(cfg, l) for l in lens), sum(lens), kern

def training(model, tok, batches, reps):
    "Boost-shaped steps: packed rows (before) against length groups (`boost`'s layout today)."
    pad = tok.pad_token_id
    fs = {'packed': lambda rows: boost_loss('packed', model, rows, pad), 'grouped': lambda rows: boost_loss('grouped', model, rows, pad)}
    res, flops, toks, kern = timed_training(model, batches, fs, 1e-3, reps, 'grouped')
    diff = {k: max(abs(a - b) for a, b in zip(res[k][1], res['grouped'][1])) for k in res}
    return {k: (v[0], flops, toks) for k, v in res.items()}, diff, res['grouped'][1][0], (kern, flops)

def rwr_training(model, tok, ds, steps, reps):
    """RWR-shaped steps as `train_rwr` takes them (length-grouped batches of 32 weighted examples, padded to a multiple of
    `RWRConfig.pad_multiple`, `rwr_loss`, clipping, AdamW): with the attention mask (before), without it (today), and as
    length groups (`layout='grouped'`)."""
    from rise_nb.rwr import RWRConfig
    batches = [[ds[i] for i in b] for b in length_grouped_batches([len(x) for x in ds['input_ids']], 32, 0)[:steps]]
    pad, pm = tok.pad_token_id, RWRConfig().pad_multiple
    weights = lambda rows: torch.tensor([r['weight'] for r in rows])
    def padded(mask):
        def f(rows):
            ids, att, lab = collate_padded(rows, pad, pm)
            return rwr_loss(model(input_ids=ids, **({'attention_mask': att} if mask else {}), use_cache=False).logits, lab, weights(rows))
        return f
    def grouped(rows):
        total = 0
        for g in length_groups([len(r['input_ids']) for r in rows]):
            ids, _, lab = collate_padded([rows[i] for i in g], pad)
            total = total + rwr_loss(model(input_ids=ids, use_cache=False).logits, lab, weights(rows)[g], reduction='sum')
        return total / len(rows)
    fs = {'mask': padded(True), 'padded': padded(False), 'grouped': grouped}
    res, flops, toks, kern = timed_training(model, batches, fs, 1e-5, reps, 'grouped')
    diff = {k: max(abs(a - b) for a, b in zip(res[k][1], res['padded'][1])) for k in res}
    return {k: (v[0], flops, toks) for k, v in res.items()}, diff, kern

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--layers', type=int, nargs='+', default=[2, 4], help='tiny models of these depths (2: the default)')
    ap.add_argument('--models', nargs='+', help='checkpoints, one per --layers entry (default: build and briefly boost each)')
    ap.add_argument('--threads', type=int, help='torch threads (default: torch decides)')
    ap.add_argument('--matmul-size', type=int, default=2048)
    ap.add_argument('--requests', type=int, default=500, help='evaluation-shaped requests (one sample each; the default preset evaluates 500 problems)')
    ap.add_argument('--collect-requests', type=int, default=64, help='collection-shaped requests (`--collect-samples` samples each)')
    ap.add_argument('--collect-samples', type=int, default=8, help="samples of each collection-shaped request (the default preset's operator draws 8 at turns 2 and 3)")
    ap.add_argument('--train-batches', type=int, default=4, help='Boost-shaped batches of 32 examples')
    ap.add_argument('--reps', type=int, default=2, help='rounds of each paired comparison')
    ap.add_argument('--compile', action='store_true', help="also time HFEngine(decode_step='compiled'), after a warm-up call that compiles it")
    args = ap.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    peak = matmul_rate(args.matmul_size, reps=20)
    print(f"machine: {machine()}\nmeasured fp32 matmul rate ({args.matmul_size}², {torch.get_num_threads()} threads): {peak/1e9:.1f} GFLOP/s\n")
    task = default_task(); mdp = task.mdp()
    eval_convs = [mdp.state(p) for p in task.load('test', args.requests)]
    coll_convs = [mdp.state(p) for p in task.load('test', args.requests + args.collect_requests)[args.requests:]]
    rows, notes, ceil = [], [], []
    def ceiling(name, stage, kern, flops, timed):
        k, total = kern
        ceil.append(f"| {name} | {stage} | {k:.2f} | {timed:.2f} | {100*k/timed:.0f}% | {100*flops/k/peak:.1f}% |")
    def row(name, stage, variant, s, flops, toks, base=None):
        rows.append(f"| {name} | {stage} | {variant} | {toks} | {s:.2f} | {flops/s/1e9:.2f} | {100*flops/s/peak:.1f}% | "
                    f"{'' if base is None else f'{base/s:.2f}×'} |")
    for i, L in enumerate(args.layers):
        path = tiny_model(args.models[i] if args.models else None, boost_steps=60, cfg=TinyConfig(num_hidden_layers=L))
        model, tok = load_model(path, device='cpu', dtype='float32')
        name = f"{L} layers{' (default)' if L == TinyConfig().num_hidden_layers else ''}, {sum(p.numel() for p in model.parameters())/1e6:.2f}M"
        steps = ['reference', 'auto'] + (['compiled'] if args.compile else []) + ['inverse_cdf', 'shared', 'fast'] + (['compiled_fast'] if args.compile else [])
        if args.compile:
            t = time.perf_counter(); HFEngine(model, tok, progress=False, decode_step='compiled').generate(eval_convs[:8], SamplingParams(max_new_tokens=16))
            notes.append(f"{name}: compiling the decode step took {time.perf_counter()-t:.0f} s (first call in this process)")
        for stage, convs, n in [(f'generation, eval shape ({len(eval_convs)} × 1)', eval_convs, 1),
                                (f'generation, collect shape ({len(coll_convs)} × {args.collect_samples})', coll_convs, args.collect_samples)]:
            res, same, total, last, kern = generation(model, tok, convs, n, args.reps, steps)
            ceiling(name, f"{stage}, {LABELS['fast']}", kern, res['fast'][1], res['fast'][0])
            for s in steps: row(name, stage, LABELS[s], *res[s], base=None if s == 'reference' else res['reference'][0])
            notes.append(f"{name}, {stage}: {same} of {total} completions identical (previous vs {last}); "
                         f"over the default engine ('new'): sampler='inverse_cdf' {res['auto'][0]/res['inverse_cdf'][0]:.2f}×, "
                         f"decode_step='shared' {res['auto'][0]/res['shared'][0]:.2f}×, both {res['auto'][0]/res['fast'][0]:.2f}×")
        ds = rise_examples(tok, 32 * args.train_batches, multi_turn=0.3)
        batches = [[ds[j] for j in range(b*32, (b+1)*32)] for b in range(args.train_batches)]
        res, diff, l0, kern = training(model, tok, batches, args.reps)
        ceiling(name, 'training, Boost-shaped (batch 32), length groups', *kern, res['grouped'][0])
        stage = 'training, Boost-shaped (batch 32)'
        row(name, stage, 'packed rows (before the length groups)', *res['packed'])
        row(name, stage, 'length groups (`boost` today)', *res['grouped'], base=res['packed'][0])
        notes.append(f"{name}, Boost-shaped training: the {args.train_batches} steps' losses differ from the length groups' by at most "
                     + ', '.join(f"{diff[k]:.2e} ({k})" for k in res if k != 'grouped') + f" (first loss {l0:.5f})")
        res, diff, kern = rwr_training(model, tok, rise_examples(tok, 32 * 8, multi_turn=0.5), args.train_batches, args.reps)
        stage = 'training, RWR-shaped (batch 32)'
        row(name, stage, 'one padded tensor, attention mask (before)', *res['mask'])
        row(name, stage, 'one padded tensor, no mask (`RWRConfig` default)', *res['padded'], base=res['mask'][0])
        row(name, stage, "length groups (`rise.train.layout=grouped`, the `tiny` preset)", *res['grouped'], base=res['mask'][0])
        ceiling(name, 'training, RWR-shaped (batch 32), length groups', kern, res['grouped'][1], res['grouped'][0])
        notes.append(f"{name}, RWR-shaped training: the {args.train_batches} steps' losses differ from one padded tensor without the mask by at most "
                     + ', '.join(f"{diff[k]:.2e} ({k})" for k in res if k != 'padded') + " (0: bit for bit)")
    print("| model | stage | code | real tokens | seconds | achieved GFLOP/s | MFU (of measured matmul rate) | speed-up over previous |\n"
          "|---|---|---|---|---|---|---|---|")
    print('\n'.join(rows) + '\n\n' + '\n\n'.join(notes))
    print("\nThe ceiling of today's kernels: one more run of each stage under `torch.profiler`, the seconds its matmul and "
          "attention kernels take there, their share of the stage's fastest unprofiled time (the table above), and the MFU the "
          "stage would reach if nothing else took time.\n\n"
          "| model | stage | kernel seconds | stage seconds | kernels' share | MFU with the kernels' time alone |\n|---|---|---|---|---|---|")
    print('\n'.join(ceil))

if __name__ == '__main__': main()
