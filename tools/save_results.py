#!/usr/bin/env python
"""Copy the small summaries of finished runs into the repository's `results/` folder, which the README's tables are
printed from: each run's `config.json`, `manifest.json` (stage times), `results.json`, every evaluation's
`metrics.json` and `per_problem.json` (each problem's outcomes, for the paired per-seed intervals of the claims) and
the NLL experiment's `analysis/nll.json` (with each problem's NLL at its last epoch, for the Fig. 4 claims'
intervals) and, where they were run, its other readings (`analysis/nll_sequence.json`, the attempts fitted, and
`analysis/nll_revision.json`, the attempts revised: `rise_nb.analysis.NLL_FILES`); tens of KB each,
while records and checkpoints stay in `runs/`. An evaluation made before `per_problem.json` existed gets one built
from its records (`rise_nb.evaluate.per_problem`), written into the copy only. Paths inside the copied JSON files
that point into the run directory are written relative to it (`runs/x/tiny-s0/boost` → `boost`), so no file under
`results/` names the folder a run was made in (each stage's `machine` entry, the CPU model and torch build it ran on,
stays: a seed's records depend on it).

    python tools/save_results.py runs/r21/tiny-s0 runs/r21/tiny-s1 --to results/default
"""
import argparse, shutil, sys
from pathlib import Path

KEEP = ('config.json', 'manifest.json', 'results.json')

def per_problem_into(ev:Path, dest:Path)->bool:
    "Write `ev`'s per-problem outcomes, built from its records, to `dest/per_problem.json`; False where `ev` has no records."
    if not (ev/'no_oracle.jsonl').exists(): return False
    from rise_nb.evaluate import write_per_problem
    dest.mkdir(parents=True, exist_ok=True); write_per_problem(ev, dest)
    return True

def relative_paths(text:str, run:Path)->str:
    "`text` with every path into `run` (absolute or as given) written relative to it, and `run` itself as `.`."
    for root in dict.fromkeys([str(run.resolve()), str(run)]):
        text = text.replace(root + '/', '').replace(f'"{root}"', '"."')
    return text

def copy_summary(f:Path, dest:Path, run:Path):
    "Copy `f` to `dest`; a JSON file with its paths into `run` made relative."
    if f.suffix == '.json': dest.write_text(relative_paths(f.read_text(encoding='utf-8'), run), encoding='utf-8')
    else: shutil.copyfile(f, dest)

def save(run:Path, dest:Path)->list[str]:
    "Copy `run`'s summaries into `dest`; return the relative paths copied (or built)."
    if not (run/'config.json').exists(): raise FileNotFoundError(f"{run}: no config.json; expected a run directory")
    from rise_nb.analysis import NLL_FILES  # each reading of the Fig. 4 experiment: its file under analysis/
    out = []
    evals = [*sorted(run.glob('eval_*/metrics.json')), *sorted(run.glob('ablations/*/metrics.json'))]
    pps = [m.parent/'per_problem.json' for m in evals]
    for f in [*(run/k for k in KEEP), *evals, *pps, *(run/'analysis'/f for f in NLL_FILES.values())]:
        rel = f.relative_to(run)
        if not f.exists():
            if f.name == 'per_problem.json' and per_problem_into(f.parent, (dest/rel).parent): out.append(str(rel))
            continue
        (dest/rel).parent.mkdir(parents=True, exist_ok=True)
        copy_summary(f, dest/rel, run); out.append(str(rel))
    return out

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('runs', nargs='+', help='finished run directories')
    ap.add_argument('--to', required=True, help='folder under results/ (one sub-folder per run, named as the run)')
    a = ap.parse_args(argv)
    for r in map(Path, a.runs):
        files = save(r, Path(a.to)/r.name)
        print(f"{r} → {Path(a.to)/r.name}: {len(files)} files")
    return 0

if __name__ == '__main__': sys.exit(main())
