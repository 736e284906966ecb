"""The package's imports follow the one-way data flow
config -> data -> model -> training -> run directory -> {report, tune -> forecast}: no
import cycle (function-level imports included; imports for type annotations only, under
``if TYPE_CHECKING:``, never run) and no import that runs back up the line. Hydra's private
``hydra._internal`` is touched by ``tsbench/hydra_private.py`` alone, in the package, its
plugins, the benchmarks and the tests."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "tsbench"

#: Where Python of the project lies, all of which uses Hydra through its public API or
#: :mod:`tsbench.hydra_private`.
SOURCES = ("tsbench", "hydra_plugins", "benchmarks", "tests")
#: The module that imports ``hydra._internal``, and the one that holds the ``_target_``
#: Hydra records for its basic sweeper as data (a name read in a multirun.yaml, imported
#: by no one): :data:`tsbench.search.names.BASIC_SWEEPERS`.
HYDRA_PRIVATE = ROOT / "tsbench" / "hydra_private.py"
HYDRA_TARGETS = ROOT / "tsbench" / "search" / "names.py"
#: A dotted name in ``hydra._internal`` written as a string (a ``_target_``, a name given
#: to ``importlib.import_module``): Hydra imports what it names.
#: This file names ``hydra._internal`` to find it, and imports nothing of it.
THIS_FILE = Path(__file__).resolve()
INTERNAL_NAME = re.compile(r"hydra\._internal(\.\w+)*")

#: Package -> packages it must never import (directly or in a function).
FORBIDDEN = {
    "tsbench.search": ("tsbench.training", "tsbench.data", "tsbench.models", "tsbench.tune",
                       "tsbench.report", "tsbench.analysis"),
    "tsbench.report": ("tsbench.training", "tsbench.tune"),
    "tsbench.training": ("tsbench.report", "tsbench.tune", "tsbench.analysis",
                         "tsbench.forecast"),
    "tsbench.forecast": ("tsbench.report", "tsbench.search"),
    "tsbench.tune": ("tsbench.forecast",),  # a tuning folder's forecast reads tune's files
    "tsbench.analysis": ("tsbench.training", "tsbench.tune", "tsbench.report"),
    "tsbench.data": ("tsbench.models", "tsbench.training", "tsbench.search", "tsbench.tune",
                     "tsbench.report", "tsbench.analysis", "tsbench.rundir"),
    "tsbench.models": ("tsbench.training", "tsbench.search", "tsbench.tune", "tsbench.report",
                       "tsbench.analysis", "tsbench.rundir"),
    "tsbench.rundir": ("tsbench.training", "tsbench.tune", "tsbench.report", "tsbench.search",
                       "tsbench.forecast"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports(path: Path, known: set[str]) -> set[str]:
    """The tsbench modules ``path`` imports anywhere in its body (functions included)."""
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(
        ".", 1)[0]
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            # ``from pkg import mod`` imports the module pkg.mod when there is one
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                     for a in node.names]
        else:
            continue
        found |= {n for n in names if n == "tsbench" or n.startswith("tsbench.")}
    return found & known


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node that can run: all of them but the bodies of ``if TYPE_CHECKING:`` blocks
    (imports for annotations only, never executed)."""
    found: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(path, set(found)) - {name} for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_backward_imports(package: str) -> None:
    bad = sorted(
        f"{module} imports {target}"
        for module, targets in graph().items()
        if module == package or module.startswith(package + ".")
        for target in targets
        if any(target == f or target.startswith(f + ".") for f in FORBIDDEN[package])
    )
    assert bad == []


def test_the_checks_see_function_level_imports_and_cycles() -> None:
    """The graph is not vacuous: it holds a known edge, and a planted cycle is found."""
    edges = graph()
    assert "tsbench.training.train_and_score" in edges["tsbench.training.crossval"]
    assert "tsbench.data.loading" in edges["tsbench.rundir"]  # a function-level import
    planted = {k: set(v) for k, v in edges.items()}
    planted["tsbench.data.splits"].add("tsbench.training.run")
    assert any("tsbench.data.splits" in c for c in cycles(planted))


def hydra_internal_uses(path: Path) -> list[str]:
    """Where ``path`` imports ``hydra._internal`` (``import``, ``from ... import``, also in a
    function) or names a module or class in it as a string, as ``<path>:<line>: <what>``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = [node.value] if INTERNAL_NAME.fullmatch(node.value) else []
        else:
            continue
        found += [f"{path}:{node.lineno}: {name}" for name in names
                  if name == "hydra._internal" or name.startswith("hydra._internal.")]
    return found


def project_sources() -> list[Path]:
    return sorted(p for folder in SOURCES for p in (ROOT / folder).rglob("*.py"))


def test_only_hydra_private_touches_hydra_internal() -> None:
    """A Hydra upgrade that moves its private pieces breaks one module, not the tests."""
    bad = [use for path in project_sources() if path not in (HYDRA_PRIVATE, THIS_FILE)
           for use in hydra_internal_uses(path)
           if not (path == HYDRA_TARGETS and use.endswith(".BasicSweeper"))]
    assert bad == []


def test_the_hydra_internal_check_sees_the_tests_and_each_way_in(tmp_path: Path) -> None:
    """The check reads the tests too, and finds an import, a ``from`` import (in a
    function) and a ``_target_`` of ``hydra._internal``; Hydra's public API passes."""
    sources = project_sources()
    assert ROOT / "tests" / "search" / "conftest.py" in sources
    assert hydra_internal_uses(HYDRA_PRIVATE)  # a file known to use it is seen using it
    planted = tmp_path / "test_planted.py"
    planted.write_text(
        "import hydra._internal\n"
        "import hydra.core.plugins\n"
        "def run():\n"
        "    from hydra._internal.hydra import Hydra\n"
        "    from hydra import _internal\n"
        "TARGET = {'_target_': 'hydra._internal.core_plugins.basic_sweeper.BasicSweeper'}\n"
        "NOTE = 'hydra._internal is private'\n")
    assert sorted(use.split(":", 2)[1:] for use in hydra_internal_uses(planted)) == [
        ["1", " hydra._internal"], ["4", " hydra._internal.hydra.Hydra"],
        ["5", " hydra._internal"],
        ["6", " hydra._internal.core_plugins.basic_sweeper.BasicSweeper"]]
