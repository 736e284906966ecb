"""Pruning rules (ASHA, median) and the trial's side of them: report, then ask.

A trial of a pruning sweep reports its validation loss after every epoch to the sweep's
record (:mod:`tsbench.search.record`) and learns at once whether the rule stops it.
What is compared is the trial's *best* validation loss so far, the objective it would
return if it stopped now (tsbench restores the best epoch's weights), against the other
trials' reports of the same fold and epoch:

- ``asha`` (asynchronous successive halving, Li et al., MLSys 2020): rungs at epochs
  ``min_epochs * eta**k`` below ``max_epochs``. At a rung the trial goes on only if its
  value is among the best ``max(1, n // eta)`` of the ``n`` values the rung holds so far,
  its own included; no trial waits for a rung to fill (a late trial is judged against
  everything recorded before it, an early one against little).
- Either rule compares a trial only with trials of its own epoch budget
  (``trainer.max_epochs``): the learning-rate schedule spans the budget, so epoch 25 of a
  300-epoch trial is no measure for epoch 25 of a 30-epoch one.
- ``median``: from epoch ``min_epochs`` on, stop when the value is worse than the median
  of the other trials' values at the same epoch (none recorded yet: go on).

A trial is never stopped at its last epoch (its own ``max_epochs``): it then ran its full budget.
With ``stop_at_max_seconds`` a trial also stops at its next epoch once the sweep's
``max_seconds`` is spent (the sweeper hands it that moment as a deadline on its clock), so
that a trial launched just before the limit does not run far past it.
With ``cv=tscv`` every fold reports its own epochs, but only the first fold (the cheapest:
the fewest training rows) is judged, against the first fold of the other trials. Judging
every fold would cut a trial at each fold's rungs, (1/eta)^(rungs x folds) surviving
instead of (1/eta)^rungs, and throw away trials in their last fold after most of their
cost was paid (ILI, 4 folds: trials stopped at fold 3 after 41 epochs). A non-finite loss
counts as the worst value.

The sweeper passes a trial the rule and where the record is as overrides of a ``pruning``
block (:func:`trial_overrides`); a run without that block is not affected. This module
needs only the standard library, so training code may import it.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tsbench.search.names import CLOCK_STOP
from tsbench.search.record import PrunedMark, Record, Report

KINDS = ("none", "asha", "median")
#: The config block of a trial that a pruning sweep launched.
BLOCK = "pruning"


@dataclass
class PrunerSettings:
    """``hydra.sweeper.pruner``: which rule stops bad trials early, and its rungs."""

    # none | asha | median.
    kind: str = "none"
    # First rung (asha) or first epoch judged (median).
    min_epochs: int = 1
    # asha: rungs at min_epochs * eta**k; the best 1/eta of a rung go on.
    eta: int = 3
    # Top of the rung ladder; null = each trial's own trainer.max_epochs.
    max_epochs: int | None = None
    # true: once hydra.sweeper.max_seconds is spent, running trials stop at their next
    # epoch (recorded as pruned) instead of training to their end; false: only no new trial
    # starts then.
    stop_at_max_seconds: bool = False

    @property
    def on(self) -> bool:
        return self.kind != "none"

    def top(self, max_epochs: int | None) -> int | None:
        """The last epoch: this setting's ``max_epochs``, else the trial's own."""
        return self.max_epochs if self.max_epochs is not None else max_epochs

    def rungs(self, max_epochs: int | None = None) -> list[int]:
        """The asha rungs below ``max_epochs`` (this setting's, else the one given)."""
        top = self.top(max_epochs)
        if top is None:
            raise ValueError("rungs need max_epochs")
        rungs, epoch = [], self.min_epochs
        while epoch < top:
            rungs.append(epoch)
            epoch *= self.eta
        return rungs

    def judges(self, epoch: int, max_epochs: int | None) -> bool:
        """Whether the rule may stop a trial of ``max_epochs`` epochs at ``epoch`` (only then
        is the rung read): not at the top of the ladder, nor at the trial's own last epoch
        (below a higher top: it ran its full budget)."""
        ends = [end for end in (self.max_epochs, max_epochs) if end is not None]
        if not self.on or epoch < self.min_epochs or any(epoch >= end for end in ends):
            return False
        return self.kind != "asha" or _is_rung(epoch, self.min_epochs, self.eta)

    def judge(
        self, epoch: int, value: float, others: Sequence[float], max_epochs: int | None
    ) -> tuple[float, str] | None:
        """``(cut-off, reason)`` when a trial at ``epoch`` with ``value`` must stop, given
        the other trials' values at that epoch; None when it goes on."""
        if not self.judges(epoch, max_epochs):
            return None
        value = _worst_if_not_finite(value)
        others = [_worst_if_not_finite(v) for v in others]
        if self.kind == "asha":
            values = sorted([*others, value])
            keep = max(1, len(values) // self.eta)
            cutoff = values[keep - 1]
            if value > cutoff:
                return cutoff, (
                    f"asha rung {epoch}: {value:.6g} is not among the best {keep} of "
                    f"{len(values)} (cut-off {cutoff:.6g})"
                )
            return None
        if not others:
            return None
        median = statistics.median(others)
        if value > median:
            return median, (
                f"median at epoch {epoch}: {value:.6g} is worse than the median "
                f"{median:.6g} of {len(others)} other trials"
            )
        return None


def trial_overrides(settings: PrunerSettings, record: Path, trial: int, job: int,
                    deadline: float | None = None) -> list[str]:
    """The overrides that tell a trial where the record is and which rule applies;
    ``deadline`` (seconds since the epoch) is when ``max_seconds`` is spent."""
    from tsbench.search.space import format_value  # the sweeper's side only (imports hydra)

    lines = [
        f"++{BLOCK}.record={format_value(str(record))}",
        f"++{BLOCK}.kind={settings.kind}",
        f"++{BLOCK}.min_epochs={settings.min_epochs}",
        f"++{BLOCK}.eta={settings.eta}",
        f"++{BLOCK}.trial={trial}",
        f"++{BLOCK}.job={job}",
    ]
    if settings.max_epochs is not None:
        lines.append(f"++{BLOCK}.max_epochs={settings.max_epochs}")
    if settings.stop_at_max_seconds and deadline is not None:
        lines.append(f"++{BLOCK}.deadline={deadline:.3f}")
    return lines


class Reporter:
    """A trial's side of pruning: :meth:`report` each epoch, stop when it says so."""

    def __init__(
        self, record: Record, settings: PrunerSettings, trial: int, job: int,
        max_epochs: int | None, deadline: float | None = None,
    ) -> None:
        self.record = record
        self.deadline = deadline  # seconds since the epoch: stop at the next epoch after
        self.settings = settings
        self.trial = trial
        self.job = job
        self.max_epochs = max_epochs
        self.best: dict[int, float] = {}  # fold -> best loss so far
        self.epochs = 0  # epochs reported, every fold together
        self.stopped: PrunedMark | None = None

    @classmethod
    def from_config(cls, block: Mapping[str, Any] | None, max_epochs: int | None
                    ) -> Reporter | None:
        """The reporter of a trial whose config holds a ``pruning`` block (None without
        one, or with ``kind: none``); ``max_epochs`` is the trial's own epoch budget."""
        if not block or str(block.get("kind", "none")) == "none":
            return None
        top = block.get("max_epochs")
        settings = PrunerSettings(
            kind=str(block["kind"]),
            min_epochs=int(block["min_epochs"]),
            eta=int(block["eta"]),
            max_epochs=None if top is None else int(top),
        )
        deadline = block.get("deadline")
        return cls(Record(Path(str(block["record"]))), settings, int(block["trial"]),
                   int(block["job"]), max_epochs,
                   None if deadline is None else float(deadline))

    def report(self, epoch: int, val_loss: float, fold: int = 0) -> bool:
        """Record ``val_loss`` of ``epoch`` (1-based) of ``fold``; True when the trial must
        stop now (then :attr:`stopped` says where and why, also in the record): only ever
        in fold 0."""
        loss = _worst_if_not_finite(float(val_loss))
        best = min(self.best.get(fold, math.inf), loss)
        self.best[fold] = best
        self.epochs += 1
        # Write first, then read: of two trials reporting at once, each sees the other or
        # the other sees it, so no comparison is lost.
        self.record.report(Report(self.trial, self.job, fold, epoch, loss, best,
                                  max_epochs=self.max_epochs))
        if self._past_deadline(epoch):
            return self._stop(fold, epoch, best, best, f"{CLOCK_STOP}: stopped at epoch "
                              f"{epoch}" + (f" of fold_{fold}" if fold else ""))
        if fold > 0 or not self.settings.judges(epoch, self.max_epochs):
            return False
        others = self.record.rung(fold, epoch, self.max_epochs)
        others.pop(self.trial, None)
        verdict = self.settings.judge(epoch, best, list(others.values()), self.max_epochs)
        if verdict is None:
            return False
        return self._stop(fold, epoch, best, *verdict)

    def _past_deadline(self, epoch: int) -> bool:
        """Whether ``max_seconds`` is spent and ``epoch`` is not the trial's last (its own
        budget's, whatever the top of the rung ladder)."""
        last = self.max_epochs if self.max_epochs is not None else self.settings.max_epochs
        return (self.deadline is not None and time.time() >= self.deadline
                and (last is None or epoch < last))

    def _stop(self, fold: int, epoch: int, best: float, cutoff: float, reason: str) -> bool:
        self.stopped = PrunedMark(self.trial, self.job, fold, epoch, best, cutoff, reason)
        self.record.mark_pruned(self.stopped)
        return True


def _is_rung(epoch: int, min_epochs: int, eta: int) -> bool:
    rung = min_epochs
    while rung < epoch:
        rung *= eta
    return rung == epoch


def _worst_if_not_finite(value: float) -> float:
    return value if math.isfinite(value) else math.inf
