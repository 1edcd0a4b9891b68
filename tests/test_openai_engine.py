"""The OpenAI-compatible engine: against a stand-in server built from `http.server` (main suite), and against a real
`vllm serve` of the tiny checkpoint on 127.0.0.1 (marker `vllm`; skipped, saying why, where vLLM is absent). The engine
runs on the `openai` client, an optional extra (part of `dev`): without it this module is skipped, saying so."""
import http.server, json, os, signal, socket, socketserver, subprocess, sys, threading, time, urllib.request
from pathlib import Path
import pytest
pytest.importorskip('openai', reason='the OpenAI engine needs the openai client: pip install "rise_nb[openai]" (or ".[dev]")')
from rise_nb.tasks.arithmetic import ArithmeticTask
from rise_nb.engines import OpenAIEngine, EndpointError, SamplingParams, get_engine

TASK = ArithmeticTask()
MARKER = 'sk-rise-nb-test-marker-3f9c2d'  # the API key of these tests: it must end up in no file

def _convs(n): return [TASK.mdp().state(p) for p in TASK.load('test', n)]

class Stub:
    "An OpenAI-compatible stand-in on 127.0.0.1: fails the first requests with the given codes, then answers; records what it saw."
    def __init__(self, fail=(), delay=0.0, answer='Step: 3+4=7\n#### 7', retry_after='0.01'):
        self.fail, self.delay, self.answer, self.seen, self.live, self.peak = list(fail), delay, answer, [], 0, 0
        self.retry_after = retry_after  # the `Retry-After` of a failure (None: no such header)
        stub, lock = self, threading.Lock()
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
                with lock:
                    stub.seen.append({'path': self.path, 'body': body, 'auth': self.headers.get('Authorization')})
                    code = stub.fail.pop(0) if stub.fail else 200
                    stub.live += 1; stub.peak = max(stub.peak, stub.live)
                try:
                    time.sleep(stub.delay)
                    if code != 200:
                        self.send_response(code)
                        if stub.retry_after is not None: self.send_header('Retry-After', stub.retry_after)
                        self.end_headers()
                        self.wfile.write(json.dumps({'error': {'message': f'stub says {code}'}}).encode()); return
                    n = body.get('n', 1)
                    data = json.dumps({'choices': [{'index': i, 'message': {'role': 'assistant', 'content': f'{i} ' + stub.answer},
                                                    'finish_reason': 'stop'} for i in range(n)],
                                       'usage': {'prompt_tokens': 11, 'completion_tokens': 7*n, 'total_tokens': 11+7*n}}).encode()
                    self.send_response(200); self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(data))); self.end_headers(); self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError): pass
                finally:
                    with lock: stub.live -= 1
        class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True
        self.server = S(('127.0.0.1', 0), H)
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}/v1'
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
    def close(self): self.server.shutdown(); self.server.server_close()

@pytest.fixture
def stub():
    s = Stub(); yield s; s.close()

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def test_n_samples_usage_and_request(stub, monkeypatch):
    monkeypatch.setenv('RISE_NB_TEST_KEY', MARKER)
    eng = OpenAIEngine('teacher-x', base_url=stub.url + '/', api_key_env='RISE_NB_TEST_KEY', progress=False)
    res = eng.generate(_convs(4), SamplingParams(n=3, temperature=0.7, top_p=0.9, max_new_tokens=33, seed=5, stop=('\n#',)))
    assert [len(r) for r in res] == [3]*4
    assert [c.text for c in res[0]] == ['0 Step: 3+4=7', '1 Step: 3+4=7', '2 Step: 3+4=7']  # cut at the stop string
    assert all(sum(c.tokens for c in r) == 21 and r[0].usage == {'prompt_tokens': 11, 'completion_tokens': 21} for r in res)
    assert eng.stats['prompt_tokens'] == 44 and eng.stats['completion_tokens'] == 84
    b = stub.seen[0]['body']
    assert stub.seen[0]['path'] == '/v1/chat/completions'
    assert (b['model'], b['n'], b['temperature'], b['top_p'], b['max_tokens'], b['stop']) == ('teacher-x', 3, 0.7, 0.9, 33, ['\n#'])
    by_seed = {x['body']['seed'] - 5*100_003: x['body']['messages'] for x in stub.seen}  # request i carries conversation i
    assert [by_seed[i] for i in range(4)] == _convs(4)
    assert {s['auth'] for s in stub.seen} == {'Bearer ' + MARKER}
    assert MARKER not in json.dumps(eng.info()) + repr(eng) + json.dumps(eng.__dict__, default=str)

