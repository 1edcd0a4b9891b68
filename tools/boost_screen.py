#!/usr/bin/env python
"""Boost's first steps on a few seeds, cheaply: does each seed's model learn early to copy the item's noun?

A run's build and Boost stages for `--steps` steps (the preset's Boost otherwise: its rate is held after the warm-up
until the last `boost.decay` share of the steps, so the first steps equal those of the full-length Boost), then, on the
first-turn states of 60 training problems, the share of the item's noun and of the person's name that the model
predicts wrongly (argmax). One JSON per seed in `results/study/screens/`, with Boost's loss per step.

    python tools/boost_screen.py --seeds 103 105 108 --steps 400 --name nf --set task_args.lines=noun_first
    python tools/boost_screen.py --table
"""
import argparse, json, sys, tempfile, time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT/'results'/'study'/'screens'

def copy_errors(model_dir:Path, task, n:int=60)->dict:
    "% of the item's noun and of the name (as they occur in the worked solutions) that the model's argmax gets wrong, on `n` first-turn states."
    import torch
    from rise_nb.models import load_model, BoostConfig, boost_examples
    from rise_nb.tasks.arithmetic import ITEMS, NAMES
    model, tok = load_model(model_dir, device='cpu'); model.eval()
    exs = boost_examples(tok, task, task.load('train', n), task.mdp(), BoostConfig(multi_turn=0.0))
    kind = {tok.encode(' ' + w, add_special_tokens=False)[0]: 'item' for w in ITEMS}
    kind.update({tok.encode(p + w, add_special_tokens=False)[0]: 'name' for w in NAMES for p in ('', ' ')})
    wrong, cnt = {'item': 0, 'name': 0}, {'item': 0, 'name': 0}
    with torch.no_grad():
        for e in exs:
            ids, lab = e['input_ids'], e['labels']
            pred = model(input_ids=torch.tensor([ids])).logits[0].argmax(-1).tolist()
            for j in range(1, len(ids)):
                k = kind.get(ids[j]) if lab[j] != -100 else None
                if k: wrong[k] += pred[j-1] != ids[j]; cnt[k] += 1
    return {k: round(100 * wrong[k] / cnt[k], 1) for k in cnt if cnt[k]}

def screen(seed:int, steps:int, sets:list[str], preset:str='tiny')->dict:
    "Build and boost the preset's tiny model for `steps` steps on `seed`, as `rise_nb run` would; Boost's losses and `copy_errors`."
    from rise_nb.presets import get_preset
    from rise_nb.config import apply_overrides
    from rise_nb.models import build_tiny_model, boost
    from rise_nb.tasks import get_task
    cfg = apply_overrides(get_preset(preset), sets + [f'seed={seed}'])
    task = get_task(cfg.task, **cfg.task_args)
    bc = replace(cfg.boost, steps=steps, seed=cfg.boost.seed + cfg.seed)  # as the pipeline's Boost stage seeds it
    t0 = time.time()
    with tempfile.TemporaryDirectory() as d:
        build_tiny_model(Path(d)/'base', task, cfg.model, seed=cfg.seed)
        info = boost(Path(d)/'base', Path(d)/'boost', task, bc, mdp=task.mdp(window=cfg.eval.window))
        errs = copy_errors(Path(d)/'boost', task)
    return {'seed': seed, 'steps': steps, 'set': sets, 'seconds': round(time.time() - t0), 'argmax_wrong': errs, 'losses': info['losses']}

def table(d:Path=OUT)->str:
    "Markdown: one line per screen, Boost's loss (mean of 50 steps) at steps 150, 250 and 300, and the copy errors at the end."
    at = lambda L, s: round(sum(L[s-50:s]) / 50, 3)
    lines = ['| screen | seed | steps | set | loss at 150 | at 250 | at 300 | noun wrong % | name wrong % |', '|---|---|---|---|---|---|---|---|---|']
    for f in sorted(d.glob('*.json')):
        s = json.loads(f.read_text()); L = s['losses']
        lines.append(f"| {f.stem.rsplit('-s', 1)[0]} | {s['seed']} | {s['steps']} | {' '.join(s['set']) or 'preset'} | {at(L, 150)} | {at(L, 250)} | {at(L, 300)} | "
                     f"{s['argmax_wrong'].get('item', '')} | {s['argmax_wrong'].get('name', '')} |")
    return '\n'.join(lines)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seeds', type=int, nargs='*', default=[])
    ap.add_argument('--steps', type=int, default=400)
    ap.add_argument('--name', help='screen name: results/study/screens/<name>-s<seed>.json')
    ap.add_argument('--set', action='append', default=[], metavar='KEY=VALUE')
    ap.add_argument('--table', action='store_true', help='print the screens as a markdown table')
    a = ap.parse_args()
    if a.seeds and not a.name: ap.error('--name is required with --seeds')
    OUT.mkdir(parents=True, exist_ok=True)
    for s in a.seeds:
        r = screen(s, a.steps, a.set)
        f = OUT/f'{a.name}-s{s}.json'; tmp = f.with_suffix('.tmp'); tmp.write_text(json.dumps(r)); tmp.replace(f)
        print(f.name, r['seconds'], 's', r['argmax_wrong'], flush=True)
    if a.table or not a.seeds: print(table())
