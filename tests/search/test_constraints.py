"""Constraint expressions: what they accept, how they evaluate, what they name."""

from __future__ import annotations

import pickle

import pytest

from tsbench.errors import ConfigError
from tsbench.search.constraints import build_constraints, compile_constraint

NAMES = ["seq_len", "model.patch_len", "model.d_model"]
FIXED = {"model.n_heads": 4, "pred_len": 24}


def lookup(path: str):
    return FIXED[path]


@pytest.mark.parametrize(
    "text, point, holds",
    [
        ("model.patch_len <= seq_len", [96, 16, 64], True),
        ("model.patch_len <= seq_len", [8, 16, 64], False),
        ("model.d_model % model.n_heads == 0", [96, 16, 64], True),
        ("model.d_model % model.n_heads == 0", [96, 16, 66], False),
        ("seq_len >= 2 * pred_len and not model.patch_len > 32", [48, 16, 64], True),
        ("max(model.patch_len, 8) in (8, 16)", [48, 32, 64], False),
        ("seq_len // model.patch_len >= 4 or seq_len == 96", [96, 64, 64], True),
        ("abs(-seq_len) == seq_len if seq_len > 0 else False", [48, 8, 64], True),
        ("seq_len % (model.d_model - 64) == 0", [48, 8, 64], False),  # raises -> infeasible
    ],
)
def test_evaluation(text: str, point: list, holds: bool) -> None:
    constraints = build_constraints([text], NAMES, lookup)
    assert constraints(point) is holds
    assert constraints.violated(point) == ([] if holds else [text])


@pytest.mark.parametrize(
    "text, message",
    [
        ("__import__('os').system('true')", "attributes are allowed only"),
        ("__import__('os')", "calls a function"),
        ("open('x')", "calls a function"),
        ("seq_len[0] > 1", "Subscript"),
        ("[s for s in seq_len]", "ListComp"),
        ("(lambda: 1)", "Lambda"),
        ("(1).real > 0", "attributes are allowed only"),
        ("min(seq_len, key=abs)", "calls a function"),
        ("seq_len >", "not an expression"),
        ("seq_len := 3", "not an expression"),
    ],
)
def test_unsafe_or_invalid_expressions_are_refused(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        compile_constraint(text)
    assert error.value.field == "hydra.sweeper.constraints"


def test_unknown_field_is_named() -> None:
    with pytest.raises(ConfigError, match="'model.n_head'") as error:
        build_constraints(["model.d_model % model.n_head == 0"], NAMES, lookup)
    assert "neither a searched parameter nor a config value" in str(error.value)


def test_field_of_a_searched_group_is_refused() -> None:
    with pytest.raises(ConfigError, match="searched config group 'model'"):
        build_constraints(["model.n_heads > 1"], ["model"], lookup, swept_groups=["model"])


def test_fixed_values_are_resolved_once_and_picklable() -> None:
    constraints = build_constraints(
        ["model.d_model % model.n_heads == 0", "seq_len > pred_len"], NAMES, lookup
    )
    assert constraints.fixed == FIXED
    clone = pickle.loads(pickle.dumps(constraints))
    assert clone([48, 8, 64]) and not clone([12, 8, 64])