def test_no_seed_and_no_key(stub, monkeypatch):
    monkeypatch.delenv('OPENAI_API_KEY', raising=False)
    OpenAIEngine('m', base_url=stub.url, send_seed=False, max_tokens_field='max_completion_tokens', progress=False).generate(_convs(1))
    assert 'seed' not in stub.seen[0]['body'] and stub.seen[0]['body']['max_completion_tokens'] == 256
    assert stub.seen[0]['auth'] is None
    monkeypatch.setenv('OPENAI_API_KEY', MARKER)  # the key comes from `api_key_env` only, not from the client's own default
    OpenAIEngine('m', base_url=stub.url, api_key_env='RISE_NB_UNSET_KEY', progress=False).generate(_convs(1))
    assert stub.seen[1]['auth'] is None

def test_base_url_from_the_environment(stub, monkeypatch):
    monkeypatch.setenv('OPENAI_BASE_URL', stub.url)
    eng = OpenAIEngine('m', progress=False)
    assert eng.generate(_convs(1))[0][0].text.endswith('#### 7') and eng.info()['base_url'] == stub.url

def test_bounded_concurrency():
    s = Stub(delay=0.15)
    try:
        eng = OpenAIEngine('m', base_url=s.url, concurrency=3, progress=False)
        t0 = time.time(); eng.generate(_convs(12)); dt = time.time() - t0
        assert 2 <= s.peak <= 3, s.peak
        assert dt >= 12/3*0.15 * 0.9  # never more than 3 at once
    finally: s.close()

@pytest.mark.parametrize('codes', [[429, 429], [500, 502, 503], [429, 504]])
def test_retries_with_backoff(codes):
    s = Stub(fail=codes)
    try:
        eng = OpenAIEngine('m', base_url=s.url, concurrency=1, progress=False)
        t0 = time.time(); res = eng.generate(_convs(1)); dt = time.time() - t0
        assert res[0][0].text.endswith('#### 7') and eng.stats['retries'] == len(codes) and len(s.seen) == len(codes) + 1
    finally: s.close()

def test_backoff_grows_and_retry_after_wins(monkeypatch):
    "The waits between tries (recorded, not slept): growing without a `Retry-After`, the server's `Retry-After` where it sends one."
    waits = []
    monkeypatch.setattr(time, 'sleep', lambda s: waits.append(s) if s > 0 else None)
    for fail, after in (([503]*3, None), ([429]*2, '2')):
        s = Stub(fail=fail, retry_after=after)
        try: OpenAIEngine('m', base_url=s.url, retries=3, progress=False).generate(_convs(1))
        finally: s.close()
    assert len(waits) == 5 and 0 < waits[0] < waits[1] < waits[2], waits  # exponential back-off (with jitter)
    assert waits[3:] == [2.0, 2.0]

def test_gives_up_naming_the_endpoint():
    s = Stub(fail=[503]*10)
    try:
        with pytest.raises(EndpointError, match=r'127\.0\.0\.1.*/v1/chat/completions.*3 tries.*HTTP 503'):
            OpenAIEngine('m', base_url=s.url, retries=2, progress=False).generate(_convs(1))
    finally: s.close()

def test_client_errors_are_not_retried(monkeypatch):
    monkeypatch.setenv('RISE_NB_TEST_KEY', MARKER)
    for code, hint in ((400, 'stub says 400'), (401, '$RISE_NB_TEST_KEY')):
        s = Stub(fail=[code])
        try:
            with pytest.raises(EndpointError, match='refused the request') as e:
                OpenAIEngine('m', base_url=s.url, api_key_env='RISE_NB_TEST_KEY', progress=False).generate(_convs(1))
            assert len(s.seen) == 1 and hint in str(e.value) and s.url in str(e.value) and MARKER not in str(e.value)
        finally: s.close()

def test_timeout():
    s = Stub(delay=3)
    try:
        t0 = time.time()
        with pytest.raises(EndpointError, match='timed out|TimeoutError'):
            OpenAIEngine('m', base_url=s.url, timeout=0.3, retries=1, progress=False).generate(_convs(1))
        assert time.time() - t0 < 2.5
    finally: s.close()

def test_unreachable_endpoint():
    url = f'http://127.0.0.1:{_free_port()}/v1'
    with pytest.raises(EndpointError, match=f'{url}/chat/completions.*could not be reached'):
        OpenAIEngine('m', base_url=url, retries=1, progress=False).generate(_convs(2))

