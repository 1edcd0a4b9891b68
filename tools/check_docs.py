#!/usr/bin/env python
"""Build the documentation pages the way nbdev's docs build does, render them to HTML and check them in headless Chromium.

Steps (Quarto itself is not needed):

1. *Stage*: every notebook in `nbs/` is executed in a fresh kernel from `nbs/` (like `nbdev_test`: `--exec fast` skips
   the cells flagged with settings.ini's `tst_flags`, `--exec all` runs everything but `#| gpu` cells, `--exec none`
   keeps the notebook as stored, i.e. without outputs), then processed by nbdev's own docs processors
   (`nbdev.processors.FilterDefaults`, what `nbdev_proc_nbs` / `nbdev_docs` run before `quarto render`), and written
   with the other files of `nbs/` to the staging folder (`_proc` for the real site). Images that notebooks link from
   outside `nbs/` (`../figures/x.png`) are copied into the staging folder and their links rewritten, since Quarto only
   publishes files inside its project folder.
2. *Render*: each processed notebook becomes `<output-file>.html` next to it (nbconvert's HTML exporter, honouring the
   Quarto cell options nbdev adds: `echo: false`, `output: false`, `include: false`).
3. *Check*: each page is opened in headless Chromium; a script run after the page loaded records the body text and
   every image's `naturalWidth` into the DOM, which `--dump-dom` returns. A page fails if its text is empty, it shows a
   Python traceback or an error output, or an image is missing, undecodable (PIL) or has `naturalWidth` 0. Every
   exported function and class must have its `show_doc` section on its notebook's page, every other exported name
   must at least be mentioned there, and the sidebar in `nbs/_quarto.yml` must list every notebook.

Prints a table page → status, writes a screenshot of the index page to `--out` (PNG), exits 1 on any failure.
`--stage-only DIR` stops after step 1 (the deploy workflow then runs `quarto render` in DIR); `--check-site DIR` runs
step 3 on pages rendered elsewhere (Quarto's `_docs`).
"""
from __future__ import annotations
import argparse, base64, html, io, json, os, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'
SKIP_PARTS = ('_proc', '_docs', '_site', '.ipynb_checkpoints')
CHROMIUMS = ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome')
MARK = 'docs-check-result'

def find_chromium()->str|None:
    "Path of a Chromium (or Chrome) binary: `$CHROMIUM`, else the first of `CHROMIUMS` on the PATH."
    if os.environ.get('CHROMIUM'): return shutil.which(os.environ['CHROMIUM'])
    return next((shutil.which(c) for c in CHROMIUMS if shutil.which(c)), None)

def notebooks(nbs:Path=NBS)->list[Path]:
    "The notebooks of the docs, in file order (`index` first)."
    nbs_ = [p for p in nbs.rglob('*.ipynb') if not any(q.startswith(('.', '_')) for q in p.relative_to(nbs).parts)]
    return sorted(nbs_, key=lambda p: (p.stem != 'index', str(p)))

# ---------------------------------------------------------------- 1. stage

def _skip_flags(mode:str)->set:
    if mode == 'all': return {'gpu'}
    from nbdev.config import get_config
    return set(get_config().get('tst_flags', '').split())

def proc_one(src:Path, dst:Path, mode:str)->dict:
    "Execute `src` (per `mode`), run nbdev's docs processors on it and write the result to `dst`; return a summary."
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    from nbdev.process import extract_directives
    from nbdev.processors import FilterDefaults
    nb, errors, t0 = read_nb(src), [], time.time()
    os.environ['IN_TEST'] = '1'  # as nbdev_test and nbdev's docs processing do
    if mode != 'none':
        flags = _skip_flags(mode)
        def skip(cell):
            if cell.cell_type != 'code': return True
            d = extract_directives(cell, remove=False)
            return bool(flags & d.keys()) or d.get('eval:', [''])[0].lower() == 'false'
        k = CaptureShell(src)
        with working_directory(src.parent):
            for cell in nb.cells:
                if skip(cell): continue
                k.cell(cell)
                if k.exc: errors.append(f"cell {cell.idx_}: {type(k.exc).__name__}: {k.exc}"); k.exc = None
    t1 = time.time()
    with working_directory(ROOT): FilterDefaults()(nb)
    fm = getattr(nb, 'frontmatter_', {}) or {}
    dst.parent.mkdir(parents=True, exist_ok=True)
    write_nb(nb, dst)
    return {'errors': errors, 'exec_s': round(t1-t0, 1), 'proc_s': round(time.time()-t1, 1),
            'output_file': fm.get('output-file', src.stem + '.html'), 'title': fm.get('title', '')}

