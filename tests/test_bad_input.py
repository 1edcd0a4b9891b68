"""Bad input, table-driven: each case builds one bad file, config or checkpoint and calls the real public loader. Each
must fail with the project's own error (DataError / ValueError / FileNotFoundError raised by rise_nb code, no library
traceback chained to it) whose message names the file, the row and/or the field, and what was expected; and no file
that existed before the call may change."""
import contextlib, hashlib, io, json, pickle, shutil, time, traceback, tracemalloc
from pathlib import Path
from typing import Callable, NamedTuple
import pytest
import rise_nb
from rise_nb.tasks import DataError, GSM8KTask, MATHTask, load_jsonl
from rise_nb.config import RunConfig, apply_overrides
from rise_nb.presets import get_preset
from rise_nb.rundir import Run
from rise_nb.cli import main as cli
from rise_nb.models import TinyConfig, build_tiny_model, load_model, load_tokenizer
from rise_nb.train import encode_chat

PKG = Path(rise_nb.__file__).resolve().parent
ROW = '{"question": "Ann has 2 apples and buys 3. How many?", "answer": "2+3=<<2+3=5>>5\\n#### 5"}'
MATH_ROW = '{"problem": "What is 1+1?", "solution": "It is $\\\\boxed{2}$."}'
SMALL = dict(vocab_size=400, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, corpus_size=100)

class Case(NamedTuple):
    name: str
    build: Callable  # (tmp_path, ckpt) -> (call, names): `call()` feeds the bad input to a loader; `names` fill `{...}` in `parts`
    exc: type|None  # the exception expected; None: a CLI call that must exit with status 2 and a one-line error
    parts: tuple  # substrings the message must contain
    max_s: float = 20.  # the call must fail within this many seconds

def write(tmp, name, data) -> Path:
    p = tmp/name
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return p

def jsonl(loader, *lines, name='data.jsonl', **kw):
    "A case builder: a JSONL file of `lines`, read by `loader` (`load_jsonl`, `gsm8k` or `math`)."
    def build(tmp, ckpt):
        p = write(tmp, name, b''.join((l if isinstance(l, bytes) else l.encode()) + b'\n' for l in lines))  # no lines: 0 bytes
        f = {'load_jsonl': lambda: load_jsonl(p, **kw), 'gsm8k': lambda: GSM8KTask(str(p)).load('test'),
             'math': lambda: MATHTask(str(p)).load('test')}[loader]
        return f, {'path': p}
    return build

def huge_line(tmp, ckpt):
    "One 50 MB line (a valid JSON object), written in 1 MB pieces so the test never holds it whole."
    p = tmp/'huge.jsonl'
    with open(p, 'wb') as f:
        f.write(b'{"question": "'); chunk = b'x' * 2**20
        for _ in range(50): f.write(chunk)
        f.write(b'", "answer": "#### 5"}\n')
    return (lambda: GSM8KTask(str(p)).load('test')), {'path': p}

def config(d):
    return lambda tmp, ckpt: ((lambda: RunConfig.from_dict(d)), {})

def overrides(*sets):
    return lambda tmp, ckpt: ((lambda: apply_overrides(get_preset('smoke'), list(sets))), {})

def cli_config(data, name='config.json'):
    "A case builder: `rise_nb run --config FILE` on a bad config file; returns the exit status and stderr."
    def build(tmp, ckpt):
        p = write(tmp, name, data)
        def call():
            err = io.StringIO()
            with contextlib.redirect_stderr(err): rc = cli(['run', '--config', str(p), '--out', str(tmp/'run')])
            return rc, err.getvalue()
        return call, {'path': p}
    return build

