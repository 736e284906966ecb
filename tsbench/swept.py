"""What a multirun sweeps, and one job's values of it: the settings that tell its jobs apart.

A setting is swept by a sweep override (``optim.lr=1e-3,1e-2``, ``seq_len=choice(48,96)``)
on the command line or in the sweeper's ``params`` (a search preset's). A job's own command
line (``hydra.overrides.task``) holds one value of each; a job reads the multirun's lines
back from the sweep folder's ``multirun.yaml``, which Hydra writes before any job runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import OverrideParseException
from omegaconf import OmegaConf

from tsbench.search.names import MULTIRUN_FILE


def swept_keys(lines: Iterable[str]) -> list[str]:
    """The keys (or config groups) the sweep overrides among ``lines`` sweep, once each in
    the order given; a line Hydra would not parse is passed over (Hydra read it first, and
    a run is never failed here)."""
    parser = OverridesParser.create()
    keys: list[str] = []
    for line in lines:
        try:
            override = parser.parse_override(str(line))
        except OverrideParseException:
            continue
        if override.is_sweep_override() and override.key_or_group not in keys:
            keys.append(override.key_or_group)
    return keys


def sweeper_lines(sweeper: Any) -> list[str]:
    """The ``params`` of a sweeper's config (``hydra.sweeper``; None: none), as
    ``key=value`` lines."""
    params = (sweeper.get("params") if sweeper is not None else None) or {}
    return [f"{key}={value}" for key, value in params.items()]


def multirun_lines(hydra: Any) -> list[str]:
    """A multirun's sweeping lines as Hydra's config ``hydra`` (a multirun's or one of its
    jobs') holds them: its sweeper's ``params`` as ``key=value``, then the multirun's
    command line (a job's config holds its own: the sweep folder's ``multirun.yaml`` holds
    the multirun's)."""
    lines = sweeper_lines(hydra.sweeper)
    multirun = sweep_dir(hydra) / MULTIRUN_FILE
    if multirun.is_file():
        lines += list(OmegaConf.select(OmegaConf.load(multirun), "hydra.overrides.task") or [])
    return lines


def sweep_dir(hydra: Any) -> Path:
    """The sweep folder of Hydra's config ``hydra``; a relative one from where the sweep
    started."""
    folder = Path(str(hydra.sweep.dir))
    return folder if folder.is_absolute() else Path(str(hydra.runtime.cwd)) / folder


def job_values(job_lines: Iterable[str], keys: list[str]) -> dict[str, str]:
    """A job's value of each of ``keys`` as its own command line ``job_lines`` writes it
    (``optim.lr=0.001`` -> ``{"optim.lr": "0.001"}``), in the order of ``keys``; a key
    the job does not set is left out."""
    parser = OverridesParser.create()
    found: dict[str, str] = {}
    for line in job_lines:
        try:
            override = parser.parse_override(str(line))
        except OverrideParseException:
            continue
        if override.key_or_group in keys and not override.is_sweep_override():
            found[override.key_or_group] = override.get_value_element_as_str()
    return {key: found[key] for key in keys if key in found}