def mixed_import_cells(nb:Path)->list[int]:
    "Indices of the code cells of `nb` that import and also do other work: nbdev's docs processing executes them."
    import ast
    from execnb.nbio import read_nb
    from nbdev.process import extract_directives
    from nbdev.processors import _ast_contains
    def mixed(c):
        if c.cell_type != 'code' or extract_directives(c, remove=False).keys() & {'export', 'exports', 'exporti'}: return False
        try: t = [ast.parse('\n'.join(l for l in c.source.splitlines() if not l.lstrip().startswith(('%', '!'))))]
        except SyntaxError: return False
        return bool(_ast_contains(t, (ast.Import, ast.ImportFrom)) and _ast_contains(t, (ast.Expr, ast.Assign)))
    return [c.idx_ for c in read_nb(nb).cells if mixed(c)]

def flagged_mixed_cells(nb:Path, flags:set|None=None)->dict[int, list[str]]:
    "Mixed import cells of `nb` that carry a test flag (`slow`, `gpu`), with their flags: nbdev's docs processing would run that work."
    from execnb.nbio import read_nb
    from nbdev.process import extract_directives
    flags = _skip_flags('fast') | {'gpu'} if flags is None else flags
    cells = read_nb(nb).cells
    return {i: f for i in mixed_import_cells(nb) if (f := sorted(flags & extract_directives(cells[i], remove=False).keys()))}

_IMG_MD = re.compile(r'(!\[[^\]]*\]\()([^)\s]+)((?:\s+"[^"]*")?\))')
_IMG_HTML = re.compile(r'(<img\b[^>]*?\bsrc=["\'])([^"\']+)(["\'])', re.I)

def _local(src:str)->bool: return not re.match(r'^(?:[a-z][a-z0-9+.-]*:|/|#)', src, re.I)

def relocate_images(nb_path:Path, src_dir:Path, stage:Path, nbs:Path=NBS, root:Path=ROOT)->list[str]:
    "Copy images that markdown cells of the processed notebook link outside `nbs/` into `stage`; rewrite the links."
    nb, moved = json.loads(nb_path.read_text()), []
    def fix(m):
        src = m.group(2)
        if not _local(src): return m.group(0)
        f = (src_dir/src).resolve()
        try: f.relative_to(nbs.resolve()); return m.group(0)  # inside nbs/: staged (and published) as it is
        except ValueError: pass
        try: rel = f.relative_to(root)
        except ValueError: return m.group(0)
        if not f.is_file(): return m.group(0)  # the check reports it
        (stage/rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, stage/rel)
        new = os.path.relpath(stage/rel, nb_path.parent); moved.append(f"{src} → {new}")
        return m.group(1) + new + m.group(3)
    for c in nb['cells']:
        if c['cell_type'] != 'markdown': continue
        s = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        s2 = _IMG_HTML.sub(fix, _IMG_MD.sub(fix, s))
        if s2 != s: c['source'] = s2
    if moved: nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False))
    return moved

def stage(out:Path, mode:str='fast', only:list|None=None, nbs:Path=NBS, root:Path=ROOT, log=print)->dict:
    "Stage the docs into `out` like `nbdev_proc_nbs` (plus executed outputs per `mode`); return notebook → summary."
    out.mkdir(parents=True, exist_ok=True)
    for f in sorted(nbs.rglob('*')):
        rel = f.relative_to(nbs)
        if not f.is_file() or f.suffix == '.ipynb' or any(p.startswith('.') or p in SKIP_PARTS for p in rel.parts): continue
        (out/rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, out/rel)
    res = {}
    for nb in notebooks(nbs):
        if only and nb.stem not in only: continue
        dst = out/nb.relative_to(nbs)
        t0 = time.time()
        bad = flagged_mixed_cells(nb)
        if bad:  # processing would execute them: a slow cell's work (a whole Boost, say) inside the docs build
            res[nb.stem] = {'errors': [f"cell {i} carries the test flag(s) {', '.join(f)} and also imports, so nbdev's docs processing "
                                       "would execute it; move its imports to a cell of their own" for i, f in bad.items()],
                            'output_file': None, 'seconds': 0.0}
        else:
            r = subprocess.run([sys.executable, __file__, '--_proc-one', str(nb), str(dst), mode], capture_output=True, text=True, cwd=ROOT)
            if r.returncode != 0:
                err = r.stderr.strip()
                m = re.search(r'^Exception: (Error in notebook.*? in cell \d+) :\n(.*)', err, re.M)
                cause = re.search(r'^(\w+(?:Error|Exception)): (.*)$', err, re.M)
                why = err.splitlines()[-1] if not m else f"{m.group(1)}, `{m.group(2).strip()[:60]}`: " + (
                    f"{cause.group(1)}: {cause.group(2)}" if cause else 'see nbdev_proc_nbs')
                res[nb.stem] = {'errors': ['nbdev processing failed: ' + why], 'output_file': None, 'seconds': round(time.time()-t0, 1)}
            else:
                res[nb.stem] = json.loads(r.stdout.strip().splitlines()[-1]) | {'seconds': round(time.time()-t0, 1)}
                res[nb.stem]['moved'] = relocate_images(dst, nb.parent, out, nbs, root)
        mc = res[nb.stem]['mixed_import_cells'] = mixed_import_cells(nb)
        log(f"  staged {nb.name:24} {res[nb.stem]['seconds']:7.1f}s  {'ok' if not res[nb.stem]['errors'] else 'FAILED'}"
            + (f"  (cells mixing imports with other code, executed by nbdev's processing: {mc})" if mc else ''))
    return res

