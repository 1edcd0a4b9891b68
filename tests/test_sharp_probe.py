"""tools/sharp_probe.py and tools/slip_offsets.py: the accuracy and offsets they compute, and the sharp probe's table, checked on completions, texts and probe files made here."""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import sharp_probe
from rise_nb.engines import Completion
from rise_nb.tasks.arithmetic import ArithmeticTask

def test_rate_counts_right_completions_over_all_of_them():
    task = ArithmeticTask(lines='noun_first')
    p, q = task.load('test', 2)
    c = lambda t: Completion(text=t, tokens=1, finish='stop')
    outs = [[c(p.solution), c('#### -1'), c('nothing')], [c(q.solution)]]
    assert sharp_probe.rate(task, [(p, None), (q, None)], outs) == 50.0
    assert p.answer != q.answer and sharp_probe.rate(task, [(q, None), (p, None)], outs) == 0.0  # each list is checked against its own problem

def test_table_from_probes(tmp_path):
    t = {'1.0': {'turn 1': 85.8, 'fresh': 49.9, 'retry': 43.2}, '0.0': {'turn 1': 93.0, 'fresh': 63.9, 'retry': 46.4}}
    (tmp_path/'sharp-r.json').write_text(json.dumps({'name': 'sharp', 'run': 'runs/r', 'seed': 1, 'samples': 4,
                                                       'models': {'eval_boost': {'model': 'm', 'wrong_draws': 7, 'temperatures': t}}}))
    lines = sharp_probe.table(tmp_path).splitlines()
    assert lines[2:] == ['| sharp | runs/r | base | 7 | 1.0 | 85.8 | 49.9 | 43.2 |', '| sharp | runs/r | base | 7 | 0.0 | 93.0 | 63.9 | 46.4 |']

def test_slip_offsets_counts_the_first_false_calculation():
    import slip_offsets
    texts = ["Ava's pens: 5+3=<<5+3=18>>18.\nAva's pens: 18-2=<<18-2=6>>6.", "Packs: 2*3=<<2*3=6>>6.\nAva's pens: 6+7=<<6+7=3>>3.",
             "Ava's pens: 5+3=<<5+3=8>>8.", "Ava's pens: 9-4=<<9-4=15>>15."]
    assert slip_offsets.offsets(texts) == {'false': 3, 'share': {'10': 66.7, '-10': 33.3}}  # the third holds no false calculation
