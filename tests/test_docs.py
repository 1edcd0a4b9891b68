"""The docs pages: nbdev's processing, HTML rendering and a headless-Chromium check (`tools/check_docs.py`).

The whole site is checked by `python tools/check_docs.py` (minutes); here the sidebar, two real pages and a set of
deliberately broken pages keep the test under a minute. The Chromium tests are skipped where no Chromium is installed.
`RISE_NB_DOCS=fast pytest -m docs_site` builds and checks every page the way the deploy workflow does (`.ci/run` runs it).
"""
import json, os, re, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import check_docs as cd

chromium = cd.find_chromium()
needs_chromium = pytest.mark.skipif(chromium is None, reason="no Chromium on this machine (Debian: apt-get install chromium; or set CHROMIUM)")
DOCS_EXEC = os.environ.get('RISE_NB_DOCS', '')

@pytest.mark.docs_site
@pytest.mark.skipif(not DOCS_EXEC, reason="the whole docs site, executed as the deploy workflow does, takes about 8 minutes: "
                                          "set RISE_NB_DOCS=fast to build and check it (.ci/run does)")
@needs_chromium
def test_site_as_deployed(tmp_path):
    "Every page, executed and staged as the deploy workflow does (`--exec fast`, from the clone alone: no RISE_NB_DATA), is ok."
    env = {k: v for k, v in os.environ.items() if k != 'RISE_NB_DATA'}
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'check_docs.py'), '--exec', DOCS_EXEC, '--stage-dir', str(tmp_path/'site')],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    print(r.stdout)
    assert r.returncode == 0, r.stdout[-8000:] + r.stderr[-3000:]
    assert re.search(r'^\d+ ok, 0 failed', r.stdout, re.M), r.stdout[-3000:]

def test_sidebar_in_reading_order():
    assert cd.check_sidebar(ROOT/'nbs'/'_quarto.yml') == []
    import yaml
    sb = yaml.safe_load((ROOT/'nbs'/'_quarto.yml').read_text())['website']['sidebar']['contents']
    flat = [e for x in sb for e in ([x] if isinstance(x, str) else x['contents'])]
    assert flat == ['index.ipynb'] + [p.name for p in cd.notebooks() if p.stem != 'index']
    assert flat[1] == '00_mdp.ipynb' and flat[-1] == 'results.ipynb'  # the file names sort in reading order