def checkpoint(drop=(), files={}, edit_json={}, call=lambda d: load_model(d, device='cpu')):
    "A case builder: a copy of the tiny checkpoint without `drop`, with `files` written and JSON files updated by `edit_json`."
    def build(tmp, ckpt):
        d = tmp/'ckpt'; shutil.copytree(ckpt['a'], d)
        for f in drop: (d/f).unlink()
        for f, data in files.items(): write(d, f, data(tmp) if callable(data) else data)
        for f, upd in edit_json.items(): (d/f).write_text(json.dumps({k: v for k, v in {**json.loads((d/f).read_text()), **upd}.items() if v is not None}))
        return (lambda: call(d)), {'path': d, 'tmp': tmp}
    return build

class Unpickled:
    "Loading a pickle of this creates a marker file: proof that the pickle was loaded (and could have run anything)."
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (Path.touch, (Path(self.marker),))

def pickle_weights(tmp): return pickle.dumps({'model.embed_tokens.weight': Unpickled(tmp/'UNPICKLED')})

NO_TEMPLATE = dict(drop=['chat_template.jinja'], edit_json={'tokenizer_config.json': {'chat_template': None}})

def truncated(tmp):
    data = (tmp/'ckpt'/'model.safetensors').read_bytes()
    return data[:len(data)//2]

def lora(mode):
    "A case builder: a LoRA adapter saved for base model A, then loaded where its base is `moved` to model B, `replaced` by B, or `gone`."
    def build(tmp, ckpt):
        base = tmp/'base'; shutil.copytree(ckpt['a'], base)
        model, tok = load_model(base, device='cpu', dtype='float32', lora={'r': 2, 'alpha': 4, 'dropout': 0.0})
        ad = tmp/'adapter'; model.save_pretrained(ad, safe_serialization=True); tok.save_pretrained(ad)
        if mode == 'replaced': shutil.rmtree(base); shutil.copytree(ckpt['b'], base)
        if mode == 'gone': shutil.rmtree(base)
        if mode == 'moved':
            cfg = json.loads((ad/'adapter_config.json').read_text())
            (ad/'adapter_config.json').write_text(json.dumps({**cfg, 'base_model_name_or_path': str(ckpt['b'])}))
            base = ckpt['b']
        if mode == 'pickled': (ad/'adapter_model.safetensors').unlink(); write(ad, 'adapter_model.bin', pickle_weights(tmp))
        return (lambda: load_model(ad, device='cpu')), {'adapter': ad, 'base': base}
    return build

EXPECT_FIELD = "expected a solution ending in '#### <number>'"
CASES = [
    # JSONL datasets
    Case('empty file', jsonl('load_jsonl', name='empty.jsonl'), DataError, ('{path}', 'no rows', "expected JSON objects with fields ['question', 'answer']")),
    Case('blank lines only', jsonl('gsm8k', '', '   ', ''), DataError, ('{path}', 'no rows', 'expected JSON objects')),
    Case('bad JSON on row 3', jsonl('load_jsonl', ROW, ROW, '{"question": "q", "answer": '), DataError,
         ('{path}', 'row 3', 'invalid JSON', 'expected one JSON object per line')),
    Case('row is not an object', jsonl('load_jsonl', ROW, '[1, 2]'), DataError, ('{path}', 'row 2', 'expected a JSON object, got an array')),
    Case('missing question', jsonl('gsm8k', ROW, '{"answer": "#### 3"}'), DataError, ('{path}', 'row 2', "missing field 'question'")),
    Case('missing answer', jsonl('gsm8k', ROW, ROW, '{"question": "q"}'), DataError, ('{path}', 'row 3', "missing field 'answer'")),
    Case('question is a number', jsonl('load_jsonl', '{"question": 7, "answer": "#### 7"}'), DataError,
         ('{path}', 'row 1', "field 'question'", 'expected a string, got a number')),
    Case('answer is a list', jsonl('gsm8k', ROW, '{"question": "q", "answer": ["#### 7"]}'), DataError,
         ('{path}', 'row 2', "field 'answer'", 'expected a string, got an array')),
    Case('answer is null', jsonl('load_jsonl', '{"question": "q", "answer": null}'), DataError,
         ('{path}', 'row 1', "field 'answer'", 'expected a string, got null')),
    Case('answer is a boolean', jsonl('load_jsonl', '{"question": "q", "answer": true}'), DataError, ("field 'answer'", 'expected a string, got a boolean')),
    Case('MATH problem is an object', jsonl('math', '{"problem": {"text": "q"}, "solution": "$\\\\boxed{1}$"}'), DataError,
         ('{path}', 'row 1', "field 'problem'", 'expected a string, got an object')),
    Case('MATH answer is a number', jsonl('math', MATH_ROW, '{"problem": "p", "solution": "s", "answer": 5}'), DataError,
         ('{path}', 'row 2', "field 'answer'", 'expected a string, got a number')),
    Case('MATH solution without boxed', jsonl('math', '{"problem": "p", "solution": "it is 2"}'), DataError,
         ('{path}', 'row 1', "field 'solution'", 'expected a \\boxed{{...}} final answer')),
    Case('50 MB single line', huge_line, DataError, ('{path}', 'row 1', 'longer than', 'expected one JSON object per line'), max_s=3.),
    Case('non-UTF-8 bytes', jsonl('gsm8k', ROW, b'{"question": "caf\xe9", "answer": "#### 1"}'), DataError,
         ('{path}', 'row 2', 'not valid UTF-8', 'expected UTF-8 text')),
    Case('JSON nested 100,000 deep', jsonl('load_jsonl', ROW, b'[' * 100_000 + b']' * 100_000), DataError, ('{path}', 'row 2', 'nested too deeply')),
    Case('GSM8K answer without ####', jsonl('gsm8k', ROW, '', '{"question": "q", "answer": "so 42"}'), DataError,
         ('{path}', 'row 3', "field 'answer'", EXPECT_FIELD)),  # row 3: the file's line, the blank line counted
    Case('GSM8K answer with empty ####', jsonl('gsm8k', '{"question": "q", "answer": "so\\n####   "}'), DataError, ('{path}', 'row 1', EXPECT_FIELD)),
    Case('GSM8K directory without the split', lambda tmp, ckpt: ((lambda: GSM8KTask(str(tmp)).load('test')), {'path': tmp}),
         FileNotFoundError, ('{path}', 'no test.jsonl')),
    Case('GSM8K path that does not exist', lambda tmp, ckpt: ((lambda: GSM8KTask(str(tmp/'gsm8k')).load('train')), {'path': tmp/'gsm8k'}),
         FileNotFoundError, ('{path}', 'no such file or directory', 'expected a .jsonl file or a directory holding train.jsonl')),
    # run configs: the dataclasses, --set overrides, presets and the `rise_nb run --config` path
    Case('config unknown field', config({'turns': 3}), ValueError, ("unknown field(s) ['turns']", 'expected a subset of')),
    Case('config unknown nested field', config({'rise': {'train': {'learning_rate': 1e-4}}}), ValueError,
         ('rise.train', "unknown field(s) ['learning_rate']", 'expected a subset of')),
    Case('config negative turns', config({'rise': {'turns': -1}}), ValueError, ('RunConfig.rise.turns', 'expected a positive integer', '-1')),
    Case('config temperature < 0', config({'temperature': -0.5}), ValueError, ('RunConfig.temperature', 'expected a finite number >= 0', '-0.5')),
    Case('config wrong type', config({'eval': {'turns': 'five'}}), ValueError, ('RunConfig.eval.turns', 'expected a positive integer', "'five'")),
    Case('config not an object', config([1, 2]), ValueError, ('RunConfig', 'expected a JSON object, got list')),
    Case('config example rule out of range', config({'rise': {'examples': {'tau': 0}}}), ValueError, ('RunConfig.rise.examples.tau', 'expected a number > 0', '0')),
    Case('config unknown example rule', config({'rise': {'examples': {'filtr': 'best'}}}), ValueError, ('rise.examples', "unknown field(s) ['filtr']")),
    Case('config unknown loss', config({'rise': {'train': {'loss': 'mse'}}}), ValueError, ('RunConfig.rise.train.loss', 'expected a registered loss', "'mse'")),
    Case('config unknown tracker', config({'report_to': 'tb'}), ValueError, ('RunConfig.report_to', "one of ['tensorboard', 'wandb', 'trackio']", "'tb'")),
    Case('--set negative boost steps', overrides('boost.steps=-5'), ValueError, ('RunConfig.boost.steps', 'expected an integer >= 0', '-5')),
    Case('config unknown operator', config({'rise': {'operator': 'best_of_9'}}), ValueError,
         ("RunConfig.rise.operator: unknown improvement operator 'best_of_9'", "expected one of ['best_of_n', 'own_mistakes', 'teacher'", '--import')),
    Case('config operator argument unknown', config({'rise': {'operator_args': {'samples': 4, 'n': 2}}}), ValueError,
         ('RunConfig.rise.operator_args', "unknown argument(s) ['n'] of operator 'best_of_n'", "expected some of ['samples']")),
    Case('config operator samples of zero', config({'rise': {'operator_args': {'samples': [1, 0]}}}), ValueError,
         ("RunConfig.rise.operator_args (operator 'best_of_n')", 'samples: expected a positive integer or a non-empty list', '[1, 0]')),
    Case('config teacher without a model', config({'rise': {'operator': 'teacher', 'operator_args': {'samples': 2}}}), ValueError,
         ("RunConfig.rise.operator_args (operator 'teacher')", "'model'")),
    Case('config teacher API model without URL', config({'rise': {'operator': 'teacher', 'operator_args': {'model': 'openai:gpt-4o'}}}), ValueError,
         ("RunConfig.rise.operator_args (operator 'teacher')", 'model: expected `openai:MODEL@BASE_URL`', "'openai:gpt-4o'")),
    Case('config operator_args not an object', config({'rise': {'operator_args': [1, 16]}}), ValueError, ('RunConfig.rise.operator_args', 'expected a mapping')),
    Case('--set zero eval turns', overrides('eval.turns=0'), ValueError, ('RunConfig.eval.turns', 'expected a positive integer')),
    Case('--set unknown field', overrides('rise.nope=2'), ValueError, ("--set 'rise.nope=2'", "unknown field 'rise.nope'")),
    Case('--set without =', overrides('rise.turns'), ValueError, ("--set 'rise.turns'", 'expected KEY=VALUE')),
    Case('unknown preset', lambda tmp, ckpt: ((lambda: get_preset('huge')), {}), ValueError, ("Unknown preset 'huge'", 'expected one of')),
    Case('CLI config not valid JSON', cli_config('{"rise": {"turns": 3}'), None, ('{path}', 'not valid JSON')),
    Case('CLI config not valid YAML', cli_config('rise:\n  turns: 3\n   x: 1\n', 'config.yaml'), None, ('{path}, line 3, column 5', 'not valid YAML')),
    Case('CLI config YAML key twice', cli_config('rise: {turns: 3}\nrise: {problems: 4}\n', 'config.yaml'), None, ('{path}, line 2', "key 'rise' given twice")),
    Case('CLI config YAML unknown field', cli_config('rise:\n  turnz: 3\n', 'config.yml'), None, ('{path}', "unknown field(s) ['turnz']")),
    Case('CLI config YAML not a mapping', cli_config('- rise\n', 'config.yaml'), None, ('{path}', 'expected a mapping of RunConfig fields')),
    Case('CLI config YAML Python object', cli_config('seed: !!python/object/apply:os.system [touch RAN]\n', 'config.yaml'), None, ('{path}', 'not valid YAML', 'could not determine a constructor')),
    Case('CLI config unknown field', cli_config('{"rise": {"turnz": 3}}'), None, ("unknown field(s) ['turnz']", 'expected a subset of')),
    Case('CLI config out of range', cli_config('{"rise": {"turns": 0}, "temperature": 1.0}'), None, ('RunConfig.rise.turns', 'expected a positive integer')),
    # tokenizers and checkpoints
    Case('tokenizer with no chat template', checkpoint(**NO_TEMPLATE, call=load_tokenizer), ValueError,
         ('{path}', 'has no chat template', 'chat_template=')),
    Case('checkpoint whose tokenizer has no chat template', checkpoint(**NO_TEMPLATE), ValueError, ('{path}', 'has no chat template')),
    Case('encode_chat without a chat template', checkpoint(**NO_TEMPLATE, call=lambda d: encode_chat(
             plain_tokenizer(d), [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}])), ValueError,
         ('encode_chat', 'no chat template', 'expected one loaded with `load_tokenizer`')),
    Case('encode_chat message without content', checkpoint(call=lambda d: encode_chat(load_tokenizer(d), [{'role': 'user'}, {'role': 'assistant', 'content': 'a'}])),
         ValueError, ("message 0, field 'content'", 'expected a string')),
    Case('checkpoint directory that does not exist', lambda tmp, ckpt: ((lambda: load_model(tmp/'nope', device='cpu')), {'path': tmp/'nope'}),
         FileNotFoundError, ('{path}', 'no such directory', 'expected a checkpoint directory')),
    Case('checkpoint missing config.json', checkpoint(drop=['config.json']), FileNotFoundError, ('{path}', 'no config.json', 'expected a checkpoint directory')),
    Case('checkpoint config.json not JSON', checkpoint(files={'config.json': '{"model_type": "llama",'}), ValueError,
         ('{path}/config.json', 'not valid JSON', 'expected a JSON object')),
    Case('checkpoint missing weights', checkpoint(drop=['model.safetensors']), FileNotFoundError,
         ('{path}', 'holds no weights', 'expected model.safetensors')),
    Case('checkpoint with only pickle weights', checkpoint(drop=['model.safetensors'], files={'pytorch_model.bin': pickle_weights}), ValueError,
         ('{path}', 'only pickle weights (pytorch_model.bin)', 'expected model.safetensors', 'safetensors only')),
    Case('checkpoint with truncated weights', checkpoint(files={'model.safetensors': truncated}), ValueError,
         ("could not load a causal LM from '{path}'", 'SafetensorError')),
    Case('checkpoint missing tokenizer files', checkpoint(drop=['tokenizer.json', 'tokenizer_config.json']), FileNotFoundError,
         ('{path}', 'holds no tokenizer', 'expected tokenizer.json')),
    Case('checkpoint with custom code', checkpoint(
             edit_json={'config.json': {'model_type': 'evil', 'auto_map': {'AutoConfig': 'evil.C', 'AutoModelForCausalLM': 'evil.M'}}},
             files={'evil.py': lambda tmp: f"import pathlib; pathlib.Path({str(tmp/'RAN')!r}).touch()\n"
                                           "from transformers import LlamaConfig as C, LlamaForCausalLM as M\n"}),
         ValueError, ("could not load a causal LM from '{path}'", 'custom code', 'trust_remote_code=True only if you trust it')),
    Case('LoRA adapter whose base model was replaced', lora('replaced'), ValueError,
         ('LoRA adapter {adapter} does not fit base model {base}', 'expected the base model the adapter was trained on')),
    Case('LoRA adapter pointed at another base model', lora('moved'), ValueError,
         ('LoRA adapter {adapter} does not fit base model {base}', "layer 'model.layers.0.")),
    Case('LoRA adapter whose base model is gone', lora('gone'), FileNotFoundError, ('LoRA adapter {adapter}', '{base}', 'no such directory')),
    Case('LoRA adapter with only pickle weights', lora('pickled'), ValueError, ('{adapter}', 'only pickle weights (adapter_model.bin)', 'expected adapter_model.safetensors')),
]

