"""Real data: the fixture shipped in `tests/data` (always), and the full data sets (when `RISE_NB_DATA` names them).

The fixture holds 29 real GSM8K test rows and 8 train rows (MIT licence, source in `tests/data/README.md`) and 20
MATH-format problems written for these tests. The tests marked `full_data` check every row of the full GSM8K and MATH
files in the folder `RISE_NB_DATA` names and skip, saying what to set, when it is unset:
`RISE_NB_DATA=/path/to/data pytest -m full_data` runs them (and notebook 01 on the full data).
"""
import json, os
from pathlib import Path
import pytest
from rise_nb.tasks import GSM8KTask, MATHTask, find_shared_data, numbers_equal, hash_answer, last_boxed

FIXTURE = Path(__file__).resolve().parent/'data'
DATA = find_shared_data(required=False)
SKIP = ("RISE_NB_DATA is not set: set it to the folder holding gsm8k/train.jsonl, gsm8k/test.jsonl and math/test.jsonl "
        "to check every row of the full data sets")

def full_data(f):
    "Mark `f` as a full-data test (`pytest -m full_data`), skipped with `SKIP` when `RISE_NB_DATA` is unset."
    return pytest.mark.full_data(pytest.mark.skipif(DATA is None, reason=SKIP)(f))

def _lines(p): return Path(p).read_text(encoding='utf-8').splitlines()

def test_gsm8k_fixture():
    "Every fixture row loads, its reference answer checks as correct in three spellings, and the next integer as wrong."
    task = GSM8KTask(source=FIXTURE/'gsm8k')
    for split, n in (('test', 29), ('train', 8)):
        probs = task.load(split)
        assert len(probs) == n == len(_lines(FIXTURE/'gsm8k'/f'{split}.jsonl'))
        for p in probs:
            assert task.check(f"so \\boxed{{{p.answer}}}", p).reward == 1, p.id
            assert task.check(f"Work.\n#### {int(p.answer):,}", p).reward == 1, p.id
            assert task.check(f"#### {int(p.answer) + 1}", p).reward == 0, p.id
            assert task.oracle(p) == p.solution and '<<' in p.solution, p.id
    answers = [p.answer for p in task.load('test')]
    assert any(int(a) >= 1000 for a in answers) and any(int(a) < 0 for a in answers)  # separators and signs are covered

def test_fixture_names_its_source_and_licence():
    readme, lic = (FIXTURE/'README.md').read_text(), (FIXTURE/'gsm8k'/'LICENSE').read_text()
    assert 'openai/gsm8k' in readme and 'configuration `main`' in readme and 'MIT' in readme
    assert lic.startswith('MIT License') and 'Copyright (c) 2021 OpenAI' in lic
    assert 'None of them\n  comes from MATH' in readme

def test_math_format_fixture():
    "The MATH-format rows load with their level and type, and each boxed answer checks as correct, another row's as wrong."
    task = MATHTask(source=FIXTURE/'math'/'test.jsonl')
    probs = task.load('test')
    assert len(probs) == 20
    for row, p in zip(map(json.loads, _lines(FIXTURE/'math'/'test.jsonl')), probs):
        assert set(row) == {'problem', 'level', 'type', 'solution'}
        assert p.answer == last_boxed(row['solution']) and p.meta == {'level': row['level'], 'type': row['type']}
        assert task.check(f"The answer is $\\boxed{{{p.answer}}}$.", p).reward == 1, p.id
    assert task.check(r"\boxed{\frac{19}{12}}", probs[2]).reward == 0  # 6\sqrt{2} is not 19/12
    assert task.check(r"\boxed{(3,7)}", probs[3]).reward == 0  # order matters in (7,3)

def test_find_shared_data(tmp_path, monkeypatch):
    "Only `RISE_NB_DATA` names the full data: no folder is searched for, and every error says what to set."
    (tmp_path/'shared'/'data'/'gsm8k').mkdir(parents=True)
    (tmp_path/'shared'/'data'/'math').mkdir()
    inner = tmp_path/'shared'/'clone'/'nbs'; inner.mkdir(parents=True)
    monkeypatch.chdir(inner)  # a shared/data folder above the working directory is not picked up
    monkeypatch.delenv('RISE_NB_DATA', raising=False)
    assert find_shared_data(required=False) is None
    with pytest.raises(FileNotFoundError, match='RISE_NB_DATA is not set; set RISE_NB_DATA to the folder holding gsm8k/'):
        find_shared_data()
    d = tmp_path/'shared'/'data'
    monkeypatch.setenv('RISE_NB_DATA', str(d/'nope'))
    with pytest.raises(FileNotFoundError, match='is not a directory; set RISE_NB_DATA'): find_shared_data(required=False)
    monkeypatch.setenv('RISE_NB_DATA', str(d))
    with pytest.raises(FileNotFoundError, match='has no gsm8k/test.jsonl or math/test.jsonl; set RISE_NB_DATA'): find_shared_data()
    (d/'gsm8k'/'test.jsonl').write_text('')
    (d/'math'/'test.jsonl').write_text('')
    assert find_shared_data() == d

@pytest.mark.parametrize('split,n', [('test', 1319), ('train', 7473)])
@full_data
def test_full_gsm8k(split, n):
    "Every row of the full split loads and its reference answer checks as correct; the fixture's rows are among them."
    task = GSM8KTask(source=DATA/'gsm8k')
    probs = task.load(split)
    assert len(probs) == n
    bad = [p.id for p in probs if task.check(f"#### {p.answer}", p).reward != 1 or not numbers_equal(p.answer, hash_answer(p.solution))]
    assert bad == []
    full = set(_lines(DATA/'gsm8k'/f'{split}.jsonl'))
    assert [l for l in _lines(FIXTURE/'gsm8k'/f'{split}.jsonl') if l not in full] == []  # real rows, byte for byte

@full_data
def test_full_math():
    "The 1,000 MATH test problems load with level and type; none of the fixture's written problems is among them."
    probs = MATHTask(source=DATA/'math'/'test.jsonl').load('test')
    assert len(probs) == 1000
    assert all(p.answer and p.meta.keys() >= {'level', 'type'} for p in probs)
    written = {json.loads(l)['problem'] for l in _lines(FIXTURE/'math'/'test.jsonl')}
    assert written.isdisjoint(p.question for p in probs)
