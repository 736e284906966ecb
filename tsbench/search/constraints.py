"""Constraints: Python expressions over searched parameters and fixed config values.

An expression such as ``model.patch_len <= seq_len`` or
``model.d_model % model.n_heads == 0`` is parsed once, checked against a whitelist of
syntax (literals, names and dotted config paths, arithmetic, comparisons, ``and``/
``or``/``not``, ``x if c else y``, tuples/lists for ``in``, and the functions
``abs min max round int float``) and compiled; nothing else (attribute access on
values, subscripts, calls to other functions, comprehensions, lambdas) is accepted, so
evaluation cannot reach anything but the given values. A point for which a constraint
is false, or raises (e.g. a modulo by zero), is infeasible: it is never launched.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import CodeType
from typing import Any

from tsbench.errors import ConfigError

FUNCTIONS: dict[str, Any] = {f.__name__: f for f in (abs, min, max, round, int, float)}

_ALLOWED = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.IfExp,
    ast.Tuple,
    ast.List,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Call,
)


@dataclass(frozen=True)
class Constraint:
    """One compiled expression and the dotted config paths it reads."""

    text: str
    fields: tuple[str, ...]  # dotted paths, in the order of the compiled variables
    code: CodeType

    def holds(self, values: Mapping[str, Any]) -> bool:
        """True when the expression is true for ``values`` (dotted path -> value)."""
        local = {_variable(i): values[f] for i, f in enumerate(self.fields)}
        try:
            return bool(eval(self.code, {"__builtins__": {}, **FUNCTIONS}, local))  # noqa: S307
        except (ArithmeticError, TypeError, ValueError):
            return False

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return compile_constraint, (self.text,)  # code objects do not pickle


def compile_constraint(text: str) -> Constraint:
    """Parse and check ``text``; raise :class:`ConfigError` if it is not allowed."""
    field_name = "hydra.sweeper.constraints"
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ConfigError(field_name, f"{text!r} is not an expression: {error.msg}") from None
    rewriter = _PathsToNames(text)
    tree = ast.fix_missing_locations(rewriter.visit(tree))
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ConfigError(
                field_name,
                f"{text!r} uses {type(node).__name__}, which constraints do not allow",
                "use names, numbers, arithmetic, comparisons, and/or/not, abs/min/max",
            )
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS and not node.keywords
        ):
            raise ConfigError(
                field_name, f"{text!r} calls a function other than {', '.join(FUNCTIONS)}"
            )
    return Constraint(text, tuple(rewriter.fields), compile(tree, "<constraint>", "eval"))


class ConstraintSet:
    """All constraints of a sweep, evaluated on points of a search space.

    ``fixed`` gives the values of config paths that are not searched. Instances are
    picklable and are passed to skopt as ``space_constraint``.
    """

    def __init__(
        self, constraints: Sequence[Constraint], names: Sequence[str], fixed: Mapping[str, Any]
    ) -> None:
        self.constraints = tuple(constraints)
        self.names = list(names)
        self.fixed = dict(fixed)

    def __call__(self, point: Sequence[Any]) -> bool:
        return not self.violated(point)

    def violated(self, point: Sequence[Any]) -> list[str]:
        """The texts of the constraints that ``point`` breaks."""
        values = {**self.fixed, **dict(zip(self.names, point, strict=True))}
        return [c.text for c in self.constraints if not c.holds(values)]

    def __bool__(self) -> bool:
        return bool(self.constraints)


def _variable(index: int) -> str:
    return f"_v{index}"


class _PathsToNames(ast.NodeTransformer):
    """Replace each ``a.b.c`` path (and bare name) by a numbered variable ``_vN``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.fields: list[str] = []

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in FUNCTIONS:
            return node
        return self._name_for(node.id, node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        parts = []
        current: ast.AST = node
        while isinstance(current, ast.Attribute):
            parts.append(current.attr)
            current = current.value
        if not isinstance(current, ast.Name):
            raise ConfigError(
                "hydra.sweeper.constraints",
                f"{self.text!r}: attributes are allowed only on config paths like model.d_model",
            )
        parts.append(current.id)
        return self._name_for(".".join(reversed(parts)), node)

    def _name_for(self, path: str, node: ast.AST) -> ast.AST:
        if path not in self.fields:
            self.fields.append(path)
        return ast.copy_location(ast.Name(_variable(self.fields.index(path)), ast.Load()), node)


def build_constraints(
    texts: Sequence[str],
    names: Sequence[str],
    lookup: Callable[[str], Any],
    swept_groups: Sequence[str] = (),
) -> ConstraintSet:
    """Compile ``texts`` and resolve every path that is not a searched parameter.

    ``lookup`` gives a dotted config path's fixed value (raising KeyError when the path
    holds no value); ``swept_groups`` are searched config groups, whose fields
    change with the group choice and so cannot be checked before launch.
    """
    constraints = [compile_constraint(t) for t in texts]
    fixed: dict[str, Any] = {}
    for constraint in constraints:
        for path in constraint.fields:
            if path in names or path in fixed:
                continue
            group = next((g for g in swept_groups if path.startswith(g + ".")), None)
            if group is not None:
                raise ConfigError(
                    "hydra.sweeper.constraints",
                    f"{constraint.text!r} reads {path}, which changes with the searched "
                    f"config group {group!r}",
                    "search the field itself or drop the constraint",
                )
            try:
                fixed[path] = lookup(path)
            except KeyError:
                raise ConfigError(
                    "hydra.sweeper.constraints",
                    f"{constraint.text!r} names {path!r}, which is neither a searched "
                    "parameter nor a config value",
                    f"check the spelling; searched: {', '.join(names)}",
                ) from None
    return ConstraintSet(constraints, names, fixed)
