"""The sweep's own record: what the sweeper and its trials write while a sweep runs.

``<sweep_dir>/record/`` holds

- ``jobs/<job>.json``: one file per launched job. The sweeper writes it when it hands the
  job to the launcher (trial number, point, start time, its batch) and again when the job
  has ended (end time, status). A job whose file has no end, and whose trial has no row in
  trials.csv, was running when the sweep died: a resumed sweep launches its trial again,
  unless its job folder holds it finished (:mod:`tsbench.search.adopt`).
- ``epochs/fold<f>/epoch<e>/trial<t>.json``: trial ``t``'s report after epoch ``e`` of
  fold ``f`` (the validation loss of that epoch, the best one so far and the trial's epoch
  budget), written by the trial itself. A rung of a pruning rule is one such folder, read
  for the reports of one epoch budget (see :meth:`Record.rung`).
- ``pruned/job<j>.json``: written by a trial that a pruning rule stopped: the epoch, the
  objective there and the reason. The sweeper reads it when the job returns.
- ``folders/<job>.json``: the job's folder inside the sweep directory (its
  ``hydra.sweep.subdir`` as Hydra resolved it for the job), written by the job as it starts
  (:mod:`tsbench.search.job_folder`): a resume finds a trial that finished as the sweep
  died, and a failed launch's row names its folder, under any subdir. A job that runs as a
  SLURM job of its own notes that job's id too (``slurm_job``; absent in older records):
  a resume waits for it to leave ``squeue`` (:mod:`tsbench.search.slurm_jobs`).

One small file per report, each written atomically (a temporary file beside it, then one
rename), because the writers are trials in other processes and on other machines that
share the sweep directory (joblib, submitit on SLURM) and there is no server: a rename is
atomic on local file systems and on NFS, so a reader sees a whole report or none; two
trials never write the same file, so no report is lost when they write at once; and a
``kill -9`` at any moment leaves at most a hidden temporary file, which readers skip.
Appending JSON lines to one shared file would be cheaper to read, but ``O_APPEND`` is not
atomic on NFS (each client computes the end of the file itself), so two machines
appending at once can overwrite each other's lines. Reading a rung lists one folder.

Reports are named by trial, not job: a trial launched again after its sweep died writes
over the reports of its dead launch, so a rung counts every trial once. This module
needs nothing but the standard library and :mod:`tsbench.atomic`, so trials can import it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tsbench.atomic import write_json

log = logging.getLogger(__name__)

#: The record's folder inside the sweep directory.
RECORD_DIR = "record"
JOBS, EPOCHS, PRUNED, FOLDERS = "jobs", "epochs", "pruned", "folders"
#: The entry of a job's ``folders/<job>.json`` naming the SLURM job it runs as.
SLURM_JOB = "slurm_job"
RUNNING = "running"


@dataclass(frozen=True)
class Launch:
    """One job handed to the launcher: which trial, which point, when, and how it ended."""

    trial: int
    job: int
    point: dict[str, str]  # parameter -> value as written in trials.csv
    started: float  # seconds since the epoch, on the sweeper's clock
    lost_jobs: tuple[int, ...] = ()  # earlier launches of this trial that died with a sweep
    failed_jobs: tuple[int, ...] = ()  # earlier launches of it that failed (retry_failed)
    cut_jobs: tuple[int, ...] = ()  # earlier launches of it stopped at max_seconds
    ended: float | None = None
    status: str = RUNNING
    # The first job of the batch it was launched in (``schedule=batch``: asked for and told
    # together); None where refilled one at a time, or logged by an older tsbench.
    batch: int | None = None
    # A relaunch of the trials of a batch split by a resume (some recorded from their
    # folders, some lost): the first job of that batch, whose trials it is told with.
    told_with: int | None = None

    @property
    def told_in(self) -> int | None:
        """The batch whose trials this launch's trial is told with (None: alone)."""
        return self.batch if self.told_with is None else self.told_with


