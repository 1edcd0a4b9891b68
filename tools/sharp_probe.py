#!/usr/bin/env python
"""How much sharper than a fresh draw could a retry be? First-turn accuracy of a run's evaluated models at lower
sampling temperatures, and the retry after the model's own wrong first turns at the same temperatures.

For each model a finished run evaluated (`eval_boost` and the last RISE iteration, or the stages given): at each
temperature, `turn 1` is the accuracy of `--samples` draws on the 500 test problems (one draw when greedy), `fresh` the
accuracy of those draws on the problems of the model's own wrong first turns (as the slip probe takes them from the
evaluation records, one entry per wrong draw), and `retry` the accuracy of a retry after each of those wrong turns and
"incorrect" (the state a second turn sees). A retry that answered like a greedy fresh draw would beat a fresh draw at
the evaluation's temperature by `fresh@0 − fresh@1`. One JSON per run in `results/study/sharp/`.

    python tools/sharp_probe.py runs/dev/rops99-s102 --name sharp
"""
import argparse, json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT/'results'/'study'/'sharp'
sys.path.insert(0, str(ROOT/'tools'))
from slip_probe import first_turns, model_label, probed_stages, stage_model, own_wrong

def rate(task, pairs, outs)->float:
    "% of the completions in `outs` (one list per `(problem, _)` of `pairs`) that are right."
    n = sum(len(cs) for cs in outs)
    return round(100 * sum(task.check(c.text, p).reward >= 1 for (p, _), cs in zip(pairs, outs) for c in cs) / n, 1)

def probe(run_dir:Path, stages:list|None=None, temps=(1.0, 0.5, 0.0), samples:int=4, seed:int=7, name:str='')->dict:
    "The probe of `run_dir`'s evaluated models."
    from rise_nb.rundir import Run
    from rise_nb.pipeline import task_of, mdp_of, engine_of
    from rise_nb.engines import SamplingParams
    from rise_nb.mdp import Turn
    run = Run(run_dir); cfg = run.cfg
    task = task_of(run); mdp = mdp_of(run, task)
    out = {'name': name, 'run': str(run_dir), 'seed': cfg.seed, 'samples': samples, 'models': {}}
    for stage in stages or probed_stages(run):
        probs, turns = first_turns(run.path/stage)
        ps = [probs[i] for i in sorted(probs)]
        own = own_wrong(probs, turns)
        at = {p.id: j for j, p in enumerate(ps)}
        model = stage_model(run.path/stage)
        res = {}
        with engine_of(run, model) as eng:
            for T in temps:
                sp = SamplingParams(n=1 if T == 0 else samples, temperature=T, max_new_tokens=cfg.max_new_tokens, seed=seed)
                fresh = eng.generate([mdp.state(p) for p in ps], sp)
                retry = eng.generate([mdp.state(p, [Turn(action=a, reward=0)]) for p, a in own], sp)
                res[str(T)] = {'turn 1': rate(task, [(p, None) for p in ps], fresh), 'fresh': rate(task, own, [fresh[at[p.id]] for p, _ in own]),
                               'retry': rate(task, own, retry)}
        out['models'][stage] = {'model': model, 'wrong_draws': len(own), 'temperatures': res}
    return out

def table(d:Path=OUT)->str:
    "Markdown: one line per run, model and temperature."
    lines = ['| probe | run | model | wrong draws | temperature | turn 1 | fresh | retry |', '|---|---|---|---|---|---|---|---|']
    for f in sorted(d.glob('*.json')):
        s = json.loads(f.read_text())
        for stage, m in s['models'].items():
            for T, r in m['temperatures'].items():
                lines.append(f"| {s['name']} | {s['run']} | {model_label(stage)} | "
                             f"{m['wrong_draws']} | {T} | {r['turn 1']} | {r['fresh']} | {r['retry']} |")
    return '\n'.join(lines)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('runs', nargs='*', type=Path, help='finished run directories')
    ap.add_argument('--name', help='the probe name (its JSONs are NAME-RUN.json)')
    ap.add_argument('--stages', nargs='*', help='evaluation stages to probe (default: eval_boost and the last iteration)')
    ap.add_argument('--table', action='store_true', help='print the table of every sharp probe in results/study/sharp/')
    args = ap.parse_args()
    if args.table: print(table()); return
    if not args.runs or not args.name: ap.error('give run directories and --name (or --table)')
    from rise_nb.store import write_json
    OUT.mkdir(parents=True, exist_ok=True)
    for r in args.runs:
        write_json(OUT/f"{args.name}-{r.name}.json", probe(r, args.stages, name=args.name))
        print(f"{r} → {OUT/f'{args.name}-{r.name}.json'}", flush=True)
    print(table())

if __name__ == '__main__': main()