# ---------------------------------------------------------------- 2. render

def _quarto_opts(src:str)->dict:
    "Quarto cell options (`#| key: value`) at the top of a code cell."
    opts = {}
    for l in src.splitlines():
        m = re.match(r'^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$', l)
        if m: opts[m.group(1)] = m.group(2).lower()
        elif l.strip() and not l.startswith('#|'): break
    return opts

def _front(nb)->tuple[str, str]:
    "Title and description from the frontmatter raw cell that nbdev inserts."
    import yaml
    for c in nb.cells:
        if c.cell_type == 'raw' and c.source.strip().startswith('---'):
            d = yaml.safe_load(c.source.strip().strip('-')) or {}
            c.source = ''; c.metadata['tags'] = ['remove_cell']
            return d.get('title', ''), d.get('description', '')
    return '', ''

def render(stage_dir:Path, summary:dict)->dict:
    "Render each processed notebook in `stage_dir` to its `output-file` next to it; return notebook → page path."
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    pages = {}
    for stem, s in summary.items():
        if not s.get('output_file'): continue
        src = next(stage_dir.rglob(stem + '.ipynb'))
        nb = nbformat.read(src, as_version=4)
        title, desc = _front(nb)
        for c in nb.cells:
            if c.cell_type != 'code': continue
            o = _quarto_opts(c.source)
            tags = c.metadata.setdefault('tags', [])
            if o.get('include') == 'false' or (not c.source.strip() and not c.outputs): tags.append('remove_cell')
            if o.get('echo') == 'false' or not c.source.strip(): tags.append('remove_input')
            if o.get('output') == 'false': tags.append('remove_output')
            c.source = '\n'.join(l for l in c.source.splitlines() if not l.startswith('#|'))
        head = f"# {title}\n\n" + (f"> {desc}\n" if desc else '')
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(head))
        ex = HTMLExporter(template_name='lab')
        ex.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={'remove_cell'}, remove_input_tags={'remove_input'},
                                                        remove_all_outputs_tags={'remove_output'}, enabled=True), enabled=True)
        body, _ = ex.from_notebook_node(nb, resources={'metadata': {'path': str(src.parent), 'name': title or stem}})
        page = src.parent/s['output_file']
        page.write_text(body)
        pages[stem] = page
    return pages

# ---------------------------------------------------------------- 3. check

