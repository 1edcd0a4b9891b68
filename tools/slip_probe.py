#!/usr/bin/env python
"""Does a model fix its own slips after "incorrect", or only slips like the ones Boost shows it?

For each model a finished run evaluated (the boosted base, `eval_boost`, and the last RISE iteration), two kinds of
wrong attempt at the same test problems, each put in the state the evaluation gives a second turn (the attempt, then
"incorrect", with the run's MDP and window) and retried `--samples` times at the run's temperature:

- `own`: the model's own wrong first turns without oracle (the sequential turn 1 and the k parallel samples of its
  evaluation records);
- `boost-style`: in place of each of those attempts, a slipped attempt at the same problem as Boost's multi-turn
  examples show one (`ArithmeticTask.slipped`: the oracle solution with one result off by a small amount, carried on).

For each kind: the attempts, the share of retries that are right (`fix`), and the share that write the attempt's first
false calculation `<<a op b=c>>` again (`repeat`). `fresh` is the bar a retry has to clear: for each of the model's
wrong draws, the share of right answers among the other first-turn draws of its problem (independent samples, so the
draw that picked the problem is not counted), averaged over those wrong draws. `fresh repeat` is the bar for `repeat`:
for each own wrong draw with a false calculation, the share of its problem's other first-turn draws that write that
same calculation (what a retry that ignored the attempt would repeat by chance). One JSON per run in
`results/study/probes/`.

    python tools/slip_probe.py runs/final6/tiny-s0 runs/final6/tiny-s4 --name final-tiny
    python tools/slip_probe.py --table
"""
import argparse, json, random, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT/'results'/'study'/'probes'
CALC = re.compile(r'<<(\d+)([-+*/])(\d+)=(-?\d+)>>')
sys.path.insert(0, str(ROOT/'tools'))
from study_log import OPS

def false_calc(text:str)->str|None:
    "The first `<<a op b=c>>` of `text` whose result is false, as written (None if every one is true)."
    for m in CALC.finditer(text):
        if OPS[m[2]](int(m[1]), int(m[3])) != int(m[4]): return m[0]
    return None

def first_turns(stage_dir:Path)->tuple[dict,dict]:
    "The evaluation's first turns without oracle, by problem id: `(problems, [(text, reward), ...])`, the sequential turn 1, then the k parallel samples."
    from rise_nb.analysis import load_eval
    ev = load_eval(stage_dir)
    probs = {t.problem.id: t.problem for t in ev.no_oracle}
    turns = {t.problem.id: [(x.action, x.reward) for x in [t.turns[0]] + ev.samples.get(t.problem.id, [])] for t in ev.no_oracle}
    return probs, turns

def fresh_repeat(turns:dict)->float|None:
    "For each wrong first-turn draw with a false calculation, the share of its problem's other first-turn draws that write that calculation too (the `repeat` a retry would show by chance), averaged over those draws."
    shares = [sum(bad in a2 for k, (a2, _) in enumerate(ts) if k != j) / (len(ts) - 1)
              for ts in turns.values() for j, (a, r) in enumerate(ts) if r == 0 and len(ts) > 1 and (bad := false_calc(a))]
    return round(100 * sum(shares) / len(shares), 1) if shares else None

def retry_stats(eng, task, mdp, attempts:list, samples:int, temperature:float, max_new_tokens:int, seed:int)->dict:
    "Retry each `(problem, attempt text)` `samples` times after 'incorrect': the attempts, % of retries right, % repeating the attempt's first false calculation."
    from rise_nb.mdp import Turn
    from rise_nb.engines import SamplingParams
    if not attempts: return {'attempts': 0, 'fix': None, 'repeat': None}
    states = [mdp.state(p, [Turn(action=a, reward=0)]) for p, a in attempts]
    outs = eng.generate(states, SamplingParams(n=samples, temperature=temperature, max_new_tokens=max_new_tokens, seed=seed))
    right = rep = n = nrep = 0
    for (p, a), cs in zip(attempts, outs):
        bad = false_calc(a)
        for c in cs:
            n += 1; right += task.check(c.text, p).reward >= 1
            if bad: nrep += 1; rep += bad in c.text
    return {'attempts': len(attempts), 'fix': round(100 * right / n, 1), 'repeat': round(100 * rep / nrep, 1) if nrep else None}

def probed_stages(run)->list[str]:
    "`eval_boost` and the last RISE iteration `run` evaluated: the models a probe looks at."
    last = max((i for i in range(1, run.cfg.rise.iterations + 1) if (run.path/f'eval_{i}'/'no_oracle.jsonl').exists()), default=None)
    return ['eval_boost'] + ([f'eval_{last}'] if last else [])

def stage_model(stage_dir:Path)->str:
    "The model an evaluation stage evaluated, as its records name it."
    return json.loads((stage_dir/'no_oracle.jsonl').open().readline())['meta']['model']

