"""The record of a sweep: one :class:`Trial` per ended trial, kept in trials.csv.

Columns: ``trial, job, status, objective, seconds``, then ``pruned_at_epoch`` when the sweep
prunes, one column per searched parameter, and ``job_dir, error``. ``status`` is ``ok``
(ran its full budget), ``pruned`` (stopped by the pruning rule; ``objective`` is its best
value up to ``pruned_at_epoch``) or ``failed``. ``error`` says why a trial failed or was
pruned, and ends with ``relaunched: job 3 died with the sweep`` when the trial had to be
launched again after its sweep died (the dead job's directory is left as it was), and with
``recorded by the resume: it finished as the sweep died`` when a resume recorded it from
its job folder (:mod:`tsbench.search.adopt`). Trials
still running are not in trials.csv but in the launch log (:mod:`tsbench.search.record`).
"""

from __future__ import annotations

import csv
import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tsbench.atomic import write_with
from tsbench.counted import noun_for
from tsbench.errors import ConfigError
from tsbench.search.names import (
    CLOCK_STOP,
    FAILED,
    HEAD,
    OK,
    PRUNED,
    PRUNED_AT,
    RECORD_COLUMNS,
    STATUSES,
    TAIL,
)

if TYPE_CHECKING:  # read_rows' readers (tsbench.report.collect) load no scikit-optimize
    from tsbench.search.space import Scalar, SearchSpace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Trial:
    """One ended trial; ``objective`` is None when it failed."""

    number: int  # 1-based, in launch order
    job: int  # Hydra job number (hydra.job.num, the job directory's name by default)
    point: list[Scalar]
    objective: float | None
    seconds: float | None
    job_dir: str
    error: str = ""  # why it failed or was pruned; whether it was launched again
    pruned_at_epoch: int | None = None
    in_space: bool = True  # False: recorded outside a space changed by resume=force

    @property
    def status(self) -> str:
        if self.objective is None:
            return FAILED
        return OK if self.pruned_at_epoch is None else PRUNED

    @property
    def ok(self) -> bool:
        """Ran its full budget: a candidate for the best trial."""
        return self.status == OK

    @property
    def stopped_by_clock(self) -> bool:
        """Stopped because the sweep's ``max_seconds`` was spent (``stop_at_max_seconds``),
        not by the pruning rule: short of its budget, and never judged."""
        return self.status == PRUNED and self.error.startswith(CLOCK_STOP)


def write_trials(
    path: Path, trials: Sequence[Trial], space: SearchSpace, pruning: bool = False
) -> None:
    """Write all trials to ``path`` atomically, one column per parameter."""

    def write(handle: IO[str]) -> None:
        writer = csv.writer(handle)
        writer.writerow(HEAD + [PRUNED_AT] * pruning + space.names + TAIL)
        for t in sorted(trials, key=lambda t: (t.number, t.job)):
            epoch = "" if t.pruned_at_epoch is None else str(t.pruned_at_epoch)
            writer.writerow(
                [
                    t.number,
                    t.job,
                    t.status,
                    "" if t.objective is None else repr(t.objective),
                    "" if t.seconds is None else f"{t.seconds:.6g}",
                    *[epoch] * pruning,
                    *[str(v) for v in t.point],
                    t.job_dir,
                    t.error,
                ]
            )

    write_with(path, write)


def read_rows(path: Path) -> tuple[list[dict[str, str]], list[str]]:
    """The rows of the trials.csv at ``path`` as written, and its columns (none where there is
    no file): the one reading of the file, which the sweep, tsbench-report and tsbench-tune
    each interpret their own way; ``ValueError`` naming it where it is not a readable CSV."""
    if not path.is_file():
        return [], []
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            return list(reader), list(reader.fieldnames or [])
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"{path} is not a readable CSV file ({error})") from None


