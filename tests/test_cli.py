"The installed `rise_nb` console script: help, a smoke run end to end, resume, and clear errors."
import json, subprocess, sys
from pathlib import Path

SUBCOMMANDS = ('run', 'build', 'boost', 'collect', 'train', 'evaluate', 'report', 'figures')

def rise(*args, cwd=None):
    return subprocess.run(['rise_nb', *args], capture_output=True, text=True, cwd=cwd)

def test_help_lists_subcommands():
    r = rise('--help')
    assert r.returncode == 0
    for sub in SUBCOMMANDS:
        assert sub in r.stdout
        h = rise(sub, '--help')
        assert h.returncode == 0 and 'usage: rise_nb ' + sub in h.stdout

def test_smoke_run_then_resume(tmp_path):
    out = tmp_path/'smoke'
    r = rise('collect', '--preset', 'smoke', '--out', str(out))  # the stages up to the first collection
    assert r.returncode == 0, r.stderr[-3000:]
    man = json.loads((out/'manifest.json').read_text())
    assert list(man['stages']) == ['build', 'boost', 'eval_boost', 'collect_1']
    r = rise('run', '--preset', 'smoke', '--out', str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count('done already') == 4
    assert '| RISE iteration 2 |' in r.stdout and '| m1@t1 |' in r.stdout.replace('| model | m1@t1', '| m1@t1')
    res = json.loads((out/'results.json').read_text())
    assert list(res) == ['boosted base', 'RISE iteration 1', 'RISE iteration 2', 'SFT on oracle']
    assert all(0 <= v <= 100 for row in res.values() for v in row.values())
    r = rise('run', '--preset', 'smoke', '--out', str(out))
    assert r.returncode == 0 and r.stdout.count('done already') == len(json.loads((out/'manifest.json').read_text())['stages'])
    assert 'done already' in (out/'run.log').read_text()
    r = rise('report', str(out))
    assert r.returncode == 0 and 'RISE iteration 1' in r.stdout
    figs = tmp_path/'figs'
    r = rise('figures', str(out), '--out', str(figs), '--only', 'pass_vs_seq', '--only', 'inference_wo_oracle')
    assert r.returncode == 0, r.stderr[-3000:]
    assert sorted(p.name for p in figs.iterdir()) == ['inference_wo_oracle.pdf', 'inference_wo_oracle.png', 'pass_vs_seq.pdf', 'pass_vs_seq.png']
    r = rise('figures', str(out), '--out', str(figs), '--only', 'nope')
    assert r.returncode == 2 and 'unknown figure' in r.stderr

def test_bad_override_names_the_field(tmp_path):
    r = rise('run', '--preset', 'smoke', '--out', str(tmp_path/'x'), '--set', 'boost.lr=-1')
    assert r.returncode == 2 and 'RunConfig.boost.lr' in r.stderr
    r = rise('run', '--preset', 'smoke', '--out', str(tmp_path/'y'), '--set', 'bost.steps=3')
    assert r.returncode == 2 and "'bost'" in r.stderr
    r = rise('run', '--preset', 'smoke', '--out', str(tmp_path/'z'), '--set', 'rise.filter=some')
    assert r.returncode == 2 and 'RunConfig.rise.filter' in r.stderr
    assert not (tmp_path/'x'/'config.json').exists()
    r = rise('report', str(tmp_path/'nowhere'))
    assert r.returncode == 2 and 'results.md not found' in r.stderr
    r = rise('figures', str(tmp_path/'nowhere'))
    assert r.returncode == 2 and 'manifest.json not found' in r.stderr
