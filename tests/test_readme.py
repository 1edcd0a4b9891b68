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
