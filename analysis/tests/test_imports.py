"""Imports go one way: kernels-config/kmatrix may import analysis, analysis never imports kmatrix,
and no module imports itself back through others. Read from the source (ast), so an import inside
a function counts as much as one at the top: it is still a dependency, only a later one."""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGES = {"analysis": "analysis", "kmatrix": os.path.join("kernels-config", "kmatrix")}
# Imports allowed for a while against the rule (none today): listed so the rest is held to it;
# once an edge here is gone, the test says so, and the line goes.
PENDING = set()


def modules(root):
    """{module name: source path} of both packages under root, tests left out."""
    out = {}
    for pkg, folder in PACKAGES.items():
        d = os.path.join(root, folder)
        for n in sorted(os.listdir(d)):
            if n.endswith(".py"):
                out[pkg if n == "__init__.py" else f"{pkg}.{n[:-3]}"] = os.path.join(d, n)
    return out


def imports(path, known):
    """The modules of `known` that the file at path imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(open(path).read(), path)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                     for a in node.names]
        else:
            continue
        found |= {n for n in names if n in known}
    return found


def graph(root):
    known = modules(root)
    return {m: imports(p, known) - {m} for m, p in known.items()}


def wrong_way(g):
    return sorted((a, b) for a, bs in g.items() for b in bs
                  if a.split(".")[0] == "analysis" and b.split(".")[0] == "kmatrix")


def circles(g):
    """Every import circle, each as the list of its modules (Tarjan's strongly connected components
    of more than one module)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return sorted(out)


def without_pending(g):
    return {a: {b for b in bs if (a, b) not in PENDING} for a, bs in g.items()}


def test_analysis_never_imports_kmatrix_and_no_module_imports_itself_back():
    g = graph(ROOT)
    assert len(g) > 30  # both packages were read
    stale = sorted(e for e in PENDING if e[1] not in g.get(e[0], ()))
    assert not stale, f"no longer imported, remove from PENDING: {stale}"
    g = without_pending(g)
    assert wrong_way(g) == [], "analysis imports kmatrix (kmatrix may import analysis, never the reverse)"
    assert circles(g) == [], "import circles"


def _tree(tmp_path, files):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    for folder in PACKAGES.values():
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    return str(tmp_path)


@pytest.mark.parametrize("files, wrong, circle", [
    # A constant fetched from a module that imports this one, inside a function: still a circle.
    ({"analysis/store.py": "def f():\n    from analysis.between_runs import SCHEMA\n",
      "analysis/between_runs.py": "from analysis import store\n"}, [], [["analysis.between_runs", "analysis.store"]]),
    ({"analysis/capacity.py": "import kmatrix.defs\n", "kernels-config/kmatrix/defs.py": ""},
     [("analysis.capacity", "kmatrix.defs")], []),
    ({"kernels-config/kmatrix/matrix.py": "from analysis import metrics\nfrom kmatrix.qemu import boot\n",
      "kernels-config/kmatrix/qemu.py": "", "analysis/metrics.py": "from analysis.output import fmt_ns\n",
      "analysis/output.py": ""}, [], []),
])
def test_the_checker_finds_a_circle_and_a_wrong_way_import(tmp_path, files, wrong, circle):
    g = graph(_tree(tmp_path, files))
    assert wrong_way(g) == wrong
    assert circles(g) == circle
