"""The GSM8K and MATH presets: the GPU ones validate with the documented `--set` overrides; the CPU ones run every
stage on real rows (the repository fixture in the main suite, the full data under `pytest -m full_data`)."""
import json, re, shlex, sys
from pathlib import Path
import pytest
from rise_nb.mdp import Problem
from rise_nb.config import RunConfig, apply_overrides
from rise_nb.presets import get_preset
from rise_nb.pipeline import stages
from rise_nb.cli import main, cli_parser as _parser
from rise_nb.tasks import get_task, GSM8KTask, MATHTask
from rise_nb.plugins import import_module
from test_data import full_data, DATA, FIXTURE

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path: sys.path.append(str(ROOT))  # `examples.my_tasks`, as from the repository root
DOCUMENTED = [  # the GSM8K and MATH commands the README gives (and those it proposes)
    'rise_nb run --preset gsm8k-gpu --out runs/gsm8k',
    'rise_nb run --preset math-gpu --out runs/math',
    'rise_nb run --preset gsm8k-gpu --set rise.train.lora=null --out runs/full-ft',
    'rise_nb run --preset gsm8k-gpu --set base=mistralai/Mistral-7B-Instruct-v0.3 --set engine_args.tensor_parallel_size=2 --out runs/g',
    'rise_nb run --preset math-gpu --set task_args.source=EleutherAI/hendrycks_math --set task_args.config=algebra --out runs/m',
    'rise_nb run --preset math-gpu --set rise.samples=[1,16,16,16,16] --set eval.problems=100 --out runs/m',
    'rise_nb run --preset gsm8k-cpu --out runs/gsm8k-cpu',
    'rise_nb run --preset math-cpu --out runs/math-cpu',
    'rise_nb run --preset gsm8k-cpu --set task_args.source=tests/data/gsm8k --set rise.sft_baseline=false --out runs/g',
]

def readme_commands()->list[str]:
    "The `rise_nb run` lines of README.md's shell blocks (continuations joined, comments dropped)."
    text = (ROOT/'README.md').read_text(encoding='utf-8')
    out = []
    for block in re.findall(r'```(?:sh|bash)\n(.*?)```', text, re.S):
        for line in block.replace('\\\n', ' ').splitlines():
            words = shlex.split(line, comments=True)
            if words[:2] == ['rise_nb', 'run'] and '--config' not in words: out.append(shlex.join(words))
    return out

def validate(cmd:str):
    "What `rise_nb` checks before any work: flags, preset, overrides, the config, the task and its arguments."
    args = _parser().parse_args(shlex.split(cmd)[1:])
    for m in args.imports: import_module(m, '--import')  # the README's example plug-ins (examples/), from the repository root
    cfg = apply_overrides(get_preset(args.preset), args.set)
    get_task(cfg.task, **cfg.task_args)
    return cfg

@pytest.mark.parametrize('cmd', DOCUMENTED + readme_commands())
def test_documented_commands_validate(cmd, monkeypatch):
    monkeypatch.setenv('RISE_NB_DATA', str(FIXTURE))  # the fixture has the files the CPU presets name
    cfg = validate(cmd)
    assert cfg.task in ('gsm8k', 'math', 'arithmetic', 'guess', 'sums')

def test_gpu_presets():
    g, m = get_preset('gsm8k-gpu'), get_preset('math-gpu')
    assert (g.task, m.task, m.base) == ('gsm8k', 'math', 'mistralai/Mistral-7B-Instruct-v0.3')
    assert m.task_args['source'] == 'DigitalLearningGmbH/MATH-lighteval' and m.task_args['test_source'] == 'HuggingFaceH4/MATH-500'
    t = get_task(m.task, **m.task_args)
    assert (t.prompt, t.reward, t.test_source) == ('reference', 'reference', 'HuggingFaceH4/MATH-500')
    assert apply_overrides(g, ['rise.train.lora=null']).rise.train.lora is None

def test_cpu_preset_without_data_stops_before_work(tmp_path, monkeypatch, capsys):
    "An unset RISE_NB_DATA is a configuration error (exit 2) that says what to set, and no run directory is made."
    monkeypatch.delenv('RISE_NB_DATA', raising=False)
    for preset in ('gsm8k-cpu', 'math-cpu'):
        assert main(['run', '--preset', preset, '--out', str(tmp_path/preset)]) == 2
        err = capsys.readouterr().err
        assert 'RISE_NB_DATA is not set; set RISE_NB_DATA to the folder holding' in err and 'task_args.source' in err, err
        assert not (tmp_path/preset).exists()

