"""The names of a multirun's MLflow runs, for a user browsing them: each child by what
tells it from its siblings, the values its job sweeps (``lr=0.001 seq_len=336``; a
search's ``trial 3: lr=0.0003 seq_len=96``, numbered as trials.csv numbers it), and the
parent by its sweep folder and what it sweeps (``sweep 2026-12-07/11-53-46-123456: lr
seq_len``). The full values stay the runs' params; names round a float to 4 significant
digits. A job that sweeps nothing (a multirun of one job) is named as a single run."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from tsbench.search.names import is_search
from tsbench.search.record import RECORD_DIR, Record
from tsbench.swept import job_values, multirun_lines, sweep_dir, swept_keys

#: A value written as a float (``0.000123456``, ``1e-05``), which a name rounds.
_FLOAT = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+)")


def labels(keys: list[str]) -> dict[str, str]:
    """Each key by its last dotted part (``optim.lr`` -> ``lr``), or whole where two keys
    share that part (``model.dropout`` beside ``optim.dropout``)."""
    last = [key.rsplit(".", 1)[-1] for key in keys]
    return {key: part if last.count(part) == 1 else key
            for key, part in zip(keys, last, strict=True)}


def short(value: str) -> str:
    """``value`` as a name shows it: a float to 4 significant digits (a search's
    ``0.00031622776601683794`` as ``0.0003162``), anything else as written."""
    return f"{float(value):.4g}" if _FLOAT.fullmatch(value) else value


def child_name(values: Mapping[str, str], trial: int | None = None) -> str | None:
    """A child's name from its job's swept ``values`` (key -> value as written), led by
    its search ``trial``'s number where it has one; None where it sweeps nothing."""
    if not values:
        return None
    named = labels(list(values))
    swept = " ".join(f"{named[key]}={short(value)}" for key, value in values.items())
    return swept if trial is None else f"trial {trial}: {swept}"


def parent_name(sweep_dir: Path, keys: list[str], search: bool) -> str:
    """A multirun's parent run's name: ``search`` or ``sweep``, its folder (the last two
    parts of its path: the date and time of Hydra's default) and the keys it sweeps."""
    folder = "/".join(sweep_dir.parts[-2:])
    swept = " ".join(labels(keys).values())
    return f"{'search' if search else 'sweep'} {folder}" + (f": {swept}" if swept else "")


def job_run_name() -> str | None:
    """This process's job's child name (:func:`child_name`), where it is a job of a
    multirun that sweeps something; None otherwise. A search's trial number is its job's
    launch as the sweeper logged it, before the job started."""
    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None
    hydra = HydraConfig.get()
    values = job_values(list(hydra.overrides.task), swept_keys(multirun_lines(hydra)))
    trial = None
    if values and is_search(True, hydra.sweeper):
        launch = Record(sweep_dir(hydra) / RECORD_DIR).launch_of(int(hydra.job.num))
        trial = None if launch is None else launch.trial
    return child_name(values, trial)

