"""bench/end_to_end.py's comparison mode: a second run with other settings, side by side with the first, and a third
that starts from the second's build, Boost and Boost evaluation (copied, not recomputed) and runs the rest."""
import json, subprocess, sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1]/'bench'/'end_to_end.py'

def test_before_after_and_more(tmp_path):
    r = subprocess.run([sys.executable, str(BENCH), '--preset', 'smoke', '--after', 'engine_args.sampler=inverse_cdf',
                        '--more', 'rise.iterations=3', '--keep', str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert '| stage | before (s) | after (s) | speed-up |' in r.stdout and '| **total** |' in r.stdout
    cfg = lambda d: json.loads((tmp_path/d/'config.json').read_text())
    assert (cfg('smoke')['engine_args'], cfg('smoke-after')['engine_args']) == ({}, {'sampler': 'inverse_cdf'})
    assert (cfg('smoke-more')['engine_args'], cfg('smoke-more')['rise']['iterations']) == ({'sampler': 'inverse_cdf'}, 3)
    st = json.loads((tmp_path/'smoke-more'/'manifest.json').read_text())['stages']
    after = json.loads((tmp_path/'smoke-after'/'manifest.json').read_text())['stages']
    for k in ('build', 'boost', 'eval_boost'):  # copied with their time when made, and not run again
        assert st[k]['copied_from'] == str(tmp_path/'smoke-after') and st[k]['finished'] == after[k]['finished']
    assert 'collect_3' in st and 'eval_3' in st
    assert (tmp_path/'smoke-more'/'eval_boost'/'metrics.json').read_text() == (tmp_path/'smoke-after'/'eval_boost'/'metrics.json').read_text()
    assert 'copied from' in r.stdout

def test_more_needs_after(tmp_path):
    r = subprocess.run([sys.executable, str(BENCH), '--preset', 'smoke', '--more', 'rise.iterations=3', '--keep', str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode != 0 and '--more builds on --after' in r.stderr
