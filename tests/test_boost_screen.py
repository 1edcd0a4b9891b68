"""tools/boost_screen.py: its table is printed from the screens' JSON, one line each, with the losses it averages."""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import boost_screen

def test_table_from_screens(tmp_path):
    losses = [1.0] * 100 + [0.5] * 150 + [0.2] * 50 + [0.1] * 100  # 400 steps
    (tmp_path/'nf-s7.json').write_text(json.dumps({'seed': 7, 'steps': 400, 'set': ['task_args.lines=noun_first'],
                                                   'argmax_wrong': {'item': 0.0, 'name': 1.5}, 'losses': losses}))
    lines = boost_screen.table(tmp_path).splitlines()
    assert len(lines) == 3
    assert lines[2] == '| nf | 7 | 400 | task_args.lines=noun_first | 0.5 | 0.5 | 0.2 | 0.0 | 1.5 |'

def test_committed_screens_are_in_the_tools_format():
    fs = sorted((ROOT/'results'/'study'/'screens').glob('*.json'))
    assert fs, 'results/study/screens/ holds no screen'
    for f in fs:
        s = json.loads(f.read_text())
        assert len(s['losses']) == s['steps'] and set(s['argmax_wrong']) == {'item', 'name'}, f.name
