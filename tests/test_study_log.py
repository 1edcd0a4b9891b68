"""tools/study_log.py, the study log behind the default: its tables are printed from the committed summaries
(results/study/*.json), and its measurements count what the records hold."""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import study_log

def test_the_log_tables_are_printed_from_the_summaries():
    text = (ROOT/'results'/'study'/'README.md').read_text()
    assert study_log.MARKER in text, 'results/study/README.md has lost its marker line'
    assert text.split(study_log.MARKER)[1].strip() == study_log.tables().strip(), 'rerun python tools/study_log.py --write'
    assert '| noun-first | 103 |' in text  # the Boost screens' table follows the runs' tables

def _eval(d:Path, turns:list, samples:list):
    "An evaluation directory: one problem per entry, `turns` its rewards without oracle, `samples` its fresh samples' rewards."
    d.mkdir(parents=True)
    prob = lambda i: {'id': f'p{i}', 'question': 'Ava has 5 pens. How many?', 'answer': '5', 'solution': 'Ava has 2+3=<<2+3=5>>5 pens.\n#### 5', 'meta': {}}
    act = lambda r: 'Ava has 2+3=<<2+3=5>>5 pens.\n#### 5' if r == 1 else 'Ava has 2+3=<<2+3=6>>6 pens.\n#### 6'
    turn = lambda r: {'action': act(r), 'answer': '5' if r == 1 else '6', 'reward': r}
    rec = lambda i, ts: json.dumps({'problem': prob(i), 'turns': [turn(r) for r in ts], 'meta': {}}) + '\n'
    (d/'no_oracle.jsonl').write_text(''.join(rec(i, ts) for i, ts in enumerate(turns)))
    (d/'oracle.jsonl').write_text(''.join(rec(i, ts) for i, ts in enumerate(turns)))
    par = [json.dumps({'problem': prob(i), 'turns': [{**turn(ss[0]), 'meta': {'candidates': [{'text': act(r), 'answer': '5' if r == 1 else '6', 'reward': r} for r in ss]}}], 'meta': {}}) + '\n'
           for i, ss in enumerate(samples)]
    (d/'parallel.jsonl').write_text(''.join(par))
    (d/'metrics.json').write_text(json.dumps({'row': {'m1@t1': 50.0, 'm5@t1': 50.0, 'm1@t5': 50.0, 'p1@t5': 50.0}}))
    return d

def test_mechanism_counts_by_hand(tmp_path):
    # problem 0: wrong then right (a fix); problem 1: right then wrong (not kept); problem 2: right then right (kept)
    d = _eval(tmp_path/'eval_1', [[0, 1], [1, 0], [1, 1]], [[1, 0], [1, 1], [0, 0]])
    m = study_log.mechanism(d)
    assert (m['fix'], m['keep'], m['fresh'], m['fresh_right']) == (100.0, 50.0, 50.0, 50.0)
    assert m['accuracy'] == [66.7, 66.7] and m['n_fix'] == 1 and m['n_keep'] == 2
    assert m['errors'] == {'slip': 1, 'wrong operand': 0, 'other': 0}  # problem 0's first turn: 2+3=6
    assert m['slip_rates'] == {'add, no carry': 33.3}

def test_calculations_read_annotated_and_plain_lines():
    assert study_log.calculations("Ava's pens: 2+3=<<2+3=6>>6.\n#### 6") == [(2, '+', 3, 6)]
    assert study_log.calculations('Try 12.\n5*2=10.\n12+10=23.\nNeed 42: 42-46=-4.\n#### 12') == [(5, '*', 2, 10), (12, '+', 10, 23), (42, '-', 46, -4)]
    assert study_log.calculations('no lines\n#### 3') == []

class _Pieces:
    "A tokenizer stand-in whose token i decodes to `pieces[i]`."
    def __init__(self, pieces): self.pieces = pieces
    def decode(self, ids): return ''.join(self.pieces[i] for i in ids)

def test_token_parts_names_each_trained_token():
    pieces = ['<|user|>Q', 'Ava', ' has', ' 2', '+', '3', '=<<', '2', '+', '3', '=', '5', '>>', '5', ' pens', '.\n', '####', ' 5']
    ids = list(range(len(pieces))); labels = [-100] + ids[1:]
    parts = study_log.token_parts(_Pieces(pieces), ids, labels)
    assert parts[0] is None  # the prompt is not trained
    got = dict(zip(pieces[1:], parts[1:]))
    assert [parts[i] for i in (3, 5, 7, 9)] == ['operand'] * 4  # a and b, outside and inside <<...>>
    assert parts[11] == 'result' and parts[13] == 'result'  # the result and its copy after >>
    assert got['Ava'] == 'word' and got[' pens'] == 'word' and got[' 5'] == 'final answer' and got['####'] == 'other'

