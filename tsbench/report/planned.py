"""The jobs of a plain multirun that never started (a sweep stopped between jobs): its
``multirun.yaml`` (Hydra's record of the sweep, rewritten by each resume) plans every
combination of its swept values; a job that started has a folder (its
``.hydra/config.yaml``). A search's trials are not planned (the sweeper chooses them), so
only a basic sweeper's multirun is counted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException
from yaml import YAMLError

from tsbench.counted import counted, word_for
from tsbench.hydra_private import basic_sweeper_jobs
from tsbench.rundir import find_runs, started_jobs, tracker_copy
from tsbench.search.names import BASIC_SWEEPERS, MULTIRUN_FILE, is_search


def planned_jobs(sweep: Path) -> tuple[list[list[str]], bool] | None:
    """The swept overrides of each job the plain multirun in ``sweep`` plans, in job-number
    order (as its sweeper expands its task overrides and ``hydra.sweeper.params``), and
    whether its sweeper resumes (``hydra.sweeper.resume``: tsbench's basic sweeper; Hydra's
    own has no such setting); None for a search's folder, or where its record cannot be
    read or expanded here (a ``glob`` sweep, which needs the config's groups)."""
    try:
        hydra = OmegaConf.load(sweep / MULTIRUN_FILE).hydra
        sweeper = OmegaConf.to_container(hydra.sweeper, resolve=False)
        if not isinstance(sweeper, dict) or is_search(True, sweeper):
            return None
        params = sweeper.get("params") or {}
        lines = [*(f"{key}={value}" for key, value in params.items()),
                 *map(str, hydra.overrides.task)]
        overrides = OverridesParser.create().parse_overrides(lines)
        swept = {o.get_key_element() for o in overrides if o.is_sweep_override()}
        jobs = [[o for o in job if o.split("=", 1)[0] in swept]
                for job in basic_sweeper_jobs(overrides)]
        return jobs, sweeper.get("_target_") == BASIC_SWEEPERS[1]
    except (OSError, YAMLError, OmegaConfBaseException, HydraException, AssertionError,
            AttributeError):
        return None


def never_started(roots: list[Path], apart: tuple[Path, ...],
                  warn: Callable[[str], None]) -> None:
    """Warn, for each plain multirun's folder under ``roots`` (not under ``apart``), how
    many of its planned jobs never started, with the command that runs them."""
    sweeps = sorted({p.parent.resolve() for root in roots for p in Path(root).rglob(MULTIRUN_FILE)
                     if not tracker_copy(p.relative_to(root).parts)})
    for sweep in sweeps:
        if any(sweep.is_relative_to(folder.resolve()) for folder in apart):
            continue
        planned = planned_jobs(sweep)
        if planned is None:
            continue
        jobs, resumable = planned
        # a finished tsbench-analyze job writes no metrics.json: started all the same
        started = {*find_runs([sweep]), *started_jobs([sweep])}
        missing = len(jobs) - len(started)
        if missing <= 0:
            continue
        nums = {int(p.name) for p in started if p.parent == sweep and p.name.isdigit()}
        first = (next((n for n in range(len(jobs)) if n not in nums), None)
                 if len(nums) == len(started) else None)
        example = "" if first is None else f", e.g. job {first}: {' '.join(jobs[first])}"
        fix = (f"resume it with the same command, hydra.sweep.dir={sweep} and "
               "hydra.sweeper.resume=true (its finished jobs are not run again)"
               if resumable else "run the jobs left with the same command and "
               "those values alone, in a folder of their own (Hydra's basic sweeper, which "
               "ran it, does not resume; tsbench's default one does), and report both folders")
        warn(f"{sweep}: {missing} of the sweep's {len(jobs)} jobs never started (its "
             f"{MULTIRUN_FILE} plans {len(jobs)}, {counted(len(started), 'job folder')} "
             f"{word_for(len(started), 'is', 'are')} there){example}, so the report lacks "
             f"{word_for(missing, 'it', 'them')} (stopped, or still running) -> {fix}")
