"""The recipe's settings (``conf/recipe/*.yaml`` and ``recipe.<field>=`` overrides), checked
before any stage runs: a value no stage can use ends ``tsbench-tune`` at once in one line
naming the field and a valid value, instead of stages later (a zero budget ran stages (a)-(e)
and then blamed the searches; ``recipe.eta=1`` failed in (d) after minutes)."""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from tsbench.errors import TsbenchError
from tsbench.search.pruning import KINDS

RECIPES = Path(__file__).resolve().parents[1] / "conf" / "recipe"


def load_recipe(name: str) -> DictConfig:
    """``conf/recipe/<name>.yaml``, merged over ``default.yaml`` when it extends it."""
    path = RECIPES / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in RECIPES.glob("*.yaml"))
        raise TsbenchError(f"recipe: unknown recipe '{name}' -> use one of {known}")
    recipe = OmegaConf.load(path)
    if "defaults" in recipe:  # quick.yaml extends default.yaml
        base = OmegaConf.load(RECIPES / "default.yaml")
        recipe = OmegaConf.merge(base, {k: v for k, v in recipe.items() if k != "defaults"})
    return recipe


def recipe_arguments(recipe: dict[str, Any]) -> list[str]:
    """The ``recipe.<field>=<value>`` arguments that give ``recipe`` on top of the default
    recipe, shell-quoted (what a report's command needs to say to be rerun)."""
    default = OmegaConf.to_container(load_recipe("default"), resolve=True)
    assert isinstance(default, dict)
    return [shlex.quote(f"recipe.{field}={value if isinstance(value, str) else json.dumps(value)}")
            for field, value in recipe.items() if default.get(field) != value]


def _whole(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(
        value)


def _list_of(value: Any, item: Callable[[Any], bool]) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str) and all(map(item, value))


def _seeds(value: Any) -> bool:
    return _list_of(value, lambda s: _whole(s, -(2**31)))


#: field -> (whether a value is valid, what a valid one is, an example)
RULES: dict[str, tuple[Callable[[Any], bool], str, str]] = {
    "budget_hours": (lambda v: _number(v) and v > 0, "a number of hours > 0", "0.5"),
    "max_epochs": (lambda v: _whole(v, 1), "a whole number of epochs >= 1", "30"),
    "patience": (lambda v: _whole(v, 0), "a whole number of epochs >= 0 (0: no early "
                 "stopping)", "6"),
    "pruner": (lambda v: v in KINDS, f"one of {list(KINDS)}", "asha"),
    "min_epochs": (lambda v: _whole(v, 1), "a whole number of epochs >= 1", "2"),
    "eta": (lambda v: _whole(v, 2), "a whole number >= 2 (the top 1/eta of a rung goes on)",
            "3"),
    "min_trials": (lambda v: _whole(v, 1), "a whole number >= 1", "4"),
    "max_trials": (lambda v: v is None or _whole(v, 1), "null or a whole number >= 1", "null"),
    "retrain_share": (lambda v: _number(v) and 0 <= v < 1, "a share in [0, 1)", "0.3"),
    "random_share": (lambda v: _number(v) and 0 < v < 1,
                     "a share in (0, 1) ((e) gets the rest of the search time)", "0.4"),
    "warm_start_top": (lambda v: _whole(v, 0), "a whole number >= 0", "5"),
    "n_lookbacks": (lambda v: _whole(v, 1), "a whole number >= 1", "6"),
    "max_seq_len": (lambda v: _whole(v, 1), "a whole number of rows >= 1", "720"),
    "lr_span": (lambda v: _number(v) and v > 1, "a number > 1", "10"),
    "top_k": (lambda v: _whole(v, 1), "a whole number >= 1", "3"),
    "seeds": (_seeds, "a list of seeds", "[1,2] (or [] for no retraining)"),
    "space": (lambda v: v is None or (isinstance(v, str) and re.fullmatch(r"[\w.-]+", v)
                                      and not v.endswith((".yaml", ".yml"))),
              "null or the name of a config in search/ (no folder, no .yaml)",
              "my_patchtst_tune (for search/my_patchtst_tune.yaml)"),
    "search": (lambda v: _list_of(v, lambda s: isinstance(s, str)), "a list of overrides",
               "\"['data.batch_size=choice(8,16,32)']\""),
    "cv_folds": (lambda v: v in (0, None) or _whole(v, 2),
                 "a number of folds that selects anything",
                 "0 (the validation split) or 2 or more"),
    "random_state": (lambda v: _whole(v, 0), "a seed (a whole number >= 0)", "0"),
    "n_jobs": (lambda v: _whole(v, 1), "a whole number of trials at once >= 1", "1"),
    "refit": (lambda v: isinstance(v, bool), "true or false",
              "true (also score refits on train+val) or false"),
    "refit_seeds": (lambda v: v is None or _seeds(v), "a list of seeds",
                    "[1,2] (or [] for the run's own seed only)"),
}


def check_recipe(recipe: dict[str, Any]) -> None:
    """Raise a :class:`TsbenchError` naming the first field of ``recipe`` (plain values)
    that no stage can use, and a valid value."""
    lines = _split_lines(recipe.get("search"))
    if lines:
        quoted = ",".join(f"'{line}'" for line in lines)
        raise TsbenchError(f"recipe.search: {recipe['search']!r} is split at the commas "
                           "inside its parentheses (Hydra splits an unquoted list at every "
                           f"comma) -> quote it: \"recipe.search=[{quoted}]\"")
    for field, (valid, what, example) in RULES.items():
        if field in recipe and not valid(recipe[field]):
            raise TsbenchError(f"recipe.{field}: {recipe[field]!r} is not {what} -> use e.g. "
                               f"recipe.{field}={example}")
    if recipe.get("refit_seeds") and not recipe.get("refit"):
        raise TsbenchError("recipe.refit_seeds: seeds of refits, but recipe.refit is false -> "
                           "use recipe.refit=true, or recipe.refit_seeds=[]")


def _split_lines(search: Any) -> list[str] | None:
    """The lines an unquoted ``recipe.search=[model.dropout=interval(0.0,0.3)]`` meant (Hydra
    reads it as ``['model.dropout=interval(0.0', '0.3)']``), joined back where an item leaves
    a parenthesis open; None where each item closes its own (or the last never closes: a
    typo, which the line's parsing names)."""
    if not _list_of(search, lambda _: True):
        return None
    lines, line = [], None
    for item in map(str, search):
        line = item if line is None else f"{line},{item}"
        if line.count("(") <= line.count(")"):
            lines.append(line)
            line = None
    return lines if line is None and len(lines) < len(search) else None
