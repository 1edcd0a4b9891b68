"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does, without needing Quarto).

Markdown cells are copied as they are (image links to ../figures/ become figures/); code cells (minus `#|` directives and `#| hide` cells) become
```python blocks followed by their text outputs (none for `#| output: false`; never stderr). Run from the repository root: `python .ci/readme.py`.
`--check` exits 1 if README.md is out of date.
"""
import json, sys
from pathlib import Path

def render(nb_path='nbs/index.ipynb'):
    nb = json.loads(Path(nb_path).read_text())
    out = []
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown': out.append(src.strip().replace('](../', '](')); continue  # images: docs pages live in nbs/
        if c['cell_type'] != 'code': continue
        lines = src.splitlines()
        dirs = [l for l in lines if l.startswith('#|')]
        if any(d.replace(' ', '') in ('#|hide', '#|export', '#|exporti') for d in dirs): continue
        code = '\n'.join(l for l in lines if not l.startswith('#|')).strip()
        if code and not any(d.replace(' ', '') == '#|echo:false' for d in dirs): out.append(f"```python\n{code}\n```")
        if any(d.replace(' ', '') == '#|output:false' for d in dirs): continue
        for o in c.get('outputs', []):
            if o.get('name') == 'stderr': continue  # progress bars and warnings
            txt = o.get('text') or o.get('data', {}).get('text/markdown') or o.get('data', {}).get('text/plain')
            if txt: out.append(f"    " + ''.join(txt).rstrip().replace('\n', '\n    ') if 'text/markdown' not in o.get('data', {}) else ''.join(txt).strip())
    return '<!-- WARNING: generated from nbs/index.ipynb by .ci/readme.py; edit that notebook instead -->\n\n' + '\n\n'.join(out) + '\n'

if __name__ == '__main__':
    txt = render()
    if '--check' in sys.argv:
        if Path('README.md').read_text() != txt: print('README.md is out of date: run python .ci/readme.py'); sys.exit(1)
    else: Path('README.md').write_text(txt)
