"""Property-based tests of answer extraction and equivalence (rise_nb.tasks) on arbitrary and hostile text: every call
returns the promised type, never raises, takes under a second and never runs code; plus invariants that the checkers
promise (round trips, symmetry, formatting variants). And a scan of the package source for eval/exec/pickle."""
import builtins, contextlib, io, os, re, sys, tempfile, time, tokenize
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
import rise_nb
from rise_nb.mdp import Problem
import rise_nb.tasks
from rise_nb.tasks import (Check, GSM8KTask, MATHTask, extract_answer, hash_answer, last_boxed, last_number, math_equal,
                           normalize_math, numbers_equal, parse_number, CHECKER)
from rise_nb.tasks.arithmetic import ArithmeticTask

TASK_MODULES = [m for n, m in sorted(sys.modules.items()) if n == 'rise_nb.tasks' or n.startswith('rise_nb.tasks.')]  # where a planted global would land

N = 200  # examples per property
SETTINGS = settings(max_examples=N, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
LIMIT = 1.0  # seconds one call may take

MARKER = Path(tempfile.gettempdir()) / f'rise_nb_code_ran_{os.getpid()}'  # a file that exists only if some input was run as code
PAYLOADS = [f"__import__('os').system('touch {MARKER}')", f"open('{MARKER}', 'w').write('x')",
            f"exec(\"open('{MARKER}','w')\")", f"eval(\"__import__('pathlib').Path('{MARKER}').touch()\")",
            "globals().__setitem__('RISE_NB_PWNED', 1)", "__builtins__.__dict__.__setitem__('RISE_NB_PWNED', 1)",
            f"\\boxed{{__import__('os').system('touch {MARKER}')}}", f"#### __import__('os').system('touch {MARKER}')",
            "lambda: 0", "[c for c in ().__class__.__base__.__subclasses__()]", "1 if __import__('os').system('true') else 2"]
HOSTILE = ['9**9**9**9', '9^9^9^9', '(9^9)^(9^9)', '10^{10^{10^{10}}}', '2^{2^{2^{2^{2}}}}', '1e999999', '-1E-999999', '99999!',
           '10!!!!!', '(x+1)^{999}', '\\frac{1}{' * 30 + '2' + '}' * 30, '(' * 40 + '1' + ')' * 40, '\\boxed{' * 3000,
           '}' * 3000 + '\\boxed{', '\\boxed{' * 2000 + '7' + '}' * 2000, '####' * 2000, '9' * 50_000, 'a1 ' * 30_000,
           '\\sqrt{' * 50 + '2' + '}' * 50, 'x' * 399, '1,000,000,000,000,000,000,000,000,000,000,000', '\x00\ud7ff\ufffd\U0010ffff',
           '$' * 500, '\\text{' * 300, '\\left(' * 200, '0.' + '0' * 5000 + '1', '1/0', '0^0', 'nan', 'inf', '-inf', 'NaN%']
PIECES = ['\\boxed{', '\\boxed ', '\\fbox{', '{', '}', '####', '\\frac{', '$', '\\$', '\\text{', '\\text{ cm}', ',', '.', '-',
          '+', '1', '0', '9' * 45, '\\sqrt', '\\left(', '\\right)', '^', '**', '!', '\\infty', '%', ' ', '\n', 'e', 'E', '=',
          'x', '(', ')', '\\pi', '/', '*', '\\%', '°', '^\\circ', '\\dfrac', '1,000', '.5', '2.0', *PAYLOADS[:3]]
pieces = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4), st.integers(-10**45, 10**45).map(str)), max_size=40).map(''.join)
nested = st.builds(lambda k, l, r, x: l * k + x + r * k, st.integers(0, 3000), st.sampled_from(['{', '\\boxed{', '(', '\\frac{1}{', '[']),
                   st.sampled_from(['}', ')', ']', '']), st.sampled_from(['1', '', 'x', '9' * 40]))
ANY = st.one_of(st.text(), st.text(min_size=500, max_size=3000), pieces, nested, st.sampled_from(HOSTILE + PAYLOADS),
                st.integers().map(str), st.floats().map(str))

