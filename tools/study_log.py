#!/usr/bin/env python
"""The study log's measurements: for each development run, every evaluated model's table row and mechanism, and each
collection's yield, summarised from the run's records into `results/study/<name>.json`; `--table` prints the log's
markdown tables from those summaries alone.

    python tools/study_log.py runs/dev/e2-slip-s100 --name e2-slip-s100 --note "Boost with slip=0.5"
    python tools/study_log.py runs/dev/e2-slip-s100 --name e2-slip-s100 --boost-loss   # add Boost's loss parts only
    python tools/study_log.py --table
    python tools/study_log.py --write   # README.md: the prose above MARKER, the tables below it

Mechanism, without oracle, pooled over the turn pairs 1→2 … 4→5: `fix` = % right at turn t+1 after a wrong answer at t,
`fresh` = % right of the k independent first-turn samples of those same problems, `keep` = % right at t+1 after a right
answer at t, `fresh | right` = the same samples' accuracy on the problems right at t; `fixed point` = fix / (1 − keep + fix), the accuracy the turns move towards.
"""
import argparse, json, re, sys
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT/'results'/'study'

def mechanism(ev_dir:Path)->dict:
    "Table row, per-turn accuracy and fix/fresh/keep of one evaluation directory."
    from rise_nb.analysis import load_eval
    ev = load_eval(ev_dir)
    row = json.loads((ev_dir/'metrics.json').read_text())['row']
    fresh = {pid: float(np.mean([s.correct for s in ss])) for pid, ss in ev.samples.items()}
    fix, keep, fr, frr = [], [], [], []
    for t in ev.no_oracle:
        c = [x.correct for x in t.turns]
        for a, b in zip(c, c[1:]):
            if a: keep.append(b); frr.append(fresh[t.problem.id])
            else: fix.append(b); fr.append(fresh[t.problem.id])
    K = max(len(t.turns) for t in ev.no_oracle)
    f, k = float(np.mean(fix)), float(np.mean(keep))
    return {'row': {m: round(v, 1) for m, v in row.items()},
            'accuracy': [round(100*float(np.mean([t.turns[i].correct for t in ev.no_oracle])), 1) for i in range(K)],
            'fix': round(100*f, 1), 'fresh': round(100*float(np.mean(fr)), 1), 'keep': round(100*k, 1),
            'fresh_right': round(100*float(np.mean(frr)), 1),
            'fixed_point': round(100*f/(1-k+f), 1), 'n_fix': len(fix), 'n_keep': len(keep), 'errors': error_kinds(ev_dir),
            'slip_rates': slip_rates(ev_dir)}

