"""Run every benchmark and write their output, as measured, into BENCHMARKS.md (machine, date, command, numbers).

    python bench/all.py                  # all of them, about 20 minutes on 2 cores
    python bench/all.py --only training mfu
    python bench/all.py --out /tmp/B.md  # somewhere else
    python bench/all.py --only generation_gpu training_gpu profile_generation_gpu --update   # on a machine with a GPU (never run by default)
    python bench/all.py --only boost_budget --update   # about 15 minutes of Boost runs (never run by default)
    python bench/all.py --only end_to_end_compare --update   # about 45 minutes: three runs of the default (never run by default)
    . .venv-vllm/bin/activate && python bench/all.py --only peers --update   # vLLM and transformers peers (tools/setup_vllm.sh first)

Each benchmark is a script in this folder that prints its own tables and ratios; this one runs them one after another
(never two at once: they would share the cores) and writes the file atomically at the end.
"""
import argparse, datetime, os, subprocess, sys, tempfile, time
from pathlib import Path
HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from common import machine

BENCHES = {  # name: (title, arguments)
    'generation': ('1. Generation: batched engine vs one sample per call', ['generation.py', '--eval-requests', '96', '--collect-requests', '12']),
    'best_of_n': ('2. Best-of-N: 16 samples per state of a collected turn', ['best_of_n.py']),
    'training': ('3. Training: batched RWR loss vs a per-example loop; loss overhead; padding', ['training.py']),
    'mfu': ('4. Machine limit: model FLOPs utilisation of training and generation', ['mfu.py', '--layers', '2', '--models', 'runs/tiny/boost', '--reps', '3']),
    'memory': ('5. Memory: peak RSS as the number of problems (and of Boost steps) grows', ['memory.py']),
    'end_to_end': ('6. End to end: the quick demo (`--preset smoke`), run now', ['end_to_end.py', '--preset', 'smoke']),
    'end_to_end_tiny': ('6. End to end: `--preset tiny`, stage times of a finished run', ['end_to_end.py', '--run', 'runs/tiny']),
    'end_to_end_compare': ('6. End to end: the default before and after length-grouped RWR batches, and 4,000 problems × 3 iterations',
                           ['end_to_end.py', '--preset', 'tiny', '--set', 'seed=100', '--after', 'rise.train.layout=grouped',
                            '--more', 'rise.problems=4000', '--more', 'rise.iterations=3', '--keep', 'runs/bench-e2e']),
    'profile': ('Profile of the slowest stage (Boost)', ['profile_training.py', '--model', 'runs/tiny/boost']),
    'profile_generation': ('Profile of a decode step: engine vs transformers `generate`, and cost vs rows decoded together',
                           ['profile_generation.py']),
    'boost_budget': ("Boost's budget of the earlier 4-layer default: first-turn accuracy against Boost's steps",
                     ['boost_budget.py', '--layers', '4', '--lr', '3e-3', '--configs', '200x64', '400x32', '--reference', 'runs/tiny-4l/boost']),
    'peers': ('7. Generation against real peers: vLLM on CPU (offline and served), transformers `generate` and `generate_batch`',
              ['peers.py', '--model', 'runs/tiny/boost']),
    'generation_gpu': ('1. Generation on a GPU: 110M-parameter model from `build_tiny_model`, bf16',
                       ['generation.py', '--device', 'cuda', '--size', '110m', '--precision', 'bf16', '--boost-steps', '200',
                        '--eval-requests', '32', '--collect-requests', '4', '--token-budget', '262144', '--no-cudnn-attention']),
    'training_gpu': ('3. Training on a GPU: 110M-parameter model from `build_tiny_model`, bf16 autocast',
                     ['training.py', '--device', 'cuda', '--size', '110m', '--precision', 'bf16']),
    'profile_generation_gpu': ('Profile of a decode step on a GPU: engine vs transformers `generate`, 110M parameters',
                               ['profile_generation.py', '--device', 'cuda', '--size', '110m']),
}
GPU_ONLY = [n for n in BENCHES if n.endswith('_gpu')]  # run only when asked for by name
SLOW = ['boost_budget', 'peers', 'end_to_end_compare']  # Boost runs (about 15 minutes); the peers (in vLLM's environment, about 10 minutes); three runs of the default (about 45 minutes): only when asked for by name
NEEDS = {'end_to_end_tiny': ('runs/tiny/manifest.json', 'rise_nb run --preset tiny --out runs/tiny'),
         'mfu': ('runs/tiny/boost/config.json', 'rise_nb run --preset tiny --out runs/tiny --until boost'),
         'profile': ('runs/tiny/boost/config.json', 'rise_nb run --preset tiny --out runs/tiny --until boost'),
         'peers': ('runs/tiny/boost/config.json', 'rise_nb run --preset tiny --out runs/tiny --until boost'),
         'boost_budget': ('runs/tiny-4l/boost/rise_nb.json', 'rise_nb boost --out runs/tiny-4l --set model.num_hidden_layers=4 '
                          '--set boost.steps=600 --set boost.batch_size=64 --set boost.lr=3e-3')}  # the finished run each one reads

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--only', nargs='+', choices=list(BENCHES), help='run these only')
    ap.add_argument('--out', default=str(HERE.parent/'BENCHMARKS.md'))
    ap.add_argument('--update', action='store_true', help='replace only the sections run now in an existing --out file')
    args = ap.parse_args()
    names = args.only or [n for n in BENCHES if n not in GPU_ONLY + SLOW]
    load0, failed = os.getloadavg()[0], []
    parts = [f"# Benchmarks\n\nWritten by `python bench/all.py` on {datetime.date.today().isoformat()}. Machine: {machine()}.\n"
             "Every number below is printed by the benchmark script named in its section, measured in that run; "
             "ratios compare two ways of doing the same work measured one after the other in the same run. "
             "Sections titled 'on a GPU' were run on a GPU machine (`--only generation_gpu training_gpu profile_generation_gpu "
             "--update`) and name that machine in their first line.\n"]
    for n in names:
        title, cmd = BENCHES[n]
        if n in NEEDS and not (HERE.parent/NEEDS[n][0]).exists():
            parts.append(f"## {title}\n\nSkipped: `{NEEDS[n][0]}` does not exist here (make it with `{NEEDS[n][1]}`).\n")
            continue
        if n in GPU_ONLY:
            import torch
            if not torch.cuda.is_available(): raise SystemExit(f"{n}: needs a CUDA GPU, and torch sees none here")
        shown = 'python bench/' + ' '.join(cmd)
        print(f"== {shown}", flush=True)
        t = time.perf_counter()
        r = subprocess.run([sys.executable, str(HERE/cmd[0]), *cmd[1:]], cwd=HERE.parent, capture_output=True, text=True)
        dt = time.perf_counter() - t
        body = r.stdout.strip()
        print(body, flush=True)
        if r.returncode:
            body += f"\n\nFAILED (exit code {r.returncode}):\n```\n{r.stderr[-3000:]}\n```"
            print(r.stderr[-3000:], file=sys.stderr); failed.append(title)
        parts.append(f"## {title}\n\nCommand: `{shown}` ({dt:.0f} s; 1-minute load average {os.getloadavg()[0]:.1f} at its end)\n\n{body}\n")
    parts[0] += f"\nLoad average (1 min) when the run started: {load0:.1f}, on {os.cpu_count()} cores.\n"
    out = Path(args.out)
    if args.update and out.exists():  # keep the other sections as they were measured
        old = out.read_text().split('\n## ')
        new = {p.split('\n', 1)[0]: p for p in '\n'.join(parts).split('\n## ')[1:]}
        for t in set(failed) & {p.split('\n', 1)[0] for p in old[1:]}:
            new.pop(t); print(f"{t}: failed, so the section keeps its previous measurement", file=sys.stderr)
        parts = [old[0]] + [new.pop(p.split('\n', 1)[0], p) for p in old[1:]] + list(new.values())
        parts = [parts[0]] + ['## ' + p.rstrip('\n') + '\n' for p in parts[1:]]
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix='.md'); os.close(fd)
    Path(tmp).write_text('\n'.join(parts)); os.chmod(tmp, 0o644); os.replace(tmp, out)
    print(f"wrote {out}")
    if failed: raise SystemExit(f"failed: {'; '.join(failed)}")

if __name__ == '__main__': main()