def told_order(launches: Sequence[Launch]) -> dict[int, int]:
    """Each launch's job -> the job its trial first ran in within the batch it is told with:
    trials told together are told in that order, which is their batch's job order, a
    relaunch of a batch split by a resume keeping its trial's place (its own job where it
    was told alone)."""
    first: dict[tuple[int, int], int] = {}
    for launch in sorted(launches, key=lambda la: la.job):
        if launch.told_in is not None:
            first.setdefault((launch.trial, launch.told_in), launch.job)
    return {la.job: la.job if la.told_in is None else first[(la.trial, la.told_in)]
            for la in launches}


@dataclass(frozen=True)
class Report:
    """A trial's validation loss after one epoch, and its best one so far (the objective a
    trial stopped at this epoch would have: tsbench keeps the best epoch's weights)."""

    trial: int
    job: int
    fold: int
    epoch: int  # 1-based
    val_loss: float
    objective: float
    time: float = field(default_factory=time.time)
    # The trial's trainer.max_epochs (its learning-rate schedule spans it); None: unknown
    # (a report written before tsbench recorded it).
    max_epochs: int | None = None


@dataclass(frozen=True)
class PrunedMark:
    """Why and where a pruning rule stopped a trial."""

    trial: int
    job: int
    fold: int
    epoch: int
    objective: float
    cutoff: float
    reason: str


class Record:
    """The files of ``<sweep_dir>/record`` (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    # -- the launch log (written by the sweeper only) --

    def launched(self, launch: Launch) -> None:
        write_json(self._job_path(launch.job), _plain(asdict(launch)))

    def ended(self, launch: Launch, status: str, at: float | None = None) -> Launch:
        """Log the end of ``launch`` at ``at`` (now by default): the trials the sweeper told
        the optimizer together share one end time, so that a resume tells them so again."""
        ended = time.time() if at is None else at
        done = Launch(**{**asdict(launch), "ended": ended, "status": status})
        write_json(self._job_path(launch.job), _plain(asdict(done)))
        return done

    def launches(self) -> list[Launch]:
        """Every logged launch, in job order."""
        found = [_launch(data) for data in _read_all(self.directory / JOBS)]
        return sorted(found, key=lambda launch: launch.job)

    def launch_of(self, job: int) -> Launch | None:
        """The logged launch of job ``job`` (a trial reads its own: logged before it
        started); None where none is logged."""
        data = _read(self._job_path(job))
        return None if data is None else _launch(data)

    # -- per-epoch reports (written by trials) --

    def report(self, report: Report) -> None:
        path = self._epoch_dir(report.fold, report.epoch) / f"trial{report.trial}.json"
        write_json(path, _plain(asdict(report)))

    def rung(self, fold: int, epoch: int, max_epochs: int | None = None) -> dict[int, float]:
        """trial -> objective of every report at ``epoch`` of ``fold``; given
        ``max_epochs``, only of trials with that epoch budget.

        Epoch ``e`` of a 300-epoch trial is early in its cosine schedule, of a 30-epoch
        trial near its end: their losses there do not rank the configurations, so trials
        of other budgets (a searched ``trainer.max_epochs``, or a resume with
        ``resume=force`` that changed it) are left out. A report without a budget (written
        before tsbench recorded it) is kept."""
        values = {}
        for data in _read_all(self._epoch_dir(fold, epoch)):
            budget = data.get("max_epochs")
            if max_epochs is None or budget is None or int(budget) == max_epochs:
                values[int(data["trial"])] = _number(data["objective"])
        return values

    def reports(self) -> list[Report]:
        """Every report in the record (for analysis; rules read one rung at a time)."""
        found = []
        root = self.directory / EPOCHS
        for path in sorted(root.glob("fold*/epoch*")) if root.is_dir() else []:
            for data in _read_all(path):
                data["val_loss"] = _number(data["val_loss"])
                data["objective"] = _number(data["objective"])
                found.append(Report(**data))
        return found

    def has_reports(self, trial: int) -> bool:
        """Whether ``trial`` reported its first epoch (every reporting trial does)."""
        return (self._epoch_dir(0, 1) / f"trial{trial}.json").is_file()

    # -- pruning decisions (written by trials) --

    def mark_pruned(self, mark: PrunedMark) -> None:
        write_json(self.directory / PRUNED / f"job{mark.job}.json", _plain(asdict(mark)))

    def pruned(self, job: int) -> PrunedMark | None:
        path = self.directory / PRUNED / f"job{job}.json"
        data = _read(path)
        if data is None:
            return None
        data["objective"] = _number(data["objective"])
        data["cutoff"] = _number(data["cutoff"])
        return PrunedMark(**data)

    # -- job folders (written by each job as it starts) --

    def started_in(self, job: int, subdir: str, slurm_job: str | None = None) -> None:
        """Note that job ``job`` runs in ``<sweep_dir>/<subdir>``, and where it runs as a
        SLURM job of its own, that job's id (``slurm_job``)."""
        noted: dict[str, Any] = {"job": job, "subdir": subdir}
        if slurm_job is not None:
            noted[SLURM_JOB] = slurm_job
        write_json(self.directory / FOLDERS / f"{job}.json", noted)

    def subdir(self, job: int) -> str | None:
        """The folder job ``job`` noted, relative to the sweep directory; None where it
        noted none (it never started, or ran under an older tsbench)."""
        data = _read(self.directory / FOLDERS / f"{job}.json")
        subdir = None if data is None else data.get("subdir")
        return subdir if isinstance(subdir, str) and subdir else None

    def slurm_job(self, job: int) -> str | None:
        """The id of the SLURM job that job ``job`` noted it runs as (``squeue``'s: ``123``,
        or ``123_4`` for an array task); None where it noted none (it ran elsewhere, in the
        sweep's own SLURM job, or under an older tsbench)."""
        data = _read(self.directory / FOLDERS / f"{job}.json")
        slurm_job = None if data is None else data.get(SLURM_JOB)
        return slurm_job if isinstance(slurm_job, str) and slurm_job else None

    def _job_path(self, job: int) -> Path:
        return self.directory / JOBS / f"{job}.json"

    def _epoch_dir(self, fold: int, epoch: int) -> Path:
        return self.directory / EPOCHS / f"fold{fold}" / f"epoch{epoch}"


