"""Faults: collection, training and evaluation killed with SIGKILL at points chosen by seed and restarted end with the
records (or weights) of a run that was never interrupted, with no record lost or duplicated; a kill never leaves a
half-written file where a finished one is expected; a truncated last record is repaired and reported; a full disk or a
refused write is a clear error naming the file, and what was written before stays as it was."""
import contextlib, errno, json, multiprocessing, os, random, shutil, time
from pathlib import Path
from unittest import mock
import pytest

def _stage(stage, model, out, log, records=None):
    "Run one stage (or `all`) to the end; output goes to `log`. Runs in a process of its own, which the tests kill."
    import torch
    torch.set_num_threads(1); os.environ['TOKENIZERS_PARALLELISM'] = 'false'
    from rise_nb.tasks.arithmetic import ArithmeticTask
    from rise_nb.engines import HFEngine, SamplingParams
    task, out = ArithmeticTask(), Path(out)
    stages = ['collect', 'train', 'eval'] if stage == 'all' else [stage]
    with open(log, 'a') as f, contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
        if 'collect' in stages:
            from rise_nb.collect import collect
            collect(out/'collect.jsonl', HFEngine(model, device='cpu', progress=False), task, task.load('train', 16), task.mdp(),
                    turns=2, samples=[1, 3], params=SamplingParams(max_new_tokens=16, seed=5), chunk=2, progress=False)
        if 'train' in stages:
            from rise_nb.collect import read_records
            from rise_nb.models import load_tokenizer
            from rise_nb.rwr import build_examples, train_rwr, RWRConfig
            ds = build_examples(load_tokenizer(model), task.mdp(), read_records(records or out/'collect.jsonl'), dedupe=False)
            info = train_rwr(model, out/'train', ds, RWRConfig(epochs=2, batch_size=4, grad_accum=2, lr=3e-3, precision='fp32',
                                                              save_every=1), progress=False)
            (out/'train_losses.json').write_text(json.dumps(info['losses']))
        if 'eval' in stages:
            from rise_nb.evaluate import evaluate_policy
            from rise_nb.store import write_text_atomic
            res = evaluate_policy(HFEngine(model, device='cpu', progress=False), task, task.load('test', 8), task.mdp(window=3),
                                  out/'eval', turns=2, k=2, params=SamplingParams(max_new_tokens=16, seed=3), chunk=2, progress=False)
            m = {'row': res['row'], 'oracle': res['oracle'].to_dict(orient='index'), 'no_oracle': res['no_oracle'].to_dict(orient='index'),
                 'parallel': res['parallel'].to_dict(orient='index'), 'transitions': res['transitions'].to_dict(orient='index')}
            write_text_atomic(out/'eval'/'metrics.json', json.dumps(m, indent=1, sort_keys=True, default=float))

# Every run is a process of its own, forked from a server that has imported torch and rise_nb once (a fresh interpreter
# per run would spend most of this file's time importing); `Process.kill` is SIGKILL.
CTX = multiprocessing.get_context('forkserver')
CTX.set_forkserver_preload(['torch', 'transformers', 'safetensors.torch', 'rise_nb.collect', 'rise_nb.evaluate', 'rise_nb.rwr',
                            'rise_nb.engines', 'rise_nb.tasks'])
EVAL_FILES = ('no_oracle.jsonl', 'oracle.jsonl', 'parallel.jsonl', 'metrics.json')

def start(*args):
    p = CTX.Process(target=_stage, args=tuple(str(a) if isinstance(a, Path) else a for a in args)); p.start()
    return p

def run(stage, model, out, records=None):
    "Run a stage to the end in a process of its own, like the kill runs; its output."
    log = Path(out)/f'{stage}.log'
    log.unlink(missing_ok=True)
    p = start(stage, model, out, log, records); p.join()
    assert p.exitcode == 0, log.read_text()[-3000:]
    return log.read_text()

@pytest.fixture(scope='module')
def model(tmp_path_factory):
    from rise_nb.tasks.arithmetic import ArithmeticTask
    from rise_nb.models import build_tiny_model, TinyConfig, boost, BoostConfig
    tmp, task = tmp_path_factory.mktemp('m'), ArithmeticTask()
    build_tiny_model(tmp/'base', task, TinyConfig(vocab_size=400, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                                                  intermediate_size=128, corpus_size=300))
    boost(tmp/'base', tmp/'boost', task, BoostConfig(steps=30, batch_size=16, n_train=480, lr=5e-3, warmup=3), device='cpu', progress=False)
    return tmp/'boost'

@pytest.fixture(scope='module')
def reference(model, tmp_path_factory):
    "Every stage run once without interruption (training on the collected records)."
    tmp = tmp_path_factory.mktemp('ref')
    run('all', model, tmp)
    return tmp