def _records(path):
    return [json.loads(l) for l in Path(path).read_text(encoding='utf-8').splitlines() if l.strip()]

def check_run(out:Path, questions:set, turns:int):
    "Every stage finished; records and metrics exist; each recorded reward is the task's check of the recorded text."
    man = json.loads((out/'manifest.json').read_text())['stages']
    cfg = RunConfig.from_dict(json.loads((out/'config.json').read_text()))
    assert list(man) == stages(cfg)
    task = get_task(cfg.task, **cfg.task_args)
    files = [out/'collect_1.jsonl'] + [out/s/f for s in man if s.startswith('eval_') for f in ('oracle.jsonl', 'no_oracle.jsonl', 'parallel.jsonl')]
    n_turns = 0
    for f in files:
        recs = _records(f)
        assert recs, f
        for r in recs:
            p = Problem(**r['problem'])
            assert p.question in questions, (f, p.id)  # a real row of the data file
            for t in r['turns']:
                assert isinstance(t['action'], str) and t['action'].strip(), (f, p.id)
                assert task.check(t['action'], p).reward == t['reward'], (f, p.id)
                n_turns += 1
    multi = [len(r['turns']) for r in _records(out/'collect_1.jsonl') + _records(out/'eval_boost'/'no_oracle.jsonl')]
    assert max(multi) == turns, multi  # states with several attempts, cut by the context window
    for s in man:
        if s.startswith('eval_'): assert set(json.loads((out/s/'metrics.json').read_text())['row']) >= {'m1@t1'}
    assert (out/'results.md').exists() and man['train_1']['examples'] > 0
    return man, n_turns

def _questions(task, *splits):
    return {p.question for s in splits for p in task.load(s)}

FIXTURE_RUN = ['--set', 'boost.steps=4', '--set', 'boost.n_train=16', '--set', 'model.corpus_size=40', '--set', 'max_new_tokens=24',
               '--set', 'rise.problems=4', '--set', 'eval.problems=4', '--set', 'rise.sft_baseline=false']

@pytest.mark.parametrize('preset,source', [('gsm8k-cpu', ['task_args.source="%s"' % (FIXTURE/'gsm8k')]),
                                           ('math-cpu', ['task_args.source="%s"' % (FIXTURE/'math'/'test.jsonl'), 'task_args.holdout=10'])])
def test_cpu_preset_on_fixture(preset, source, tmp_path):
    "The CPU preset end to end through the command line on the repository's rows, at reduced sizes (about 20 s)."
    out = tmp_path/preset
    assert main(['run', '--preset', preset, '--out', str(out)] + [x for s in source for x in ('--set', s)] + FIXTURE_RUN) == 0
    task = GSM8KTask(source=FIXTURE/'gsm8k') if preset == 'gsm8k-cpu' else MATHTask(source=FIXTURE/'math'/'test.jsonl')
    check_run(out, _questions(task, *(['train', 'test'] if preset == 'gsm8k-cpu' else ['test'])), turns=3)

@pytest.mark.parametrize('preset', ['gsm8k-cpu', 'math-cpu'])
@full_data
def test_cpu_preset_full_data(preset, tmp_path):
    "The CPU preset as it is, end to end through the command line on the full data (about 3.5 minutes each on 2 cores)."
    out = tmp_path/preset
    assert main(['run', '--preset', preset, '--out', str(out)]) == 0
    task = GSM8KTask(source=DATA/'gsm8k') if preset == 'gsm8k-cpu' else MATHTask(source=DATA/'math'/'test.jsonl')
    man, n = check_run(out, _questions(task, *(['train', 'test'] if preset == 'gsm8k-cpu' else ['test'])), turns=3)
    assert n > 100

@full_data
def test_math_holdout_full_data():
    "The local MATH file's one split, divided 500/500: disjoint, every row used, every subject on both sides."
    tr, te = (MATHTask(source=DATA/'math'/'test.jsonl', holdout=500).load(s) for s in ('train', 'test'))
    assert (len(tr), len(te)) == (500, 500)
    assert not {p.meta['row'] for p in tr} & {p.meta['row'] for p in te}
    assert not {p.question for p in tr} & {p.question for p in te}
    assert {p.meta['type'] for p in tr} == {p.meta['type'] for p in te}