def plain_tokenizer(d):
    "A tokenizer loaded straight with `transformers`, which does not insist on a chat template as `load_tokenizer` does."
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(str(d))
    assert not tok.chat_template
    return tok

@pytest.fixture(scope='module')
def ckpt(tmp_path_factory):
    "Two tiny checkpoints of different widths: `a` (32) and `b` (48)."
    tmp = tmp_path_factory.mktemp('ckpt')
    return {'a': build_tiny_model(tmp/'a', cfg=TinyConfig(hidden_size=32, **SMALL)),
            'b': build_tiny_model(tmp/'b', cfg=TinyConfig(hidden_size=48, **SMALL), seed=1)}

def snapshot(*dirs) -> dict:
    "Hash of every file under `dirs`."
    return {f: hashlib.sha256(f.read_bytes()).hexdigest() for d in dirs for f in sorted(Path(d).rglob('*')) if f.is_file()}

def test_table_is_large():
    assert len(CASES) >= 45 and len({c.name for c in CASES}) == len(CASES)

@pytest.mark.parametrize('case', CASES, ids=[c.name for c in CASES])
def test_bad_input(case, tmp_path, ckpt):
    call, names = case.build(tmp_path, ckpt)
    parts = [p.format(**names) for p in case.parts]
    before = snapshot(tmp_path, ckpt['a'].parent)
    t0 = time.perf_counter()
    if case.exc is None:  # the command line: exit status 2 and one `rise_nb: error:` line, no traceback
        rc, err = call()
        assert rc == 2 and err.startswith('rise_nb: error: ') and 'Traceback' not in err, err
        msg = err
    else:
        with pytest.raises(Exception) as ei: call()
        e = ei.value
        assert type(e) is case.exc, f"{type(e).__module__}.{type(e).__name__}: {e}"  # the project's class, not a library's subclass
        last = traceback.extract_tb(ei.tb)[-1]
        assert PKG in Path(last.filename).resolve().parents, f"raised in {last.filename}:{last.lineno}, not by rise_nb"
        assert e.__cause__ is None and (e.__context__ is None or e.__suppress_context__), 'a library traceback is chained to the error'
        msg = str(e)
    dt = time.perf_counter() - t0
    for p in parts: assert p in msg, f"{p!r} not in the message: {msg}"
    assert dt < case.max_s, f"took {dt:.1f}s"
    assert snapshot(tmp_path, ckpt['a'].parent) == before  # nothing already written changed, nothing new written
    assert not (tmp_path/'UNPICKLED').exists() and not (tmp_path/'RAN').exists()  # no pickle loaded, no checkpoint code run

