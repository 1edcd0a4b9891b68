"""Run every notebook in `nbs/` the way `nbdev_test` does, one pytest test per notebook.

Cells flagged `#| slow` or `#| gpu` (settings.ini `tst_flags`) are skipped unless named in the
environment variable `RISE_NB_FLAGS`, e.g. `RISE_NB_FLAGS="slow" pytest tests/test_notebooks.py`.
"""
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))

@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_notebook(nb):
    cmd = ['nbdev_test', '--path', str(nb.relative_to(ROOT)), '--n_workers', '0']
    flags = os.environ.get('RISE_NB_FLAGS', '').split()
    if flags: cmd += ['--flags', *flags]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, f"{nb.name} failed:\n{res.stdout[-5000:]}\n{res.stderr[-20000:]}"
