"""tools/fig4_control.py: the held-out comparison of classic, classic at a smaller step and the RISE copy fitting its
attempts, computed from NLL-experiment files made here; bad files are refused naming the file."""
import json, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import fig4_control

def _nll(p:Path, classic, rise, tokens):
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps({'rows': [], 'per_problem': {'heldout': {'tokens': tokens, 'classic': classic, 'RISE': rise}}}))
    return p

def test_row(tmp_path):
    run, n = tmp_path/'run', 100
    _nll(run/'analysis'/'nll.json', [2.0] * n, [9.9] * n, [10] * n)  # classic: 0.2 per token (the RISE column is not read)
    _nll(run/'analysis'/'nll_sequence.json', [2.0] * n, [1.5] * n, [10] * n)  # the RISE copy fitting its attempts: 0.15
    ctl = _nll(tmp_path/'ctl.json', [1.6, 1.8] * (n // 2), [9.9] * n, [10] * n)  # classic at the smaller step: 0.17
    r = fig4_control.row(run, ctl)
    assert (r['classic'], r['classic, control'], r['RISE, attempts fitted']) == (0.2, 0.17, 0.15)
    assert r['classic, control below classic'][0] == pytest.approx(15.0)  # (0.2 − 0.17)/0.2
    assert r['RISE, attempts fitted below classic'] == [25.0, 25.0, 25.0]  # the same difference on every problem: no spread
    v, lo, hi = r['RISE, attempts fitted below classic, control']
    assert v == pytest.approx(100 * (0.17 - 0.15) / 0.17, abs=0.01) and lo < v < hi  # the control varies over the problems

def test_refuses_other_problems_and_missing_records(tmp_path):
    run = tmp_path/'run'
    _nll(run/'analysis'/'nll.json', [1.0] * 4, [1.0] * 4, [5] * 4)
    _nll(run/'analysis'/'nll_sequence.json', [1.0] * 4, [1.0] * 4, [5] * 4)
    with pytest.raises(ValueError, match="different held-out problems"):
        fig4_control.row(run, _nll(tmp_path/'ctl.json', [1.0] * 4, [1.0] * 4, [6] * 4))
    (tmp_path/'old.json').write_text(json.dumps({'rows': []}))
    with pytest.raises(ValueError, match=r"old\.json: no per_problem\.heldout"):
        fig4_control.row(run, tmp_path/'old.json')

def test_print_only_needs_the_control(tmp_path, monkeypatch):
    run = tmp_path/'run'; run.mkdir()
    (run/'config.json').write_text(json.dumps({'seed': 7}))
    monkeypatch.setattr(fig4_control, 'OUT', tmp_path/'out')
    with pytest.raises(SystemExit, match='pass --lr'):
        fig4_control.main([str(run), '--name', 'half-lr'])

def test_main_keeps_the_summary(tmp_path, monkeypatch):
    run, n = tmp_path/'run', 10
    (run/'analysis').mkdir(parents=True); (run/'config.json').write_text(json.dumps({'seed': 3}))
    _nll(run/'analysis'/'nll.json', [2.0] * n, [9.9] * n, [10] * n)
    monkeypatch.setattr(fig4_control, 'OUT', tmp_path/'out')
    ctl = _nll(tmp_path/'out'/'half-s3.json', [1.5] * n, [9.9] * n, [10] * n)
    with pytest.raises(FileNotFoundError, match="nll_sequence.json: not found"):
        fig4_control.main([str(run), '--name', 'half'])
    _nll(run/'analysis'/'nll_sequence.json', [2.0] * n, [1.0] * n, [10] * n)
    assert fig4_control.main([str(run), '--name', 'half']) == 0
    s = json.loads(ctl.read_text())['summary']
    assert s['classic, control below classic'] == [25.0, 25.0, 25.0] and s['RISE, attempts fitted below classic, control'] == [33.333, 33.333, 33.333]
