#!/usr/bin/env python
"""Does RISE change the first turn? Each model's first-turn accuracy over many samples per test problem, paired
against the boosted base's, and what each collection's first turns were.

The claim "RISE m1@t1 ≥ base m1@t1 − 1" compares one sample per problem; near a first-turn accuracy of 5% its paired
difference has a standard error of about 1.4 points on 500 problems. Here each model draws `--samples` first turns of
the same 500 test problems (`rise_nb.analysis.first_turn_samples`, which the figures' pass@B already draws for the
base), and the difference to the base is the mean over problems of the per-problem accuracy difference, with its 95%
bootstrap interval over the problems. Each collection's row says how often its turn-1 candidates were right, and how
often the first turn it kept (and trained on) was. One JSON per run, `results/study/turn1/NAME-s<seed>.json`.

    python tools/turn1_probe.py runs/fin/tiny-s0 runs/fin/tiny-s1 --name fin
"""
import argparse, json, sys
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT/'results'/'study'/'turn1'
LABELS = {'boost': 'base', 'sft': 'SFT on oracle'}

def label(stage:str)->str:
    "The model a stage produced, as the tables name it."
    return LABELS.get(stage) or f"RISE iteration {stage.split('_')[1]}"

def collection_shares(path:Path)->dict:
    "% of turn-1 candidates right and % of kept first turns right, from a collection's records at `path`."
    from rise_nb.collect import read_records
    firsts = [tr.turns[0] for tr in read_records(path, repair=False) if tr.turns]  # a malformed row raises, naming the file and row
    if not firsts: raise ValueError(f"{path}: no trajectory with a first turn")
    cands = [c['reward'] for t in firsts for c in (t.meta.get('candidates') or [{'reward': t.reward}])]
    return {'candidates': len(cands), 'candidates_right': round(100*sum(r == 1 for r in cands)/len(cands), 2),
            'first_turns': len(firsts), 'kept_right': round(100*sum(t.correct for t in firsts)/len(firsts), 2)}

def paired(acc:dict, base:str='boost')->dict:
    "Each model's mean accuracy (%) over its per-problem accuracies in `acc` (stage → array), and its paired difference to `base`'s with a 95% interval."
    from rise_nb.analysis import paired_bootstrap
    out = {}
    for st, a in acc.items():
        v, lo, hi = paired_bootstrap(np.stack([a, acc[base]], 1), lambda M: 100*(M[..., 0] - M[..., 1]))
        out[st] = {'accuracy': round(100*float(np.mean(a)), 2), 'minus_base': round(v, 2), 'lo': round(lo, 2), 'hi': round(hi, 2)}
    return out

def probe(run:Path, stages:list, samples:int)->dict:
    "The probe of one finished run."
    from rise_nb.analysis import first_turn_samples
    acc = {}
    for st in stages:
        s = first_turn_samples(run, st, samples)
        acc[st] = np.array([np.mean([t.reward == 1 for t in s[i]]) for i in sorted(s)])
    cfg, done = json.loads((run/'config.json').read_text()), json.loads((run/'manifest.json').read_text())['stages']
    models = {st: {**m, 'finished': done[st].get('finished')} for st, m in paired(acc).items()}  # which training of the stage was probed
    return {'run': str(run), 'seed': cfg['seed'], 'samples': samples, 'models': models,
            'collections': {p.stem: collection_shares(p) for p in sorted(run.glob('collect_*.jsonl'))}}

def table(probes:list)->str:
    "Markdown: one row per run and model."
    rows = ["| run | seed | model | first-turn accuracy over the samples | minus the base's [95% CI] |", '|---|---|---|---|---|']
    for p in probes:
        for st, m in p['models'].items():
            rows.append(f"| {Path(p['run']).name} | {p['seed']} | {label(st)} | {m['accuracy']:.2f} | "
                        + ('—' if st == 'boost' else f"{m['minus_base']:+.2f} [{m['lo']:+.2f}, {m['hi']:+.2f}]") + ' |')
    rows += ['', '| run | collection | turn-1 candidates | right (%) | first turns kept | right (%) |', '|---|---|---|---|---|---|']
    for p in probes:
        for c, s in p['collections'].items():
            rows.append(f"| {Path(p['run']).name} | {c} | {s['candidates']} | {s['candidates_right']:.2f} | {s['first_turns']} | {s['kept_right']:.2f} |")
    return '\n'.join(rows)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('runs', nargs='+', type=Path)
    ap.add_argument('--stages', nargs='+', default=['boost', 'train_1', 'train_2'])
    ap.add_argument('--samples', type=int, default=25, help='first-turn samples per test problem (25: the pass@B draws the figures already made of the base)')
    ap.add_argument('--name', required=True, help='the probe files are results/study/turn1/NAME-s<seed>.json')
    args = ap.parse_args()
    from rise_nb.store import write_text_atomic
    probes = []
    for run in args.runs:
        if not (run/'manifest.json').exists(): raise SystemExit(f"{run}: not a run directory (no manifest.json)")
        probes.append(probe(run, args.stages, args.samples))
        OUT.mkdir(parents=True, exist_ok=True)
        write_text_atomic(OUT/f"{args.name}-s{probes[-1]['seed']}.json", json.dumps(probes[-1], indent=1))
    print(table(probes))

if __name__ == '__main__':
    main()
