"""Data-parallel training: `accelerate launch` with 2 CPU processes (gloo) against 1 process, a killed run that resumes, main-only writes."""
import json, os, shutil, signal, socket, subprocess, sys, textwrap, time
from pathlib import Path
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('accelerate')
if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
    pytest.skip('torch.distributed with the gloo backend is not available', allow_module_level=True)
if shutil.which('accelerate') is None and not (Path(sys.executable).parent/'accelerate').exists():
    pytest.skip('the `accelerate` command is not installed', allow_module_level=True)

ACCELERATE = str(Path(sys.executable).parent/'accelerate') if (Path(sys.executable).parent/'accelerate').exists() else 'accelerate'

# the job runner each process executes; it records which process called the writers
WORKER = textwrap.dedent('''
    import json, os, sys, time
    from pathlib import Path
    import rise_nb.models as M, rise_nb.rwr as R
    from rise_nb.tasks.arithmetic import ArithmeticTask
    from datasets import load_from_disk
    from rise_nb.distributed import die_with_parent
    die_with_parent()  # torchrun starts each worker in a session of its own: without this a killed launcher leaves them running
    spec = json.loads(Path(sys.argv[1]).read_text())
    rank = int(os.environ.get('RANK', '0'))
    calls = Path(spec['calls']); calls.mkdir(parents=True, exist_ok=True)
    def record(name, f):
        def g(*a, **k):
            with open(calls/f'rank{rank}.jsonl', 'a') as fh: fh.write(json.dumps({'rank': rank, 'call': name}) + '\\n')
            return f(*a, **k)
        return g
    M.save_model, R.save_model, R.save_checkpoint = record('final', M.save_model), record('final', R.save_model), record('checkpoint', R.save_checkpoint)
    if spec.get('slow'):  # time to kill the run between two checkpoints
        loss = R.rwr_loss
        def slow(*a, **k): time.sleep(spec['slow']); return loss(*a, **k)
        R.rwr_loss = slow
    for job in spec['jobs']:
        if job['kind'] == 'boost':
            M.boost(spec['base'], job['out'], ArithmeticTask(), M.BoostConfig(**job['cfg']), progress=False)
        else:
            R.train_rwr(spec['base'], job['out'], load_from_disk(spec['data']), R.RWRConfig(**job['cfg']), progress=False)
''')

BOOST = dict(steps=6, batch_size=5, n_train=40, lr=5e-3, warmup=2)  # 5 per step: shares of 3 and 2
RWR = dict(epochs=2, batch_size=8, grad_accum=2, lr=1e-3, save_every=0, pad_multiple=1)  # 21 examples: the last micro-batch holds 1, a process gets none
RESUME = dict(epochs=3, batch_size=4, lr=1e-3, save_every=2, pad_multiple=8, lora={'r': 4, 'alpha': 8, 'dropout': 0.1})

def _port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _env():
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'TOKENIZERS_PARALLELISM': 'false', 'PYTHONUNBUFFERED': '1'}
    for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT'): env.pop(k, None)
    return env

def _cmd(spec:Path, procs:int)->list:
    if procs == 1: return [sys.executable, str(spec.parent/'worker.py'), str(spec)]
    # `--multi_gpu` picks the torchrun launcher (`--cpu` alone starts one process); with no GPU each process trains on the CPU over gloo
    return [ACCELERATE, 'launch', '--multi_gpu', '--num_processes', str(procs), '--num_machines', '1', '--mixed_precision', 'no',
            '--dynamo_backend', 'no', '--main_process_port', str(_port()), str(spec.parent/'worker.py'), str(spec)]

def _spec(root:Path, name:str, setup:dict, jobs:list, **kw)->Path:
    (root/'worker.py').write_text(WORKER)
    spec = root/f'{name}.json'
    spec.write_text(json.dumps({'base': str(setup['base']), 'data': str(setup['data']), 'calls': str(root/f'{name}.calls'), 'jobs': jobs, **kw}))
    return spec