def own_wrong(probs:dict, turns:dict)->list:
    "`(problem, text)` of every wrong first-turn draw (the output of `first_turns`), problems in id order."
    return [(probs[i], a) for i in sorted(turns) for a, r in turns[i] if r == 0]

def probe(run_dir:Path, samples:int=4, seed:int=0, name:str='')->dict:
    "The probe of `run_dir`'s boosted base and of the last RISE iteration it evaluated."
    from rise_nb.rundir import Run
    from rise_nb.pipeline import task_of, mdp_of, engine_of
    run = Run(run_dir); cfg = run.cfg
    task, rng = task_of(run), random.Random(seed)
    mdp = mdp_of(run, task)
    out = {'name': name, 'run': str(run_dir), 'seed': cfg.seed, 'samples': samples, 'models': {}}
    for stage in probed_stages(run):
        probs, turns = first_turns(run.path/stage)
        own = own_wrong(probs, turns)
        others = [sum(r2 >= 1 for k, (_, r2) in enumerate(turns[i]) if k != j) / (len(turns[i]) - 1)  # each wrong draw's bar: the problem's other draws
                  for i in sorted(turns) for j, (_, r) in enumerate(turns[i]) if r == 0 and len(turns[i]) > 1]
        wrong_ids = sorted({p.id for p, _ in own})
        boost_style = [(p, a) for p, _ in own if (a := task.slipped(p, rng)) is not None]  # one for each own wrong draw: the same problems, weighted alike
        with engine_of(run, stage_model(run.path/stage)) as eng:
            kw = dict(samples=samples, temperature=cfg.temperature, max_new_tokens=cfg.max_new_tokens)
            res = {'own': retry_stats(eng, task, mdp, own, seed=seed, **kw), 'boost-style': retry_stats(eng, task, mdp, boost_style, seed=seed + 1, **kw)}
        out['models'][stage] = {'problems': len(wrong_ids), 'fresh': round(100 * sum(others) / len(others), 1) if others else None,
                                'own_with_false_calc': sum(false_calc(a) is not None for _, a in own), 'fresh_repeat': fresh_repeat(turns), **res}
    return out

def add_fresh_repeat(d:Path=OUT):
    "Add `fresh_repeat` to each probe JSON in `d` whose run directory exists (computed from its evaluation records alone)."
    from rise_nb.store import write_json
    for f in sorted(d.glob('*.json')):
        s = json.loads(f.read_text())
        run = ROOT/s['run']
        if not run.is_dir(): print(f"{f.name}: {run} is not here; left as it is"); continue
        for stage, m in s['models'].items(): m['fresh_repeat'] = fresh_repeat(first_turns(run/stage)[1])
        write_json(f, s); print(f"{f.name}: {[m['fresh_repeat'] for m in s['models'].values()]}")

def model_label(stage:str)->str:
    "How the tables name the model an evaluation stage evaluated: `base` for `eval_boost`, else `RISE iteration i`."
    return 'base' if stage == 'eval_boost' else 'RISE iteration ' + stage.split('_')[1]

def table(d:Path=OUT)->str:
    "Markdown: one line per run and model."
    lines = ['| probe | run | model | problems | fresh | own: attempts | fix | repeat | fresh repeat | boost-style: attempts | fix | repeat |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|']
    for f in sorted(d.glob('*.json')):
        s = json.loads(f.read_text())
        for stage, m in s['models'].items():
            o, b = m['own'], m['boost-style']
            lines.append(f"| {s['name']} | {s['run']} | {model_label(stage)} | "
                         f"{m['problems']} | {m['fresh']} | {o['attempts']} | {o['fix']} | {o['repeat']} | {m.get('fresh_repeat', 'n/a')} | {b['attempts']} | {b['fix']} | {b['repeat']} |")
    return '\n'.join(lines)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('runs', nargs='*', type=Path, help='finished run directories')
    ap.add_argument('--name', help='the probe name (its JSONs are NAME-RUN.json, RUN the run directory\'s name)')
    ap.add_argument('--samples', type=int, default=4, help='retries of each attempt')
    ap.add_argument('--table', action='store_true', help='print the table of every probe in results/study/probes/')
    ap.add_argument('--add-fresh-repeat', action='store_true', help="add `fresh_repeat` to every probe JSON whose run directory is still here (no generation)")
    args = ap.parse_args()
    if args.table: print(table()); return
    if args.add_fresh_repeat: add_fresh_repeat(); return
    if not args.runs or not args.name: ap.error('give run directories and --name (or --table)')
    from rise_nb.store import write_json
    OUT.mkdir(parents=True, exist_ok=True)
    for r in args.runs:
        res = probe(r, args.samples, name=args.name)
        write_json(OUT/f"{args.name}-{r.name}.json", res)
        print(f"{r} → {OUT/f'{args.name}-{r.name}.json'}", flush=True)
    print(table())

if __name__ == '__main__': main()
