"""tools/cti_draws.py: the c→i shares, the interval over draws and the table it computes, on trajectories made here, and
the probe end to end on a smoke run (its draws resume, its numbers follow from its records)."""
import json, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import cti_draws

def _traj(i, rewards):
    from rise_nb.mdp import Problem, Trajectory, Turn
    return Trajectory(Problem(f't/{i}', 'q', '1'), [Turn(str(r), reward=r) for r in rewards])

def test_shares_per_turn_pair():
    trajs = [_traj(0, [1, 0, 1]), _traj(1, [1, 1, 0]), _traj(2, [0, 0, 0]), _traj(3, [1, 1, 1])]
    s = cti_draws.shares(trajs, 3)
    assert s['c→i'] == [25.0, 25.0] and s['largest'] == 25.0  # one of four problems breaks at each pair
    assert s['keep'] == 60.0  # right answers before a pair: 3 then 2 (5), kept 2 then 1 (3)

def test_t_interval():
    m, lo, hi = cti_draws.t_interval([1.0, 2.0, 3.0])
    assert m == 2.0 and lo == pytest.approx(2 - 4.303 / 3 ** 0.5, abs=1e-3) and hi == pytest.approx(2 + 4.303 / 3 ** 0.5, abs=1e-3)
    m, lo, hi = cti_draws.t_interval([0.5])
    assert m == 0.5 and lo != lo and hi != hi  # one draw: no interval (nan)

def test_table_row():
    p = {'seed': 3, 'summary': {'draws': 8, 'base largest': 4.15, 'RISE largest': 2.1, 'RISE − base': -2.05, 'lo': -2.8, 'hi': -1.3,
                                'holds on draws': 8, 'evaluation RISE − base': -2.0, 'base keep': 90.1, 'RISE keep': 97.3}}
    assert cti_draws.table([p]).splitlines()[-1] == '| 3 | 8 | 4.2 | 2.1 | -2.0 [-2.8, -1.3] | 8/8 | -2.0 | 90.1 → 97.3 |'

def test_main_refuses_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit): cti_draws.main([str(tmp_path), '--name', 'x', '--draws', '1'])
    assert 'at least 2' in capsys.readouterr().err
    with pytest.raises(SystemExit): cti_draws.main([str(tmp_path), '--name', 'x'])
    assert 'no manifest.json' in capsys.readouterr().err

def test_probe_on_a_smoke_run(tmp_path):
    from rise_nb.collect import read_records
    run = tmp_path/'run'
    r = subprocess.run(['rise_nb', 'run', '--preset', 'smoke', '--set', 'rise.iterations=1', '--set', 'rise.sft_baseline=false',
                        '--set', 'eval.problems=4', '--out', str(run)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    p = cti_draws.probe(run, 2, progress=False)
    K = json.loads((run/'config.json').read_text())['eval']['turns']
    assert p['rise'] == 'train_1' and list(p['models']) == ['boost', 'train_1']
    for st, ev in (('boost', 'eval_boost'), ('train_1', 'eval_1')):
        assert p['models'][st]['evaluation'] == cti_draws.shares(read_records(run/ev/'no_oracle.jsonl'), K)
        for d, row in enumerate(p['models'][st]['draws']):
            recs = read_records(run/'analysis'/'cti_draws'/f'{st}_d{d}.jsonl')
            assert len(recs) == 4 and row == cti_draws.shares(recs, K)
    diff = [a['largest'] - b['largest'] for a, b in zip(p['models']['train_1']['draws'], p['models']['boost']['draws'])]
    assert p['summary']['RISE − base'] == round(sum(diff) / 2, 2) and p['summary']['holds on draws'] == sum(x <= 0 for x in diff)
    before = {f: f.stat().st_mtime_ns for f in (run/'analysis'/'cti_draws').iterdir()}
    assert json.dumps(cti_draws.probe(run, 2, progress=False)) == json.dumps(p)  # read back, not redrawn (as text: the smoke model is never right, so keep is nan)
    assert {f: f.stat().st_mtime_ns for f in (run/'analysis'/'cti_draws').iterdir()} == before