ARITH, GSM, MATH = ArithmeticTask(), GSM8KTask(source='unused'), MATHTask(source='unused')
GP, MP = Problem('g', 'q', '42', 's'), Problem('m', 'q', '\\frac{1}{2}', 's')
FUNCTIONS = {  # name: (function of (a, b), the types it may return)
    'last_boxed': (lambda a, b: last_boxed(a), (str, type(None))),
    'hash_answer': (lambda a, b: hash_answer(a), (str, type(None))),
    'last_number': (lambda a, b: last_number(a), (str, type(None))),
    'extract_answer': (lambda a, b: extract_answer(a), (str, type(None))),
    'parse_number': (lambda a, b: parse_number(a), (Fraction, type(None))),
    'normalize_math': (lambda a, b: normalize_math(a), (str,)),
    'numbers_equal': (numbers_equal, (bool,)),
    'math_equal': (math_equal, (bool,)),
    'math_equal vs number': (lambda a, b: math_equal(a, '42'), (bool,)),
    'arithmetic check': (lambda a, b: ARITH.check(a, GP), (Check,)),
    'gsm8k check': (lambda a, b: GSM.check(a, GP), (Check,)),
    'math check': (lambda a, b: MATH.check(a, MP), (Check,)),
}

@pytest.fixture(scope='module', autouse=True)
def started_checker():
    "Start the math-verify process once (its start-up is not a call), and clean the marker."
    MARKER.unlink(missing_ok=True)
    assert math_equal('\\frac{1}{2}', '0.5')
    yield
    MARKER.unlink(missing_ok=True)

@contextlib.contextmanager
def refusing_eval():
    "Within: Python's eval, exec and compile raise, so a checker that used them on its input would fail."
    saved = {n: getattr(builtins, n) for n in ('eval', 'exec', 'compile')}
    def refuse(*a, **k): raise AssertionError('eval/exec/compile called on data')
    for n in saved: setattr(builtins, n, refuse)
    try: yield
    finally:
        for n, f in saved.items(): setattr(builtins, n, f)

@pytest.fixture
def no_code():
    "After the test: no marker file (in this process or the math-verify one) and no planted global."
    yield
    assert not MARKER.exists(), 'an input was run as code'
    assert not hasattr(builtins, 'RISE_NB_PWNED') and not [m for m in TASK_MODULES if 'RISE_NB_PWNED' in vars(m)]

@pytest.mark.parametrize('name', FUNCTIONS)
def test_total_fast_and_inert(name, no_code):
    "Any text: the function returns its promised type, never raises, and answers within a second."
    f, types = FUNCTIONS[name]
    worst = [0.0, None]
    @SETTINGS
    @given(ANY, ANY)
    def prop(a, b):
        with refusing_eval(): t0 = time.perf_counter(); r = f(a, b); dt = time.perf_counter() - t0
        if dt > worst[0]: worst[:] = [dt, (a[:80], b[:80])]
        assert isinstance(r, types), (type(r), a[:200])
        assert dt < LIMIT, f"{name} took {dt:.2f}s on {a[:200]!r}, {b[:200]!r}"
        if isinstance(r, Check): assert r.reward in (-1, 0, 1) and (r.reward == -1) == (r.answer is None) and r.answer == extract_answer(a)
    prop()
    print(f"{name}: slowest call {worst[0]*1000:.0f} ms")

@pytest.mark.parametrize('payload', PAYLOADS)
def test_payloads_are_never_run(payload, no_code):
    "Code-like answers reach every checker, the math-verify process included, and nothing runs."
    for s in (payload, f"\\boxed{{{payload}}}", f"#### {payload}", f"${payload}$"):
        with refusing_eval():
            for f, _ in FUNCTIONS.values(): f(s, s)
            math_equal(s, '0'); math_equal('0', s)
    assert CHECKER.equal(payload, '0', 5.0) is False  # straight to math-verify, no string shortcut

def test_overrunning_comparisons_stay_under_a_second():
    "An unfinishable comparison (`(a+b+c+d)^{40}`) is cut off; every call, the next one included, stays under a second."
    from rise_nb.tasks import MATH_TIMEOUT
    pid, restarts, times = CHECKER.proc.pid, CHECKER.restarts, []
    for k in (40, 41, 42):
        for a, b, want in ((f"(a+b+c+d)^{{{k}}}", '1', False), ('\\frac{1}{2}', '0.5', True)):
            t0 = time.perf_counter(); got = math_equal(a, b); times.append(time.perf_counter() - t0)
            assert got is want, (a, b)
    assert min(times[0::2]) >= 0.9 * MATH_TIMEOUT  # really cut off at the limit, not rejected up front
    assert max(times) < LIMIT, times
    assert (CHECKER.proc.pid, CHECKER.restarts) == (pid, restarts)  # the checker process survived every cut