def lines(p): return [l for l in Path(p).read_bytes().split(b'\n') if l.strip()] if Path(p).exists() else []

def kill_and_resume(stage, model, out, progress, kills, check_whole, records=None, before_last=None):
    "Start the stage, SIGKILL it once `progress()` has grown to each kill point (each time past where it restarted), then run it to the end."
    survived = 0
    for k in kills:
        p = start(stage, model, out, Path(out)/'killed.log', records)
        target = max(k, progress() + 1)  # each kill comes after new progress, not at the restart
        while p.is_alive() and progress() < target: time.sleep(0.005)
        if p.is_alive(): p.kill(); p.join(); survived += 1
        else: p.join()
        check_whole()
    if before_last: before_last()
    return survived, run(stage, model, out, records)

def test_collect_sigkill_then_resume(model, reference, tmp_path):
    out = tmp_path/'collect.jsonl'
    kills = sorted(random.Random(0).sample(range(1, 13), 5))  # kill once the file holds this many records (16 in all)
    survived, _ = kill_and_resume('collect', model, tmp_path, lambda: len(lines(out)), kills, lambda: None)
    assert survived == 5
    ids = [json.loads(l)['problem']['id'] for l in lines(out)]
    assert len(ids) == 16 and len(set(ids)) == 16  # every problem, each once
    assert out.read_bytes() == (reference/'collect.jsonl').read_bytes()  # the very bytes of a run that was never killed

def _checkpoints(d): return sorted(p for p in d.iterdir() if p.name.startswith('step-')) if d.is_dir() else []