def read_trials(
    path: Path, space: SearchSpace, strict: bool, keep_outside: bool = False
) -> list[Trial]:
    """Read the trials of ``path`` whose points lie in ``space``.

    A missing parameter column is always an error. A row outside ``space`` is an error
    when ``strict`` (resuming the same sweep), kept with ``in_space=False`` when
    ``keep_outside`` (resume=force: it stays in the record but is not told to the
    optimizer) and skipped otherwise (warm start). A damaged file (binary, truncated,
    non-numeric fields, a trial or job recorded twice with different content) is an
    error naming the line; a row repeated exactly is counted once, with a warning.
    """
    setting = "hydra.sweeper.resume" if strict else "hydra.sweeper.warm_start"
    try:
        rows, columns = read_rows(path)
    except ValueError as error:
        raise ConfigError(setting, str(error), "restore the file, or start a new sweep (a new "
                          "hydra.sweep.dir)") from None
    required = space.names + ["status", "objective"] + (["trial", "job"] if strict else [])
    missing = [n for n in required if n not in columns]
    if missing:
        raise ConfigError(setting, f"{path} has no {noun_for(len(missing), 'column')} "
                          f"{missing}", "is it a trials.csv?")
    extra = [c for c in columns if c not in RECORD_COLUMNS and c not in space.names]
    if strict and extra:
        raise ConfigError(setting, f"{path} records parameters {extra} not searched now")
    trials: list[Trial] = []
    seen: dict[tuple[str, str], tuple[int, dict[str, str]]] = {}
    for line, row in enumerate(rows, start=2):
        where = f"{path} line {line}"
        if None in row or None in row.values():
            count = len(columns) - list(row.values()).count(None) + len(row.get(None) or [])
            raise ConfigError(
                setting,
                f"{where} has {count} fields where the header has {len(columns)}: "
                "the file is truncated or damaged",
                "restore it, or delete that line (its trial is then run again)",
            )
        key = (row.get("trial", ""), row.get("job", ""))
        if strict and key in seen:
            first, content = seen[key]
            if content != row:
                raise ConfigError(
                    setting, f"{where} records trial {key[0]} (Hydra job #{key[1]}) again, "
                    f"differently from line {first}", "delete the wrong line",
                )
            log.warning("%s repeats line %d; counted once", where, first)
            continue
        seen[key] = (line, row)
        trial = _trial(row, where, space, strict, keep_outside, setting, len(trials) + 1)
        if trial is not None:
            trials.append(trial)
    if strict:
        _unique(trials, "number", "trial", path, setting)
        _unique(trials, "job", "job", path, setting)
    return trials


def _trial(
    row: dict[str, str], where: str, space: SearchSpace, strict: bool, keep_outside: bool,
    setting: str, position: int,
) -> Trial | None:
    status = row["status"]
    if status not in STATUSES:
        raise ConfigError(setting, f"{where}: unknown status {status!r}",
                          f"use one of {', '.join(STATUSES)}")
    try:
        point: list[Scalar] = space.parse_row(row)
        in_space = True
    except ValueError as error:
        if keep_outside:
            point, in_space = [row[n] for n in space.names], False
        elif strict:
            raise ConfigError(
                setting,
                f"{where} lies outside the current search space ({error})",
                "resume with the search space the sweep started with, or resume=force",
            ) from None
        else:
            return None
    # a warm-start file's trial keeps the number it was recorded with (where it has one)
    recorded = row.get("trial", "")
    number = (_number(row, "trial", where, setting, int) if strict or recorded.isdigit()
              else position)
    objective = _number(row, "objective", where, setting, float) if status != FAILED else None
    if objective is not None and not math.isfinite(objective):
        raise ConfigError(setting, f"{where}: status {status} with objective {objective}")
    epoch = _number(row, PRUNED_AT, where, setting, int) if status == PRUNED else None
    return Trial(
        number=number,
        job=_number(row, "job", where, setting, int) if row.get("job") else -1,
        point=point,
        objective=objective,
        seconds=_number(row, "seconds", where, setting, float) if row.get("seconds") else None,
        job_dir=row.get("job_dir", ""),
        error=row.get("error", ""),
        pruned_at_epoch=epoch,
        in_space=in_space,
    )


def _number(row: dict[str, str], column: str, where: str, setting: str, kind: type) -> Any:
    text = row.get(column, "")
    try:
        return kind(text)
    except ValueError:
        raise ConfigError(
            setting, f"{where}: column {column!r} holds {text!r}, not a number",
            "restore the file, or delete that line (its trial is then run again)",
        ) from None


def _unique(trials: list[Trial], attribute: str, column: str, path: Path, setting: str) -> None:
    counts = Counter(getattr(t, attribute) for t in trials)  # one pass: a resume reads 1000s
    repeated = sorted(v for v, count in counts.items() if count > 1)
    if repeated:
        raise ConfigError(
            setting, f"{path} records {column} {repeated[0]} on more than one line",
            "keep one line per trial (delete the wrong one)",
        )


def trial_label(number: int, job: int) -> str:
    """``trial 3 (Hydra job #2)``: a trial's number, from 1 in the order the sweep proposed
    it (trials.csv's ``trial``), and its job's, Hydra's, from 0 in the order it launched
    (``job``: its launch line ``#2 : ...``, or on joblib the sweep's ``started`` line, and,
    by default, its folder ``2/``), told apart wherever a line names both."""
    return f"trial {number} (Hydra job #{job})"
