"""Generation against real peers, on the same requests: the default engine (`HFEngine`, with its own
defaults and with the sampling settings the `tiny` preset runs it with), vLLM on this machine (offline
`vllm.LLM` through `VLLMEngine`, and `vllm serve` through `OpenAIEngine`), plain batched `transformers` `generate`, and
transformers' own continuous batching (`generate_batch`, where the installed version has it).

The prompts are the default preset's task (`default_task()`), at the two request shapes the default run issues
(temperature 1.0, `max_new_tokens` of the default run):
- `eval`: first-turn states of 500 held-out problems, one sample each (the default evaluates 500 problems);
- `collect`: first-turn states of 64 further problems with 8 samples each (the default's operator draws 8 per state).

Each peer is timed on generation alone (start-up reported separately). Peers that cannot run here are listed with the
reason. vLLM's peers need the environment `tools/setup_vllm.sh` builds:

    . .venv-vllm/bin/activate && python bench/peers.py --model runs/tiny/boost   # the default run's boosted model
    python bench/peers.py --only hf generate                           # builds and briefly boosts a tiny default model
"""
import argparse, json, os, signal, socket, subprocess, sys, time, urllib.request
os.environ.setdefault('VLLM_CONFIGURE_LOGGING', '0')  # vLLM would print its log lines to stdout, which bench/all.py writes into BENCHMARKS.md
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from common import machine, tiny_model, default_task
from rise_nb.engines import HFEngine, SamplingParams, OpenAIEngine
from rise_nb.models import load_model
from rise_nb.presets import get_preset

PEERS = ['hf', 'hf_tiny', 'generate', 'generate_batch', 'vllm', 'vllm_serve']

def count(rows, eos):
    "New tokens of each row, up to and including the first end-of-turn token."
    return sum((r.index(eos)+1) if eos in r else len(r) for r in rows)

def peer_generate(model, tok, ids, n, max_new, bs):
    "transformers `generate` on left-padded batches of `bs` prompts (`num_return_sequences=n`)."
    total, eos, pad = 0, tok.eos_token_id, tok.pad_token_id
    for i in range(0, len(ids), bs):
        chunk = ids[i:i+bs]; L = max(map(len, chunk))
        x = torch.full((len(chunk), L), pad); att = torch.zeros_like(x)
        for r, s in enumerate(chunk): x[r, L-len(s):] = torch.tensor(s); att[r, L-len(s):] = 1
        g = model.generate(x, attention_mask=att, do_sample=True, temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=max_new,
                           num_return_sequences=n, eos_token_id=eos, pad_token_id=pad)
        total += count(g[:, L:].tolist(), eos)
    return total

