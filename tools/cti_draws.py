#!/usr/bin/env python
"""How many right answers does each model break, over many draws of the evaluation? The claim "RISE − base: largest
c→i ≤ 0" compares one five-turn rollout per test problem of each model; this probe draws `--draws` more of them with
other sampling seeds, on the same test problems, and says how far the reported draw sits from what the two models
do on average.

For each run and each of the two models (the boosted base and the last RISE iteration), every draw is a rollout
without oracle of `eval.turns` turns on the run's test problems (the evaluation's `no_oracle` records, sampled with seed
`seed + 1000 + d` instead of the evaluation's `seed`). Per draw: the share of problems going from right to wrong at
each turn pair and its largest over the pairs, as the claim measures it. Then, over the draws: the mean of each model's
largest c→i, the mean paired difference RISE − base (draw d of one model against draw d of the other) with a 95%
t-interval over the draws, how many draws the claim holds on, and keep (right answers kept at the next turn) pooled over
the draws. The evaluation's own draw is listed beside them. Records resume under `RUN/analysis/cti_draws/`; one JSON per
run, `results/study/cti/NAME-s<seed>.json`.

    python tools/cti_draws.py runs/fin4/tiny-s0 runs/fin4/tiny-s1 --name final --draws 8
"""
import argparse, json, math, sys
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT/'results'/'study'/'cti'

def shares(trajs:list, K:int)->dict:
    "c→i per turn pair (% of problems), its largest, and keep (% of right answers kept at the next turn, pooled)."
    from rise_nb.evaluate import transitions
    tr = transitions(trajs, K)
    n = len(trajs)
    ci = [100 * int(r['c→i']) / n for _, r in tr.iterrows()]
    cc, lost = int(tr['c→c'].sum()), int(tr['c→i'].sum())
    return {'c→i': [round(x, 2) for x in ci], 'largest': round(max(ci), 2), 'keep': round(100 * cc / (cc + lost), 2) if cc + lost else math.nan}

def t_interval(x)->tuple:
    "Mean of `x` and its 95% t-interval."
    from rise_nb.stats import t975
    x = np.asarray(x, float)
    m = float(x.mean())
    if len(x) < 2: return m, math.nan, math.nan
    h = t975(len(x) - 1) * float(x.std(ddof=1)) / math.sqrt(len(x))
    return m, m - h, m + h

def probe(run:Path, draws:int, progress:bool=True)->dict:
    "The probe of one finished run."
    from rise_nb.collect import collect, read_records
    from rise_nb.engines import SamplingParams
    from rise_nb.pipeline import engine_of, mdp_of, model_of, task_of
    from rise_nb.rundir import Run
    r = Run(run); cfg = r.cfg; task = task_of(r); mdp = mdp_of(r, task)
    last = max(int(s.split('_')[1]) for s in r.manifest['stages'] if s.startswith('train_'))
    models = {'boost': 'eval_boost', f'train_{last}': f'eval_{last}'}
    probs, K = task.load('test', cfg.eval.problems), cfg.eval.turns
    out = {}
    for st, ev in models.items():
        rec = run/ev/'no_oracle.jsonl'
        if not rec.exists(): raise FileNotFoundError(f"{rec} not found: expected the evaluation records of a finished run")
        rows = []
        with engine_of(r, model_of(r, st)) as eng:  # closed before the next model is loaded
            for d in range(draws):
                trajs = collect(run/'analysis'/'cti_draws'/f'{st}_d{d}.jsonl', eng, task, probs, mdp, turns=K, oracle=False, samples=1,
                                params=SamplingParams(temperature=cfg.temperature, max_new_tokens=cfg.max_new_tokens, seed=cfg.seed + 1000 + d),
                                meta={'stage': st, 'purpose': 'c→i draws', 'draw': d}, progress=progress)
                rows.append(shares(trajs, K))
        out[st] = {'evaluation': shares(read_records(rec, repair=False), K), 'draws': rows}
    b, rise = out['boost'], out[f'train_{last}']
    diff = [x['largest'] - y['largest'] for x, y in zip(rise['draws'], b['draws'])]
    m, lo, hi = t_interval(diff)
    mean_curve = lambda o: np.mean([x['c→i'] for x in o['draws']], 0)
    summary = {'base largest': round(float(np.mean([x['largest'] for x in b['draws']])), 2),
               'RISE largest': round(float(np.mean([x['largest'] for x in rise['draws']])), 2),
               'RISE − base': round(m, 2), 'lo': round(lo, 2), 'hi': round(hi, 2),
               'holds on draws': int(sum(x <= 0 for x in diff)), 'draws': draws,
               'evaluation RISE − base': round(rise['evaluation']['largest'] - b['evaluation']['largest'], 2),
               'base mean c→i per pair': [round(float(x), 2) for x in mean_curve(b)],
               'RISE mean c→i per pair': [round(float(x), 2) for x in mean_curve(rise)],
               'base keep': round(float(np.mean([x['keep'] for x in b['draws']])), 2),
               'RISE keep': round(float(np.mean([x['keep'] for x in rise['draws']])), 2)}
    return {'run': str(run), 'seed': cfg.seed, 'rise': f'train_{last}', 'models': out, 'summary': summary}

def table(probes:list)->str:
    "Markdown: one row per run."
    rows = ["| seed | draws | base largest c→i | RISE largest c→i | RISE − base, mean [95% CI over draws] | holds on | the evaluation's draw | keep, base → RISE |",
            '|---|---|---|---|---|---|---|---|']
    for p in probes:
        s = p['summary']
        rows.append(f"| {p['seed']} | {s['draws']} | {s['base largest']:.1f} | {s['RISE largest']:.1f} | {s['RISE − base']:+.1f} [{s['lo']:+.1f}, {s['hi']:+.1f}] "
                    f"| {s['holds on draws']}/{s['draws']} | {s['evaluation RISE − base']:+.1f} | {s['base keep']:.1f} → {s['RISE keep']:.1f} |")
    return '\n'.join(rows)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('runs', nargs='+', type=Path, help='finished run directories')
    ap.add_argument('--name', required=True, help='file stem under results/study/cti/ (NAME-s<seed>.json)')
    ap.add_argument('--draws', type=int, default=8, help='rollouts per model and problem (default 8)')
    a = ap.parse_args(argv)
    if a.draws < 2: ap.error(f"--draws: expected at least 2 (an interval over draws), got {a.draws}")
    from rise_nb.store import write_text_atomic
    probes = []
    for run in a.runs:
        if not (run/'manifest.json').exists(): ap.error(f"{run}: no manifest.json; expected a finished run directory")
        p = probe(run, a.draws)
        write_text_atomic(OUT/f"{a.name}-s{p['seed']}.json", json.dumps(p, indent=1, ensure_ascii=False) + '\n')
        probes.append(p)
        print(table([p]).split('\n')[-1], flush=True)
    print(table(probes))

if __name__ == '__main__': sys.exit(main())
