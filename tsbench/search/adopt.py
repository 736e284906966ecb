"""A trial that finished as its sweep died: recorded by the resume from its job folder,
not launched again.

The sweep records a trial when its job comes back to it (trials.csv, then the launch log's
end entry). A trial that wrote its ``metrics.json`` in the moments before its sweep was
stopped or killed, its result not yet back, has neither: a resume took it for lost and ran
it again into a new job folder, leaving two finished folders for one trial (and its compute
spent twice). ``metrics.json`` is written last, once training and scoring are done; a run
broken off by a signal or killed writes none (Lightning raises on SIGTERM and Ctrl-C, and
a stopped sweep kills its workers), so a folder that holds one written by the launch's own
job (its ``hydra_job``: :func:`~tsbench.search.job_folder.written_by`), run with the
launch's point, holds a trial that ended by its own rules: its row is read from there, as the sweep
would have recorded it, with the pruning rule's mark where one stopped it. The folder is the
one the job noted as it started, under any ``hydra.sweep.subdir``
(:mod:`tsbench.search.job_folder`). A launch whose folder holds no finished run of its
own (broken off; another job's ``metrics.json``, left in a folder that a subdir without the
job number gave to several points; a run of an older tsbench, which named no job; a job
whose folder was noted by none) is launched again as before. The running sweep reads a folder the
same way for a trial whose launch raised after it finished (its batch broken off by another
trial's killed worker: :mod:`tsbench.search.loop`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from tsbench.rundir import HYDRA_OVERRIDES, METRICS
from tsbench.search.job_folder import WRITTEN_BY
from tsbench.search.loop import earlier_notes
from tsbench.search.names import TRIALS_FILE
from tsbench.search.record import Launch, Record
from tsbench.search.space import Scalar, SearchSpace
from tsbench.search.trials import Trial, trial_label, write_trials
from tsbench.yaml_load import load_yaml

log = logging.getLogger(__name__)

#: The trials.csv note of a trial recorded by a resume from its job folder.
ADOPTED = "recorded by the resume: it finished as the sweep died"


def finished_trial(launch: Launch, point: list[Scalar], sweep_dir: Path,
                   subdir: str | None, space: SearchSpace, record: Record, pruning: bool,
                   note: str = ADOPTED) -> Trial | None:
    """``launch``'s trial as its job folder ``<sweep_dir>/<subdir>`` holds it, finished (its
    ``metrics.json`` written by the launch's job, with a finite objective, run with
    ``point``'s overrides), its row
    marked with ``note`` (also used by the sweep for a trial whose launch failed after it
    finished: :mod:`tsbench.search.loop`); None where it holds none (or ``subdir`` is None:
    no folder known), or a pruned run whose mark the record lacks (a resume=force that
    turned the pruner off: its early epoch's objective is no full budget's)."""
    if subdir is None:
        return None
    folder = sweep_dir / subdir
    metrics = _read(folder / METRICS, json.loads)
    ran = _read(folder / HYDRA_OVERRIDES, load_yaml)
    if not isinstance(metrics, dict) or not isinstance(ran, list):
        return None
    if metrics.get(WRITTEN_BY) != launch.job:  # another job's, or a run that named none
        return None
    objective = _finite(metrics.get("objective"))
    if objective is None or not set(space.overrides(point)) <= set(map(str, ran)):
        return None
    mark = record.pruned(launch.job) if pruning else None
    if metrics.get("pruned") and mark is None:  # stopped early, by a rule the resume lacks
        return None
    notes = [mark.reason if mark else "", *earlier_notes(launch), note]
    return Trial(
        number=launch.trial,
        job=launch.job,
        point=point,
        objective=objective,
        seconds=_finite(metrics.get("run_seconds")),  # the run's own, as its job did not return
        job_dir=subdir,
        error="; ".join(n for n in notes if n),
        pruned_at_epoch=mark.epoch if mark else None,
    )


def record_adopted(sweep_dir: Path, record: Record, space: SearchSpace,
                   recorded: Sequence[Trial], adopted: Sequence[tuple[Trial, Launch]],
                   pruning: bool) -> None:
    """Write the ``adopted`` trials' rows into trials.csv beside the ``recorded`` ones
    (each replacing its trial's earlier row: a relaunch that finished), then their launches'
    end entries, at one time, as the sweep does after every end: a resume tells them the
    optimizer last, together."""
    numbers = {t.number for t, _ in adopted}
    rows = [t for t in recorded if t.number not in numbers] + [t for t, _ in adopted]
    write_trials(sweep_dir / TRIALS_FILE, rows, space, pruning)
    now = time.time()
    for trial, launch in adopted:
        record.ended(launch, trial.status, now)
        log.info("resume: %s finished as the sweep died: recorded from %s, not launched "
                 "again", trial_label(trial.number, trial.job), sweep_dir / trial.job_dir)


def _read(path: Path, parse: Any) -> Any:
    """``path`` parsed, or None where it is missing or unreadable (a damaged folder)."""
    try:
        return parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
        return None


def _finite(value: Any) -> float | None:
    """``value`` as a finite float, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
