#!/usr/bin/env python
"""Which line of a guess-task revision goes wrong: for each evaluation of a run, the accuracy at each turn, how far the
wrong first guesses miss (median and 90th percentile of |guess − answer|), and, over
the second and later turns (without oracle), the share whose check of the earlier answer is right, whose difference
line copies the question's amount and the check's result, whose difference is right, and whose `Try` line moves by
that difference the right way; and, for the turns after a right answer, how many keep it and at which line those that
lose it first go wrong; and how many of the later turns write a false calculation (`false_calcs`), after a right and
after a wrong answer, in each evaluation and, among the right and the wrong turns, in each collection (what the
official rules train). Written to `results/study/guess/<name>.json` and printed.

    python tools/guess_lines.py runs/dev/guessr-s102 --name guessr-s102
"""
import argparse, json, re, sys
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT/'results'/'study'/'guess'
# a line's result: the value its `<<...=r>>` annotation gives, or, in `plain` lines, the number after `=`
NEED = re.compile(r'Need (-?\d+): (-?\d+)-(-?\d+)=(?:<<-?\d+--?\d+=(-?\d+)>>|(-?\d+)\.)')
TRY = re.compile(r'Try (-?\d+)([-+])(-?\d+)=(?:<<[^>]*=(-?\d+)>>|(-?\d+)\.)')
RESULT = re.compile(r'>>(-?\d+)|=(-?\d+)\.')

def _num(m, i:int)->str:
    "Group `i` of `m`, or the one after it where the line is `plain`."
    return m[i] if m[i] is not None else m[i + 1]

def _lines(a:str):
    "A revision's `Check` line match, the results of its check lines, and its difference line match."
    return re.match(r'Check (-?\d+)\.', a), [x or y for x, y in RESULT.findall(a.split('Need')[0])], NEED.search(a)

def revision_lines(trajs)->dict:
    "Accuracy per turn and the revision lines' rates (% of the second and later turns) of guess-task trajectories."
    from rise_nb.tasks.arithmetic import spec_of, ArithSpec
    n, c = 0, dict.fromkeys(['check', 'amount', 'result', 'difference', 'move', 'no difference line'], 0)
    for t in trajs:
        spec = spec_of(t.problem.meta['key'])
        for u in t.turns[1:]:
            n += 1; a = u.action
            ck, res, m = _lines(a)
            c['check'] += bool(ck and res) and res[-1] == str(ArithSpec(int(ck[1]), spec.steps).answer)
            if not m: c['no difference line'] += 1; continue
            c['amount'] += int(m[1]) == int(m[2]) == spec.answer
            c['result'] += bool(res) and m[3] == res[-1]
            d = int(_num(m, 4)); c['difference'] += int(m[2]) - int(m[3]) == d
            tr = TRY.search(a)
            c['move'] += bool(tr) and (tr[2] == '-') == (d < 0) and int(tr[3]) == abs(d) and \
                         (int(tr[1]) + int(tr[3]) if tr[2] == '+' else int(tr[1]) - int(tr[3])) == int(_num(tr, 4))
    K = max(len(t.turns) for t in trajs)
    miss = [abs(int(t.turns[0].answer) - int(t.problem.answer)) for t in trajs
            if not t.turns[0].correct and t.turns[0].answer and re.fullmatch(r'-?\d{1,6}', t.turns[0].answer.strip())]
    return {'first miss': {'median': float(np.median(miss)), 'p90': float(np.percentile(miss, 90))} if miss else None,
            'accuracy': [round(100*float(np.mean([t.turns[i].correct for t in trajs if len(t.turns) > i])), 1) for i in range(K)],
            'revisions': n, **{k: round(100*v/max(n, 1), 1) for k, v in c.items()}}

LOST = ['check another number', 'check', 'difference of equal amounts', 'difference', 'move', 'other']

def lost_right(trajs)->dict:
    "Of the turns after a right answer (without oracle): % that keep it, and how those that lose it go wrong, as % of them, by the first line at fault."
    from rise_nb.tasks.arithmetic import spec_of, ArithSpec
    n, kept, c = 0, 0, dict.fromkeys(LOST, 0)
    for t in trajs:
        spec = spec_of(t.problem.meta['key'])
        for prev, u in zip(t.turns, t.turns[1:]):
            if not prev.correct: continue
            n += 1
            if u.correct: kept += 1; continue
            a = u.action
            ck, res, m = _lines(a)
            if not ck or ck[1] != prev.answer.strip(): c['check another number'] += 1
            elif not res or res[-1] != str(ArithSpec(int(ck[1]), spec.steps).answer): c['check'] += 1
            elif not m: c['other'] += 1
            elif int(m[2]) == int(m[3]) and int(_num(m, 4)) != 0: c['difference of equal amounts'] += 1
            elif int(m[1]) != spec.answer or int(m[2]) != spec.answer or m[3] != res[-1] or int(m[2]) - int(m[3]) != int(_num(m, 4)): c['difference'] += 1
            elif (tr := TRY.search(a)) is None or int(_num(tr, 4)) != int(ck[1]): c['move'] += 1
            else: c['other'] += 1
    lost = n - kept
    return {'after right': n, 'kept': round(100*kept/max(n, 1), 1), **{f'lost: {k}': round(100*v/max(lost, 1), 1) for k, v in c.items()}}

def false_calculations(trajs)->dict:
    "% of the second and later turns that write a false calculation, after a right answer and after a wrong one, and among the right and the wrong turns."
    from rise_nb.tasks.arithmetic import false_calcs
    n, f = (dict.fromkeys(['after right', 'after wrong', 'right', 'wrong'], 0) for _ in range(2))
    for t in trajs:
        for prev, u in zip(t.turns, t.turns[1:]):
            bad = false_calcs(u.action) > 0
            for k in ('after right' if prev.correct else 'after wrong', 'right' if u.correct else 'wrong'): n[k] += 1; f[k] += bad
    return {f'false calculation: {k}': round(100*f[k]/max(n[k], 1), 1) for k in n}

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('run'); ap.add_argument('--name', required=True)
    args = ap.parse_args(argv)
    from rise_nb.mdp import Trajectory
    run, out = Path(args.run), {}
    for ev in sorted(p.parent for p in run.glob('eval_*/no_oracle.jsonl')):
        trajs = [Trajectory.from_json(l) for l in (ev/'no_oracle.jsonl').read_text().splitlines() if l.strip()]
        if trajs and not trajs[0].problem.id.startswith('guess/'): sys.exit(f"guess_lines: {ev} holds {trajs[0].problem.id.split('/')[0]} problems, not the guess task's")
        out[ev.name] = revision_lines(trajs) | lost_right(trajs) | false_calculations(trajs); print(ev.name, json.dumps(out[ev.name]))
    coll = {}
    for f in sorted(run.glob('collect_*.jsonl')):
        coll[f.stem] = false_calculations([Trajectory.from_json(l) for l in f.read_text().splitlines() if l.strip()]); print(f.stem, json.dumps(coll[f.stem]))
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = OUT/f'.{args.name}.json.tmp'; tmp.write_text(json.dumps({'name': args.name, 'evaluations': out, 'collections': coll}, indent=1)); tmp.replace(OUT/f'{args.name}.json')

if __name__ == '__main__': main()