def test_bad_config():
    with pytest.raises(ValueError, match='OpenAIEngine.base_url'): OpenAIEngine('m', base_url='127.0.0.1:8000')
    with pytest.raises(TypeError, match='backoff'): OpenAIEngine('m', base_url='http://x', backoff=1)  # the client's back-off now
    with pytest.raises(ValueError, match='OpenAIEngine.model'): OpenAIEngine('', base_url='http://x')
    e = get_engine('openai', 'served', base_url='http://127.0.0.1:9/v1')
    assert isinstance(e, OpenAIEngine) and e.info() == {'engine': 'openai', 'model': 'served', 'base_url': 'http://127.0.0.1:9/v1'}

def _files_with(root:Path, needle:str)->list:
    return [str(p) for p in root.rglob('*') if p.is_file() and needle.encode() in p.read_bytes()]

def _rise_nb(): return str(Path(sys.executable).parent/'rise_nb')

def test_teacher_collection_key_in_no_file(tmp_path):
    "A smoke-size distillation collection with the teacher behind the stand-in API: the key reaches the server and no file."
    s = Stub()
    out = tmp_path/'run'
    try:
        env = {**os.environ, 'OPENAI_API_KEY': MARKER}
        r = subprocess.run([_rise_nb(), 'collect', '--preset', 'smoke', '--out', str(out), '--iteration', '1',
                            '--set', 'rise.operator=teacher', '--set', f'rise.operator_args.model=openai:gpt-3.5-turbo@{s.url}',
                            '--set', 'rise.operator_args.engine_args={"timeout": 30}'],
                           env=env, capture_output=True, text=True, timeout=1800)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    finally: s.close()
    assert s.seen and {x['auth'] for x in s.seen} == {'Bearer ' + MARKER} and {x['body']['model'] for x in s.seen} == {'gpt-3.5-turbo'}
    recs = [json.loads(l) for l in (out/'collect_1.jsonl').read_text().splitlines()]
    assert recs[0]['meta']['engines'][1] == {'engine': 'openai', 'model': 'gpt-3.5-turbo', 'base_url': s.url}
    later = [t for r in recs for t in r['turns'][1:]]
    assert later and all(t['meta']['usage'] == {'prompt_tokens': 11, 'completion_tokens': 7*len(t['meta'].get('candidates', [0]))} for t in later)
    assert _files_with(out, MARKER) == [] and MARKER not in r.stdout + r.stderr

# ---- against a real `vllm serve` of the tiny checkpoint on 127.0.0.1 (marker `vllm`) ----
try:
    import vllm  # noqa: F401
    HAS_VLLM = True
except ImportError: HAS_VLLM = False
def needs_vllm(f):
    "Marker `vllm`, and a skip with its reason where vLLM is not importable."
    return pytest.mark.vllm(pytest.mark.skipif(not HAS_VLLM, reason="vllm is not importable: build its environment with "
                                               "tools/setup_vllm.sh, then `. .venv-vllm/bin/activate && pytest -m vllm`")(f))

class VLLMServer:
    "`vllm serve CKPT` on 127.0.0.1:PORT in its own process group, float32, the CPU-sized memory share, a global seed; needs the key."
    def __init__(self, ckpt, port=None, key=MARKER, log=None):
        from rise_nb.engines import vllm_defaults, _vllm_on_cpu
        self.port, self.ckpt = port or _free_port(), str(ckpt)
        d = vllm_defaults(self.ckpt, _vllm_on_cpu())
        cmd = [sys.executable, '-m', 'vllm.entrypoints.openai.api_server', '--model', self.ckpt, '--host', '127.0.0.1', '--port', str(self.port),
               '--max-model-len', '1024', '--seed', '0', '--gpu-memory-utilization', str(d['gpu_memory_utilization']), '--api-key', key, '--enforce-eager']
        if 'dtype' in d: cmd += ['--dtype', d['dtype']]
        self.log = open(log or os.devnull, 'w')
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f'http://127.0.0.1:{self.port}/v1'
        t0 = time.time()
        while True:
            if self.proc.poll() is not None: raise RuntimeError(f"vllm serve exited with {self.proc.returncode} before it was ready (log: {log})")
            try:
                with urllib.request.urlopen(f'http://127.0.0.1:{self.port}/health', timeout=2): break
            except OSError: pass
            if time.time() - t0 > 600: self.kill(); raise TimeoutError(f"vllm serve on {self.url} not ready after 600 s (log: {log})")
            time.sleep(1)
        self.startup_s = time.time() - t0
    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try: self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired: os.killpg(self.proc.pid, signal.SIGKILL); self.proc.wait()
        self.log.close()

@pytest.fixture(scope='module')
def server(boosted_checkpoint, tmp_path_factory):
    s = VLLMServer(boosted_checkpoint, log=tmp_path_factory.mktemp('serve')/'serve.log')
    yield s
    s.kill(signal.SIGTERM)

