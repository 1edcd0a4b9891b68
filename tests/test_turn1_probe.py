"""tools/turn1_probe.py: the collection shares, paired differences and table it computes, checked on records and arrays made here."""
import json, sys
from pathlib import Path
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import turn1_probe

def _traj(rewards, kept):
    from rise_nb.mdp import Problem, Trajectory, Turn
    cands = [{'text': str(i), 'answer': str(i), 'reward': r} for i, r in enumerate(rewards)]
    return Trajectory(Problem('t/0', 'q', '1'), [Turn('', reward=kept, meta={'candidates': cands})]).to_json()

def test_collection_shares_counts_candidates_and_kept_first_turns(tmp_path):
    f = tmp_path/'collect_1.jsonl'
    f.write_text('\n'.join([_traj([0, 1, 0, 0], 0), _traj([1, 1], 1), _traj([0, 0], 0)]) + '\n')
    assert turn1_probe.collection_shares(f) == {'candidates': 8, 'candidates_right': 37.5, 'first_turns': 3, 'kept_right': 33.33}

def test_collection_shares_names_the_bad_line(tmp_path):
    f = tmp_path/'collect_2.jsonl'
    f.write_text(_traj([0], 0) + '\n{"turns": [}\n')
    with pytest.raises(ValueError, match=r'collect_2.jsonl, row 2: not a trajectory record'): turn1_probe.collection_shares(f)

def test_paired_difference_to_the_base():
    acc = {'boost': np.array([0.0, 0.2, 0.4, 0.2]), 'train_2': np.array([0.2, 0.2, 0.4, 0.4])}
    out = turn1_probe.paired(acc)
    assert out['boost'] == {'accuracy': 20.0, 'minus_base': 0.0, 'lo': 0.0, 'hi': 0.0}
    assert out['train_2']['accuracy'] == 30.0 and out['train_2']['minus_base'] == 10.0
    assert 0.0 <= out['train_2']['lo'] <= 10.0 <= out['train_2']['hi'] <= 20.0  # per-problem differences are 0 or 20 points

def test_table_rows():
    p = {'run': 'runs/fin/tiny-s3', 'seed': 3, 'models': {'boost': {'accuracy': 5.1, 'minus_base': 0.0, 'lo': 0.0, 'hi': 0.0},
                                                          'train_2': {'accuracy': 4.93, 'minus_base': -0.17, 'lo': -0.4, 'hi': 0.05}},
         'collections': {'collect_1': {'candidates': 4000, 'candidates_right': 4.45, 'first_turns': 1000, 'kept_right': 0.0}}}
    lines = turn1_probe.table([p]).splitlines()
    assert lines[2:4] == ['| tiny-s3 | 3 | base | 5.10 | — |', '| tiny-s3 | 3 | RISE iteration 2 | 4.93 | -0.17 [-0.40, +0.05] |']
    assert lines[-1] == '| tiny-s3 | collect_1 | 4000 | 4.45 | 1000 | 0.00 |'
