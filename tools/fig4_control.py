#!/usr/bin/env python
"""Is the held-out gain of fitting the attempts the attempts' content, or a smaller step on the answers? Fig. 4 as the
paper's caption reads it (`NLLConfig(fit='sequence')`: the RISE copy also fits its wrong attempt) gives the RISE copy
about twice the tokens of the classic one, so the oracle answers get a smaller share of each step. This control trains
the classic copy again at a smaller learning rate (`--lr`) and compares the held-out NLL of the oracle answers of the
three copies problem by problem, as the Fig. 4 claims do.

For each run, the NLL experiment runs at `--lr` on a copy of the run (its config, Boost and drawn attempts; nothing in
the run changes) under `RUN/analysis/fig4_control/NAME`, and its `nll.json` is kept as
`results/study/fig4/NAME-s<seed>.json`. Then, from that file and the run's `analysis/nll.json` and
`analysis/nll_sequence.json` (a run directory or its summary in `results/`), one row per seed, printed and kept as
the file's `summary`: the held-out NLL per token of classic, classic at `--lr` and the RISE copy fitting the
attempts, and the paired comparisons (% of the first, 95% percentile interval over the held-out problems).

    python tools/fig4_control.py runs/fin6/tiny-s0 runs/fin6/tiny-s1 --name half-lr --lr 1.5e-4
    python tools/fig4_control.py results/default/tiny-s0 results/default/tiny-s1 --name half-lr   # from committed files
"""
import argparse, json, shutil, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT/'results'/'study'/'fig4'

def row(run:Path, control:Path, resamples:int=2000)->dict:
    "One seed's held-out comparison: classic, classic at the control's rate, and the RISE copy fitting its attempts."
    from rise_nb.analysis import heldout_below
    cols = {'classic': (run/'analysis'/'nll.json', 'classic'), 'classic, control': (control, 'classic'),
            'RISE, attempts fitted': (run/'analysis'/'nll_sequence.json', 'RISE')}
    for f, _ in cols.values():
        if not Path(f).exists(): raise FileNotFoundError(f"{f}: not found; expected the run's NLL experiments (`nll_experiment`, with NLLConfig(fit='sequence') for nll_sequence.json)")
    below = {f'{y} below {x}': [round(v, 3) for v in heldout_below(cols[x], cols[y], resamples)]  # also checks each file, naming it
             for x, y in (('classic', 'classic, control'), ('classic', 'RISE, attempts fitted'), ('classic, control', 'RISE, attempts fitted'))}
    held = {k: json.loads(Path(f).read_text())['per_problem']['heldout'] for k, (f, _) in cols.items()}
    return {**{k: round(sum(held[k][m]) / sum(held[k]['tokens']), 5) for k, (_, m) in cols.items()}, **below}

def run_control(run:Path, name:str, lr:float)->Path:
    "Run the NLL experiment at `lr` on a copy of `run`; keep its nll.json under results/study/fig4/."
    from rise_nb.analysis import nll_experiment, NLLConfig
    seed = json.loads((run/'config.json').read_text())['seed']
    dest = OUT/f'{name}-s{seed}.json'
    if dest.exists(): return dest
    if not (run/'boost').is_dir(): raise FileNotFoundError(f"{run}/boost: not found; the control trains copies of the boosted model (give a run directory, not its summary)")
    cp = run/'analysis'/'fig4_control'/name
    if not (cp/'analysis'/'nll_attempts.jsonl').exists():
        (cp/'analysis').mkdir(parents=True, exist_ok=True)
        for f in ('config.json', 'manifest.json'): shutil.copy(run/f, cp/f)
        if not (cp/'boost').exists(): shutil.copytree(run/'boost', cp/'boost')
        for f in (run/'analysis').glob('nll_attempts*.jsonl'): shutil.copy(f, cp/'analysis'/f.name)  # the same attempts, read back
    nll_experiment(cp, NLLConfig(lr=lr))
    from save_results import relative_paths
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix('.tmp'); tmp.write_text(relative_paths((cp/'analysis'/'nll.json').read_text(), cp)); tmp.replace(dest)
    return dest

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('runs', nargs='+', help='run directories (or their summaries in results/, to print only)')
    ap.add_argument('--name', required=True, help='the control: results/study/fig4/NAME-s<seed>.json')
    ap.add_argument('--lr', type=float, default=None, help="the classic copy's learning rate (needed to run the control)")
    a = ap.parse_args(argv)
    rows = {}
    for r in map(Path, a.runs):
        seed = json.loads((r/'config.json').read_text())['seed']
        f = OUT/f'{a.name}-s{seed}.json'
        if not f.exists():
            if a.lr is None: sys.exit(f"{f}: not found; pass --lr to run the control on {r}")
            f = run_control(r, a.name, a.lr)
        rows[f'seed {seed}'] = v = row(r, f)
        if (d := json.loads(f.read_text())).get('summary') != v:  # kept beside the records it was computed from, for the results page
            tmp = f.with_suffix('.tmp'); tmp.write_text(json.dumps({**d, 'summary': v}, indent=1, ensure_ascii=False)); tmp.replace(f)
    for k, v in rows.items(): print(k, json.dumps(v, ensure_ascii=False))
    return 0

if __name__ == '__main__':
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