def test_loss_parts_of_a_boosted_toy_model(boosted_checkpoint):
    b = study_log.loss_parts(boosted_checkpoint, n=4)
    parts = b['parts']
    assert {'word', 'result', 'operand', 'final answer'} <= set(parts), parts
    assert abs(sum(p['loss_share'] for p in parts.values()) - 100) < 0.5
    n = sum(p['tokens'] for p in parts.values())
    assert abs(b['mean_nll'] - sum(p['nll'] * p['tokens'] for p in parts.values()) / n) < 1e-3  # the parts add up to the mean

def test_boost_curve_reads_the_schedule_and_the_loss_at_each_quarter(tmp_path):
    run = tmp_path/'run'; run.mkdir()
    losses = [float(i // 20) for i in range(80)]  # 20 steps at 0, then 1, 2, 3
    (run/'boost_log.json').write_text(json.dumps({'losses': losses}))
    (run/'config.json').write_text(json.dumps({'boost': {'decay': 0.25}}))
    c = study_log.boost_curve(run, window=10)
    assert c == {'schedule': 'hold, decay 0.25', 'curve': [0.0, 1.0, 2.0, 3.0]}  # the mean of the 10 steps before each quarter's end
    (run/'config.json').write_text(json.dumps({'boost': {}}))  # a config from before `decay` existed
    assert study_log.boost_curve(run, window=10)['schedule'] == 'cosine'
    assert study_log.boost_curve(run, window=30)['curve'][0] == 0.0  # a window longer than the first quarter: the mean of the steps there are

def test_config_change_reads_renamed_and_unset_keys_as_today():
    old = {'seed': 0, 'rise': {'filter': 'all', 'samples': [1, 16], 'problems': 2000, 'tau': None}, 'boost': {'steps': 800}}
    new = {'seed': 1, 'rise': {'examples': {'filter': 'all'}, 'operator_args': {'samples': [4, 16]}, 'problems': 2000}, 'boost': {'steps': 800, 'decay': 0.25}}
    assert study_log.config_change(old, new) == ['boost.decay: unset → 0.25', 'rise.operator_args.samples: [1, 16] → [4, 16]']
    assert study_log.config_change(new, new) == []

def test_rounds_table_is_computed_from_the_round_summaries():
    rows = study_log.rounds().splitlines()[2:]
    assert [r.split(' | ')[0].strip('| ') for r in rows] == study_log.ROUNDS
    last = rows[-1].split(' | ')
    # today's round: its mean m1@t5 of the last iteration, from the committed runs' own metrics
    m = [json.loads((ROOT/'results'/'default'/f'tiny-s{i}'/'eval_3'/'metrics.json').read_text())['row']['m1@t5'] for i in range(5)]
    assert last[7] == f'{sum(round(x, 1) for x in m)/5:.1f}', last
    assert '`rise.train.epochs: 3.0 → 4.0`' == last[1] and last[3] == '`d-ep4-s101`, `d-ep4-s102`'
    assert set(study_log.CHOSEN) == set(study_log.ROUNDS)
    missing = [x for _, dev in study_log.CHOSEN.values() for x in dev if not (study_log.OUT/f'{x}.json').exists()]
    assert not missing, f'development runs named but not summarised: {missing}'
    text = (ROOT/'results'/'study'/'README.md').read_text()
    assert study_log.ROUNDS_BEGIN + '\n\n' + study_log.rounds() + '\n\n' + study_log.ROUNDS_END in text, 'rerun python tools/study_log.py --write'

def test_the_replication_ran_todays_default_on_seeds_that_shaped_nothing():
    rep = [json.loads(f.read_text()) for f in sorted((ROOT/'results'/'replication').glob('tiny-s*/config.json'))]
    assert rep, 'results/replication/ holds no run'
    today = json.loads((study_log.OUT/'final-tiny-s0.json').read_text())['config']
    assert all(study_log.config_change(today, c) == [] for c in rep)  # the default, unchanged but for the seed
    studied = [f for f in study_log.OUT.rglob('*.json') if not f.name.startswith('rep-')]
    used = {d['seed'] for f in studied if isinstance(d := json.loads(f.read_text()), dict) and isinstance(d.get('seed'), int)}
    used |= {json.loads(f.read_text()).get('seed') for f in (ROOT/'results').rglob('config.json') if 'replication' not in f.parts}
    assert used and not {c['seed'] for c in rep} & used, sorted({c['seed'] for c in rep} & used)
