"""The values a multirun sweeps, checked before its first trial.

Each option of a list or ``choice(...)`` and both ends of an ``interval(...)`` or
``range(...)`` are set, one at a time, on the command's config and go through
:func:`tsbench.training.run.validate_config`: a sweep whose trials would fail one by one
(``optim.lr=interval(-1,1)``, ``seq_len=96,abc``, on the command line or in a preset's
``hydra.sweeper.params``) is refused in one line before any folder.
A value is refused only where it fails beside every combination of the other swept values
(``strategy.step=24,48`` with ``pred_len=24,96`` is a sweep whose constraints may keep
48 to 96); config groups' options are :mod:`tsbench.settings_check`'s.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from skopt.space import Categorical

from tsbench.errors import ConfigError
from tsbench.search.space import Scalar, dimension_of, plain, sweep_lines
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


def check_sweep_values(config: DictConfig, overrides: list[str],
                       params: Mapping[str, Any] | None = None) -> None:
    """Raise the :class:`ConfigError` that every trial of ``config`` (composed at the sweeps'
    first values, an interval at null) would fail with at some value of a setting swept in
    ``overrides`` or in ``params`` (a sweeper's ``hydra.sweeper.params``, each replaced by an
    override of its key): with each combination of the other swept settings' values (their
    options, an interval's ends), at most :data:`COMBINATIONS` of them. This machine's GPUs
    are not checked (a launcher may run the trials elsewhere), and a value whose check fails
    to resolve an interpolation is left to its trials."""
    groups = set(OmegaConf.select(config, "hydra.runtime.choices", default={}) or {})
    preset = dict(params or {})
    for line in overrides:
        preset.pop(line.split("=", 1)[0], None)
    parser = OverridesParser.create()
    swept: dict[str, tuple[str, list[Scalar]]] = {}
    for written, line in sweep_lines(params or {}, overrides).items():
        try:
            override = parser.parse_override(line)
            values = sweep_values(override)
        except (HydraException, ConfigError):  # a sweep the sweeper refuses: its to say
            continue
        key = override.get_key_element().lstrip("+")
        if not override.is_sweep_override() or key in groups or key.startswith("hydra"):
            continue
        where = (f"hydra.sweeper.params {written}: {preset[written]}" if written in preset
                 else f"the sweep {line}")
        swept[key] = where, values
    for key, (where, values) in swept.items():
        others = [(k, v) for k, (_, v) in swept.items() if k != key]
        for value in values:
            error = _fails_everywhere(config, key, value, others)
            if error is not None:
                raise ConfigError(error.field, f"{error.problem} (at {key}={value} of "
                                  f"{where})", error.fix)


#: Combinations of the other swept values a value is tried with, at most.
COMBINATIONS = 256


def _fails_everywhere(config: DictConfig, key: str, value: Scalar,
                      others: list[tuple[str, list[Scalar]]]) -> ConfigError | None:
    """The error of ``key=value`` with the first combination of ``others`` tried, if it fails
    with every one (None if one passes, or one cannot be checked)."""
    trial = copy.deepcopy(config)
    OmegaConf.update(trial, key, value, force_add=True)
    first: ConfigError | None = None
    combos = itertools.product(*(values for _, values in others))
    for combo in itertools.islice(combos, COMBINATIONS):
        for (other, _), other_value in zip(others, combo, strict=True):
            OmegaConf.update(trial, other, other_value, force_add=True)
        try:
            validate_config(trial, here=False)
        except ConfigError as error:
            first = first or error
            continue
        except OmegaConfBaseException:  # e.g. a preset's resolver: the trial will tell
            return None
        return None
    return first