ints = st.integers(-10**15, 10**15)
prefix = st.text(st.characters(blacklist_characters='#\\'), max_size=200)  # no `####`, no `\boxed` in the prose before the answer

@SETTINGS
@given(prefix, ints, st.text(st.characters(blacklist_characters='#\\'), max_size=50))
def test_hash_answer_round_trip(pre, n, post):
    "`extract_answer` finds an integer written after `####`, whatever the prose before it and the lines after it."
    assert extract_answer(f"{pre}\n#### {n}\n{post}") == str(n)
    assert hash_answer(f"{pre}#### {n:,}") == f"{n:,}"

@SETTINGS
@given(prefix, st.recursive(st.text(st.characters(blacklist_characters='{}\\'), max_size=8),
                            lambda c: st.lists(c, max_size=3).map(lambda xs: '{' + ''.join(xs) + '}'), max_leaves=20),
       st.text(st.characters(blacklist_characters='\\'), max_size=30), st.sampled_from(['\\boxed', '\\fbox', '\\boxed ']))
def test_last_boxed_round_trip(pre, inner, post, box):
    "`last_boxed` returns the whole brace-balanced content of the last box, nested braces included."
    assert last_boxed(f"{pre}{box}{{{inner}}}{post}") == inner.strip()

@SETTINGS
@given(prefix, ints)
def test_last_number_round_trip(pre, n):
    "The last number of a text ending in an integer is that integer, sign included (`20 - 5` ends in 5, not -5)."
    assert last_number(f"{pre} {n}") == str(n)
    assert last_number(f"{pre} {n:,} apples") == f"{n:,}"
    assert last_number(f"{pre} 20 - {abs(n)}") == str(abs(n))

@SETTINGS
@given(ints, st.integers(0, 6), st.integers(-15, 15))
def test_number_formats_are_equal(n, d, e):
    "Formatting never changes a number: thousands commas, `$`, trailing zeros, units, `\\text{}`, `%`, scientific notation."
    x = Fraction(n, 10**d)
    plain = f"{Decimal(n).scaleb(-d):f}"
    assert parse_number(plain) == x
    variants = [plain, f"{Decimal(n).scaleb(-d):,f}", f"${plain}", f"{plain} dollars", f"\\text{{{plain}}}", f"{plain}\\%",
                f"{plain}.", f"{n}e{-d}", f"{n}E-{d}"]
    variants += [f"{plain}0", f"{plain}000"] if '.' in plain else [f"{n}.0", f"{n}.000", f"{n:,}"]
    for v in variants:
        assert parse_number(v) == x, v
        assert numbers_equal(v, plain) and numbers_equal(plain, v), v
    assert parse_number(f"{n}e{e}") == n * Fraction(10)**e
    assert not numbers_equal(plain, f"{Decimal(n + 1).scaleb(-d):f}")
    assert not numbers_equal(f"{n}e3", str(n)) or n == 0  # `1e3` is 1000, not 1 followed by a unit

@SETTINGS
@given(ANY, ANY)
def test_numbers_equal_symmetric_and_reflexive(a, b):
    "`numbers_equal` is symmetric, and reflexive exactly on the texts `parse_number` reads."
    assert numbers_equal(a, b) == numbers_equal(b, a)
    assert numbers_equal(a, a) == (parse_number(a) is not None)
    if numbers_equal(a, b): assert parse_number(a) == parse_number(b)

@SETTINGS
@given(ANY)
def test_normalize_math_is_canonical(s):
    "Normalising twice changes nothing more, and any text with a non-empty normal form equals itself."
    t = normalize_math(s)
    assert normalize_math(t) == t
    if t and s.strip(): assert math_equal(s, s)

@settings(max_examples=60, deadline=None)
@given(st.integers(1, 400), st.integers(0, 5), st.integers(0, 4))
def test_math_equal_on_numbers(p, k2, k5):
    "A fraction whose decimal ends equals its decimal, both ways; `1,000` equals `1000`; a different number does not."
    q = 2**k2 * 5**k5
    dec = f"{Decimal(p) / Decimal(q):f}"
    for a, b in ((f"\\frac{{{p}}}{{{q}}}", dec), (dec, f"\\frac{{{p}}}{{{q}}}"), (f"{p*1000:,}", str(p*1000)), (f"{p}.0", str(p)),
                 (f"\\dfrac{{{p}}}{{{q}}}", f"\\frac{{{p}}}{{{q}}}"), (f"{p}", f"{p}\\text{{ cm}}")):
        assert math_equal(a, b), (a, b)
    assert not math_equal(str(p), str(p + 1)) and not math_equal(dec, f"{Decimal(p + 1) / Decimal(q):f}")