@needs_chromium
def test_real_pages_render(tmp_path, capsys):
    shot = tmp_path/'index.png'
    rc = cd.main(['--exec', 'none', '--only', 'index', '--only', '07_pipeline', '--stage-dir', str(tmp_path/'site'), '--out', str(shot)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert 'index → index.html' in out and '07_pipeline → pipeline.html' in out
    html = (tmp_path/'site'/'pipeline.html').read_text()
    assert 'run_pipeline' in html and 'show_doc' not in html  # show_doc's output is shown, not its code
    assert (tmp_path/'site'/'figures'/'overview.png').exists() and 'src="figures/overview.png"' in (tmp_path/'site'/'index.html').read_text()
    from PIL import Image
    im = Image.open(shot)
    assert im.size == (1280, 2000)
    assert len(im.convert('L').getcolors(256 * 256) or []) > 10  # not a blank page

def _nb(cells):
    return {'cells': cells, 'metadata': {'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}},
            'nbformat': 4, 'nbformat_minor': 5}
def _md(s): return {'cell_type': 'markdown', 'metadata': {}, 'source': s}
def _code(s, outputs=()): return {'cell_type': 'code', 'execution_count': None, 'metadata': {}, 'outputs': list(outputs), 'source': s}

@needs_chromium
def test_broken_pages_fail(tmp_path):
    nbs, img = tmp_path/'nbs', tmp_path/'img'
    nbs.mkdir(); img.mkdir()
    from PIL import Image
    Image.new('RGB', (40, 30), 'blue').save(img/'ok.png')
    (img/'bad.png').write_bytes(b'not a png at all')
    text = 'Some prose long enough to count as a page of documentation. '
    err = {'output_type': 'error', 'ename': 'ValueError', 'evalue': 'boom',
           'traceback': ['Traceback (most recent call last):', '  File "x.py", line 1', 'ValueError: boom']}
    pages = {'a_good': [_md('# Good\n> fine'), _md(text + '![a figure](../img/ok.png)'), _code('1+1')],
             'b_missing': [_md('# Missing\n> image'), _md(text + '![gone](../img/nope.png)')],
             'c_corrupt': [_md('# Corrupt\n> image'), _md(text + '![bad](../img/bad.png)')],
             'd_traceback': [_md('# Error\n> output'), _md(text), _code('raise ValueError("boom")', [err])],
             'e_empty': [_md('# E')]}
    for k, v in pages.items(): (nbs/f'{k}.ipynb').write_text(json.dumps(_nb(v)))
    site = tmp_path/'site'
    summary = cd.stage(site, 'none', nbs=nbs, root=tmp_path, log=lambda *a: None)
    assert all(not s['errors'] for s in summary.values()), summary
    assert summary['a_good']['moved'] == ['../img/ok.png → img/ok.png']
    html = cd.render(site, summary)
    probs = {k: cd.check_page(p, chromium, site)[0] for k, p in html.items()}
    assert probs['a_good'] == []
    assert any('nope.png: file missing' in p for p in probs['b_missing']) and any('naturalWidth 0' in p for p in probs['b_missing'])
    assert any('bad.png: does not decode' in p for p in probs['c_corrupt'])
    assert probs['d_traceback'] == ['Python traceback on the page']
    assert probs['e_empty'] == ['empty page']

def test_flagged_cell_that_imports_fails_unexecuted(tmp_path):
    "nbdev's docs processing executes every cell that imports: a `#| slow` cell that imports would run inside the docs build."
    nbs = tmp_path/'nbs'; nbs.mkdir()
    marker = tmp_path/'ran'
    cells = [_md('# Slow\n> page'), _code(f"#| slow\nimport pathlib\npathlib.Path({str(marker)!r}).write_text('ran')")]
    (nbs/'a_slow.ipynb').write_text(json.dumps(_nb(cells)))
    summary = cd.stage(tmp_path/'site', 'none', nbs=nbs, root=tmp_path, log=lambda *a: None)
    assert summary['a_slow']['errors'] == ["cell 1 carries the test flag(s) slow and also imports, so nbdev's docs processing "
                                           "would execute it; move its imports to a cell of their own"]
    assert not marker.exists()
    assert cd.flagged_mixed_cells(nbs/'a_slow.ipynb') == {1: ['slow']}
    cells[1:] = [_code('import pathlib'), _code(f"#| slow\npathlib.Path({str(marker)!r}).write_text('ran')")]  # imports on their own
    (nbs/'a_slow.ipynb').write_text(json.dumps(_nb(cells)))
    assert cd.flagged_mixed_cells(nbs/'a_slow.ipynb') == {}
    summary = cd.stage(tmp_path/'site', 'none', nbs=nbs, root=tmp_path, log=lambda *a: None)
    assert summary['a_slow']['errors'] == [] and not marker.exists()

def test_no_mixed_import_cells():
    "No project notebook has a non-exported cell that imports and also does other work: nbdev's docs processing would run it alone, out of order."
    bad = {nb.name: cells for nb in sorted((ROOT/'nbs').glob('*.ipynb')) if (cells := cd.mixed_import_cells(nb))}
    assert bad == {}, f"move these cells' imports to a cell of their own: {bad}"

def test_reexports_are_documented_where_they_are_defined():
    "A package's `__init__` that re-exports names asks for no show_doc sections of them; the notebook defining each one does."
    _, init_defs, _ = cd.exported_symbols(ROOT/'nbs'/'01a_tasks.ipynb')
    _, core_defs, _ = cd.exported_symbols(ROOT/'nbs'/'01_core.ipynb')
    assert init_defs == [] and {'Task', 'Check', 'register_task', 'get_task'} <= set(core_defs)