def test_train_sigkill_then_resume(model, reference, tmp_path):
    from safetensors.torch import load_file
    from rise_nb.store import checkpoint_dir, checkpoint_state as _whole
    ck, out = checkpoint_dir(tmp_path/'train'), tmp_path/'train'
    def progress():
        try: return max((int(p.name[5:]) // 2 for p in _checkpoints(ck)), default=0)  # optimizer steps (2 micro-batches each)
        except (FileNotFoundError, ValueError): return 0
    def whole():  # a kill never leaves a partial checkpoint under its name, nor a partial model
        assert all(_whole(p) is not None for p in _checkpoints(ck))
        if out.exists(): assert load_file(out/'model.safetensors') and (out/'config.json').exists()
    kills = sorted(random.Random(1).sample(range(1, 12), 5))  # kill after checkpoint k (16 optimizer steps in all)
    survived, stdout = kill_and_resume('train', model, tmp_path, progress, kills, whole, records=reference/'collect.jsonl')
    assert survived == 5
    assert 'train_rwr: resuming from' in stdout
    assert not ck.exists()  # the checkpoints are gone once the model is saved
    a, b = load_file(out/'model.safetensors'), load_file(reference/'train'/'model.safetensors')
    assert sorted(a) == sorted(b) and all((a[k] == b[k]).all() for k in a)  # exactly the weights of an uninterrupted run
    assert json.loads((tmp_path/'train_losses.json').read_text()) == json.loads((reference/'train_losses.json').read_text())

def test_eval_sigkill_then_resume(model, reference, tmp_path):
    "Killed 5 times, then the last record is cut mid-line as a crash mid-write leaves it: repaired, reported, resumed."
    ev = tmp_path/'eval'
    progress = lambda: len(lines(ev/'no_oracle.jsonl')) + len(lines(ev/'parallel.jsonl'))
    def whole():  # files written whole are never seen half-written
        if (ev/'metrics.json').exists(): json.loads((ev/'metrics.json').read_text())
        if (ev/'oracle.jsonl').exists(): assert len(lines(ev/'oracle.jsonl')) == 8 and all(json.loads(l) for l in lines(ev/'oracle.jsonl'))
    kills = sorted(random.Random(2).sample(range(1, 11), 5))  # kill once the records files hold this many records (16 in all)
    cut = []
    def cut_last():
        f = ev/'parallel.jsonl' if lines(ev/'parallel.jsonl') else ev/'no_oracle.jsonl'
        data = f.read_bytes(); start = data.rfind(b'\n', 0, len(data)-1) + 1
        f.write_bytes(data[:start] + data[start:start+70]); cut.append(f)
        return f
    survived, stdout = kill_and_resume('eval', model, tmp_path, progress, kills, whole, before_last=cut_last)
    assert survived == 5
    assert f'{cut[0]}: removed a truncated last record' in stdout
    for f in ('no_oracle.jsonl', 'parallel.jsonl'):
        ids = [json.loads(l)['problem']['id'] for l in lines(ev/f)]
        assert len(ids) == 8 and len(set(ids)) == 8, f  # every problem, each once
    for f in EVAL_FILES: assert (ev/f).read_bytes() == (reference/'eval'/f).read_bytes(), f

def test_disk_full_and_permission_denied(model, tmp_path):
    from rise_nb.tasks.arithmetic import ArithmeticTask
    from rise_nb.engines import HFEngine, SamplingParams
    from rise_nb.collect import collect
    task, eng = ArithmeticTask(), HFEngine(model, device='cpu', progress=False)
    def _collect(model, out):
        return collect(out, eng, task, task.load('train', 4), task.mdp(), turns=2, samples=[1, 2],
                       params=SamplingParams(max_new_tokens=8, seed=1), chunk=2, progress=False)
    full = tmp_path/'full.jsonl'; _collect(model, full)
    part = tmp_path/'part.jsonl'
    part.write_bytes(b''.join(l + b'\n' for l in lines(full)[:2]))  # the first chunk is on disk
    before = part.read_bytes()
    real = os.write
    def half_then_full(fd, b): real(fd, bytes(b[:len(b)//2])); raise OSError(errno.ENOSPC, 'No space left on device')
    with mock.patch('os.write', half_then_full), pytest.raises(OSError) as e: _collect(model, part)
    assert e.value.errno == errno.ENOSPC and f'cannot write {part}: No space left on device' in str(e.value)
    assert part.read_bytes() == before  # the half-written chunk was rolled back; nothing earlier lost
    with mock.patch('os.open', side_effect=PermissionError(errno.EACCES, 'Permission denied')), pytest.raises(PermissionError) as e:
        _collect(model, part)
    assert f'cannot write {part}: Permission denied' in str(e.value) and part.read_bytes() == before
    (tmp_path/'file').write_text('x')  # a run directory that cannot be created: a file stands in its way
    with pytest.raises(NotADirectoryError) as e: _collect(model, tmp_path/'file'/'run'/'r.jsonl')
    assert f"cannot write {tmp_path/'file'/'run'/'r.jsonl'}: {tmp_path/'file'} is a file, not a folder" in str(e.value)
    assert (tmp_path/'file').read_text() == 'x'
    _collect(model, part)  # space is back: the run resumes and ends as if nothing happened
    assert part.read_bytes() == full.read_bytes()

def test_metrics_write_refused_keeps_old_file(tmp_path):
    from rise_nb.store import write_text_atomic
    f = tmp_path/'eval'/'metrics.json'; write_text_atomic(f, '{"a": 1}')
    with mock.patch('os.open', side_effect=PermissionError(errno.EACCES, 'Permission denied')), pytest.raises(PermissionError) as e:
        write_text_atomic(f, '{"a": 2}')
    assert f'cannot write {f}: Permission denied' in str(e.value)
    assert f.read_text() == '{"a": 1}' and [p.name for p in f.parent.iterdir()] == ['metrics.json']

def test_train_errors_and_lora_resume(model, reference, tmp_path):
    "Training into a path it cannot create fails naming it; a LoRA run with dropout (random numbers) resumes exactly."
    from safetensors.torch import load_file
    from rise_nb.tasks.arithmetic import ArithmeticTask
    from rise_nb.collect import read_records
    from rise_nb.models import load_tokenizer
    from rise_nb.rwr import build_examples, train_rwr, RWRConfig, checkpoint_dir
    import rise_nb.rwr as rwr
    task = ArithmeticTask()
    ds = build_examples(load_tokenizer(model), task.mdp(), read_records(reference/'collect.jsonl'), dedupe=False)
    cfg = RWRConfig(epochs=1, batch_size=4, lr=3e-3, precision='fp32', save_every=2,
                    lora={'r': 4, 'alpha': 8, 'dropout': 0.3, 'target_modules': ['q_proj', 'v_proj']})
    (tmp_path/'file').write_text('x')
    with pytest.raises(NotADirectoryError) as e: train_rwr(model, tmp_path/'file'/'out', ds, cfg, progress=False)
    assert f"{tmp_path/'file'} is a file, not a folder" in str(e.value) and 'checkpoint' in str(e.value)
    full = train_rwr(model, tmp_path/'full', ds, cfg, progress=False)
    real, n = rwr.save_checkpoint, []
    def crash_after_second(*a, **k):
        n.append(real(*a, **k))
        if len(n) == 2: raise KeyboardInterrupt  # as good as a kill: nothing after it runs
    with mock.patch.object(rwr, 'save_checkpoint', crash_after_second), pytest.raises(KeyboardInterrupt):
        train_rwr(model, tmp_path/'part', ds, cfg, progress=False)
    assert [p.name for p in checkpoint_dir(tmp_path/'part').iterdir()] == ['step-00000004']
    part = train_rwr(model, tmp_path/'part', ds, cfg, progress=False)
    assert part['losses'] == full['losses']
    a, b = load_file(tmp_path/'full'/'adapter_model.safetensors'), load_file(tmp_path/'part'/'adapter_model.safetensors')
    assert sorted(a) == sorted(b) and all((a[k] == b[k]).all() for k in a)