@SETTINGS
@given(ints, st.sampled_from(['#### {}', '\\boxed{{{}}}', 'The answer is {}.', '#### {:,}', '#### ${:,}', '#### {}.00']))
def test_task_checks_reward_the_answer(n, fmt):
    "Every task's check rewards the reference number in any usual format with 1, and the next number with 0."
    p = Problem('p', 'q', str(n), 's')
    for task in (ARITH, GSM):
        r = task.check(f"Some work: 3 + 4 = 7.\n{fmt.format(n)}", p)
        assert r.reward == 1 and parse_number(r.answer) == n, r
        assert task.check(f"Some work: 3 + 4 = 7.\n{fmt.format(n + 1)}", p).reward == 0
    assert MATH.check(f"so $\\boxed{{{n}}}$", p) == Check(1, str(n))

# the package source: nothing evaluates data or model output, nothing unpickles, no remote code by default
SRC = sorted(Path(rise_nb.__file__).parent.rglob('*.py'))
ALLOWED = {  # pattern: why an occurrence is safe (removed from the line before the forbidden patterns are looked for)
    r'\.eval\(\)': "torch's `module.eval()` (inference mode), not Python's eval",
    r'torch\.load\([^)]*weights_only\s*=\s*True[^)]*\)': 'torch.load restricted to tensors (no arbitrary unpickling)',
}
FORBIDDEN = [r'(?<![\w.])eval\(', r'(?<![\w.])exec\(', r'\bpickle\b', r'\bcloudpickle\b', r'\bdill\b', r'torch\.load\(', r'\bmarshal\b',
             r'trust_remote_code\s*=\s*True', r'yaml\.load\(', r'\bshelve\b', r'__import__\(', r'\bsympify\(', r'parse_expr\(',
             r'(?<![\w.])compile\(', r'subprocess\.[a-zA-Z]+\([^)]*shell\s*=\s*True', r'os\.system\(']

def code_lines(src:str)->list:
    "The lines of Python source `src` with every string literal and comment blanked out (messages may name what code must not do)."
    off = [0]
    for l in src.splitlines(keepends=True): off.append(off[-1] + len(l))
    out = list(src)
    for t in tokenize.generate_tokens(io.StringIO(src).readline):
        if t.type in (tokenize.STRING, tokenize.COMMENT) or tokenize.tok_name[t.type] == 'FSTRING_MIDDLE':
            a, b = off[t.start[0]-1] + t.start[1], off[t.end[0]-1] + t.end[1]
            out[a:b] = [c if c == '\n' else ' ' for c in out[a:b]]
    return ''.join(out).splitlines()

def test_code_lines_sees_code_only():
    src = 'x = eval(s)  # eval(\ny = "eval(" + "pickle"\n"""\npickle.load(f)\n"""\nz = 1\n'
    found = [bool(re.search(r'(?<![\w.])eval\(|pickle', l)) for l in code_lines(src)]
    assert found == [True, False, False, False, False, False]

def test_source_never_evaluates_data():
    "No eval/exec/compile, no pickle/torch.load/marshal, no YAML loader, no shell, no `trust_remote_code=True` in the package's code."
    assert len(SRC) >= 10 and {"core.py", "answers.py", "checker.py"} <= {f.name for f in SRC if f.parent.name == "tasks"}  # subpackages too
    hits = []
    for f in SRC:
        lines = f.read_text().splitlines()
        for i, code in enumerate(code_lines(f.read_text()), 1):
            for a in ALLOWED: code = re.sub(a, '', code)
            if any(re.search(pat, code) for pat in FORBIDDEN): hits.append(f"{f.name}:{i}: {lines[i-1].strip()}")
    assert hits == []

def test_loaders_default_to_safe_loading():
    "`load_model` and `load_tokenizer` default to `trust_remote_code=False`, and weights load with `use_safetensors=True`."
    import inspect
    from rise_nb import models, store
    for fn in (models.load_model, models.load_tokenizer):
        assert inspect.signature(fn).parameters['trust_remote_code'].default is False
    assert 'use_safetensors=True' in inspect.getsource(models.load_model)
    assert 'safe_serialization=True' in inspect.getsource(store.save_model)
