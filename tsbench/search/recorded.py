"""A sweep's trials read back from its folder by a reader outside the sweep (tsbench-report):
``trials.csv`` through the sweep's own reader (:func:`tsbench.search.trials.read_trials`), with
the space ``search.yaml`` recorded, the launches the record logged that never ended, and the
job folders of launches that died with the sweep and were launched again.

A resumed sweep's file holds failed, pruned and relaunched trials, and rows outside a space a
``resume=force`` narrowed (kept, ``in_space=False``, as that resume keeps them); a sweep that
died leaves launches with no row (running, or lost with it): all of them read without error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from tsbench.search.job_folder import HYDRA_YAML, job_number
from tsbench.search.names import DEFINITION_FILE, TRIALS_FILE
from tsbench.search.record import RECORD_DIR, RUNNING, Launch, Record
from tsbench.search.report import best_trial
from tsbench.search.space import Param, SearchSpace, dimension_from_text
from tsbench.search.trials import Trial, read_trials


@dataclass(frozen=True)
class RecordedSweep:
    """What a sweep folder records of its trials."""

    names: list[str]  # the searched parameters, in trials.csv's order
    trials: list[Trial]  # every ended trial, in trials.csv's order
    best: Trial | None  # best.yaml's: the best full-budget trial in the space
    maximize: bool
    unended: list[Launch]  # launched, no row: still running, or lost when the sweep died


def read_sweep(sweep_dir: Path) -> RecordedSweep:
    """The trials recorded in ``sweep_dir``; ``ValueError`` naming the file where
    ``search.yaml`` is missing or damaged, :class:`tsbench.errors.ConfigError` where
    ``trials.csv`` is (the line, from the sweep's reader)."""
    definition = sweep_dir / DEFINITION_FILE
    try:
        recorded = yaml.safe_load(definition.read_text(encoding="utf-8"))
        space = SearchSpace(tuple(Param(name, dimension_from_text(str(text)))
                                  for name, text in recorded["params"].items()), ())
        maximize = recorded.get("direction") == "maximize"
    except FileNotFoundError:
        raise ValueError(f"no {DEFINITION_FILE} beside its {TRIALS_FILE} (a sweep of an "
                         "older tsbench): its searched parameters are unknown") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError, KeyError, TypeError,
            ValueError) as error:
        raise ValueError(f"{definition} is damaged ({type(error).__name__})") from None
    trials = read_trials(sweep_dir / TRIALS_FILE, space, strict=False, keep_outside=True)
    numbers = {t.number for t in trials}
    unended = [launch for launch in Record(sweep_dir / RECORD_DIR).launches()
               if launch.status == RUNNING and launch.trial not in numbers]
    return RecordedSweep(space.names, trials, best_trial(trials, maximize), maximize, unended)


def relaunched(sweep_dir: Path, folders: Iterable[Path]) -> set[Path]:
    """The ``folders`` (job folders of the sweep in ``sweep_dir`` that hold no result) whose
    launch the sweep's record says died with the sweep and a resume launched again (a
    relaunch lists it in its ``lost_jobs``; the relaunch's row in trials.csv says so). A
    folder's launch is the job its ``.hydra/hydra.yaml`` records, the last that Hydra started
    there (in a folder that several points share, the newest): a folder whose job the record
    does not relaunch (killed and not resumed yet, a launch outside the space a resume=force
    narrowed) is none of them."""
    again = {job for launch in Record(sweep_dir / RECORD_DIR).launches()
             for job in launch.lost_jobs}
    return {folder for folder in folders if job_number(folder / HYDRA_YAML) in again}
