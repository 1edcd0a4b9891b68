#!/usr/bin/env python
"""Study tool (item 42 of results/study/README.md): RISE with the wrong candidates of a corrected turn as negative examples.

Runs the `rise_nb` command with one change to how iteration examples are built: at every later turn whose chosen action
is right, each distinct wrong, non-degenerate candidate the operator sampled there becomes one more example, in the same
state, trained only at the first token where it departs from the chosen action (in the arithmetic task: the digit of the
false result), with weight `-W`. Under the `rwr` loss a negative weight is gradient ascent on that token's NLL; the
`rwr_ul` loss this tool registers trains negative examples by unlikelihood instead, `|w| · −log(1 − p)` (positive ones
as `rwr`). Not a library option: neither variant helped on the development seeds (the log says what each did).

    python tools/negatives.py --weight 1.0 run --out runs/dev/x                      # NLL ascent (`rise.train.loss=rwr`)
    python tools/negatives.py --weight 1.0 run --out runs/dev/y --set rise.train.loss=rwr_ul
"""
import sys
import torch
from datasets import Dataset, concatenate_datasets
import rise_nb.pipeline as pipeline
from rise_nb.rwr import build_examples
from rise_nb.train import encode_state, register_loss

def negative_rows(tok, mdp, trajs, weight:float, max_len=None)->list[dict]:
    "The negative examples of `trajs`: one per distinct wrong candidate of a later, right turn, labelled at its first departing token."
    rows = []
    for tr in trajs:
        for i, t in enumerate(tr.turns):
            if i == 0 or t.reward < 1: continue
            right, _ = encode_state(tok, mdp, tr.problem, tr.turns[:i], t.action, max_len)
            if right is None: continue
            seen = {t.action.strip()}
            for c in t.meta.get('candidates') or []:
                x = c['text'].strip()
                if c['reward'] >= 1 or c.get('degenerate') or x in seen: continue
                seen.add(x)
                e, _ = encode_state(tok, mdp, tr.problem, tr.turns[:i], c['text'], max_len)
                if e is None: continue
                a, b = right['input_ids'], e['input_ids']
                start = next(j for j, l in enumerate(e['labels']) if l != -100)
                k = next((j for j in range(start, len(b)) if j >= len(a) or a[j] != b[j]), None)
                if k is None: continue
                lab = [-100] * len(b); lab[k] = b[k]
                rows.append({**e, 'labels': lab, 'reward': float(c['reward']), 'problem_id': tr.problem.id, 'turn': i, 'weight': -weight})
    return rows

def with_negatives(weight:float):
    "`build_examples` followed by `negative_rows` (their count goes into `stats['negatives']`)."
    def build(tok, mdp, trajs, rules=None, max_len=None, stats=None, **kw):
        ds = build_examples(tok, mdp, trajs, rules, max_len=max_len, stats=stats, **kw)
        rows = negative_rows(tok, mdp, trajs, weight, max_len)
        if stats is not None: stats['negatives'] = len(rows)
        return concatenate_datasets([ds, Dataset.from_list(rows).select_columns(ds.column_names).cast(ds.features)]) if rows else ds
    return build

@register_loss('rwr_ul')
def rwr_ul(logits, labels, weights, reduction:str='mean'):
    "`rwr` for examples of weight ≥ 0; |weight| × the mean unlikelihood −log(1 − p) over the trained tokens for the others."
    lb = torch.nn.functional.pad(labels[:, 1:], (0, 1), value=-100)
    nll = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), lb.reshape(-1), ignore_index=-100, reduction='none').view(lb.shape)
    m = lb != -100; n = m.sum(1).clamp(min=1)
    ul = -torch.log((-torch.expm1(-nll)).clamp(min=1e-6)) * m
    w = weights.to(nll.dtype)
    per = torch.where(w >= 0, w * (nll * m).sum(1) / n, -w * ul.sum(1) / n)
    return per.sum() if reduction == 'sum' else per.mean()

def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2 or argv[0] != '--weight': sys.exit(__doc__)
    pipeline.build_examples = with_negatives(float(argv[1]))
    from rise_nb.cli import main as cli
    return cli(argv[2:])

if __name__ == '__main__': sys.exit(main())