_LINE = re.compile(r'(\d+)([-+*/])(\d+)=<<(\d+)([-+*/])(\d+)=(-?\d+)>>')
OPS = {'+': lambda a, b: a + b, '-': lambda a, b: a - b, '*': lambda a, b: a * b, '/': lambda a, b: a // b if b else None}  # the true result of `a op b`
def error_kinds(ev_dir:Path)->dict:
    "Wrong first turns by their first line that differs from the oracle's: a false result (a slip), true arithmetic on a wrong operand, or other."
    out = {'slip': 0, 'wrong operand': 0, 'other': 0}
    for l in (ev_dir/'no_oracle.jsonl').open():
        r = json.loads(l); t = r['turns'][0]
        if t['reward'] == 1: continue
        kind = 'other'
        for x, y in zip(_LINE.findall(r['problem']['solution']), _LINE.findall(t['action'])):
            if x == y: continue
            kind = 'slip' if OPS[y[4]](int(y[3]), int(y[5])) != int(y[6]) else 'wrong operand'
            break
        out[kind] += 1
    return out

_PLAIN_LINE = re.compile(r'(?<![\d=<.])(\d+)([-+*/])(\d+)=(-?\d+)\.')  # a calculation written alone (`lines='plain'`)
def calculations(action:str)->list:
    "`(a, op, b, result)` of each calculation line of `action`, read from its `<<...>>` annotations, or from plain lines where it has none."
    ann = [(int(y[3]), y[4], int(y[5]), int(y[6])) for y in _LINE.findall(action)]
    return ann or [(int(a), op, int(b), int(r)) for a, op, b, r in _PLAIN_LINE.findall(action)]

def slip_rates(ev_dir:Path)->dict:
    "% of the first turns' `+`/`-` lines whose result is false, by whether the sum carries or the difference borrows."
    bad, n = {}, {}
    for l in (ev_dir/'no_oracle.jsonl').open():
        for a, op, b, res in calculations(json.loads(l)['turns'][0]['action']):
            if op == '+': k = 'add, carry' if a % 10 + b % 10 >= 10 else 'add, no carry'
            elif op == '-': k = 'subtract, borrow' if a % 10 < b % 10 else 'subtract, no borrow'
            else: continue
            n[k] = n.get(k, 0) + 1; bad[k] = bad.get(k, 0) + (OPS[op](a, b) != res)
    return {k: round(100*bad[k]/n[k], 1) for k in sorted(n)}

_STEP = re.compile(_LINE.pattern + r'(-?\d+)')  # a calculation line, and its result repeated after `>>`
_PARTS = [('result', _STEP, (7, 8)), ('operand', _STEP, (1, 3, 4, 6)), ('final answer', re.compile(r'#### (-?\d+)'), (1,)), ('word', re.compile(r'([A-Za-z]+)'), (1,))]
def token_parts(tok, ids:list, labels:list)->list:
    "The part of a worked solution each trained token belongs to (`result`, `operand`, `final answer`, `word`, `other`); None where untrained."
    pieces = [tok.decode([i]) for i in ids]
    text = ''.join(pieces); part = ['other'] * len(text)
    for name, rx, groups in _PARTS:
        for m in rx.finditer(text):
            for g in groups:
                for c in range(*m.span(g)):
                    if part[c] == 'other': part[c] = name
    out, at = [], 0
    for p, lab in zip(pieces, labels):
        span = [k for k, ch in zip(part[at:at+len(p)], p) if not ch.isspace()]; at += len(p)  # a leading space does not decide
        out.append(None if lab == -100 else max(sorted(set(span)), key=span.count) if span else 'other')
    return out

def loss_parts(model_dir:Path, n:int=200, task:str='arithmetic', task_args:dict|None=None)->dict:
    "Where a boosted model's first-turn loss on `n` training problems lies: per part of the solution, its tokens, share of the loss, mean NLL and % argmax-wrong."
    import torch
    from rise_nb.models import load_model, BoostConfig, boost_examples
    from rise_nb.tasks import get_task
    t = get_task(task, **(task_args or {})); model, tok = load_model(model_dir, device='cpu'); model.eval()
    exs = boost_examples(tok, t, t.load('train', n), t.mdp(), BoostConfig(multi_turn=0.0))
    nll, cnt, wrong = {}, {}, {}
    with torch.no_grad():
        for e in exs:
            ids = torch.tensor([e['input_ids']])
            lp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), -1)  # position j-1 predicts token j
            tok_nll = (-lp.gather(1, ids[0, 1:, None])[:, 0]).tolist(); miss = (lp.argmax(-1) != ids[0, 1:]).tolist()
            for j, k in enumerate(token_parts(tok, e['input_ids'], e['labels'])[1:]):
                if k is None: continue
                nll[k] = nll.get(k, 0.) + tok_nll[j]; cnt[k] = cnt.get(k, 0) + 1; wrong[k] = wrong.get(k, 0) + int(miss[j])
    total = sum(nll.values())
    return {'mean_nll': round(total / sum(cnt.values()), 4),
            'parts': {k: {'tokens': cnt[k], 'loss_share': round(100*nll[k]/total, 1), 'nll': round(nll[k]/cnt[k], 4),
                          'argmax_wrong': round(100*wrong[k]/cnt[k], 2)} for k in sorted(cnt, key=lambda k: -nll[k])}}

def collection(f:Path)->dict:
    "How many problems a collection solved at turn 1, corrected later, or left unsolved."
    rs = [json.loads(l) for l in f.open()]
    t1 = sum(r['turns'][0]['reward'] == 1 for r in rs)
    corr = sum(any(a['reward'] < 1 and b['reward'] == 1 for a, b in zip(r['turns'], r['turns'][1:])) for r in rs)
    return {'problems': len(rs), 'turn1_right': t1, 'corrected': corr, 'unsolved': len(rs) - t1 - corr}

def summarise(run:Path, name:str, note:str)->dict:
    cfg = json.loads((run/'config.json').read_text()); man = json.loads((run/'manifest.json').read_text())['stages']
    return {'name': name, 'note': note, 'seed': cfg['seed'], 'config': cfg,
            'stage_seconds': round(sum(s.get('seconds', 0) for s in man.values()), 1),
            'models': {e.name: mechanism(e) for e in sorted(run.glob('eval_*')) if (e/'metrics.json').exists()},
            'collections': {f.stem: collection(f) for f in sorted(run.glob('collect_*.jsonl'))},
            **({'boost_loss': boost_loss(run)} if (run/'boost'/'config.json').exists() else {})}

