"""tools/negatives.py (a study tool): the negative examples it adds and its unlikelihood loss, on trajectories and
tensors made here."""
import math, sys
from pathlib import Path
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import negatives
from rise_nb.mdp import Problem, Turn, Trajectory
from rise_nb.rwr import build_examples
from rise_nb.tasks.arithmetic import ArithmeticTask
from rise_nb.train import train_tokenizer

def _setup():
    task = ArithmeticTask()
    tok = train_tokenizer([p.question + '\n' + p.solution for p in task.load('train', 200)], vocab_size=400)
    p = Problem('p', 'Ava has 52 pens. Ava gives away 17 pens. How many pens does Ava have now?', '35')
    right, slip = "Ava's pens: 52-17=<<52-17=35>>35.\n#### 35", "Ava's pens: 52-17=<<52-17=45>>45.\n#### 45"
    cands = [{'text': t, 'reward': r, 'degenerate': d} for t, r, d in
             [(slip, 0, False), (right, 1, False), (slip, 0, False), ("Ava's pens: 52-17=<<52-17=36>>36.\n#### 36", 0, False), ('#### 1', 0, True)]]
    tr = Trajectory(p, [Turn(slip, '45', 0), Turn(right, '35', 1, meta={'candidates': cands})])
    return tok, task.mdp(), tr

def test_negative_rows_label_the_first_departing_token_of_each_distinct_wrong_candidate():
    tok, mdp, tr = _setup()
    rows = negatives.negative_rows(tok, mdp, [tr], weight=0.5)
    assert len(rows) == 2  # the repeated slip once, the other wrong value once; the right one and the degenerate one never
    got = sorted(tok.decode([r['input_ids'][k] for k, l in enumerate(r['labels']) if l != -100]) for r in rows)
    assert got == ['4', '6']  # 52-17=<<52-17=3|5>>: the slip departs at '4', the other at '6'
    assert all(r['weight'] == -0.5 and r['turn'] == 1 and sum(l != -100 for l in r['labels']) == 1 for r in rows)
    assert negatives.negative_rows(tok, mdp, [Trajectory(tr.problem, tr.turns[:1])], 0.5) == []  # no right later turn: none

def test_with_negatives_appends_them_to_the_examples_and_counts_them():
    tok, mdp, tr = _setup()
    st = {}
    ds = negatives.with_negatives(1.0)(tok, mdp, [tr], stats=st)
    plain = build_examples(tok, mdp, [tr])
    assert st['negatives'] == 2 and len(ds) == len(plain) + 2
    assert [w for w in ds['weight'] if w < 0] == [-1.0, -1.0]

def test_rwr_ul_is_rwr_for_positive_weights_and_unlikelihood_for_negative_ones():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 5)
    labels = torch.tensor([[-100, 2, 4], [-100, -100, 1]])
    lp = torch.log_softmax(logits, -1)
    nll0 = -(lp[0, 0, 2] + lp[0, 1, 4]) / 2
    p1 = lp[1, 1, 1].exp()
    got = negatives.rwr_ul(logits, labels, torch.tensor([2.0, -3.0]), reduction='sum')
    assert math.isclose(got.item(), (2 * nll0 - 3 * torch.log(1 - p1)).item(), rel_tol=1e-5)
