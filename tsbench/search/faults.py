"""Failed trials: what counts as failed, what the surrogate is told, when to give up.

A trial fails when its job raises, or returns something that is not a finite number
(NaN, inf, None, a string), or when its launcher cannot run it (its worker process killed,
as by the out-of-memory killer: :func:`launch_error` says so). It is recorded as
``failed`` and the sweep goes on. skopt cannot take NaN, and leaving the point out would
let it be proposed again, so the surrogate is told a *penalty* instead (in the minimized
space, i.e. the negated objective when ``direction=maximize``):

    penalty = worst finite value so far + 10% of the spread of the finite values
              (10% of |worst| when all values are equal, 0.1 when that is 0 too)

With ``log_objective`` (the default, for minimized positive losses) the surrogate learns
``log(objective)`` and the penalty is computed on those logs. A modest margin above the
worst real result marks the region as bad without the huge constant (1e6) that would
flatten a GP's fit elsewhere. Failures that happen before any
trial has finished are told once the first finite value exists.

Pruned trials (see :mod:`tsbench.search.pruning`) are told their best objective up to the
epoch where they were stopped, but never a value better than the best trial that ran its
full budget. For a minimized validation loss with the best epoch's weights kept, a
trial's best value so far can only fall with more epochs, so the told value is never
better than what the trial would have reached with its full budget: the surrogate does
not mistake an early-epoch loss for a full-budget one, and pruned points rank below the
trials that were promoted past them. Values stay graded (a hopeless learning rate is told
a worse value than a near miss), which a constant penalty would erase. The floor at the
best full-budget value keeps the incumbent a full-budget trial also where the per-epoch
value is not the objective itself (with ``cv=tscv`` a trial is judged on one fold's loss,
while its objective is the mean over folds).

The sweep aborts when ``failed > max_failure_rate * max(ended, n_initial_points, 4)`` and
trials are still to be launched: ``0`` stops at the first failure, ``1`` never stops,
and the first ``n_initial_points`` trials, at least :data:`MIN_FAILURE_WINDOW`, act as a
grace window so that early bad luck in a small batch does not end a long sweep. Both
counts start again when a sweep is resumed: the abort tells the user to fix the cause and
resume, and the failures before the fix would otherwise stop the resumed sweep at its
first ended trial. A sweep whose
last trials failed has nothing left to save by stopping: it ends normally and its summary
names the failures.
"""

from __future__ import annotations

import logging
import math
import re
import traceback
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass
from typing import Any

from hydra.core.utils import JobReturn, JobStatus

from tsbench.errors import ConfigError, TsbenchError
from tsbench.search.blas import one_blas_thread
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

    ``label`` names the trial in the logged error: one line for a user error (a
    :class:`TsbenchError` says all in one line), the traceback for anything else.
    """
    if job.status != JobStatus.COMPLETED:
        # The job's exception, read without Hydra's return_value property, which would
        # print a second line per failed job to stderr before raising it.
        error = getattr(job, "_return_value", None)
        if not isinstance(error, BaseException):
            return Outcome(None, None, f"job ended with status {job.status.name}")
        if isinstance(error, TsbenchError):
            log.error("%s failed: %s", label, error)
        else:
            trace = "".join(traceback.format_exception(error)).rstrip()
            log.error("%s failed:\n%s", label, trace)
        return Outcome(None, getattr(error, SECONDS_ATTR, None), _one_line(error))
    returned = job.return_value
    seconds = returned.seconds if isinstance(returned, TimedValue) else None
    value = returned.value if isinstance(returned, TimedValue) else returned
    number = _as_number(value)
    if number is None or not math.isfinite(number):
        message = f"the task returned {value!r}, not a finite number"
        log.error("%s failed: %s", label, message)
        return Outcome(None, seconds, message)
    return Outcome(number, seconds)


def launch_failure(error: BaseException, label: str) -> Outcome:
    """A job that the launcher itself could not run (e.g. its worker process was killed)."""
    said = launch_error(error)
    log.error("%s failed in the launcher: %s", label, said.removeprefix("launcher: "))
    return Outcome(None, None, said)


def launch_error(error: BaseException) -> str:
    """A launcher's exception as a trial's error: ``launcher: worker killed (SIGKILL: out
    of memory?) -> ...`` for loky's (joblib's) dead worker, whose own text (a segmentation
    fault or memory, then its exit codes) is cut at 300 characters before it names the
    signal; ``launcher: <type>: <message>`` for any other."""
    codes = _EXIT_CODES.search(str(error))
    if not isinstance(error, BrokenExecutor) or codes is None:
        return f"launcher: {_one_line(error)}"
    deaths = dict.fromkeys(_death(name, code) for name, code in _EXIT_CODE.findall(
        codes.group(1)))
    said = ", ".join(deaths) or "worker died"
    if "SIGKILL" in codes.group(1):
        said += " -> if so, run fewer trials at once (hydra.launcher.n_jobs) or smaller ones"
    return f"launcher: {said}"


#: loky's list of its dead workers' exit codes (``{SIGKILL(-9), EXIT(1)}``), and one code.
_EXIT_CODES = re.compile(r"exit codes of the workers are \{([^}]*)\}")
_EXIT_CODE = re.compile(r"([A-Z0-9]+)\((-?\d+)\)")


def _death(name: str, code: str) -> str:
    """One dead worker, said from loky's exit code: killed by a signal, or exited."""
    if name == "SIGKILL":
        return "worker killed (SIGKILL: out of memory?)"
    if name.startswith("SIG"):
        return f"worker killed ({name})"
    return f"worker exited with status {code}"


