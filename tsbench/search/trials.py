"""The record of a sweep: one :class:`Trial` per launched point, kept in trials.csv."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tsbench.atomic import write_with
from tsbench.errors import ConfigError
from tsbench.search.space import Scalar, SearchSpace

OK, FAILED = "ok", "failed"
HEAD = ["trial", "job", "status", "objective", "seconds"]
TAIL = ["job_dir", "error"]


@dataclass(frozen=True)
class Trial:
    """One launched point and its outcome; ``objective`` is None when it failed."""

    number: int  # 1-based position in the sweep
    job: int  # Hydra job number (hydra.job.num, the job directory's name by default)
    point: list[Scalar]
    objective: float | None
    seconds: float | None
    job_dir: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.objective is not None


def write_trials(path: Path, trials: Sequence[Trial], space: SearchSpace) -> None:
    """Write all trials to ``path`` atomically, one column per parameter."""

    def write(handle: IO[str]) -> None:
        writer = csv.writer(handle)
        writer.writerow(HEAD + space.names + TAIL)
        for t in trials:
            writer.writerow(
                [
                    t.number,
                    t.job,
                    OK if t.ok else FAILED,
                    "" if t.objective is None else repr(t.objective),
                    "" if t.seconds is None else f"{t.seconds:.6g}",
                    *[str(v) for v in t.point],
                    t.job_dir,
                    t.error,
                ]
            )

    write_with(path, write)


def read_trials(path: Path, space: SearchSpace, strict: bool) -> list[Trial]:
    """Read the trials of ``path`` whose points lie in ``space``.

    A missing parameter column is always an error. A row outside ``space`` is an error
    when ``strict`` (resuming the same sweep) and skipped otherwise (warm start).
    """
    setting = "hydra.sweeper.resume" if strict else "hydra.sweeper.warm_start"
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        missing = [n for n in space.names + ["status", "objective"] if n not in columns]
        if missing:
            raise ConfigError(setting, f"{path} has no column(s) {missing}", "is it a trials.csv?")
        extra = [c for c in columns if c not in HEAD + TAIL + space.names]
        if strict and extra:
            raise ConfigError(setting, f"{path} records parameters {extra} not searched now")
        trials = []
        for line, row in enumerate(reader, start=2):
            point = space.point_from_text(row)
            if point is None:
                if strict:
                    raise ConfigError(
                        setting,
                        f"{path} line {line} lies outside the current search space",
                        "resume with the search space the sweep started with",
                    )
                continue
            ok = row["status"] == OK
            trials.append(
                Trial(
                    number=len(trials) + 1,
                    job=int(row.get("job") or -1),
                    point=point,
                    objective=float(row["objective"]) if ok else None,
                    seconds=float(row["seconds"]) if row.get("seconds") else None,
                    job_dir=row.get("job_dir", ""),
                    error=row.get("error", ""),
                )
            )
    return trials