def peer_generate_batch(model, tok, ids, n, max_new):
    "transformers' continuous batching (`generate_batch`), default configuration."
    from transformers import GenerationConfig
    gc = GenerationConfig(do_sample=True, temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=max_new, num_return_sequences=n,
                          eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    out = model.generate_batch(inputs=ids, generation_config=gc, progress_bar=False)
    got = [o.generated_tokens for o in out.values()]
    if len(got) != len(ids)*n: raise RuntimeError(f"generate_batch returned {len(got)} of {len(ids)*n} sequences")
    return count(got, tok.eos_token_id)

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def start_server(ckpt, log):
    from rise_nb.engines import vllm_defaults, _vllm_on_cpu
    port, d = _free_port(), vllm_defaults(str(ckpt), _vllm_on_cpu())
    cmd = [sys.executable, '-m', 'vllm.entrypoints.openai.api_server', '--model', str(ckpt), '--host', '127.0.0.1', '--port', str(port), '--max-model-len', '1024',
           '--seed', '0', '--gpu-memory-utilization', str(d['gpu_memory_utilization'])] + (['--dtype', d['dtype']] if 'dtype' in d else [])
    p = subprocess.Popen(cmd, stdout=open(log, 'w'), stderr=subprocess.STDOUT, start_new_session=True)
    t0 = time.time()
    while True:
        if p.poll() is not None: raise RuntimeError(f"vllm serve exited ({p.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f'http://127.0.0.1:{port}/health', timeout=2): break
        except OSError: time.sleep(1)
        if time.time() - t0 > 600: os.killpg(p.pid, signal.SIGKILL); raise TimeoutError(f"vllm serve not ready after 600 s; see {log}")
    return p, f'http://127.0.0.1:{port}/v1', time.time() - t0

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', help='checkpoint (default: build and boost the tiny default model)')
    ap.add_argument('--boost-steps', type=int, default=60)
    ap.add_argument('--eval-requests', type=int, default=500, help='evaluation-shaped requests, one sample each')
    ap.add_argument('--collect-requests', type=int, default=64, help='collection-shaped requests, `--collect-samples` samples each')
    ap.add_argument('--collect-samples', type=int, default=8)
    ap.add_argument('--max-new-tokens', type=int, default=160)
    ap.add_argument('--generate-batch-size', type=int, default=64, help='prompts per `generate` call (rows = this × samples)')
    ap.add_argument('--only', nargs='+', choices=PEERS, default=PEERS)
    ap.add_argument('--json', help='also write the measurements here')
    args = ap.parse_args()
    task = default_task()
    t0 = time.time(); ckpt = tiny_model(args.model, boost_steps=args.boost_steps)
    print(f"machine: {machine()}")
    model, tok = load_model(ckpt, device='cpu', dtype='float32')
    print(f"model {ckpt} ({sum(p.numel() for p in model.parameters())/1e6:.2f}M parameters, float32; ready in {time.time()-t0:.0f} s), "
          f"max_new_tokens {args.max_new_tokens}, temperature 1.0\n", flush=True)
    hf = HFEngine(model, tok, progress=False)
    shapes = [('eval', args.eval_requests, 1), ('collect', args.collect_requests, args.collect_samples)]
    probs = task.load('test', args.eval_requests + args.collect_requests)
    convs = {'eval': [task.mdp().state(p) for p in probs[:args.eval_requests]],
             'collect': [task.mdp().state(p) for p in probs[args.eval_requests:]]}
    ids = {s: hf.encode(c) for s, c in convs.items()}
    rows, notes, startup = [], [], {}
    def run(name, label, fn):
        for shape, nr, n in shapes:
            try:
                t = time.perf_counter(); ntok = fn(shape, n); dt = time.perf_counter() - t
                rows.append({'peer': name, 'label': label, 'shape': shape, 'requests': nr, 'n': n, 'tokens': ntok, 'seconds': dt, 'tps': ntok/dt})
                print(f"  {label}, {shape}: {ntok} tokens in {dt:.1f} s = {ntok/dt:.0f} tokens/s", flush=True)
            except Exception as e:
                notes.append(f"{label}, {shape}: failed: {type(e).__name__}: {str(e)[:200]}"); print('  ' + notes[-1], flush=True)
    sp = lambda n: SamplingParams(n=n, temperature=1.0, max_new_tokens=args.max_new_tokens, seed=0)
    def engine_fn(eng): return lambda shape, n: sum(c.tokens for r in eng.generate(convs[shape], sp(n)) for c in r)
    if 'hf' in args.only: run('hf', 'HFEngine (default)', engine_fn(hf))
    if 'hf_tiny' in args.only:  # the settings the default run samples with (the `tiny` preset's engine_args)
        ea = get_preset('tiny').engine_args
        run('hf_tiny', f"HFEngine with the `tiny` preset's settings ({', '.join(f'{k}={v!r}' for k, v in ea.items())})", engine_fn(HFEngine(model, tok, progress=False, **ea)))
    if 'generate' in args.only:
        run('generate', f'transformers `generate`, left-padded batches of {args.generate_batch_size} prompts',
            lambda shape, n: peer_generate(model, tok, ids[shape], n, args.max_new_tokens, max(1, args.generate_batch_size // n)))
    if 'generate_batch' in args.only:
        if hasattr(model, 'generate_batch'):
            run('generate_batch', 'transformers `generate_batch` (continuous batching, default config)',
                lambda shape, n: peer_generate_batch(model, tok, ids[shape], n, args.max_new_tokens))
        else: notes.append("transformers `generate_batch`: not in this transformers version")
    try: import vllm; has_vllm = True
    except ImportError: has_vllm = False
    if not has_vllm and ({'vllm', 'vllm_serve'} & set(args.only)):
        notes.append("vLLM peers: vllm is not importable here (run in the environment tools/setup_vllm.sh builds)")
    if has_vllm and 'vllm' in args.only:
        from rise_nb.engines import VLLMEngine
        t = time.time(); v = VLLMEngine(str(ckpt), max_model_len=1024, progress=False); startup['vllm'] = time.time() - t
        v.generate(convs['eval'][:8], SamplingParams(max_new_tokens=8))  # warm-up
        run('vllm', f"vLLM offline `LLM` (VLLMEngine, {v.llm_args})", engine_fn(v))
        v.close()
    if has_vllm and 'vllm_serve' in args.only:
        p, url, startup['vllm_serve'] = start_server(ckpt, '/tmp/rise_nb_bench_serve.log')
        try:
            api = OpenAIEngine(str(ckpt), base_url=url, send_seed=False, concurrency=64, progress=False)
            api.generate(convs['eval'][:8], SamplingParams(max_new_tokens=8))
            run('vllm_serve', '`vllm serve` through OpenAIEngine (64 requests in flight)', engine_fn(api))
        finally: os.killpg(p.pid, signal.SIGTERM); p.wait(60)
    base = {r['shape']: r['tps'] for r in rows if r['peer'] == 'hf'}
    print("\n| shape | requests × samples | peer | new tokens | seconds | tokens/s | vs HFEngine |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = f"{r['tps']/base[r['shape']]:.2f}×" if r['shape'] in base else 'n/a'
        print(f"| {r['shape']} | {r['requests']} × {r['n']} | {r['label']} | {r['tokens']} | {r['seconds']:.1f} | {r['tps']:.0f} | {ratio} |")
    for k, s in startup.items(): print(f"\nstart-up of {k} (not in its tokens/s): {s:.0f} s")
    for n in notes: print(f"\nnote: {n}")
    for shape, _, _ in shapes:
        best = max((r for r in rows if r['shape'] == shape), key=lambda r: r['tps'], default=None)
        if best: print(f"\nfastest on `{shape}`: {best['label']} ({best['tps']:.0f} tokens/s)")
    if args.json: Path(args.json).write_text(json.dumps({'rows': rows, 'startup': startup, 'notes': notes}, indent=1))

if __name__ == '__main__':
    main()
