"""The check, as a sweep starts, that ``hydra.sweep.subdir`` gives each point a folder of
its own.

Hydra names a job's folder by the subdir, resolved in the job. One that holds neither the
job's number or id (``${hydra.job.num}``, the default) nor every searched parameter
(``${x}``, ``${hydra.job.override_dirname}``) can name one folder for two points: their
trials write into it one after the other (or side by side), each over the other's
checkpoint, logs and ``metrics.json``, and trials.csv's ``job_dir`` names a folder that
holds the last one's only.

- A subdir with no ``${...}`` at all (``fixed``) is one folder for every trial: refused
  where the sweep runs more than one (``n_trials`` > 1). That is provably every result but
  the last lost, which no sweep of many trials (over days) means; a single trial
  (``n_trials=1``) keeps the folder it names.
- One that interpolates something, but not the job number nor each searched parameter
  (``kind_${kind}`` while ``x`` is searched too), is warned of, once, not refused: what it
  resolves to is not known before the jobs run (a key that interpolates a searched one, a
  resolver such as ``${now:...}``), so it may still tell the points apart, and a refusal
  would stop a sweep that is right.

The fix named is the job number appended, ``<subdir>_${hydra.job.num}``. A folder shared
all the same cannot make a resume take another job's result for a lost launch's
(:mod:`tsbench.search.adopt` reads only a ``metrics.json`` its launch's job wrote).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from tsbench.errors import ConfigError

log = logging.getLogger(__name__)

#: Interpolations that differ between any two jobs of a sweep (every launcher sets both).
PER_JOB = frozenset({"hydra.job.num", "hydra.job.id"})
#: The overrides of the job, searched parameters included (less ``exclude_keys``).
OVERRIDE_DIRNAME = "hydra.job.override_dirname"
#: A config group's choice, as the subdir may name it.
CHOICE = "hydra.runtime.choices."
_INTERPOLATION = re.compile(r"\$\{([^${}]+)\}")


def check_subdir(subdir: str | None, searched: Sequence[str], excluded: Sequence[str],
                 n_trials: int) -> None:
    """Refuse or warn of a ``subdir`` (as written; None: Hydra's default) that may name one
    folder for two points of a sweep over the ``searched`` keys (see the module docstring;
    ``excluded``: ``hydra.job.config.override_dirname.exclude_keys``)."""
    if subdir is None:
        return
    named = {_plain(reference) for reference in _INTERPOLATION.findall(subdir)}
    if named & PER_JOB:
        return
    fix = f"hydra.sweep.subdir='{subdir}_${{hydra.job.num}}'"
    if not named:
        if n_trials > 1:
            raise ConfigError(
                "hydra.sweep.subdir", f"'{subdir}' names one folder for all {n_trials} "
                "trials: each would write over the others' checkpoints, logs and "
                "metrics.json", f"give each trial its own folder: {fix}")
        return
    unnamed = [key for key in searched if not _names(named, key, excluded)]
    if unnamed:
        log.warning("hydra.sweep.subdir=%s may name one folder for trials at different "
                    "points (it names neither the job number nor %s): they would write "
                    "over each other's files; use %s", subdir, ", ".join(unnamed), fix)


def _names(named: set[str], key: str, excluded: Sequence[str]) -> bool:
    """Whether the interpolations ``named`` tell apart two values of the searched ``key``
    (itself, a key under it, a group's choice, or the job's overrides)."""
    return (key in named or any(n.startswith(f"{key}.") for n in named)
            or f"{CHOICE}{key}" in named
            or (OVERRIDE_DIRNAME in named and key not in excluded))


def _plain(reference: str) -> str:
    """An interpolation's key, ``hydra:job.num`` (the resolver's spelling) as
    ``hydra.job.num``."""
    reference = reference.strip()
    return f"hydra.{reference.removeprefix('hydra:')}" if reference.startswith(
        "hydra:") else reference
