"""The package's import graph points one way: no import cycle between modules and no `_private` name imported from another module."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1]/'rise_nb'

def import_graph(pkg:Path=PKG):
    "`(edges, private)`: each module's rise_nb imports (module-level or inside functions), and every cross-module import of a `_name`."
    mods = {p.stem: p for p in pkg.glob('*.py') if not p.stem.startswith('_')}
    edges, private = {m: set() for m in mods}, []
    for m, p in mods.items():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split('.')
                tgt = parts[1] if parts[0] == pkg.name and len(parts) > 1 else (parts[0] if node.level else None)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    parts = a.name.split('.')
                    if parts[0] == pkg.name and len(parts) > 1 and parts[1] in mods and parts[1] != m: edges[m].add(parts[1])
                continue
            else: continue
            if tgt in mods and tgt != m:
                edges[m].add(tgt)
                private += [f"{m} imports {tgt}.{a.name}" for a in node.names if a.name.startswith('_') and not a.name.startswith('__')]
    return edges, private

def cycles(edges:dict)->list:
    "Every import cycle, as the list of modules on it (depth-first search for back edges)."
    found, state = [], {}
    def visit(v, path):
        state[v] = 'open'
        for w in sorted(edges[v]):
            if state.get(w) == 'open': found.append(path[path.index(w):] + [w])
            elif w not in state: visit(w, path + [w])
        state[v] = 'done'
    for v in sorted(edges):
        if v not in state: visit(v, [v])
    return found

def test_no_import_cycle():
    edges, _ = import_graph()
    assert len(edges) >= 10, f"expected the package's modules in {PKG}, found {sorted(edges)}"
    assert cycles(edges) == [], ' ; '.join(' -> '.join(c) for c in cycles(edges))

def test_no_private_import_across_modules():
    _, private = import_graph()
    assert private == [], '\n'.join(private)

def test_the_checker_sees_a_cycle_and_a_private_import(tmp_path):
    "The two checks above can fail: on a made-up package with both faults they report them."
    pkg = tmp_path/'rise_nb'; pkg.mkdir()
    (pkg/'a.py').write_text('from .b import thing\n')
    (pkg/'b.py').write_text('def f():\n    from rise_nb.a import _hidden\n')
    edges, private = import_graph(pkg)
    assert cycles(edges) == [['a', 'b', 'a']]
    assert private == ['b imports a._hidden']

def test_the_cli_is_the_top():
    "Nothing imports the command line, and the pipeline imports neither the analyses nor the figures."
    edges, _ = import_graph()
    assert not [m for m, deps in edges.items() if 'cli' in deps]
    assert not {'analysis', 'figures', 'cli'} & edges['pipeline']