_PROBE = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images].map(i => ({src: i.getAttribute('src') || '', complete: i.complete, w: i.naturalWidth}));
  const errs = document.querySelectorAll('.cell-output-error').length;  // Quarto's error outputs
  const heads = [...document.querySelectorAll('h1,h2,h3,h4,h5')].map(h => h.textContent.replace(/[¶#]/g, '').trim());
  const shown = document.body ? document.body.cloneNode(true) : document.createElement('body');
  shown.querySelectorAll('.jp-InputArea, div.sourceCode, .cell-code, script, style').forEach(e => e.remove());  // code is not output
  const r = {text: document.body ? document.body.innerText : '', outtext: shown.textContent, imgs, errs, heads};
  const el = document.createElement('script'); el.type = 'application/json'; el.id = '%s';
  el.textContent = JSON.stringify(r).replace(/</g, '\\\\u003c'); document.body.appendChild(el);
});
</script>""" % MARK

def _chromium_args(chromium:str, tmp:Path)->list:
    return [chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
            '--hide-scrollbars', '--allow-file-access-from-files', f'--user-data-dir={tmp}', '--virtual-time-budget=15000']

def dump_page(page:Path, chromium:str)->dict:
    "Open `page` in headless Chromium and return what the probe script saw after the page loaded."
    probe = page.with_name(page.stem + '.__check__.html')
    src = re.sub(r'\sloading=["\']lazy["\']', '', page.read_text(errors='replace'))  # every image must load, not only those in view
    src = src.replace('</body>', _PROBE + '</body>', 1) if '</body>' in src else src + _PROBE
    probe.write_text(src)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            r = subprocess.run(_chromium_args(chromium, Path(tmp)) + ['--dump-dom', probe.as_uri()],
                               capture_output=True, text=True, timeout=120)
    finally: probe.unlink(missing_ok=True)
    m = re.search(rf'<script type="application/json" id="{MARK}">(.*?)</script>', r.stdout, re.S)
    if not m: return {'error': f'Chromium gave no page (exit {r.returncode}): {r.stderr.strip()[-300:]}'}
    return json.loads(html.unescape(m.group(1)) if '&quot;' in m.group(1) else m.group(1))

def _check_image_file(page:Path, src:str, site:Path)->str|None:
    "Problem with the image `src` of `page`, or None: decoded with PIL, and inside the published site."
    from PIL import Image
    if src.startswith('data:'):
        try: Image.open(io.BytesIO(base64.b64decode(src.split(',', 1)[1]))).verify(); return None
        except Exception as e: return f"embedded image does not decode ({e})"
    if not _local(src): return None  # remote: the browser's naturalWidth decides
    f = (page.parent/src.split('#')[0].split('?')[0]).resolve()
    if not f.is_file(): return f"{src}: file missing"
    try: f.relative_to(site.resolve())
    except ValueError: return f"{src}: outside the site folder (it would not be published)"
    try: Image.open(f).verify()
    except Exception as e: return f"{src}: does not decode ({e})"

def check_page(page:Path, chromium:str, site:Path)->tuple[list, dict]:
    "Problems of `page` (empty list: fine) and what Chromium saw."
    seen = dump_page(page, chromium)
    if 'error' in seen: return [seen['error']], seen
    probs = []
    if len(seen['text'].strip()) < 20: probs.append('empty page')
    if 'Traceback (most recent call last)' in seen['outtext']: probs.append('Python traceback on the page')
    if seen['errs']: probs.append(f"{seen['errs']} error output(s)")
    for i in seen['imgs']:
        if not i['w']: probs.append(f"image not rendered (naturalWidth 0): {i['src'][:80]}")
        p = _check_image_file(page, i['src'], site)
        if p: probs.append(p)
    return probs, seen

def exported_symbols(nb:Path)->tuple[str|None, list, list]:
    "Module of notebook `nb` and its exported names: (module, functions and classes defined there, other names)."
    import importlib, inspect
    src = '\n'.join(''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code')
    m = re.search(r'^#\|\s*default_exp\s+([\w.]+)', src, re.M)
    if not m: return None, [], []
    from nbdev.config import get_config
    mod = importlib.import_module(f"{get_config().lib_name}.{m.group(1)}")
    names = [n for n in getattr(mod, '__all__', [])]
    own = lambda o: getattr(o, '__module__', mod.__name__) == mod.__name__  # a name re-exported from another module is documented there
    defs = [n for n in names if (inspect.isfunction(getattr(mod, n, None)) or inspect.isclass(getattr(mod, n, None))) and own(getattr(mod, n))]
    return mod.__name__, defs, [n for n in names if n not in defs]

def check_sidebar(quarto_yml:Path, nbs:Path=NBS)->list[str]:
    "Problems of the sidebar in `_quarto.yml`: entries that are not notebooks, notebooks that are missing."
    import yaml
    d = yaml.safe_load(quarto_yml.read_text()) or {}
    sb = (d.get('website') or {}).get('sidebar') or {}
    if isinstance(sb, list): sb = sb[0] if sb else {}
    ents = []
    def walk(x):
        if isinstance(x, str): ents.append(x)
        elif isinstance(x, dict):
            if 'href' in x: ents.append(x['href'])
            for v in x.get('contents', []) or []: walk(v)
        elif isinstance(x, list): [walk(v) for v in x]
    walk(sb.get('contents', []))
    probs = [f"sidebar entry {e} is not a notebook in nbs/" for e in ents if not (nbs/e).exists()]
    names = {Path(e).name for e in ents}
    probs += [f"{p.name} is not in the sidebar" for p in notebooks(nbs) if p.name not in names and p.stem != 'index']
    if not ents: probs.append('no sidebar contents in _quarto.yml')
    return probs

def screenshot(page:Path, out:Path, chromium:str, size:str='1280,2000')->bool:
    "Write a PNG screenshot of `page` to `out`."
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(_chromium_args(chromium, Path(tmp)) + [f'--window-size={size}', f'--screenshot={out.resolve()}', page.as_uri()],
                           capture_output=True, text=True, timeout=120)
    return r.returncode == 0 and out.exists()

def report(rows:list)->str:
    w = max(len(r[0]) for r in rows)
    lines = [f"{'page':{w}}  status", f"{'-'*w}  ------"]
    for name, probs in rows:
        lines.append(f"{name:{w}}  {'ok' if not probs else 'FAIL: ' + probs[0]}")
        lines += [f"{'':{w}}        {p}" for p in probs[1:]]
    return '\n'.join(lines)

def main(argv=None)->int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog='exit codes: 0 every page is fine, 1 a page failed, 2 no Chromium or bad arguments')
    p.add_argument('--exec', default='fast', choices=['none', 'fast', 'all'],
                   help='execute the notebooks before processing: none (as stored), fast (skip tst_flags cells, as nbdev_test), all (also slow cells)')
    p.add_argument('--stage-dir', default=None, help='folder for the processed notebooks and pages (default: a temporary folder)')
    p.add_argument('--only', action='append', default=[], metavar='NOTEBOOK', help='only this notebook (stem, repeatable)')
    p.add_argument('--out', default=None, help='PNG screenshot of the index page (default: none)')
    p.add_argument('--stage-only', default=None, metavar='DIR', help='only stage the docs into DIR (for `quarto render` there) and stop')
    p.add_argument('--check-site', default=None, metavar='DIR', help='only check the HTML pages already rendered in DIR (e.g. _docs)')
    p.add_argument('--_proc-one', nargs=3, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a._proc_one:
        src, dst, mode = a._proc_one
        print(json.dumps(proc_one(Path(src), Path(dst), mode))); return 0
    if a.stage_only:
        res = stage(Path(a.stage_only), a.exec, a.only)
        bad = {k: v['errors'] for k, v in res.items() if v['errors']}
        for k, v in bad.items(): print(f"{k}: " + '\n  '.join(v), file=sys.stderr)
        return 1 if bad else 0
    chromium = find_chromium()
    if not chromium: print("check_docs: no Chromium found (install Debian's `chromium`, or set CHROMIUM)", file=sys.stderr); return 2
    t0 = time.time(); rows = []
    if a.check_site:
        site = Path(a.check_site); pages = {p.stem: p for p in sorted(site.rglob('*.html')) if 'site_libs' not in p.parts}
        summary = {k: {'errors': []} for k in pages}
    else:
        tmp = None
        if a.stage_dir: site = Path(a.stage_dir); shutil.rmtree(site, ignore_errors=True)
        else: tmp = tempfile.TemporaryDirectory(); site = Path(tmp.name)
        print(f"staging the docs into {site} (exec: {a.exec})")
        summary = stage(site, a.exec, a.only)
        pages = render(site, summary)
        rows.append(('sidebar (_quarto.yml)', check_sidebar(NBS/'_quarto.yml')))
    seen_by = {}
    for stem, s in summary.items():
        probs = list(s['errors'])
        if stem in pages:
            pp, seen = check_page(pages[stem], chromium, site); probs += pp; seen_by[stem] = seen
        name = f"{stem} → {pages[stem].name}" if stem in pages else stem
        rows.append((name, probs))
    missing = []
    if not a.check_site:
        for nb in notebooks():
            if a.only and nb.stem not in a.only or nb.stem not in seen_by: continue
            mod, defs, other = exported_symbols(nb)
            if not mod: continue
            heads, text = set(seen_by[nb.stem].get('heads', [])), seen_by[nb.stem].get('text', '')
            missing += [f"{mod}.{n} (no show_doc section)" for n in defs if n not in heads]
            consts = [f"{mod}.{n}" for n in other if n not in text]
            if consts: print(f"note: exported names that are not functions or classes (show_doc does not document them) "
                             f"and that {pages[nb.stem].name} never mentions: {', '.join(consts)}")
        n_def = sum(len(exported_symbols(nb)[1]) for nb in notebooks() if not a.only or nb.stem in a.only)
        rows.append((f"exported functions and classes ({n_def}): show_doc", missing))
    shot = None
    if a.out and 'index' in pages:
        shot = Path(a.out)
        if not screenshot(pages['index'], shot, chromium): rows.append(('index screenshot', [f'could not write {shot}']))
    print(report(rows))
    bad = sum(1 for _, pr in rows if pr)
    print(f"{len(rows)-bad} ok, {bad} failed ({time.time()-t0:.0f}s)" + (f"; screenshot of the index page: {shot}" if shot else ''))
    return 1 if bad else 0

if __name__ == '__main__': sys.exit(main())