class KeptRecord(Record):
    """The record as the sweeper holds it: its launch log read once, then kept current by
    the sweeper's own entries, as the log's only writer (its lock keeps a second sweep
    out). A resume asks for the launches many times over (its SLURM jobs, lost trials,
    split batch, replay and tell order, next job and trial numbers), each time one file
    per job: thousands of files in a long sweep."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self._launches: dict[int, Launch] | None = None  # job -> launch, once read

    def launched(self, launch: Launch) -> None:
        super().launched(launch)
        self._keep(launch)

    def ended(self, launch: Launch, status: str, at: float | None = None) -> Launch:
        done = super().ended(launch, status, at)
        self._keep(done)
        return done

    def launches(self) -> list[Launch]:
        if self._launches is None:
            self._launches = {launch.job: launch for launch in super().launches()}
        return sorted(self._launches.values(), key=lambda launch: launch.job)

    def _keep(self, launch: Launch) -> None:
        """An entry just written, into the log as read (not read yet: read with it)."""
        if self._launches is not None:
            self._launches[launch.job] = launch


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-safe: non-finite floats become null (JSON has no NaN or infinity)."""
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v
            for k, v in data.items()}


def _number(value: Any) -> float:
    """A recorded number; null (a non-finite loss) reads back as +inf, the worst loss."""
    return math.inf if value is None else float(value)


def _read_all(directory: Path) -> Iterator[dict[str, Any]]:
    """The JSON files of ``directory``, skipping temporary files of interrupted writes."""
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return
    for name in names:
        if name.startswith(".") or not name.endswith(".json"):
            continue
        data = _read(directory / name)
        if data is not None:
            yield data


def _launch(data: dict[str, Any]) -> Launch:
    """A launch as its file holds it (JSON lists back to tuples)."""
    for key in ("lost_jobs", "failed_jobs", "cut_jobs"):
        data[key] = tuple(data.get(key, ()))
    return Launch(**data)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:  # damaged from outside
        log.warning("skipping unreadable record file %s: %s", path, error)
        return None
