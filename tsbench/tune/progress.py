"""The progress line of ``tsbench-tune``: stage, trials done / planned, best validation so
far, time left. A background thread reads the running sweep's ``trials.csv`` (written
atomically by the sweeper after every trial) and prints a line whenever it changed."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from tsbench.counted import counted
from tsbench.search.names import FAILED, OK, PRUNED, TRIALS_FILE
from tsbench.search.record import RECORD_DIR, Record
from tsbench.search.trials import read_rows

log = logging.getLogger("tsbench.tune")


def clock(seconds: float) -> str:
    """``1:02:03`` for a number of seconds (0:00:00 when none are left)."""
    total = max(0, int(seconds))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def duration(seconds: float) -> str:
    """``1:02:03`` from a minute up, ``45 s`` or ``0.043 s`` below: never ``1e+02 s``."""
    return clock(seconds) if seconds >= 60 else f"{seconds:.2g} s"


def epoch_time(seconds: float) -> str:
    """``12.3 s an epoch``, ``0.043 s an epoch``: a tiny model's epoch is not ``0.0 s``."""
    return f"{seconds:.1f} s an epoch" if seconds >= 1 else f"{seconds:.2g} s an epoch"


def objective_name(cv_folds: int) -> str:
    """What the runs' objective is, for every line that shows one: the validation MSE on
    the training rows' scale, or with ``recipe.cv_folds`` its mean over the folds."""
    if cv_folds:
        return f"CV val MSE (scaled, mean of {cv_folds} folds)"
    return "val MSE (scaled)"


def sweep_summary(sweep_dir: Path) -> tuple[Counter, float | None]:
    """Trials per status and the best objective of the full-budget ('ok') trials so far."""
    rows, _ = read_rows(sweep_dir / TRIALS_FILE)
    statuses = Counter(row.get("status", "") for row in rows)
    values = [float(row["objective"]) for row in rows
              if row.get("status") == OK and row.get("objective")]
    return statuses, min(values, default=None)


def none_at_full_budget(statuses: Counter) -> str:
    """What a search that ended without a full-budget trial had instead: ``none at full
    budget: all 12 trials pruned``, ``...: 3 pruned, 1 failed``, or no trial at all."""
    ended = [(statuses[s], s) for s in (PRUNED, FAILED) if statuses[s]]
    if len(ended) == 1:
        count, status = ended[0]
        why = f"all {count} trials {status}" if count > 1 else f"its one trial {status}"
    else:
        why = ", ".join(f"{count} {status}" for count, status in ended)
    return f"none at full budget: {why}" if why else "none at full budget"


class Progress:
    """Logs ``label: done/~planned trials (pruned, failed), best val MSE ..., time left`` for the
    sweep in ``sweep_dir`` while it runs (every ``interval`` seconds, when it changed). With
    ``best_before`` (the baseline's, or the random search's best) the best shown is the
    tuning run's so far, then this search's own: a Bayesian search that has not yet beaten
    the random one does not look like a step back.

    ``planned`` is the stage's first estimate (from the baseline's seconds an epoch, or an
    earlier search's pace); once a trial has ended in this session the line plans as many
    more as the stage's ``seconds`` left buy at the rate trials have ended since the
    session's first launch (every overhead and parallel slot included; one at least while
    time is left), ``cap`` at most. The sweep's start before that launch, paid once, is
    left out of the rate: counted, it made a tiny model's first revision 16 where 58 ran."""

    def __init__(self, label: str, sweep_dir: Path, planned: int,
                 time_left: Callable[[], float], seconds: float, cap: int,
                 interval: float = 5.0, metric: str = objective_name(0),
                 best_before: float | None = None) -> None:
        self.label, self.sweep_dir, self.planned = label, sweep_dir, planned
        self.best_before = best_before  # the best of the stages before (the baseline's ...)
        self.seconds, self.cap = seconds, cap
        self.metric = metric  # what the objective is (:func:`objective_name`)
        self.time_left, self.interval = time_left, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._last = ""
        self._started = time.monotonic()
        self._since = time.time()  # the sweeper's clock: its record of launches keeps it
        self._first_launch: float | None = None
        self._ended_before = sum(sweep_summary(sweep_dir)[0].values())  # a resumed sweep's

    def estimate(self, done: int) -> int:
        """Trials planned with ``done`` ended (see the class)."""
        ended_here = done - self._ended_before
        first = self.first_launch()
        running = time.time() - first if first is not None else 0.0
        if ended_here < 1 or running <= 0:
            return self.planned
        left = self.seconds - (time.monotonic() - self._started)
        if left <= 0:
            return done
        # while time is left the sweep launches another trial, however slow the last ones
        return max(done, min(self.cap, done + max(1, int(left * ended_here / running))))

    def first_launch(self) -> float | None:
        """When this session's sweep launched its first trial (its record's clock), None
        before it did."""
        if self._first_launch is None:
            self._first_launch = min((la.started for la in Record(
                self.sweep_dir / RECORD_DIR).launches() if la.started >= self._since),
                default=None)
        return self._first_launch

    def line(self, ended: bool = False) -> str:
        """The progress line; ``ended``: the stage's last, where a search without a
        full-budget trial has none, not none yet, and says why (:func:`none_at_full_budget`)."""
        statuses, best = sweep_summary(self.sweep_dir)
        done = sum(statuses.values())
        extra = ", ".join(f"{statuses[s]} {s}" for s in (PRUNED, FAILED) if statuses[s])
        none = none_at_full_budget(statuses) if ended else "none yet"
        best_text = none if best is None else f"{best:.4f}"
        if self.best_before is not None:  # the tuning run's best so far, then this search's
            overall = min(v for v in (best, self.best_before) if v is not None)
            best_text = f"{overall:.4f} (this search: {best_text})"
        return (f"{self.label}: {done}/~{counted(self.estimate(done), 'trial')}"
                f"{f' ({extra})' if extra else ''}, best {self.metric} {best_text}, "
                f"{clock(self.time_left())} of the budget left")

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            self._report()

    def _report(self, ended: bool = False) -> None:
        text = self.line(ended)
        changed = text.rsplit(", ", 1)[0]  # the line without the time left
        if changed != self._last:
            log.info(text)
            self._last = changed

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        # left on an exception (Ctrl-C, a failed stage) the search has not ended: its line
        # keeps "none yet", not a verdict such as "none at full budget"
        self._report(ended=kind is None)