def test_huge_line_is_never_held_whole(tmp_path):
    "A 50 MB line fails after reading at most `max_line_bytes`: peak memory stays far below one copy of the line."
    huge_line(tmp_path, None)
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match='row 1: longer than'): load_jsonl(tmp_path/'huge.jsonl', max_line_bytes=4 * 2**20)
        peak = tracemalloc.get_traced_memory()[1]
    finally: tracemalloc.stop()
    assert peak < 12 * 2**20, f"peak {peak/2**20:.0f} MB"

def test_failed_run_keeps_the_run_directory(tmp_path):
    "A bad --set or a different --config on an existing run directory changes neither its config nor its manifest."
    out = tmp_path/'run'
    Run(out, get_preset('smoke')).finish('build', model='base')  # a run directory with its config and one finished stage
    before = snapshot(out)
    assert sorted(p.name for p in before) == ['config.json', 'manifest.json']
    other = tmp_path/'other.json'; other.write_text(json.dumps({**get_preset('smoke').to_dict(), 'seed': 7}))
    for args in (['--set', 'rise.turns=-1'], ['--config', str(other)], ['--set', 'temperature=-2']):
        err = io.StringIO()
        with contextlib.redirect_stderr(err): assert cli(['run', '--out', str(out), *args]) == 2
        assert err.getvalue().startswith('rise_nb: error: ')
    after = snapshot(out)
    assert {f: h for f, h in after.items() if f.name != 'run.log'} == before
