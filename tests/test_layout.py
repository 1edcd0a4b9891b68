"""The package's import graph points one way: no import cycle between modules and no `_private` name imported from another module."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1]/'rise_nb'

def _modules(pkg:Path)->dict:
    "Every module of `pkg` by dotted name relative to it (`mdp`, `tasks.core`; a subpackage's `__init__.py` is the subpackage, `tasks`)."
    mods = {}
    for p in sorted(pkg.rglob('*.py')):
        parts = p.relative_to(pkg).with_suffix('').parts
        if parts[-1] == '__init__': parts = parts[:-1]
        if parts and not any(s.startswith('_') for s in parts): mods['.'.join(parts)] = p
    return mods

def _target(mods, m, p, module, level, pkg_name):
    "The module of `mods` that `from <level dots><module> import ...` in module `m` (file `p`) imports from, or None."
    if level:
        here = m.split('.') if p.name == '__init__.py' else m.split('.')[:-1]
        if level - 1 > len(here): return None
        parts = here[:len(here) - (level - 1)] + (module.split('.') if module else [])
    else:
        parts = module.split('.')
        if parts[0] != pkg_name: return None
        parts = parts[1:]
    while parts and '.'.join(parts) not in mods: parts = parts[:-1]
    return '.'.join(parts) or None

def import_graph(pkg:Path=PKG):
    "`(edges, private)`: each module's rise_nb imports (module-level or inside functions), and every cross-module import of a `_name`."
    mods = _modules(pkg)
    edges, private = {m: set() for m in mods}, []
    for m, p in mods.items():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom):
                tgt = _target(mods, m, p, node.module, node.level, pkg.name)
                if node.module is None and tgt is not None:  # `from . import x`: x may be a module
                    for a in node.names:
                        sub = _target(mods, m, p, a.name, node.level, pkg.name)
                        if sub not in (None, m): edges[m].add(sub)
                    continue
            elif isinstance(node, ast.Import):
                for a in node.names:
                    t = _target(mods, m, p, a.name, 0, pkg.name)
                    if t not in (None, m): edges[m].add(t)
                continue
            else: continue
            if tgt is not None and tgt != m:
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

def test_the_checker_sees_subpackages(tmp_path):
    "Modules of a subpackage are nodes too (`sub`, `sub.c`): relative imports up and down resolve, and a cycle through `__init__` is seen."
    pkg = tmp_path/'rise_nb'; (pkg/'sub').mkdir(parents=True)
    (pkg/'a.py').write_text('_x = 1\n')
    (pkg/'sub'/'__init__.py').write_text('from .c import *\n')
    (pkg/'sub'/'c.py').write_text('from ..a import _x\nfrom rise_nb.sub import y\n')
    edges, private = import_graph(pkg)
    assert edges == {'a': set(), 'sub': {'sub.c'}, 'sub.c': {'a', 'sub'}}
    assert cycles(edges) == [['sub', 'sub.c', 'sub']]
    assert private == ['sub.c imports a._x']

def test_the_tasks_package_is_in_the_graph():
    "The task modules are checked like the others: the package imports its modules, they import the MDP, none imports the package."
    edges, _ = import_graph()
    assert {'tasks.core', 'tasks.answers', 'tasks.arithmetic', 'tasks.gsm8k', 'tasks.math'} <= edges['tasks']
    assert 'mdp' in edges['tasks.core'] and 'tasks' in edges['pipeline']
    assert not [m for m, deps in edges.items() if m.startswith('tasks.') and 'tasks' in deps]

def test_the_cli_is_the_top():
    "Nothing imports the command line, and the pipeline imports neither the analyses nor the figures."
    edges, _ = import_graph()
    assert not [m for m, deps in edges.items() if 'cli' in deps]
    assert not {'analysis', 'figures', 'cli'} & edges['pipeline']

def test_the_pipeline_holds_the_stages():
    "Configuration, presets, the run directory and the statistics over seeds are modules below the stages: none imports the pipeline, and each imports only those before it."
    edges, _ = import_graph()
    order = ['config', 'presets', 'rundir', 'pipeline']
    for i, m in enumerate(order): assert not set(order[i+1:]) & edges[m], f"{m} imports {sorted(set(order[i+1:]) & edges[m])}"
    assert not {'pipeline', 'rundir', 'presets', 'config'} & edges['stats']
    assert {'config', 'presets', 'rundir'} <= edges['pipeline']
