"The installed `rise_nb` console script: help, a smoke run end to end, resume, and clear errors."
import json, subprocess, sys
from pathlib import Path

def rise(*args, cwd=None):
    return subprocess.run(['rise_nb', *args], capture_output=True, text=True, cwd=cwd)

def test_help_lists_subcommands():
    r = rise('--help')
    assert r.returncode == 0
    for sub in ('run', 'build', 'boost', 'evaluate'): assert sub in r.stdout

def test_smoke_run_then_resume(tmp_path):
    out = tmp_path/'smoke'
    r = rise('run', '--preset', 'smoke', '--out', str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'sampled accuracy' in r.stdout
    man = json.loads((out/'manifest.json').read_text())
    assert sorted(man['stages']) == ['boost', 'build', 'evaluate']
    m = json.loads((out/'metrics.json').read_text())['boost']
    assert m['problems'] == 8 and 0 <= m['accuracy'] <= m['pass@2'] <= 1
    r = rise('run', '--preset', 'smoke', '--out', str(out))
    assert r.returncode == 0 and r.stdout.count('done already') == 3
    assert 'done already' in (out/'run.log').read_text()

def test_bad_override_names_the_field(tmp_path):
    r = rise('run', '--preset', 'smoke', '--out', str(tmp_path/'x'), '--set', 'boost.lr=-1')
    assert r.returncode == 2 and 'RunConfig.boost.lr' in r.stderr
    r = rise('run', '--preset', 'smoke', '--out', str(tmp_path/'y'), '--set', 'bost.steps=3')
    assert r.returncode == 2 and "'bost'" in r.stderr
    assert not (tmp_path/'x'/'config.json').exists()