def boost_loss(run:Path)->dict:
    "`loss_parts` of the run's boosted model, with Boost's steps, layout and seconds."
    cfg = json.loads((run/'config.json').read_text()); st = json.loads((run/'manifest.json').read_text())['stages']['boost']
    return {**loss_parts(run/'boost', task=cfg.get('task', 'arithmetic'), task_args=cfg.get('task_args')),
            'steps': cfg['boost']['steps'], 'layout': cfg['boost'].get('layout', 'packed'), 'seconds': st['seconds'], **boost_curve(run)}

def boost_curve(run:Path, window:int=50)->dict:
    "Boost's learning-rate schedule and its training loss (mean of `window` steps) at a quarter, half, three quarters and the end of its steps."
    cfg = json.loads((run/'config.json').read_text())['boost']; losses = json.loads((run/'boost_log.json').read_text())['losses']
    def at(q):
        part = losses[max(0, round(q*len(losses)) - window):round(q*len(losses))]
        return round(sum(part) / len(part), 3)
    return {'schedule': 'cosine' if cfg.get('decay') is None else f"hold, decay {cfg['decay']}", 'curve': [at(q) for q in (0.25, 0.5, 0.75, 1.0)]}

MODEL = {'eval_boost': 'base', 'eval_sft': 'SFT'}
ORDER = {'eval_boost': '0', 'eval_sft': 'z'}  # base first, then the iterations, SFT last
def table(d:Path=OUT)->str:
    "The log's markdown table: one line per run and model."
    runs = [json.loads(f.read_text()) for f in sorted(d.glob('*.json'))]
    lines = ['| run | seed | model | m1@t1 | m5@t1 | m1@t5 | p1@t5 | fix | fresh | keep | fresh \\| right | fixed point | accuracy turn 1 → 5 |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    for s in runs:
        for e, m in sorted(s['models'].items(), key=lambda kv: ORDER.get(kv[0], kv[0])):
            r = m['row']
            lines.append(f"| {s['name']} | {s['seed']} | {MODEL.get(e, 'RISE iteration ' + e.split('_')[1])} | {r['m1@t1']} | {r['m5@t1']} | "
                         f"{r['m1@t5']} | {r['p1@t5']} | {m['fix']} | {m['fresh']} | {m['keep']} | {m['fresh_right']} | {m['fixed_point']} | "
                         f"{m['accuracy'][0]} → {m['accuracy'][-1]} |")
    lines += ['', '| run | collection | problems | right at turn 1 | corrected later | unsolved | stage seconds |', '|---|---|---|---|---|---|---|']
    for s in runs:
        for c, v in s['collections'].items():
            lines.append(f"| {s['name']} | {c} | {v['problems']} | {v['turn1_right']} | {v['corrected']} | {v['unsolved']} | {s['stage_seconds']} |")
    lines += ['', '| run | model | wrong first turns: slip (a false `<<a op b=c>>`) | true arithmetic on a wrong operand | other | false results (% of lines): add, carry | add, no carry | subtract, borrow | subtract, no borrow |',
              '|---|---|---|---|---|---|---|---|---|']
    for s in runs:
        for e, m in sorted(s['models'].items(), key=lambda kv: ORDER.get(kv[0], kv[0])):
            er = m['errors']
            sr = m.get('slip_rates', {})
            lines.append(f"| {s['name']} | {MODEL.get(e, 'RISE iteration ' + e.split('_')[1])} | {er['slip']} | {er['wrong operand']} | {er['other']} | "
                         + ' | '.join(str(sr.get(k, 'n/a')) for k in ('add, carry', 'add, no carry', 'subtract, borrow', 'subtract, no borrow')) + ' |')
    if any('boost_loss' in s for s in runs): lines += ['', "| run | seed | Boost steps | layout | schedule | seconds | training loss at ¼, ½, ¾, all of the steps | Boost's first-turn loss | words: share of the loss | NLL | argmax wrong (%) | results: share | NLL | argmax wrong (%) | operands: share | NLL | final answer: share | NLL |",
                                                                                  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    for s in runs:
        if 'boost_loss' not in s: continue
        b = s['boost_loss']; p = lambda k: b['parts'].get(k, {'loss_share': 0, 'nll': 0, 'argmax_wrong': 0})
        lines.append(f"| {s['name']} | {s['seed']} | {b['steps']} | {b['layout']} | {b.get('schedule', 'cosine')} | {b['seconds']} | "
                     f"{' / '.join(f'{x:.3f}' for x in b['curve']) if 'curve' in b else 'n/a'} | {b['mean_nll']:.3f} | {p('word')['loss_share']} | {p('word')['nll']:.3f} | {p('word')['argmax_wrong']} | "
                     f"{p('result')['loss_share']} | {p('result')['nll']:.3f} | {p('result')['argmax_wrong']} | {p('operand')['loss_share']} | {p('operand')['nll']:.3f} | "
                     f"{p('final answer')['loss_share']} | {p('final answer')['nll']:.3f} |")
    return '\n'.join(lines)

ROUNDS = [f'final{i}' for i in range(1, 12)] + ['final']  # the defaults whose seeds 0-4 were run, oldest first; `final` is today's
# each round: the log's items that tell its choice, and the development runs it was chosen on (`results/study/<name>.json`)
CHOSEN = {'final1': ('1–6', ['e2-slip-s100', 'v2-problems2000-s100']), 'final2': ('8, 10–17', ['d-cand-lr15-s100']),
          'final3': ('18–19', ['d-wsd-s100', 'd-wsd-s101', 'd-wsd-s104']), 'final4': ('21–24', [f'd-wsd1500lr12-s{i}' for i in range(100, 105)]),
          'final5': ('26–29', ['d-nf-s102', 'd-nf-s103']), 'final6': ('32–34', ['d-nfown4p1k-s102', 'd-nfown4p1k-s104']),
          'final7': ('48–58', ['guessrpr-s102', 'guessrpr-s103', 'guessplain-s102', 'guessplain-s103']),
          'final8': ('61–63', []), 'final9': ('66–67', ['d-it3-s101', 'd-it3-s102']), 'final10': ('69–70', ['d-tl-s101', 'd-tl-s102']),
          'final11': ('72–75', ['d-ep3-s101', 'd-ep3-s102']), 'final': ('76–78', ['d-ep4-s101', 'd-ep4-s102'])}
RENAMED = {f'rise.{k}': f'rise.examples.{k}' for k in ('awr_pool', 'dedupe', 'filter', 'tau', 'weighting')} | {'rise.samples': 'rise.operator_args.samples'}
def _flat(d:dict, pre:str='')->dict:
    "A nested config as `{'a.b.c': value}`, under today's key names (`RENAMED`), unset (None) keys left out."
    out = {}
    for k, v in d.items():
        if isinstance(v, dict): out |= _flat(v, f'{pre}{k}.')
        elif v is not None: out[RENAMED.get(pre + k, pre + k)] = v
    return out

def config_change(old:dict, new:dict)->list[str]:
    "What a run config `new` sets differently from `old` (the seed aside), as `key: old → new`, with `unset` for a key one of them does not hold (an option added later, or left at None)."
    a, b = _flat(old), _flat(new)
    return [f"{k}: {a.get(k, 'unset')} → {b.get(k, 'unset')}" for k in sorted(set(a) | set(b)) if k != 'seed' and a.get(k) != b.get(k)]

def _last(s:dict)->str: return max((e for e in s['models'] if e.split('_')[1].isdigit()), key=lambda e: int(e.split('_')[1]))

def rounds(d:Path=OUT)->str:
    "The rounds of the default, oldest first: what each changed, and over its seeds 0-4 the mean of the main rows and how many seeds show each comparison."
    lines = ['| round | set differently from the round before | items | chosen on | base m1@t1 (min–max) | last iteration: m1@t1 | m5@t1 | m1@t5 | p1@t5 | fix | fresh | keep '
             '| seeds: m1@t5 > m1@t1 | m1@t5 > m5@t1 | last iteration ≥ iteration 1 (m1@t5) | RISE > SFT (m1@t5) | RISE m1@t1 ≥ base − 1 |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    prev = None
    for r in ROUNDS:
        runs = [json.loads((d/f'{r}-tiny-s{i}.json').read_text()) for i in range(5)]
        odd = {i: c for i, s in enumerate(runs) if (c := config_change(runs[0]['config'], s['config']))}
        if odd: raise ValueError(f"{d}/{r}-tiny-s*.json: a round's five seeds should differ only in the seed; {odd}")
        change = ('the first chosen default' if prev is None else '; '.join(f'`{c}`' for c in config_change(prev, runs[0]['config'])) or 'nothing')
        last = [s['models'][_last(s)] for s in runs]; base = [s['models']['eval_boost']['row']['m1@t1'] for s in runs]
        mean = lambda xs: f'{float(np.mean(xs)):.1f}'
        n = lambda f: f"{sum(bool(f(s, m['row'])) for s, m in zip(runs, last))}/5"
        items, dev = CHOSEN[r]
        lines.append(f"| {r} | {change} | {items} | {', '.join(f'`{x}`' for x in dev) or 'a speed change, its records checked (item 63)'} | {mean(base)} ({min(base)}–{max(base)}) | "
                     + ' | '.join(mean([m['row'][k] for m in last]) for k in ('m1@t1', 'm5@t1', 'm1@t5', 'p1@t5')) + ' | '
                     + ' | '.join(mean([m[k] for m in last]) for k in ('fix', 'fresh', 'keep')) + ' | '
                     + ' | '.join([n(lambda s, x: x['m1@t5'] > x['m1@t1']), n(lambda s, x: x['m1@t5'] > x['m5@t1']),
                                   n(lambda s, x: x['m1@t5'] >= s['models']['eval_1']['row']['m1@t5']),
                                   n(lambda s, x: x['m1@t5'] > s['models']['eval_sft']['row']['m1@t5']),
                                   n(lambda s, x: round(x['m1@t1'] - s['models']['eval_boost']['row']['m1@t1'], 1) >= -1)]) + ' |')
        prev = runs[0]['config']
    return '\n'.join(lines)

ROUNDS_BEGIN, ROUNDS_END = '<!-- The rounds table is written by `python tools/study_log.py --write`. -->', '<!-- End of the rounds table. -->'

MARKER = '<!-- Everything below is written by `python tools/study_log.py --write` from results/study/*.json. -->'
def tables(d:Path=OUT)->str:
    "Everything below `MARKER`: the log's tables, then the Boost screens' (`tools/boost_screen.py`) and the slip probes' (`tools/slip_probe.py`) where there are any."
    out = table(d)
    if str(Path(__file__).resolve().parent) not in sys.path: sys.path.insert(0, str(Path(__file__).resolve().parent))
    if any((d/'screens').glob('*.json')):  # Boost's first steps, and whether the model copies the noun
        from boost_screen import table as screen_table
        out += '\n\n' + screen_table(d/'screens')
    if any((d/'probes').glob('*.json')):  # retries after the model's own slips against retries after Boost-style ones
        from slip_probe import table as probe_table
        out += '\n\n' + probe_table(d/'probes')
    return out

def write(d:Path=OUT):
    "Replace what follows `MARKER` in `d/README.md` with `tables`, and what lies between `ROUNDS_BEGIN` and `ROUNDS_END` (if there) with `rounds`."
    f = d/'README.md'
    head = f.read_text().split(MARKER)[0] if f.exists() else '# The study\n\n'
    if ROUNDS_BEGIN in head:  # the rounds table near the top, between its two marker lines
        top, rest = head.split(ROUNDS_BEGIN, 1)
        if ROUNDS_END not in rest: raise ValueError(f"{f}: the line {ROUNDS_BEGIN!r} has no {ROUNDS_END!r} after it")
        head = top + ROUNDS_BEGIN + '\n\n' + rounds(d) + '\n\n' + ROUNDS_END + rest.split(ROUNDS_END, 1)[1]
    tmp = f.with_suffix('.md.tmp'); tmp.write_text(head + MARKER + '\n\n' + tables(d) + '\n'); tmp.replace(f)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('run', nargs='?', help='a finished (or partly finished) run directory')
    ap.add_argument('--name'); ap.add_argument('--note', default='')
    ap.add_argument('--boost-loss', action='store_true', help="only add the Boost loss parts of RUN/boost to the existing summary named --name")
    ap.add_argument('--table', action='store_true', help='print the tables from results/study/*.json')
    ap.add_argument('--rounds', action='store_true', help="print the rounds of the default (`rounds`)")
    ap.add_argument('--write', action='store_true', help="rewrite the tables of results/study/README.md")
    a = ap.parse_args(argv)
    if a.run and a.boost_loss:
        f = OUT/f'{a.name or Path(a.run).name}.json'
        if not f.exists(): ap.error(f'--boost-loss: {f} does not exist; summarise the run first')
        s = {**json.loads(f.read_text()), 'boost_loss': boost_loss(Path(a.run))}
    elif a.run:
        s = summarise(Path(a.run), a.name or Path(a.run).name, a.note)
    if a.run:
        OUT.mkdir(parents=True, exist_ok=True)
        tmp = OUT/f'.{s["name"]}.json.tmp'; tmp.write_text(json.dumps(s, indent=1) + '\n'); tmp.replace(OUT/f'{s["name"]}.json')
        print(f"{a.run} → {OUT/(s['name'] + '.json')}")
    if a.table: print(tables())
    if a.rounds: print(rounds())
    if a.write: write()
    return 0

if __name__ == '__main__': sys.exit(main())
