#!/usr/bin/env python
"""The context window's effect on a finished run: evaluate its boosted base and its last RISE iteration again with
another window (default 3) and print both rows beside the run's own (window 2 by default), as JSON.

    python tools/window_effect.py runs/tiny --window 3 --out runs/tiny-window3

The records go to `--out` (resumable like any evaluation); the summary is written to `--out/summary.json`.
"""
import argparse, json, sys
from pathlib import Path

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('run', help='finished run directory')
    ap.add_argument('--window', type=int, default=3, help='context window to evaluate with (default 3)')
    ap.add_argument('--out', required=True, help='directory for the new evaluation records')
    a = ap.parse_args(argv)
    from rise_nb.rundir import Run
    from rise_nb.pipeline import model_of
    from rise_nb.store import write_json
    from rise_nb.tasks import get_task
    from rise_nb.engines import get_engine, SamplingParams
    from rise_nb.evaluate import evaluate_policy
    run = Run(a.run); cfg = run.cfg
    task = get_task(cfg.task, **cfg.task_args)
    last = f'train_{cfg.rise.iterations}'
    out, summary = Path(a.out), {'run': str(run.path), 'window': a.window, 'run_window': cfg.eval.window, 'rows': {}}
    for src, ev in (('boost', 'eval_boost'), (last, f'eval_{cfg.rise.iterations}')):
        with get_engine('hf', model_of(run, src), **cfg.engine_args) as eng:
            res = evaluate_policy(eng, task, task.load('test', cfg.eval.problems),
                                  task.mdp(window=a.window), out/src, turns=cfg.eval.turns, k=cfg.eval.k,
                                  params=SamplingParams(temperature=cfg.temperature, max_new_tokens=cfg.max_new_tokens, seed=cfg.seed),
                                  meta={'model': src, 'window': a.window})
        own = json.loads((run.path/ev/'metrics.json').read_text())
        summary['rows'][src] = {f'window {a.window}': {k: round(float(v), 2) for k, v in res['row'].items()},
                                f'window {cfg.eval.window}': {k: round(float(v), 2) for k, v in own['row'].items()},
                                'accuracy by turn': {f'window {a.window}': [round(float(x), 2) for x in res['no_oracle']['acc']],
                                                     f'window {cfg.eval.window}': [round(float(x['acc']), 2) for x in own['no_oracle'].values()]}}
    write_json(out/'summary.json', summary)
    print(json.dumps(summary, indent=1))
    return 0

if __name__ == '__main__': sys.exit(main())
