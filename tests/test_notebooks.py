"""Run every notebook in `nbs/` the way `nbdev_test` does, one pytest test per notebook.

Cells flagged `#| slow` or `#| gpu` (settings.ini `tst_flags`) are skipped unless named in the
environment variable `RISE_NB_FLAGS`, e.g. `RISE_NB_FLAGS="slow" pytest tests/test_notebooks.py`. Notebooks that read the
full data sets (`find_shared_data`) use them when `RISE_NB_DATA` names them and the fixture in `tests/data` otherwise.
"""
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))
# A notebook that reads the full data sets checks every row when `RISE_NB_DATA` names them, else the rows in
# tests/data: it runs either way, and `pytest -m full_data` (with RISE_NB_DATA set) selects it again with the full data.
PARAMS = [pytest.param(p, id=p.stem, marks=[pytest.mark.full_data] if 'find_shared_data(' in p.read_text() else []) for p in NBS]

@pytest.mark.parametrize('nb', PARAMS)
def test_notebook(nb):
    cmd = ['nbdev_test', '--path', str(nb.relative_to(ROOT)), '--n_workers', '0']
    flags = os.environ.get('RISE_NB_FLAGS', '').split()
    if flags: cmd += ['--flags', *flags]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, f"{nb.name} failed:\n{res.stdout[-5000:]}\n{res.stderr[-20000:]}"
