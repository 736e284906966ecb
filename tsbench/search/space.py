"""Hydra's override grammar -> scikit-optimize dimensions, and points back to overrides.

Mapping (the same grammar the official Optuna sweeper reads):

- ``choice(a, b, ...)`` or ``a,b,...`` -> ``Categorical`` (also for config groups,
  e.g. ``model=dlinear,patchtst``); ``glob(...)`` over a config group works too.
- ``range(start, stop[, step])`` keeps Hydra's own meaning, as in the basic sweeper:
  ``stop`` is exclusive, so ``range(1, 5)`` is 1, 2, 3, 4 and a grid preset and a
  Bayesian preset read the same ``range`` as the same set. A unit-step integer range
  becomes ``Integer(start, stop - 1)``; any other range (a step, or floats) becomes an
  ordered ``Categorical`` of its values.
- ``interval(a, b)`` -> ``Real(a, b)``, or ``Integer(a, b)`` (both ends included) when
  both ends are written as integers (``interval(64, 512)``) or cast with
  ``int(interval(...))``; ``float(interval(64, 512))`` forces ``Real``.
- ``tag(log, interval(...))`` (or ``tag(log, range(...))`` with unit step) ->
  log-uniform prior.
- Any other override (``trainer.max_epochs=3``) is fixed and passed to every trial.

Values come back as plain Python values (never numpy scalars).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import (
    ChoiceSweep,
    IntervalSweep,
    Override,
    Quote,
    QuotedString,
    RangeSweep,
    ValueType,
)
from hydra.errors import HydraException
from skopt.space import Categorical, Dimension, Integer, Real

from tsbench.counted import noun_for
from tsbench.errors import ConfigError

Scalar = str | int | float | bool | None

_INT_LITERAL = re.compile(r"[+-]?\d+")
_INTERVAL_ARGS = re.compile(
    r"interval\(\s*(?:start\s*=\s*)?([^,()]+?)\s*,\s*(?:end\s*=\s*)?([^,()]+?)\s*\)"
)
_CHECK_PARSER = OverridesParser.create()


@dataclass(frozen=True)
class Param:
    """One searched parameter: the override key and its skopt dimension."""

    key: str  # as written in the override, with any ``+``/``++`` prefix
    dimension: Dimension

    @property
    def name(self) -> str:
        """The config path (the key without ``+``/``++``): CSV column and constraint name."""
        return self.key.lstrip("+")


@dataclass(frozen=True)
class SearchSpace:
    """The searched parameters plus the fixed overrides every trial receives."""

    params: tuple[Param, ...]
    fixed: tuple[Override, ...]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    @property
    def dimensions(self) -> list[Dimension]:
        return [p.dimension for p in self.params]

    def values(self, point: Sequence[Any]) -> dict[str, Scalar]:
        """A skopt point as ``{name: plain value}``."""
        return {p.name: plain(v) for p, v in zip(self.params, point, strict=True)}

    def overrides(self, point: Sequence[Any]) -> list[str]:
        """The override strings that launch ``point`` (fixed overrides first)."""
        fixed = [o.input_line for o in self.fixed if o.input_line is not None]
        chosen = [
            f"{p.key}={format_value(plain(v))}" for p, v in zip(self.params, point, strict=True)
        ]
        return fixed + chosen

    def texts(self, point: Sequence[Any]) -> dict[str, str]:
        """A point as ``{name: text}``, written as trials.csv writes it."""
        return {p.name: str(plain(v)) for p, v in zip(self.params, point, strict=True)}

    def parse_row(self, row: Mapping[str, str]) -> list[Scalar]:
        """The point recorded as text in ``row``; ValueError naming the first value outside."""
        point = []
        for p in self.params:
            try:
                point.append(value_from_text(p.dimension, row[p.name]))
            except ValueError as error:
                raise ValueError(f"{p.name}={row[p.name]}: {error}") from None
        return point

    def describe(self) -> dict[str, str]:
        """Each parameter's range or choices as text (for the sweep's definition)."""
        return {p.name: describe(p.dimension) for p in self.params}


def parse_space(
    params: Mapping[str, str], arguments: Iterable[str], parser: OverridesParser
) -> SearchSpace:
    """Read ``hydra.sweeper.params`` and the command-line overrides into a space.

    A command-line override replaces a ``params`` entry with the same key.
    """
    lines = sweep_lines(params, arguments)
    searched: list[Param] = []
    fixed: list[Override] = []
    for key, line in lines.items():
        override = _parse(parser, key, line)
        if override.is_sweep_override():
            searched.append(Param(override.get_key_element(), dimension_of(override)))
        else:
            fixed.append(override)
    if not searched:
        raise ConfigError(
            "hydra.sweeper.params",
            "no parameter to search",
            "search a setting on the command line, e.g. "
            "'optim.lr=tag(log,interval(1e-5,1e-2))', or add it to the sweeper's params: "
            "{optim.lr: 'tag(log, interval(1e-5, 1e-2))'}",
        )
    return SearchSpace(tuple(searched), tuple(fixed))


def sweep_lines(params: Mapping[str, Any], arguments: Iterable[str]) -> dict[str, str]:
    """Each swept key's override: ``hydra.sweeper.params`` entries as ``key=value``, each
    replaced by the command-line override of the same key (the other arguments added)."""
    lines = {str(key): f"{key}={value}" for key, value in params.items()}
    for line in arguments:
        lines[line.split("=", 1)[0]] = line
    return lines


def dimension_of(override: Override) -> Dimension:
    """The skopt dimension of one sweep override (see the module docstring)."""
    key = override.get_key_element()
    name = key.lstrip("+")
    sweep = override.value()
    tags = set(getattr(sweep, "tags", set()))
    if unknown := sorted(tags - {"log"}):
        raise ConfigError(key, f"unsupported {noun_for(len(unknown), 'tag')} {unknown}",
                          "only 'log'")
    log = "log" in tags
    if isinstance(sweep, IntervalSweep):
        return _interval(key, name, sweep, override.get_value_string(), log)
    if isinstance(sweep, RangeSweep):
        values = [plain(v) for v in override.sweep_iterator()]
        if not values:
            raise ConfigError(key, f"{override.get_value_string()} is empty", "widen the range")
        if all(isinstance(v, int) for v in values) and sweep.step == 1:
            return _integer(key, name, values[0], values[-1], log)
        return _categorical(key, name, values, log)
    if override.value_type == ValueType.GLOB_CHOICE_SWEEP:
        return _categorical(key, name, list(override.sweep_iterator()), log)
    if isinstance(sweep, ChoiceSweep):
        return _categorical(key, name, [_unquote(v) for v in sweep.list], log)
    raise ConfigError(key, f"unsupported sweep {override.get_value_string()}")


def describe(dimension: Dimension) -> str:
    """A dimension as text: ``choice(a, b)``, ``int interval(1, 5)``, ``log interval(...)``."""
    if isinstance(dimension, Categorical):
        return f"choice({', '.join(str(plain(c)) for c in dimension.categories)})"
    kind = "int interval" if isinstance(dimension, Integer) else "interval"
    log = "log " if dimension.prior == "log-uniform" else ""
    low, high = (plain(b) for b in dimension.bounds)
    return f"{log}{kind}({low}, {high})"


_DESCRIBED = re.compile(r"(log )?(int )?interval\((.+), (.+)\)")


def dimension_from_text(text: str) -> Dimension:
    """The dimension :func:`describe` wrote as ``text`` (``search.yaml``'s ranges); a
    choice's values read back as int, float or bool where they are written so."""
    if text.startswith("choice(") and text.endswith(")"):
        return Categorical([_literal(v) for v in text[len("choice("):-1].split(", ")])
    found = _DESCRIBED.fullmatch(text)
    if found is None:
        raise ValueError(f"not a described range: {text!r}")
    log, integer, low, high = found.groups()
    prior = "log-uniform" if log else "uniform"
    if integer:
        return Integer(int(low), int(high), prior=prior)
    return Real(float(low), float(high), prior=prior)


def _literal(text: str) -> Scalar:
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return None if text == "None" else text


def position(dimension: Dimension, value: Scalar) -> float | None:
    """Where ``value`` sits in ``dimension``'s range: 0 at its low end, 1 at its high end,
    on the prior's scale (log for a log interval). None for a choice that is not three or
    more numbers (no order, or nothing between its ends)."""
    if isinstance(dimension, Categorical):
        values = [plain(c) for c in dimension.categories]
        if len(values) < 3 or any(isinstance(v, bool) or not isinstance(v, int | float)
                                  for v in values) or value not in values:
            return None
        ordered = sorted(values)  # type: ignore[type-var]
        return ordered.index(value) / (len(ordered) - 1)
    low, high, at = (float(x) for x in (*dimension.bounds, value))  # type: ignore[arg-type]
    if dimension.prior == "log-uniform":
        low, high, at = np.log(low), np.log(high), np.log(at)
    return float((at - low) / (high - low))


def plain(value: Any) -> Scalar:
    """A numpy scalar as the equivalent Python value; other values unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def format_value(value: Scalar) -> str:
    """``value`` as the right-hand side of a Hydra override, quoted when needed."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    try:
        if _CHECK_PARSER.parse_override(f"k={value}").value() == value:
            return value
    except HydraException:
        pass
    return QuotedString(text=value, quote=Quote.single).with_quotes()


def value_from_text(dimension: Dimension, text: str) -> Scalar:
    """Parse a value written with ``str()`` back into ``dimension``.

    Raises ValueError when ``text`` is not a value of ``dimension``.
    """
    if isinstance(dimension, Categorical):
        for category in dimension.categories:
            if str(plain(category)) == text:
                return plain(category)
        raise ValueError(f"{text!r} is not one of {list(dimension.categories)}")
    value: int | float = int(text) if isinstance(dimension, Integer) else float(text)
    low, high = dimension.bounds
    if not low <= value <= high:
        raise ValueError(f"{text} is outside [{low}, {high}]")
    return value


def _parse(parser: OverridesParser, key: str, line: str) -> Override:
    try:
        return parser.parse_override(line)
    except HydraException as error:
        raise ConfigError(key, f"cannot parse {line!r}: {error}") from None


def _interval(key: str, name: str, sweep: IntervalSweep, text: str, log: bool) -> Dimension:
    low, high = sweep.start, sweep.end
    if low is None or high is None or not low < high:
        raise ConfigError(key, f"interval low must be < high, got {text}", "swap or widen")
    if _integer_interval(sweep, text):
        return _integer(key, name, int(low), int(high), log)
    if log and low <= 0:
        raise ConfigError(key, f"log scale needs low > 0, got {text}")
    return Real(float(low), float(high), prior="log-uniform" if log else "uniform", name=name)


def _integer_interval(sweep: IntervalSweep, text: str) -> bool:
    if isinstance(sweep.start, int) and isinstance(sweep.end, int):
        return True  # int(interval(...))
    match = _INTERVAL_ARGS.search(text)
    if match is None or "float(" in text:
        return False
    return all(_INT_LITERAL.fullmatch(end) for end in match.groups())


def _integer(key: str, name: str, low: int, high: int, log: bool) -> Dimension:
    low, high = min(low, high), max(low, high)
    if low == high:
        raise ConfigError(key, f"holds the single value {low}", "pass it as a fixed value")
    if log and low <= 0:
        raise ConfigError(key, f"log scale needs values > 0, got low={low}")
    return Integer(low, high, prior="log-uniform" if log else "uniform", name=name)


def _categorical(key: str, name: str, values: list[Any], log: bool) -> Dimension:
    if log:
        raise ConfigError(key, "tag(log, ...) needs an interval or a unit-step range")
    if not values:
        raise ConfigError(key, "empty choice", "list at least one value")
    if any(isinstance(v, list | dict) for v in values):
        raise ConfigError(key, "choice values must be scalars, not lists or dicts")
    texts = [str(v) for v in values]
    if len(set(texts)) != len(texts):
        raise ConfigError(key, f"repeated value in choice {texts}", "list each value once")
    return Categorical(values, name=name)


def _unquote(value: Any) -> Any:
    return value.text if isinstance(value, QuotedString) else value
