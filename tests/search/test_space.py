"""Override grammar -> skopt dimensions, values, and override strings."""

from __future__ import annotations

import shlex

import numpy as np
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from skopt.space import Categorical, Integer, Real

from tsbench.errors import ConfigError
from tsbench.search.space import format_value, parse_space, plain, value_from_text

PARSER = OverridesParser.create()


def dimension(line: str):
    return parse_space({}, [line], PARSER).params[0].dimension


@pytest.mark.parametrize(
    "line, expected",
    [
        ("k=choice(1, 2.5, x)", Categorical([1, 2.5, "x"])),
        ("k=a,b", Categorical(["a", "b"])),
        ("k=choice('1', 'x y')", Categorical(["1", "x y"])),
        ("k=choice(true, false)", Categorical([True, False])),
        ("k=range(1, 5)", Integer(1, 4)),  # Hydra's range: stop exclusive
        ("k=range(96, 721, 48)", Categorical(list(range(96, 721, 48)))),
        ("k=range(0.5, 2.0, 0.5)", Categorical([0.5, 1.0, 1.5])),
        ("k=tag(log, range(1, 100))", Integer(1, 99, prior="log-uniform")),
        ("k=interval(0.5, 3)", Real(0.5, 3.0)),
        ("k=interval(1.0, 3.0)", Real(1.0, 3.0)),
        ("k=interval(64, 512)", Integer(64, 512)),  # both ends written as ints
        ("k=int(interval(1.5, 5))", Integer(1, 5)),
        ("k=float(interval(64, 512))", Real(64.0, 512.0)),
        ("k=tag(log, interval(1e-5, 1e-2))", Real(1e-5, 1e-2, prior="log-uniform")),
        ("k=tag(log, interval(16, 256))", Integer(16, 256, prior="log-uniform")),
    ],
)
def test_dimension_of_each_sweep(line: str, expected) -> None:
    assert dimension(line) == expected


@pytest.mark.parametrize(
    "line, message",
    [
        ("k=choice()", "empty choice"),
        ("k=interval(2.0, 1.0)", "low must be < high"),
        ("k=interval(1.0, 1.0)", "low must be < high"),
        ("k=range(5, 1)", "is empty"),
        ("k=range(3, 4)", "single value"),
        ("k=tag(log, interval(0.0, 1.0))", "log scale"),
        ("k=tag(log, choice(1, 2))", r"tag\(log"),
        ("k=tag(fast, interval(0.0, 1.0))", r"unsupported tag \['fast'\]"),
        ("k=tag(fast, slow, interval(0.0, 1.0))", r"unsupported tags \['fast', 'slow'\]"),
        ("k=choice(1, 1)", "repeated value"),
        ("k=choice([1, 2], [3])", "scalars"),
    ],
)
def test_bad_sweeps_name_the_key(line: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        dimension(line)
    assert error.value.field == "k"


def test_params_and_command_line_merge() -> None:
    space = parse_space(
        {"a": "choice(1, 2)", "b": "interval(0.0, 1.0)", "fixed": "7"},
        ["b=choice(x, y)", "+extra=3", "c=range(1, 3)"],
        PARSER,
    )
    assert space.names == ["a", "b", "c"]
    assert space.dimensions[1] == Categorical(["x", "y"])  # the command line wins
    assert [o.input_line for o in space.fixed] == ["fixed=7", "+extra=3"]


def test_no_search_parameter_is_an_error() -> None:
    """Its fix names the command line's form, pasted into a shell a search of its own."""
    with pytest.raises(ConfigError, match="no parameter to search") as error:
        parse_space({"a": "1"}, ["b=2"], PARSER)
    pasted = shlex.split(error.value.fix.split(", e.g. ")[1].split(", or ")[0])
    assert pasted == ["optim.lr=tag(log,interval(1e-5,1e-2))"]
    space = parse_space({}, pasted, PARSER)
    assert space.names == ["optim.lr"] and space.dimensions[0].prior == "log-uniform"
    assert error.value.fix.endswith("{optim.lr: 'tag(log, interval(1e-5, 1e-2))'}")


def test_overrides_are_plain_and_round_trip() -> None:
    space = parse_space(
        {}, ["+n=range(1, 9)", """k=choice('1', 'a b', "it's")""", "r=interval(0.0, 1.0)"], PARSER
    )
    point = [np.int64(3), np.str_("1"), 0.25]
    assert space.values(point) == {"n": 3, "k": "1", "r": 0.25}
    assert all(type(v) in (int, str, float) for v in space.values(point).values())
    overrides = space.overrides(point)
    assert overrides == ["+n=3", "k='1'", "r=0.25"]
    parsed = [PARSER.parse_override(o).value() for o in overrides]
    assert parsed == [3, "1", 0.25]
    row = {"n": "3", "k": "1", "r": "0.25"}
    assert space.parse_row(row) == [3, "1", 0.25]
    with pytest.raises(ValueError, match="n=9"):  # outside Integer(1, 8)
        space.parse_row({**row, "n": "9"})


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "null"),
        (True, "true"),
        (3, "3"),
        (1e-05, "1e-05"),
        ("abc", "abc"),
        ("true", "'true'"),
        ("1", "'1'"),
        ("x,y", "'x,y'"),
        ("it's", "'it\\'s'"),
    ],
)
def test_format_value(value, text: str) -> None:
    assert format_value(value) == text
    assert PARSER.parse_override(f"k={text}").value() == value


def test_value_from_text() -> None:
    assert value_from_text(Categorical([None, 4, "a"]), "None") is None
    assert value_from_text(Categorical([None, 4, "a"]), "4") == 4
    assert value_from_text(Real(0.0, 1.0), repr(0.1 + 0.2)) == 0.1 + 0.2
    with pytest.raises(ValueError):
        value_from_text(Integer(1, 3), "4")
    with pytest.raises(ValueError):
        value_from_text(Categorical(["a"]), "b")


def test_plain() -> None:
    assert type(plain(np.int64(2))) is int
    assert type(plain(np.str_("a"))) is str
    assert type(plain(np.float64(0.5))) is float
