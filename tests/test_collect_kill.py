"""Collection survives SIGKILL: killed at several points chosen by seed and re-run, it ends with every problem once,
and its records equal those of a run that was never interrupted."""
import json, os, random, signal, subprocess, sys, time
from pathlib import Path
import pytest

SCRIPT = r'''
import sys
from rise_nb.arithmetic import ArithmeticTask
from rise_nb.engines import HFEngine, SamplingParams
from rise_nb.collect import collect
model, out = sys.argv[1], sys.argv[2]
task = ArithmeticTask()
collect(out, HFEngine(model, device='cpu', progress=False), task, task.load('train', 48), task.mdp(), turns=2,
        samples=[1, 3], params=SamplingParams(max_new_tokens=40, seed=5), chunk=4, progress=False)
'''

@pytest.fixture(scope='module')
def model(tmp_path_factory):
    from rise_nb.arithmetic import ArithmeticTask
    from rise_nb.models import build_tiny_model, TinyConfig, boost, BoostConfig
    tmp, task = tmp_path_factory.mktemp('m'), ArithmeticTask()
    build_tiny_model(tmp/'base', task, TinyConfig(vocab_size=400, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                                                  intermediate_size=128, corpus_size=300))
    boost(tmp/'base', tmp/'boost', task, BoostConfig(steps=30, batch_size=16, n_train=480, lr=5e-3, warmup=3), device='cpu', progress=False)
    return tmp/'boost'

def lines(p): return [l for l in Path(p).read_bytes().split(b'\n') if l.strip()] if Path(p).exists() else []

def test_sigkill_then_resume(model, tmp_path):
    (tmp_path/'c.py').write_text(SCRIPT)
    cmd = [sys.executable, str(tmp_path/'c.py'), str(model)]
    full = tmp_path/'uninterrupted.jsonl'
    subprocess.run(cmd + [str(full)], check=True, capture_output=True)
    out = tmp_path/'killed.jsonl'
    kills = sorted(random.Random(0).sample(range(1, 44), 5))  # kill once the file holds this many records
    survived = 0
    for k in kills:
        p = subprocess.Popen(cmd + [str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while p.poll() is None and len(lines(out)) < k: time.sleep(0.01)
        if p.poll() is None: os.kill(p.pid, signal.SIGKILL); p.wait(); survived += 1
    r = subprocess.run(cmd + [str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert survived >= 3  # most kills hit a running collection
    ids = [json.loads(l)['problem']['id'] for l in lines(out)]
    assert len(ids) == 48 and len(set(ids)) == 48  # every problem, each once
    a = sorted(lines(out), key=lambda l: json.loads(l)['problem']['id'])
    b = sorted(lines(full), key=lambda l: json.loads(l)['problem']['id'])
    assert a == b  # the same records as a run that was never killed

def test_truncated_last_line_is_repaired(model, tmp_path):
    (tmp_path/'c.py').write_text(SCRIPT)
    cmd = [sys.executable, str(tmp_path/'c.py'), str(model)]
    out = tmp_path/'t.jsonl'
    subprocess.run(cmd + [str(out)], check=True, capture_output=True)
    data = out.read_bytes()
    keep = data[:data.rfind(b'\n', 0, len(data)-1)+1]
    out.write_bytes(keep + data[len(keep):len(keep)+50])  # the last record cut mid-line, as a crash during a write leaves it
    r = subprocess.run(cmd + [str(out)], capture_output=True, text=True)
    assert r.returncode == 0 and 'removed a truncated last record' in r.stdout
    assert out.read_bytes() == data
