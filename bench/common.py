"""Shared set-up of the benchmarks: the tiny model and realistic RISE training examples, made locally."""
import os, random, resource, sys, tempfile, time
from pathlib import Path
import torch

def machine()->str:
    "One line naming the machine the numbers come from."
    from rise_nb.rundir import cpu_model
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'
    return f"{cpu_model()}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads), {gpu}"

SIZES = {  # name: TinyConfig fields; `tiny` is the tiny default, `110m` a GPT-2-small-shaped model for GPU runs
    'tiny': {},
    '110m': dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
}
BOOST_LR = {'tiny': None, '110m': 3e-4}  # None: `BoostConfig`'s default rate, which diverges (NaN logits) at 110M parameters

def default_task():
    "The task the default preset (`tiny`) runs, with its arguments: what the benchmarks measure."
    from rise_nb.presets import get_preset
    from rise_nb.tasks import get_task
    p = get_preset('tiny')
    return get_task(p.task, **p.task_args)

def tiny_model(path=None, boost_steps:int=0, cfg=None, size:str='tiny', device:str|None=None, task=None)->Path:
    "The tiny model of `size` for `task` (default: `default_task()`), built in a temp dir unless `path` holds one, optionally boosted briefly so it writes answers."
    from rise_nb.models import build_tiny_model, boost, BoostConfig, TinyConfig
    if path is not None and (Path(path)/'config.json').exists(): return Path(path)
    if size not in SIZES: raise SystemExit(f"--size: expected one of {', '.join(SIZES)}, got {size!r}")
    tmp, task = Path(tempfile.mkdtemp()), task or default_task()
    build_tiny_model(tmp/'base', task, cfg or TinyConfig(**SIZES[size]))
    if not boost_steps: return tmp/'base'
    boost(tmp/'base', tmp/'boost', task, BoostConfig(steps=boost_steps, n_train=boost_steps*64, lr=BOOST_LR[size] or BoostConfig().lr), device=device, progress=False)
    return tmp/'boost'

def rise_examples(tok, n:int, seed:int=0, multi_turn:float=0.5, task=None):
    "`n` weighted training examples of `task` (default: `default_task()`) shaped like a RISE iteration's: first-turn and multi-turn states (with earlier wrong attempts) → an answer, made as the `tiny` preset's Boost makes them."
    from dataclasses import replace
    from datasets import Dataset
    from rise_nb.models import boost_examples
    from rise_nb.presets import get_preset
    task = task or default_task()
    exs = boost_examples(tok, task, task.load('train', n), task.mdp(), replace(get_preset('tiny').boost, multi_turn=multi_turn, seed=seed))
    rng = random.Random(seed)
    return Dataset.from_list([{**e, 'weight': rng.choice([1.0, 0.082])} for e in exs])  # exp(r/0.4)/exp(1/0.4) for r in {1, 0}

def peak_rss_mb()->float:
    "Peak resident memory of this process so far, in MB."
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

class Timer:
    def __enter__(self): self.t = time.perf_counter(); return self
    def __exit__(self, *a): self.s = time.perf_counter() - self.t
