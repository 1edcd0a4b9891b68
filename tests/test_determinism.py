"""Same config and seed, same bytes: two CPU runs of the command line (a one-iteration smoke run: build, Boost, collect,
RWR with a checkpoint every step, evaluations, report) write byte-identical records, metrics, results and weights.
Only wall-clock fields differ: `seconds` (manifest stages, Boost/RWR logs, the models' rise_nb.json), `finished`
(manifest) and run.log (timestamped lines); records and metrics hold none."""
import importlib.util, json, shutil, subprocess
from pathlib import Path

_spec = importlib.util.spec_from_file_location('compare_runs', Path(__file__).resolve().parents[1]/'tools'/'compare_runs.py')
compare_runs = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(compare_runs)  # the clock rule the tool uses

ARGS = ['run', '--preset', 'smoke', '--set', 'rise.iterations=1', '--set', 'rise.sft_baseline=false',
        '--set', 'rise.train.save_every=1', '--set', 'eval.problems=4']
TIMINGS, drop_timings = compare_runs.CLOCK, compare_runs.drop_clock

def keys(x):
    if isinstance(x, dict): return set(x) | {k for v in x.values() for k in keys(v)}
    if isinstance(x, list): return {k for v in x for k in keys(v)}
    return set()

def files(d): return sorted(str(p.relative_to(d)) for p in Path(d).rglob('*') if p.is_file())

def test_same_seed_same_bytes(tmp_path):
    out = tmp_path/'run'  # both runs use this path: records name the model they sampled by its path
    runs = []
    for i in range(2):
        r = subprocess.run(['rise_nb', *ARGS, '--out', str(out)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-3000:]
        runs.append(out.rename(tmp_path/f'run{i}'))
    a, b = runs
    assert files(a) == files(b)
    exact = [f for f in files(a) if f.endswith(('.jsonl', '.safetensors')) or Path(f).name in ('metrics.json', 'results.json', 'results.md', 'config.json')]
    assert {'collect_1.jsonl', 'eval_1/no_oracle.jsonl', 'eval_1/oracle.jsonl', 'eval_1/parallel.jsonl', 'eval_1/metrics.json',
            'eval_boost/metrics.json', 'results.json', 'train_1/model.safetensors'} <= set(exact)
    for f in exact: assert (a/f).read_bytes() == (b/f).read_bytes(), f
    for f in files(a):
        if f.endswith('.jsonl'):  # records carry no wall-clock field at all
            for line in (a/f).read_text().splitlines(): assert not keys(json.loads(line)) & (TIMINGS | {'time', 'timestamp'}), f
        elif f.endswith('.json') and f not in exact:  # manifest, logs: equal but for their timings
            assert drop_timings(json.loads((a/f).read_text())) == drop_timings(json.loads((b/f).read_text())), f
    assert not any(f.endswith('.checkpoint') or '.checkpoint/' in f for f in files(a))  # no checkpoint left after training
