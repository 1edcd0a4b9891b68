"""Every table the README publishes is a code output over committed results: re-executing `nbs/index.ipynb`'s code
cells prints exactly what the notebook (and so README.md) holds, and README.md is the notebook rendered."""
import copy, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _md_outputs(cell):
    return [''.join(o.get('data', {}).get('text/markdown', '')) for o in cell.get('outputs', []) if o.get('output_type') in ('execute_result', 'display_data')]

def test_readme_tables_are_printed_by_code():
    from execnb.nbio import read_nb
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    nb = read_nb(ROOT/'nbs'/'index.ipynb')
    code = [c for c in nb.cells if c.cell_type == 'code']
    assert code, 'index.ipynb has no code cells: the README tables would be typed by hand'
    stored = [_md_outputs(c) for c in code]
    assert any(stored), 'index.ipynb stores no markdown outputs: run its cells and save it'
    sh = CaptureShell(ROOT/'nbs'/'index.ipynb')
    with working_directory(ROOT/'nbs'):
        for c in code:
            fresh = copy.deepcopy(c)
            sh.cell(fresh)
            assert sh.exc is None, f"index.ipynb cell {c.idx_} raised {sh.exc!r}"
            assert _md_outputs(fresh) == _md_outputs(c), f"index.ipynb cell {c.idx_}: the stored table differs from what the code prints now; rerun the notebook"

def test_readme_is_rendered_from_index():
    res = subprocess.run([sys.executable, '.ci/readme.py', '--check'], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr

# A result typed by hand: a decimal, a percentage, a speed-up, a duration or a thousands-separated count in the prose of
# a page that publishes results. Code spans, code blocks, maths and link targets are not prose; "95% CI" names a method.
RESULT = __import__('re').compile(r'\d+\.\d+|\d+(?:\.\d+)?\s*(?:%|×)|\b\d+\s*(?:s|seconds|min|minutes|hours?)\b|\b\d{1,3}(?:,\d{3})+\b')
PUBLISHED = ('index.ipynb', 'results.ipynb', '09_figures.ipynb')

def typed_numbers(md:str)->list:
    "The hand-typed results in markdown `md`: `(number, context)` pairs."
    import re
    s = re.sub(r'```.*?```', ' ', md, flags=re.S)
    s = re.sub(r'`[^`]*`', ' ', s); s = re.sub(r'\$[^$]*\$', ' ', s); s = re.sub(r'\]\([^)]*\)', ']', s)
    s = re.sub(r'95\s*% (?:CI|confidence|t interval|half-width)', ' ', s)
    return [(m.group(), s[max(0, m.start()-30):m.end()+10].replace('\n', ' ')) for m in RESULT.finditer(s)]

def test_the_typed_numbers_check_can_fail():
    found = typed_numbers('iteration 1 gained +7.8 points, 13% of problems, in 23 minutes, on 1,000 problems')
    assert [n for n, _ in found] == ['7.8', '13%', '23 minutes', '1,000']
    assert typed_numbers('mean ± 95% CI over `3` seeds; `lr=1e-4`, $e^{2.5}$, [x](a/1.5.html)') == []

def test_no_result_is_typed_by_hand():
    "The README (from index.ipynb), the results page and the figures page print their numbers from code; their prose types none."
    import json
    bad = []
    for name in PUBLISHED:
        for i, c in enumerate(json.loads((ROOT/'nbs'/name).read_text())['cells']):
            if c['cell_type'] == 'markdown': bad += [f"{name} cell {i}: {n!r} in ...{t}..." for n, t in typed_numbers(''.join(c['source']))]
    assert not bad, 'numbers typed by hand (print them from committed results instead):\n' + '\n'.join(bad)

def test_readme_is_a_front_door():
    lines = (ROOT/'README.md').read_text().splitlines()
    assert len(lines) < 200, f"README.md has {len(lines)} lines; move detail to the results page or BENCHMARKS.md"
