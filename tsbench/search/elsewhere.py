"""Where a key that the chosen option of its config group lacks is found instead: in other
options of the group (``model.patch_len``: patchtst's, not dlinear's), for the sweeper's
error on a searched key and tsbench-analyze's on a run's setting; and which search presets
are for the chosen option, so the sweeper's error names a fix that exists."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from tsbench.errors import ConfigError
from tsbench.search.composition import Compose

_ABSENT = object()

#: The config group holding the search presets (``search=random``).
SEARCH_GROUP = "search"


def key_of_another_option(
    key: str,
    config: DictConfig,
    options: Callable[[str], list[str]],
    compose: Callable[[list[str]], DictConfig],
    in_params: bool,
) -> ConfigError | None:
    """The error for ``key`` (e.g. ``model.patch_len``) searched (``in_params``: by
    ``hydra.sweeper.params``, a preset's or given; else on the command line) but absent from
    ``config`` where other options of its group (``options("model")``, each composed with
    ``compose``) hold it; None where none does (then the key is likely misspelt)."""
    group = key.split(".", 1)[0]
    choices = OmegaConf.select(config, "hydra.runtime.choices", default={}) or {}
    chosen = choices.get(group)
    if chosen is None:
        return None
    holders = options_having(key, [o for o in options(group) if o != chosen], compose)
    if not holders:
        return None
    preset = choices.get(SEARCH_GROUP)
    source = ("the command line" if not in_params
              else f"search={preset}" if preset else "hydra.sweeper.params")
    presets = [p for p in options(SEARCH_GROUP) if _choice(compose, p, group) == chosen]
    yourself = f"hydra/sweeper=skopt with {group}.<key>=choice(...) on the command line"
    fix = (f"use a search preset for {chosen} ({', '.join(f'search={p}' for p in presets)}) "
           f"or give the space yourself: {yourself}" if presets else
           f"no search preset is for {chosen}: give its space yourself: {yourself}")
    return ConfigError(
        key,
        f"searched by {source}, but {group}={chosen} has no such key "
        f"({', '.join(holders)} {'has' if len(holders) == 1 else 'have'})",
        fix,
    )


def options_having(key: str, options: Iterable[str], compose: Compose) -> list[str]:
    """Those of ``options`` (of ``key``'s config group: ``model`` for ``model.patch_len``)
    whose config, composed by ``compose`` with the option chosen, has ``key`` (set, null or
    an interpolation alike). An option that does not compose holds no key: its error is not
    the one being reported."""
    group = key.split(".", 1)[0]
    having = []
    for option in options:
        try:
            config = compose([f"{group}={option}"])
        except Exception:  # noqa: BLE001 - asked while reporting another error
            continue
        if OmegaConf.select(config, key, default=_ABSENT,
                            throw_on_resolution_failure=False) is not _ABSENT:
            having.append(option)
    return having


def _choice(compose: Callable[[list[str]], DictConfig], preset: str, group: str) -> str | None:
    """The option of ``group`` that search preset ``preset`` picks."""
    try:
        config = compose([f"{SEARCH_GROUP}={preset}"])
    except HydraException:
        return None
    return OmegaConf.select(config, f"hydra.runtime.choices.{group}", default=None)
