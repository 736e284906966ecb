"""Failed trials: what counts as failed, what the surrogate is told, when to give up.

A trial fails when its job raises, or returns something that is not a finite number
(NaN, inf, None, a string). It is recorded as ``failed`` and the sweep goes on. skopt
cannot take NaN, and leaving the point out would let it be proposed again, so the
surrogate is told a *penalty* instead (in the minimized space, i.e. the negated
objective when ``direction=maximize``):

    penalty = worst finite value so far + 10% of the spread of the finite values
              (10% of |worst| when all values are equal, 0.1 when that is 0 too)

With ``log_objective`` (the default, for minimized positive losses) the surrogate learns
``log(objective)`` and the penalty is computed on those logs. A modest margin above the
worst real result marks the region as bad without the huge constant (1e6) that would
flatten a GP's fit elsewhere. Failures that happen before any
trial has finished are told once the first finite value exists.

The sweep aborts when ``failed > max_failure_rate * max(launched, n_initial_points)``:
``0`` stops at the first failure, ``1`` never stops, and the first
``n_initial_points`` trials act as a grace window so that early bad luck in a small
batch does not end a long sweep.
"""

from __future__ import annotations

import logging
import math
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from threadpoolctl import threadpool_limits

from tsbench.errors import ConfigError, TsbenchError
from tsbench.search.timing import SECONDS_ATTR, TimedValue
from tsbench.search.trials import Trial

log = logging.getLogger(__name__)

#: Share of the spread of finite values added to the worst one for a failed trial.
PENALTY_MARGIN = 0.1


class SweepAbortedError(TsbenchError):
    """Too many trials failed: the sweep stops (its bookkeeping is kept)."""


@dataclass(frozen=True)
class Outcome:
    """What one job produced: a finite objective, or an error message."""

    objective: float | None
    seconds: float | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.objective is not None


def outcome_of(job: JobReturn, label: str) -> Outcome:
    """Read a job's result without letting a failed job abort the sweep.

    ``label`` names the trial in the logged traceback (Hydra logs none itself).
    """
    if job.status != JobStatus.COMPLETED:
        try:
            job.return_value  # noqa: B018 - re-raises the job's exception
        except Exception as error:  # a trial may fail in any way
            log.error("%s failed:\n%s", label, "".join(traceback.format_exception(error)).rstrip())
            return Outcome(None, getattr(error, SECONDS_ATTR, None), _one_line(error))
        return Outcome(None, None, f"job ended with status {job.status.name}")
    returned = job.return_value
    seconds = returned.seconds if isinstance(returned, TimedValue) else None
    value = returned.value if isinstance(returned, TimedValue) else returned
    number = _as_number(value)
    if number is None or not math.isfinite(number):
        message = f"the task returned {value!r}, not a finite number"
        log.error("%s failed: %s", label, message)
        return Outcome(None, seconds, message)
    return Outcome(number, seconds)


def penalty(finite: Sequence[float]) -> float:
    """The value told to the surrogate for a failed trial (see the module docstring)."""
    worst, best = max(finite), min(finite)
    spread = worst - best or abs(worst) or 1.0
    return worst + PENALTY_MARGIN * spread


def check_failure_rate(
    n_failed: int, n_launched: int, max_failure_rate: float, n_initial_points: int, last: str
) -> None:
    """Raise :class:`SweepAbortedError` when failures exceed the allowed share."""
    window = max(n_launched, n_initial_points)
    if n_failed > max_failure_rate * window:
        raise SweepAbortedError(
            f"hydra.sweeper.max_failure_rate: {n_failed} of {n_launched} trials failed, "
            f"more than {max_failure_rate:g} x {window}; last error: {last} -> read the "
            "failed jobs' logs (trials.csv has their job_dir), fix the cause, then rerun "
            "with hydra.sweeper.resume=true (or raise max_failure_rate)"
        )


class Teller:
    """Tells the optimizer finished trials, with the penalty rule for failed ones."""

    def __init__(self, optimizer: Any, sign: float, log_objective: bool = False) -> None:
        self.optimizer = optimizer
        self.sign = sign
        self.log_objective = log_objective
        self.finite: list[float] = []
        self.pending: list[list[Any]] = []  # failed points waiting for a finite value

    def tell(self, trials: Sequence[Trial]) -> None:
        xs: list[list[Any]] = []
        ys: list[float] = []
        for t in trials:
            if t.objective is None:
                self.pending.append(t.point)
                continue
            xs.append(t.point)
            ys.append(self._surrogate_value(t.objective))
            self.finite.append(ys[-1])
        if self.finite and self.pending:
            xs += self.pending
            ys += [penalty(self.finite)] * len(self.pending)
            self.pending = []
        if xs:
            with threadpool_limits(limits=1):  # see tsbench.search.proposer
                self.optimizer.tell(xs, ys)


    def _surrogate_value(self, objective: float) -> float:
        """What the surrogate learns: the signed objective, or its log (log_objective)."""
        if not self.log_objective:
            return self.sign * objective
        if objective <= 0:
            raise ConfigError(
                "hydra.sweeper.log_objective",
                f"a trial returned {objective:g}, and log needs positive objectives",
                "set hydra.sweeper.log_objective=false",
            )
        return math.log(objective)


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _one_line(error: BaseException) -> str:
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= 300 else text[:297] + "..."
