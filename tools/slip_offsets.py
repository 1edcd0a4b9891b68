#!/usr/bin/env python
"""How far off are a model's own false calculations? For each run, the wrong first-turn candidates of its first
collection (training problems, sampled by the boosted model at the run's temperature): the first false `<<a op b=c>>`
of each, and the share of each offset (written − true). Boost's slipped attempts (`task_args.slips`) can then be made
to look like these. One JSON per run in `results/study/offsets/`.

    python tools/slip_offsets.py runs/dev/rops99-s102 runs/dev/rops99-s103
"""
import argparse, collections, json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT/'results'/'study'/'offsets'
sys.path.insert(0, str(ROOT/'tools'))
from slip_probe import CALC, false_calc
from study_log import OPS

def offsets(texts)->dict:
    "Of the texts with a false calculation: their count, and the % of each offset of the first one (most common first)."
    c = collections.Counter()
    for t in texts:
        if (bad := false_calc(t)) is None: continue
        m = CALC.fullmatch(bad)
        c[int(m[4]) - OPS[m[2]](int(m[1]), int(m[3]))] += 1
    n = sum(c.values())
    return {'false': n, 'share': {str(d): round(100 * k / n, 1) for d, k in c.most_common()}}

def run_offsets(run_dir:Path)->dict:
    "The offsets of the wrong turn-1 candidates in `run_dir/collect_1.jsonl`."
    from rise_nb.collect import read_records
    trajs = read_records(run_dir/'collect_1.jsonl')
    texts = [c['text'] for t in trajs for c in (t.turns[0].meta.get('candidates') or [{'text': t.turns[0].action, 'reward': t.turns[0].reward}]) if c['reward'] == 0]
    return {'run': str(run_dir), 'candidates_wrong': len(texts), **offsets(texts)}

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('runs', nargs='+', type=Path, help='run directories with a collect_1.jsonl')
    args = ap.parse_args()
    from rise_nb.store import write_json
    OUT.mkdir(parents=True, exist_ok=True)
    for r in args.runs:
        res = run_offsets(r); write_json(OUT/f'{r.name}.json', res)
        top = ', '.join(f'{d}: {s}%' for d, s in list(res['share'].items())[:6])
        print(f"{r}: {res['false']} wrong candidates with a false calculation; {top}")

if __name__ == '__main__': main()
