"""Checks of a search configuration against the composed config, before any trial."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hydra.errors import HydraException
from omegaconf import DictConfig, ListConfig, OmegaConf
from skopt.space import Categorical, Space

from tsbench.errors import ConfigError
from tsbench.search.constraints import ConstraintSet
from tsbench.search.space import SearchSpace, plain

#: Random points drawn to check that the constraints leave something to search.
FEASIBILITY_SAMPLES = 2000

_ABSENT = object()


def config_groups(config: DictConfig) -> set[str]:
    """The config groups of the composed config (``model``, ``dataset``, ...)."""
    return set(OmegaConf.select(config, "hydra.runtime.choices", default={}) or {})


def check_keys(
    space: SearchSpace,
    config: DictConfig,
    elsewhere: Callable[[str], ConfigError | None] = lambda key: None,
) -> None:
    """Every searched or fixed key must exist in ``config`` unless added with ``+``;
    ``elsewhere`` gives the error for a searched key that another option of its config
    group holds (a preset's space for another model), None where none does."""
    groups = config_groups(config)
    keys = [(p.key, "searched") for p in space.params]
    keys += [(o.get_key_element(), "fixed") for o in space.fixed if not o.is_delete()]
    for key, kind in keys:
        if key.startswith("+") or key in groups:
            continue
        if OmegaConf.select(config, key, default=_ABSENT) is _ABSENT:
            error = elsewhere(key) if kind == "searched" else None
            if error is not None:
                raise error
            raise ConfigError(
                key,
                f"unknown key ({kind} in the search)",
                f"check the spelling, or write +{key} to add a new key",
            )


def check_options(
    space: SearchSpace, groups: set[str], compose: Callable[[list[list[str]]], None]
) -> None:
    """Every searched option of a config group (``model=dlinear,patchtst``) must compose:
    each is composed once (``compose``: Hydra's sweeper check), the other parameters at a
    random point, so that a misspelt option fails before the sweep writes anything rather
    than when a trial first draws it."""
    point = [plain(v) for v in Space(space.dimensions).rvs(n_samples=1, random_state=0)[0]]
    for i, param in enumerate(space.params):
        if param.name not in groups or not isinstance(param.dimension, Categorical):
            continue
        for option in param.dimension.categories:
            try:
                compose([space.overrides([*point[:i], plain(option), *point[i + 1:]])])
            except HydraException as error:
                text = str(error).split("Config search path")[0]  # Hydra's, not the user's
                lines = [line.strip() for line in text.splitlines() if line.strip()]
                detail = f" ({lines[1]} {', '.join(lines[2:])})" if len(lines) > 1 else ""
                raise ConfigError(
                    param.name,
                    f"the option {option!r} does not compose: {lines[0]}{detail}",
                    f"check its spelling, or add the config {param.name}/{option}.yaml",
                ) from error


def fixed_lookup(config: DictConfig, space: SearchSpace) -> Callable[[str], Any]:
    """A function giving the fixed value of a dotted path, for constraints.

    Fixed overrides of the search win over the composed config; a path that holds no
    scalar value raises KeyError.
    """
    fixed = {o.key_or_group: o.value() for o in space.fixed if not (o.is_delete() or o.is_add())}

    def lookup(path: str) -> Any:
        if path in fixed:
            return fixed[path]
        value = OmegaConf.select(config, path, default=_ABSENT)
        if value is _ABSENT or isinstance(value, DictConfig | ListConfig):
            raise KeyError(path)
        return value

    return lookup


def check_feasible(constraints: ConstraintSet, space: SearchSpace, seed: int | None) -> None:
    """Raise when no sampled point of ``space`` meets all ``constraints``."""
    if not constraints:
        return
    points = Space(space.dimensions).rvs(n_samples=FEASIBILITY_SAMPLES, random_state=seed)
    points = [[plain(v) for v in p] for p in points]
    if any(constraints(p) for p in points):
        return
    held = {
        c.text: sum(c.text not in constraints.violated(p) for p in points)
        for c in constraints.constraints
    }
    raise ConfigError(
        "hydra.sweeper.constraints",
        f"none of {FEASIBILITY_SAMPLES} random points meets all constraints "
        f"(points meeting each one: {held})",
        "loosen the constraints or move the search space",
    )


def composition_shape(point: Sequence[Any]) -> tuple[str, ...]:
    """What of a point can decide whether its trial's config composes: its text values (a
    config group's option, a string) and the types of the others. Points of one shape
    compose alike (numbers are not resolved when composing), so the sweeper checks one
    point of each shape before its launch, not every trial: the launcher composes each
    trial again, and a composition costs 0.2-0.5 s on a 2-core CPU."""
    return tuple(v if isinstance(v, str) else type(v).__name__ for v in point)
