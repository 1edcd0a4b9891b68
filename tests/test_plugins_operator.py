"""An improvement operator of the user's own, in a module outside the package, runs end to end: from the command line
(`rise_nb run --import my_ops --set rise.operator=...`) and from a JSON config file (`--config run.json`, the module named
by `RISE_NB_IMPORT`). The records name it, its choices are the ones kept, and the results table names its models."""
import json, os, subprocess, sys
from pathlib import Path
import pytest
from rise_nb.presets import get_preset

MY_OPS = (Path(__file__).resolve().parents[1]/'examples'/'my_ops.py').read_text()  # the README's example operator

def shortest_best(cs): return min(range(len(cs)), key=lambda i: (cs[i]['degenerate'], -cs[i]['reward'], len(cs[i]['text']), i))
def best_of_n(cs): return max(range(len(cs)), key=lambda i: (not cs[i]['degenerate'], cs[i]['reward'], -i))

def rise_nb(*args, cwd, env=None):
    "The installed `rise_nb` command, run in `cwd` (where the user's module is), with no plug-ins inherited from this process."
    env = {**{k: v for k, v in os.environ.items() if k != 'RISE_NB_IMPORT'}, **(env or {})}
    return subprocess.run([str(Path(sys.executable).parent/'rise_nb'), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)

@pytest.fixture
def user_dir(tmp_path):
    (tmp_path/'my_ops.py').write_text(MY_OPS)
    return tmp_path

def check_run(out:Path, iterations:int):
    "Every collection was made by the user's operator, which kept its own choice; the table names its models."
    differs = 0
    for i in range(1, iterations+1):
        recs = [json.loads(l) for l in (out/f'collect_{i}.jsonl').read_text().splitlines()]
        assert len(recs) == 12 and {r['meta']['operator'] for r in recs} == {'shortest_best'}
        turns = [t for r in recs for t in r['turns'] if 'candidates' in t['meta']]
        assert turns and all(len(t['meta']['candidates']) == 3 for t in turns)  # best of 3 from turn 2 (the preset's samples)
        for t in turns:
            cs, k = t['meta']['candidates'], t['meta']['chosen']
            assert k == shortest_best(cs) and (t['action'], t['reward']) == (cs[k]['text'], cs[k]['reward'])
            differs += k != best_of_n(cs)
    assert differs > 0  # the default operator would have kept other candidates: this one ran
    res = json.loads((out/'results.json').read_text())
    assert [m for m in res if m.startswith('RISE')] == [f'RISE iteration {i} (shortest_best)' for i in range(1, iterations+1)]

def test_own_operator_from_the_command_line(user_dir):
    r = rise_nb('run', '--import', 'my_ops', '--preset', 'smoke', '--set', 'rise.operator=shortest_best', '--out', 'run', cwd=user_dir)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert json.loads((user_dir/'run'/'config.json').read_text())['rise']['operator'] == 'shortest_best'
    check_run(user_dir/'run', 2)
    r = rise_nb('report', 'run', cwd=user_dir)  # the table needs no plug-in
    assert r.returncode == 0 and '| RISE iteration 2 (shortest_best) |' in r.stdout

def test_own_operator_from_a_config_file_in_two_processes(user_dir):
    "The config file names the operator, which collects in this process while training runs in 2 data-parallel processes."
    cfg = get_preset('smoke').to_dict()
    cfg['rise'].update(operator='shortest_best', operator_args={'samples': [1, 3]}, iterations=1, sft_baseline=False)
    (user_dir/'run.json').write_text(json.dumps(cfg, indent=1))
    r = rise_nb('run', '--config', 'run.json', '--processes', '2', '--out', 'run', cwd=user_dir, env={'RISE_NB_IMPORT': 'my_ops'})
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    check_run(user_dir/'run', 1)
    assert json.loads((user_dir/'run'/'train_1_log.json').read_text())['processes'] == 2

def test_unknown_operator_stops_before_work(user_dir):
    "Without its module the operator is unknown: a configuration error (exit 2) that says how to make it known, and no run directory."
    r = rise_nb('run', '--preset', 'smoke', '--set', 'rise.operator=shortest_best', '--out', 'run', cwd=user_dir)
    assert r.returncode == 2 and "rise.operator: unknown improvement operator 'shortest_best'" in r.stderr and '--import' in r.stderr, r.stderr
    r = rise_nb('run', '--import', 'my_ops', '--preset', 'smoke', '--set', 'rise.operator=shortest_best', '--set', 'rise.operator_args.n=4',
                '--out', 'run', cwd=user_dir)
    assert r.returncode == 2 and "unknown argument(s) ['n'] of operator 'shortest_best'" in r.stderr, r.stderr
    assert not (user_dir/'run').exists()