def _run(spec:Path, procs:int, timeout:int=240)->subprocess.CompletedProcess:
    r = subprocess.run(_cmd(spec, procs), env=_env(), capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r

def _weights(d:Path)->dict:
    from safetensors.torch import load_file
    return load_file(str(next(Path(d).glob('*.safetensors'))))

def _max_diff(a:dict, b:dict)->float:
    assert set(a) == set(b)
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)

def _descendants(pid:int)->set:
    "Process ids below `pid` (Linux `/proc`)."
    kids = {}
    for d in Path('/proc').iterdir():
        if d.name.isdigit():
            try: kids.setdefault(int((d/'stat').read_text().rsplit(')', 1)[1].split()[1]), []).append(int(d.name))
            except (OSError, IndexError, ValueError): pass
    out, todo = set(), [pid]
    while todo: todo += (k := kids.get(todo.pop(), [])); out.update(k)
    return out

def _alive(pid:int)->bool:
    try: return (Path('/proc')/str(pid)/'stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError: return False

def _calls(root:Path, name:str)->list:
    return [json.loads(l) for f in sorted((root/f'{name}.calls').glob('*.jsonl')) for l in f.read_text().splitlines()]

@pytest.fixture(scope='module')
def setup(tiny_checkpoint, tmp_path_factory):
    "The shared tiny model (hidden 64, 2 layers) and 21 weighted examples."
    from datasets import Dataset
    from rise_nb.tasks.arithmetic import ArithmeticTask
    from rise_nb.models import BoostConfig, boost_examples, load_tokenizer
    root, task = tmp_path_factory.mktemp('dist'), ArithmeticTask()
    exs = boost_examples(load_tokenizer(tiny_checkpoint), task, task.load('train', 21), task.mdp(), BoostConfig())
    Dataset.from_list([{**e, 'weight': [12.18, 1.0, 0.082][i % 3]} for i, e in enumerate(exs)]).save_to_disk(str(root/'data'))
    return {'root': root, 'base': tiny_checkpoint, 'data': root/'data'}

@pytest.fixture(scope='module')
def one_and_two(setup):
    "Boost and RWR trained by 1 process and by 2 (the same global batches)."
    root, out = setup['root'], {}
    for procs in (1, 2):
        jobs = [{'kind': 'boost', 'out': str(root/f'boost{procs}'), 'cfg': BOOST}, {'kind': 'rwr', 'out': str(root/f'rwr{procs}'), 'cfg': RWR}]
        if procs == 2: jobs.append({'kind': 'rwr', 'out': str(root/'lora2'), 'cfg': {**RESUME, 'save_every': 0}})  # uninterrupted, for the resume test
        t0 = time.time(); _run(_spec(root, f'p{procs}', setup, jobs), procs); out[f'seconds{procs}'] = time.time() - t0
    return out

@pytest.mark.parametrize('kind', ['boost', 'rwr'])
def test_two_processes_match_one(setup, one_and_two, kind):
    "2 processes end with 1 process's weights up to float rounding (they add the same gradients in another order)."
    root = setup['root']
    a, b = _weights(root/f'{kind}1'), _weights(root/f'{kind}2')
    d = _max_diff(a, b)
    print(f"{kind}: max |w1 - w2| = {d:.3g} over {len(a)} tensors")
    assert d < 1e-5
    base = _weights(setup['base'])
    if kind == 'boost': assert _max_diff(a, {k: base[k] for k in a}) > 1e-3  # it trained (the comparison is not vacuous)
    info = json.loads((root/f'{kind}2'/'rise_nb.json').read_text())['rise_nb']
    assert info['processes'] == 2 and 'processes' not in json.loads((root/f'{kind}1'/'rise_nb.json').read_text())['rise_nb']

def test_only_main_process_writes(setup, one_and_two):
    "Every final model and checkpoint is written by process 0; process 1 writes nothing."
    calls = _calls(setup['root'], 'p2')
    assert calls and {c['rank'] for c in calls} == {0}
    assert [c['call'] for c in calls] == ['final'] * 3
    assert sorted(p.name for p in setup['root'].iterdir() if p.name.startswith(('boost2', 'rwr2', 'lora2'))) == ['boost2', 'lora2', 'rwr2']

@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='finds the workers through /proc and needs PR_SET_PDEATHSIG (Linux)')
def test_killed_run_resumes(setup, one_and_two):
    "A 2-process run killed (SIGKILL to the launcher's process group) after a checkpoint resumes and ends with the uninterrupted run's weights."
    from rise_nb.rwr import checkpoint_dir
    root = setup['root']; out = root/'resumed'; ck = checkpoint_dir(out)
    spec = _spec(root, 'kill', setup, [{'kind': 'rwr', 'out': str(out), 'cfg': RESUME}], slow=0.15)
    p = subprocess.Popen(_cmd(spec, 2), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        t0 = time.time()
        while not any((d/'state.json').exists() for d in (ck.glob('step-*') if ck.exists() else [])):
            assert p.poll() is None, f"the run ended before a checkpoint was written:\n{p.stdout.read()[-3000:]}"
            assert time.time() - t0 < 180, 'no checkpoint after 180 s'
            time.sleep(0.05)
        workers = _descendants(p.pid)
    finally:
        os.killpg(p.pid, signal.SIGKILL); p.wait(); p.stdout.close()
    t0 = time.time()
    while any(map(_alive, workers)) and time.time() - t0 < 10: time.sleep(0.1)
    left = [w for w in workers if _alive(w)]
    for w in left: os.kill(w, signal.SIGKILL)  # never leave a worker behind, whatever the outcome
    assert len(workers) >= 2 and not left, f"workers {left} outlived their launcher"
    time.sleep(0.5)
    assert not out.exists() and ck.exists()  # killed mid-way: no final model, a checkpoint to resume from
    step = json.loads(next(ck.glob('step-*/state.json')).read_text())['step']
    spec = _spec(root, 'resume', setup, [{'kind': 'rwr', 'out': str(out), 'cfg': RESUME}])
    r = _run(spec, 2)
    assert 'train_rwr: resuming from' in r.stdout + r.stderr, r.stdout[-3000:] + r.stderr[-3000:]
    assert not ck.exists()
    assert {c['rank'] for c in _calls(root, 'resume')} == {0}
    a, b = _weights(root/'lora2'), _weights(out)
    d = _max_diff(a, b)
    print(f"resumed after step {step}: max |w_uninterrupted - w_resumed| = {d:.3g}")
    assert d < 1e-6

def test_cli_boost_in_two_processes(tmp_path):
    "`rise_nb boost --processes 2` trains in two processes, and ends with the weights of the one-process command."
    from rise_nb.cli import main
    sets = ['--set', 'boost.steps=3', '--set', 'boost.n_train=64']
    assert main(['boost', '--preset', 'smoke', '--out', tmp_path/'one', *sets]) == 0
    assert main(['boost', '--preset', 'smoke', '--out', tmp_path/'two', '--processes', '2', *sets]) == 0
    log = json.loads((tmp_path/'two'/'boost_log.json').read_text())
    assert log['processes'] == 2 and 'processes' not in json.loads((tmp_path/'one'/'boost_log.json').read_text())
    d = _max_diff(_weights(tmp_path/'one'/'boost'), _weights(tmp_path/'two'/'boost'))
    print(f"rise_nb boost: max |w1 - w2| = {d:.3g}")
    assert d < 1e-5
    assert not list((tmp_path/'two').glob('.*examples'))
    assert main(['boost', '--preset', 'smoke', '--out', tmp_path/'bad', '--processes', '0']) == 2  # a usage error
