"The installed `rise_nb` console script: help, a smoke run end to end, resume, and clear errors."
import json, re, signal, subprocess, sys, time
from pathlib import Path

SUBCOMMANDS = ('run', 'build', 'boost', 'collect', 'train', 'evaluate', 'report', 'figures', 'plan', 'config')

def rise(*args, cwd=None):
    return subprocess.run(['rise_nb', *args], capture_output=True, text=True, cwd=cwd)

def test_help_lists_subcommands():
    r = rise('--help')
    assert r.returncode == 0
    for sub in SUBCOMMANDS:
        assert sub in r.stdout
        h = rise(sub, '--help')
        assert h.returncode == 0 and 'usage: rise_nb ' + sub in h.stdout

def test_smoke_run_then_resume(tmp_path):
    out = tmp_path/'smoke'
    r = rise('collect', '--preset', 'smoke', '--out', str(out))  # the stages up to the first collection
    assert r.returncode == 0, r.stderr[-3000:]
    man = json.loads((out/'manifest.json').read_text())
    assert list(man['stages']) == ['build', 'boost', 'eval_boost', 'collect_1']
    r = rise('run', '--preset', 'smoke', '--out', str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count('done already') == 4
    assert '| RISE iteration 2 |' in r.stdout and '| m1@t1 |' in r.stdout.replace('| model | m1@t1', '| m1@t1')
    res = json.loads((out/'results.json').read_text())
    assert list(res) == ['boosted base', 'RISE iteration 1', 'RISE iteration 2', 'SFT on oracle', 'mechanism']
    assert all(0 <= v <= 100 for m, row in res.items() if m != 'mechanism' for v in row.values())
    assert list(res['mechanism']['models']) == list(res)[:4] and list(res['mechanism']['iterations']) == ['1', '2']
    assert all((out/s/'per_problem.json').exists() for s in ('eval_boost', 'eval_1', 'eval_2', 'eval_sft'))
    r = rise('run', '--preset', 'smoke', '--out', str(out))
    assert r.returncode == 0 and r.stdout.count('done already') == len(json.loads((out/'manifest.json').read_text())['stages'])
    assert 'done already' in (out/'run.log').read_text()
    r = rise('report', str(out))
    assert r.returncode == 0 and 'RISE iteration 1' in r.stdout
    figs = tmp_path/'figs'
    r = rise('figures', str(out), '--out', str(figs), '--only', 'pass_vs_seq', '--only', 'inference_wo_oracle')
    assert r.returncode == 0, r.stderr[-3000:]
    assert sorted(p.name for p in figs.iterdir()) == ['inference_wo_oracle.pdf', 'inference_wo_oracle.png', 'pass_vs_seq.pdf', 'pass_vs_seq.png']
    r = rise('figures', str(out), '--out', str(figs), '--only', 'nope')
    assert r.returncode == 2 and 'unknown figure' in r.stderr

def test_bad_override_names_the_field(tmp_path):
    r = rise('run', '--preset', 'smoke', '--out', str(tmp_path/'x'), '--set', 'boost.lr=-1')
    assert r.returncode == 2 and 'RunConfig.boost.lr' in r.stderr
    r = rise('run', '--preset', 'smoke', '--out', str(tmp_path/'y'), '--set', 'bost.steps=3')
    assert r.returncode == 2 and "'bost'" in r.stderr
    r = rise('run', '--preset', 'smoke', '--out', str(tmp_path/'z'), '--set', 'rise.filter=some')  # the name before rise.examples
    assert r.returncode == 2 and 'RunConfig.rise.examples.filter' in r.stderr
    assert not (tmp_path/'x'/'config.json').exists()
    r = rise('report', str(tmp_path/'nowhere'))
    assert r.returncode == 2 and 'results.md not found' in r.stderr
    r = rise('figures', str(tmp_path/'nowhere'))
    assert r.returncode == 2 and 'manifest.json not found' in r.stderr

def test_every_argument_has_help():
    from rise_nb.cli import cli_parser as _parser
    p = _parser()
    subs = next(a for a in p._actions if a.dest == 'cmd').choices
    assert set(SUBCOMMANDS) <= set(subs)
    for name, sp in [('rise_nb', p), *subs.items()]:
        for a in sp._actions:
            assert a.help and a.help.strip(), f"{name}: argument {a.option_strings or a.dest} has no help text"
    top = p.format_help()
    assert 'examples:' in top and 'rise_nb run --preset tiny --out runs/tiny' in top
    for code in ('0 ', '1 ', '2 ', '130'): assert re.search(rf'^\s+{code}\s', top, re.M), code
    for sub in SUBCOMMANDS:
        h = subs[sub].format_help()
        assert f'example:\n  rise_nb {sub}' in h and 'exit codes: 0 success, 1 runtime failure, 2 usage' in h

STAMP = r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (INFO|WARNING|ERROR) '

def test_run_log_and_exit_codes(tmp_path):
    r = rise('run', '--no-such-flag')
    assert r.returncode == 2 and 'unrecognized arguments: --no-such-flag' in r.stderr
    out = tmp_path/'b'
    r = rise('build', '--preset', 'smoke', '--out', str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    log = (out/'run.log').read_text().splitlines()
    assert all(re.match(STAMP, l) for l in log), log
    msgs = [l.split(maxsplit=3)[3] for l in log]
    assert msgs[0].startswith(f"command: rise_nb build --preset smoke --out {out} (in ")
    assert msgs[1] == 'build: starting (stage 1 of 12)' and re.match(r'build: finished in \d+\.\ds', msgs[2])
    assert re.match(r'done \(exit 0 after \d+\.\ds\)', msgs[3]) and len(msgs) == 4
    # usage and config errors: 2, nothing runs, the error is logged in the run
    r = rise('boost', '--out', str(out), '--set', 'boost.lr=-1')
    assert r.returncode == 2 and 'RunConfig.boost.lr' in r.stderr
    r = rise('run', '--out', str(out), '--until', 'nope')
    assert r.returncode == 2 and "Unknown stage(s) ['nope']" in r.stderr
    log = (out/'run.log').read_text()
    assert log.count(' ERROR ') == 2 and log.count('(exit 2 after') == 2 and 'boost: starting' not in log
    r = rise('boost', '--out', str(tmp_path/'missing'), '--config', str(tmp_path/'nope.json'))
    assert r.returncode == 2 and 'nope.json' in r.stderr and not (tmp_path/'missing').exists()
    # a runtime failure: 1, with the traceback in the log
    bad = tmp_path/'nobase'
    r = rise('boost', '--preset', 'smoke', '--out', str(bad), '--set', 'base="/no/such/model"')
    assert r.returncode == 1 and f"traceback in {bad/'run.log'}" in r.stderr
    log = (bad/'run.log').read_text()
    assert 'boost: starting' in log and 'Traceback (most recent call last)' in log and '(exit 1 after' in log

def test_interrupt_exits_130(tmp_path):
    out = tmp_path/'i'
    # a shell without job control starts background jobs with SIGINT ignored, and Python then installs no handler:
    # give the child the default disposition, as a terminal's Ctrl-C finds it
    p = subprocess.Popen(['rise_nb', 'boost', '--preset', 'smoke', '--out', str(out), '--set', 'boost.steps=100000'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    t0 = time.time()
    while time.time() - t0 < 120 and p.poll() is None:
        if (out/'run.log').exists() and 'boost: starting' in (out/'run.log').read_text(): break
        time.sleep(0.2)
    time.sleep(1)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err[-2000:]
    assert 'interrupted' in err and 'interrupted (exit 130 after' in (out/'run.log').read_text()

def test_long_examples_lose_oldest_attempts_and_are_counted(tmp_path):
    "Training examples longer than `rise.max_len` lose their earlier attempts first; what still does not fit is dropped, and both are counted."
    from dataclasses import replace
    from rise_nb.rundir import Run
    from rise_nb.pipeline import stage_train, model_of, task_of as _task, mdp_of as _mdp
    from rise_nb.models import load_tokenizer
    from rise_nb.rwr import build_examples
    from rise_nb.collect import read_records
    out = tmp_path/'smoke'
    r = rise('collect', '--preset', 'smoke', '--out', str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    run = Run(out)
    trajs = read_records(out/'collect_1.jsonl')
    task = _task(run)
    full = build_examples(load_tokenizer(model_of(run, 'boost')), _mdp(run, task), trajs, run.cfg.rise.examples)
    first = max(len(x) for x, t in zip(full['input_ids'], full['turn']) if t == 0)
    assert any(t > 0 and len(x) > first for x, t in zip(full['input_ids'], full['turn'])), "some later-turn example is longer"
    run.cfg = replace(run.cfg, rise=replace(run.cfg.rise, max_len=first))  # in memory only: config.json keeps the preset
    info = stage_train(run, 1)
    assert info['trimmed'] > 0 and info['examples'] == len(full) - info['dropped']
    assert f"examples lost their oldest attempts to fit {first} tokens" in (out/'run.log').read_text()