@needs_vllm
def test_served_greedy_equals_hf_and_samples(server, boosted_checkpoint, monkeypatch):
    from rise_nb.engines import HFEngine
    monkeypatch.setenv('OPENAI_API_KEY', MARKER)
    api = OpenAIEngine(server.ckpt, base_url=server.url, send_seed=False, concurrency=4, progress=False)
    convs, sp = _convs(16), SamplingParams(temperature=0, max_new_tokens=48)
    hf = HFEngine(boosted_checkpoint, device='cpu', progress=False)
    want = hf.generate(convs, sp)
    got = api.generate(convs, sp)
    assert [r[0].text for r in got] == [r[0].text for r in want]
    assert [r[0].tokens for r in got] == [r[0].tokens for r in want]  # n=1: the usage count is exact
    res = api.generate(convs[:6], SamplingParams(n=4, temperature=1.0, max_new_tokens=24, stop=('>>',)))
    assert [len(r) for r in res] == [4]*6 and all('>>' not in c.text and 1 <= c.tokens for r in res for c in r)
    assert all(r[0].usage['completion_tokens'] == sum(c.tokens for c in r) for r in res)
    monkeypatch.setenv('OPENAI_API_KEY', 'wrong-key')
    with pytest.raises(EndpointError, match=r'HTTP 401.*\$OPENAI_API_KEY'): api.generate(convs[:1], sp)

@needs_vllm
def test_distillation_collection_through_served_teacher(server, tmp_path):
    "`rise_nb collect --preset smoke --set rise.operator=teacher --set rise.operator_args.model=openai:...` with the teacher behind `vllm serve`; the key is in no file."
    out = tmp_path/'run'
    env = {**os.environ, 'OPENAI_API_KEY': MARKER}
    r = subprocess.run([_rise_nb(), 'collect', '--preset', 'smoke', '--out', str(out), '--iteration', '1',
                        '--set', 'rise.operator=teacher', '--set', f'rise.operator_args.model=openai:{server.ckpt}@{server.url}',
                        '--set', 'rise.operator_args.engine_args={"send_seed": false}'],
                       env=env, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    recs = [json.loads(l) for l in (out/'collect_1.jsonl').read_text().splitlines()]
    assert len(recs) == 12 and recs[0]['meta']['engines'][1]['engine'] == 'openai'
    later = [t for x in recs for t in x['turns'][1:]]
    assert later and all(t['meta']['usage']['completion_tokens'] >= 1 for t in later)
    assert _files_with(out, MARKER) == [] and MARKER not in r.stdout + r.stderr

@needs_vllm
def test_collection_resumes_after_server_killed(boosted_checkpoint, tmp_path, monkeypatch):
    "Kill `vllm serve` mid-collection: whole chunks stay on disk, the error names the endpoint, and a rerun finishes only the rest."
    from rise_nb.collect import collect, read_records
    monkeypatch.setenv('OPENAI_API_KEY', MARKER)
    srv = VLLMServer(boosted_checkpoint, log=tmp_path/'serve1.log')
    out, probs = tmp_path/'rollouts.jsonl', TASK.load('train', 24)
    api = OpenAIEngine(srv.ckpt, base_url=srv.url, send_seed=False, retries=2, progress=False)
    killed = threading.Event()
    def killer():
        while not killed.is_set():
            if out.exists() and len(out.read_text().splitlines()) >= 8: srv.kill(); killed.set()
            time.sleep(0.05)
    threading.Thread(target=killer, daemon=True).start()
    sp = SamplingParams(temperature=1.0, max_new_tokens=48)
    try:
        with pytest.raises(EndpointError, match=f'{srv.url}/chat/completions'):
            collect(out, api, TASK, probs, TASK.mdp(), turns=2, samples=[1, 2], params=sp, chunk=8, progress=False)
    finally: killed.set(); srv.kill()
    first = read_records(out)
    assert 8 <= len(first) < 24 and len(first) % 8 == 0  # whole chunks only
    srv2 = VLLMServer(boosted_checkpoint, port=srv.port, log=tmp_path/'serve2.log')
    try:
        api.stats = {}
        recs = collect(out, api, TASK, probs, TASK.mdp(), turns=2, samples=[1, 2], params=sp, chunk=8, progress=False)
    finally: srv2.kill(signal.SIGTERM)
    assert [t.problem.id for t in recs] == [p.id for p in probs]
    assert [t.to_json() for t in read_records(out)[:len(first)]] == [t.to_json() for t in first]  # the finished part was kept, not redone
