"""The values a multirun sweeps, checked before its first trial.

Each option of a list or ``choice(...)`` and both ends of an ``interval(...)`` or
``range(...)`` are set, one at a time, on the command's config and go through
:func:`tsbench.training.run.validate_config`: a sweep whose trials would fail one by one
(``optim.lr=interval(-1,1)``, ``seq_len=96,abc``) is refused in one line before any folder.
A value valid only beside other swept values is left to the trials (and the sweeper's
constraints); config groups' options are :mod:`tsbench.settings_check`'s.
"""

from __future__ import annotations

import copy

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from omegaconf import DictConfig, OmegaConf
from skopt.space import Categorical

from tsbench.errors import ConfigError
from tsbench.search.space import Scalar, dimension_of, plain
from tsbench.training.run import validate_config


def sweep_values(override: Override) -> list[Scalar]:
    """The values of ``override`` that can decide alone whether a run is valid: every option
    of a list or choice, both ends of an interval or range, or its one value."""
    if not override.is_sweep_override():
        return [override.value()]  # type: ignore[list-item]
    dimension = dimension_of(override)
    if isinstance(dimension, Categorical):
        return [plain(v) for v in dimension.categories]
    return [plain(dimension.low), plain(dimension.high)]


def check_sweep_values(config: DictConfig, overrides: list[str]) -> None:
    """Raise the :class:`ConfigError` a trial of ``config`` (composed at the sweeps' first
    values, an interval at null) would fail with at some value of a swept setting in
    ``overrides``, the other swept settings at their first values (an interval's low end)."""
    groups = set(OmegaConf.select(config, "hydra.runtime.choices", default={}) or {})
    swept: dict[str, tuple[Override, list[Scalar]]] = {}
    for override in OverridesParser.create().parse_overrides(overrides):
        key = override.get_key_element().lstrip("+")
        if not override.is_sweep_override() or key in groups or key.startswith("hydra"):
            continue
        try:
            swept[key] = override, sweep_values(override)
        except ConfigError:  # a sweep the skopt sweeper would refuse: the launcher's to judge
            continue
    first = copy.deepcopy(config)
    for key, (_, values) in swept.items():
        OmegaConf.update(first, key, values[0], force_add=True)
    for key, (override, values) in swept.items():
        for value in values:
            trial = copy.deepcopy(first)
            OmegaConf.update(trial, key, value, force_add=True)
            try:
                validate_config(trial)
            except ConfigError as error:
                raise ConfigError(error.field, f"{error.problem} (at {key}={value} of the "
                                  f"sweep {override.input_line})", error.fix) from None
