"""The module graph of the packages has no import cycle, and imports point down only.

The graph is built from the source with ``ast``: every ``import`` and ``from ... import``
statement counts, at module level and inside functions (a function-level import is still an
edge between two modules; hiding one in a function does not break a cycle). ``from x import y``
is an edge to ``x.y`` when ``x.y`` is a module of the packages, else to ``x``; an import of a
name that is not a module of the packages is resolved to its nearest enclosing module.

The layers (docs/architecture.md): ``logicmodel`` imports none of monitoring, estimation,
tiltak; ``estimation`` none of monitoring, logicmodel, tiltak; ``monitoring`` none of tiltak,
estimation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("logicmodel", "monitoring", "estimation", "tiltak", "tiltak_base")

FORBIDDEN = {
    "logicmodel": {"monitoring", "estimation", "tiltak"},
    "estimation": {"monitoring", "logicmodel", "tiltak"},
    "monitoring": {"tiltak", "estimation"},
    "tiltak_base": {"logicmodel", "monitoring", "estimation", "tiltak"},
}

# Cycles not yet broken, each named by its sorted set of modules, with the date it was
# allowed and the reason.  An entry that no longer is a cycle fails the test (remove it).
ALLOWED_CYCLES: dict[frozenset[str], str] = {}


def modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the packages: dotted name -> (file, is a package ``__init__``)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            found[".".join(parts)] = (path, is_package)
    return found


def _nearest(name: str, known) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(name: str, path: Path, is_package: bool, known) -> list[tuple[str, int]]:
    """The modules of the packages that module ``name`` imports, with the line of each import."""
    package = name if is_package else name.rpartition(".")[0]
    targets = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                targets.append((_nearest(alias.name, known), node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level > 1:
                    base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                full = f"{source}.{alias.name}"
                targets.append((full if full in known else _nearest(source, known), node.lineno))
    return [(target, line) for target, line in targets if target and target != name]


def module_graph() -> nx.DiGraph:
    known = modules()
    graph = nx.DiGraph()
    for name, (path, is_package) in known.items():
        graph.add_node(name)
        for target, line in imports_of(name, path, is_package, known):
            graph.add_edge(name, target, where=f"{path.relative_to(ROOT)}:{line}")
    return graph


def cycles(graph: nx.DiGraph) -> list[frozenset[str]]:
    return [frozenset(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


def describe(graph: nx.DiGraph, cycle: frozenset[str]) -> str:
    edges = sorted(graph.subgraph(cycle).edges(data="where"))
    lines = [f"  {a} -> {b}  ({where})" for a, b, where in edges]
    return "cycle of " + ", ".join(sorted(cycle)) + ":\n" + "\n".join(lines)


def test_the_graph_sees_function_level_and_submodule_imports(tmp_path):
    known = {"p": None, "p.a": None, "p.b": None, "p.c": None}
    source = tmp_path / "a.py"
    source.write_text(
        "from p import b\n"  # submodule: an edge to p.b
        "from p.c import thing\n"  # a name: an edge to p.c
        "def f():\n"
        "    from . import c\n"  # function-level, relative
        "    import p.b.deeper\n",  # not a module: nearest enclosing, p.b
        encoding="utf-8",
    )
    assert imports_of("p.a", source, False, known) == [
        ("p.b", 1), ("p.c", 2), ("p.c", 4), ("p.b", 5)
    ]


def test_no_import_cycle():
    graph = module_graph()
    found = cycles(graph)
    new = [c for c in found if c not in ALLOWED_CYCLES]
    assert not new, "import cycles in the packages:\n" + "\n".join(describe(graph, c) for c in new)
    stale = [sorted(c) for c in ALLOWED_CYCLES if c not in found]
    assert not stale, f"allowed cycles that are no longer cycles (remove them): {stale}"


def test_imports_point_down_only():
    graph = module_graph()
    wrong = [
        f"  {a} -> {b}  ({where})"
        for a, b, where in sorted(graph.edges(data="where"))
        if b.split(".")[0] in FORBIDDEN.get(a.split(".")[0], ())
    ]
    assert not wrong, "imports that point up or across the layers:\n" + "\n".join(wrong)


# Where an import inside a function is allowed (issue 12): at the command edge, so that
# ``tiltak --help`` and ``tiltak validate`` start without the libraries other commands need;
# in a package's ``__getattr__`` (lazy exports); for the engines' optional extras; and for the
# heavy third-party libraries that one path of a module needs (so importing the module for its
# other paths stays cheap). Every import of a module of the packages, and of the standard
# library, stands at the top of its module, where readers and tools see the structure.
COMMAND_EDGE = ("tiltak/cli.py", "tiltak/commands/")
LAZY_LIBRARIES = frozenset({
    "numpy", "pandas", "scipy", "sklearn", "duckdb", "pyarrow", "matplotlib", "openpyxl", "ortools",
    "sqlglot", "jinja2", "psycopg", "pyspark",
    # loads ctypes and probes the process's native libraries; only the disclosure audit's
    # one-BLAS-thread limit uses it, beside its lazy scipy (3 ms of tiltak validate's start)
    "threadpoolctl",
})
# module -> the package modules it may import inside a function, and why.
LAZY_PROJECT_IMPORTS = {
    "monitoring/engines/opening.py": (
        {"monitoring.engines.duckdb", "monitoring.engines.postgres", "monitoring.engines.spark"},
        "each engine needs its optional extra (psycopg, pyspark) only when it is opened",
    ),
    "tiltak/loading.py": (
        {"monitoring.monitored"},
        "the monitored form of a model is built only for the commands that monitor or "
        "estimate; `tiltak validate` never builds it, and its module brings the SQL compiler "
        "(monitoring.sqlcompile, compiler, engines: 33 dataclasses, about 8 ms of the start)",
    ),
}


def function_level_imports(path: Path):
    """(line, imported module, function) for every import inside a function of ``path``,
    a module-level ``__getattr__`` left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if function.name == "__getattr__" and function in tree.body:
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom):
                yield node.lineno, "." * node.level + (node.module or ""), function.name
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    yield node.lineno, alias.name, function.name


def test_function_level_imports_only_where_lazy_loading_pays(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("def __getattr__(name):\n    import json\n"
                      "def f():\n    if True:\n        from . import x\n    import numpy\n", encoding="utf-8")
    assert sorted(function_level_imports(sample)) == [(5, ".", "f"), (6, "numpy", "f")]
    wrong = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(COMMAND_EDGE):
                continue
            allowed = LAZY_PROJECT_IMPORTS.get(rel, (set(), ""))[0]
            for line, module, function in function_level_imports(path):
                if module.split(".")[0] in LAZY_LIBRARIES or module in allowed:
                    continue
                wrong.append(f"  {rel}:{line} in {function}(): import {module}")
    assert not wrong, ("imports inside functions that belong at the top of their module "
                       "(or, with a reason, in LAZY_PROJECT_IMPORTS):\n" + "\n".join(wrong))
