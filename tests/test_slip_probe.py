"""tools/slip_probe.py: the false calculation of an attempt, the first turns it reads from an evaluation's records, the
retry counts it makes, and its table, each checked on records and engines made here."""
import json, random, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import slip_probe
from rise_nb.engines import ScriptedEngine
from rise_nb.tasks.arithmetic import ArithmeticTask

def test_false_calc_finds_the_first_false_result():
    assert slip_probe.false_calc("Ava's pens: 5+3=<<5+3=8>>8.\nAva's pens: 8-2=<<8-2=7>>7.\nAva's pens: 7*2=<<7*2=15>>15.") == '<<8-2=7>>'
    assert slip_probe.false_calc("Ava's pens: 5+3=<<5+3=8>>8.\n#### 8") is None
    assert slip_probe.false_calc("Packs: 12/4=<<12/4=3>>3.") is None

def _stage(d:Path):
    "An evaluation directory with two problems: p0 wrong at the sequential turn 1 and in one parallel sample, p1 right everywhere."
    d.mkdir(parents=True)
    prob = lambda i: {'id': f'p{i}', 'question': 'Ava has 5 pens. Ava finds 3 more pens. How many pens does Ava have now?', 'answer': '8',
                      'solution': "Ava's pens: 5+3=<<5+3=8>>8.\n#### 8", 'meta': {'key': '5|+3', 'steps': 1}}
    act = lambda r: "Ava's pens: 5+3=<<5+3=8>>8.\n#### 8" if r == 1 else "Ava's pens: 5+3=<<5+3=9>>9.\n#### 9"
    turn = lambda r, **kw: {'action': act(r), 'answer': '8' if r == 1 else '9', 'reward': r, **kw}
    seq = ''.join(json.dumps({'problem': prob(i), 'turns': [turn(r)], 'meta': {'model': 'm'}}) + '\n' for i, r in enumerate([0, 1]))
    (d/'no_oracle.jsonl').write_text(seq); (d/'oracle.jsonl').write_text(seq)
    samples = [[1, 0, 1], [1, 1, 1]]
    (d/'parallel.jsonl').write_text(''.join(json.dumps({'problem': prob(i), 'meta': {}, 'turns': [turn(ss[0], meta={'candidates': [
        {'text': act(r), 'answer': '8' if r == 1 else '9', 'reward': r} for r in ss]})]}) + '\n' for i, ss in enumerate(samples)))
    return d

def test_first_turns_reads_the_sequential_turn_and_every_parallel_sample(tmp_path):
    probs, turns = slip_probe.first_turns(_stage(tmp_path/'eval_boost'))
    assert sorted(probs) == ['p0', 'p1']
    assert [r for _, r in turns['p0']] == [0, 1, 0, 1] and [r for _, r in turns['p1']] == [1, 1, 1, 1]

def test_first_turns_names_the_file_and_line_of_a_bad_record(tmp_path):
    d = _stage(tmp_path/'eval_boost')
    (d/'parallel.jsonl').write_text('{"problem": 3}\n')
    with pytest.raises(ValueError, match=r'parallel.jsonl, row 1: not a trajectory record'): slip_probe.first_turns(d)

def test_retry_stats_counts_right_retries_and_repeats_of_the_false_calculation():
    task = ArithmeticTask(lines='noun_first')
    p = task.load('test', 1)[0]
    bad = task.slipped(p, random.Random(0))
    calc = slip_probe.false_calc(bad)
    assert calc is not None
    eng = ScriptedEngine([[], [bad, p.solution, p.solution, 'no answer']], template='{}')  # turn 2: a repeat, two right, one unparseable
    res = slip_probe.retry_stats(eng, task, task.mdp(window=2), [(p, bad)], samples=4, temperature=1.0, max_new_tokens=64, seed=0)
    assert res == {'attempts': 1, 'fix': 50.0, 'repeat': 25.0}
    assert eng.calls == [(1, 4)]
    assert slip_probe.retry_stats(eng, task, task.mdp(), [], 4, 1.0, 64, 0) == {'attempts': 0, 'fix': None, 'repeat': None}

def test_table_from_probes(tmp_path):
    m = {'problems': 3, 'fresh': 60.0, 'own_with_false_calc': 4, 'own': {'attempts': 5, 'fix': 40.0, 'repeat': 30.0},
         'boost-style': {'attempts': 3, 'fix': 80.0, 'repeat': 0.0}}
    (tmp_path/'x-r.json').write_text(json.dumps({'name': 'x', 'run': 'runs/r', 'seed': 1, 'samples': 4, 'models': {'eval_boost': m, 'eval_2': m}}))
    lines = slip_probe.table(tmp_path).splitlines()
    assert lines[2] == '| x | runs/r | base | 3 | 60.0 | 5 | 40.0 | 30.0 | n/a | 3 | 80.0 | 0.0 |'  # a probe from before `fresh_repeat`
    assert lines[3].startswith('| x | runs/r | RISE iteration 2 |')

def test_committed_probes_are_in_the_tools_format():
    fs = sorted((ROOT/'results'/'study'/'probes').glob('*.json'))
    assert fs, 'results/study/probes/ holds no probe'
    for f in fs:
        s = json.loads(f.read_text())
        assert f.name == f"{s['name']}-{Path(s['run']).name}.json" and 'eval_boost' in s['models'], f.name
        for m in s['models'].values(): assert set(m) >= {'problems', 'fresh', 'own', 'boost-style'}, f.name

def test_fresh_repeat_is_the_share_of_other_draws_writing_the_same_false_calculation(tmp_path):
    _, turns = slip_probe.first_turns(_stage(tmp_path/'eval_boost'))
    assert slip_probe.fresh_repeat(turns) == 33.3  # p0: each of its two wrong draws (<<5+3=9>>) meets it in one of its three other draws
    right, slip, other = "A: 5+3=<<5+3=8>>8.\n#### 8", "A: 5+3=<<5+3=9>>9.\n#### 9", "A: 5+3=<<5+3=7>>7.\n#### 7"
    assert slip_probe.fresh_repeat({'p': [(slip, 0), (slip, 0), (other, 0), (right, 1)]}) == round(100*(1/3 + 1/3 + 0)/3, 1)
    assert slip_probe.fresh_repeat({'p': [(right, 1), ("#### 9", 0)]}) is None  # no wrong draw with a false calculation

def test_own_wrong_and_stage_model_read_the_records(tmp_path):
    d = _stage(tmp_path/'eval_boost')
    probs, turns = slip_probe.first_turns(d)
    assert [(p.id, '=9>>' in a) for p, a in slip_probe.own_wrong(probs, turns)] == [('p0', True), ('p0', True)]  # the sequential turn and one sample
    assert slip_probe.stage_model(d) == 'm'