def penalty(finite: Sequence[float]) -> float:
    """The value told to the surrogate for a failed trial (see the module docstring)."""
    worst, best = max(finite), min(finite)
    spread = worst - best or abs(worst) or 1.0
    return worst + PENALTY_MARGIN * spread


#: The fewest trials a failure rate is taken over, whatever ``n_initial_points``: a sweep
#: warm-started with ``n_initial_points=1`` (tsbench-tune's stage e) stopped at its first
#: failed trial, 1 of 1.
MIN_FAILURE_WINDOW = 4


def check_failure_rate(
    n_failed: int, n_launched: int, max_failure_rate: float, n_initial_points: int, last: str
) -> None:
    """Raise :class:`SweepAbortedError` when failures exceed the allowed share (counts of
    the trials that ended since the sweep started or was resumed)."""
    window = max(n_launched, n_initial_points, MIN_FAILURE_WINDOW)
    if n_failed > max_failure_rate * window:
        raise SweepAbortedError(
            f"hydra.sweeper.max_failure_rate: {n_failed} of {n_launched} trials failed "
            f"since the sweep (re)started, more than {max_failure_rate:g} x {window} (the "
            f"trials ended, or where more the grace window: n_initial_points="
            f"{n_initial_points}, at least {MIN_FAILURE_WINDOW}); last "
            f"error: {last} -> read the failed jobs' logs (trials.csv has their job_dir), "
            "fix the cause, then rerun with hydra.sweeper.resume=true (the failures so far "
            "count no more; add hydra.sweeper.retry_failed=true to run their points again; "
            "resume=force if the fix changes the sweep's settings), or raise "
            "max_failure_rate"
        )


class Teller:
    """Tells the optimizer ended trials: the penalty rule for failed ones, the floor rule
    for pruned ones (see the module docstring)."""

    def __init__(self, optimizer: Any, sign: float, log_objective: bool = False) -> None:
        self.optimizer = optimizer
        self.sign = sign
        self.log_objective = log_objective
        self.finite: list[float] = []  # every finite value told, pruned ones included
        self.full: list[float] = []  # values of trials that ran their full budget
        self.pending: list[list[Any]] = []  # failed points waiting for a finite value

    def tell(self, trials: Sequence[Trial]) -> None:
        xs: list[list[Any]] = []
        ys: list[float] = []
        kept = [t for t in trials if t.in_space]
        for t in [t for t in kept if t.ok]:
            xs.append(t.point)
            ys.append(self._surrogate_value(t.objective))  # type: ignore[arg-type]
            self.full.append(ys[-1])
        for t in [t for t in kept if not t.ok]:
            if t.objective is None:
                self.pending.append(t.point)
                continue
            xs.append(t.point)
            ys.append(max(self._surrogate_value(t.objective), min(self.full, default=-math.inf)))
        self.finite += ys
        if self.finite and self.pending:
            xs += self.pending
            ys += [penalty(self.finite)] * len(self.pending)
            self.pending = []
        if xs:
            with one_blas_thread():
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
    """The error on one line, at most 300 characters: tsbench's own (a setting, the problem
    and its fix) as it reads, any other with its type (``ValueError: ...``)."""
    said = str(error) if isinstance(error, TsbenchError) else f"{type(error).__name__}: {error}"
    text = " ".join(said.split())
    return text if len(text) <= 300 else text[:297] + "..."
