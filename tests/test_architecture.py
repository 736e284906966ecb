"""The package's imports follow the one-way data flow
config -> data -> model -> training -> run directory -> {report, tune -> forecast}: no
import cycle (function-level imports included; imports for type annotations only, under
``if TYPE_CHECKING:``, never run) and no import that runs back up the line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "tsbench"

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
