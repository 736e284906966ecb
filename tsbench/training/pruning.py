"""Pruning from inside Lightning: a trial of a pruning sweep reports every validation epoch
to the sweep's record and stops as soon as the sweep's rule says so.

The sweeper gives each trial a ``pruning`` block (record folder, rule, trial and job
number; see :mod:`tsbench.search.pruning`); a run without it gets no callback and is not
affected. After each validation epoch the callback reports ``val_loss`` (the exact MSE
over every validation window) and, when the rule stops the trial, ends training at that
epoch; :func:`tsbench.training.fit.train` then raises :class:`TrialPruned`, so nothing is
scored on the test split, and :func:`tsbench.training.run.run` writes the pruned run's
protocol card and ``metrics.json`` (:func:`pruned_metrics`). With ``cv=tscv`` every fold
reports its own epochs (fold ``k`` is the ``k``-th training with a validation split); only
fold 0 is judged (see :mod:`tsbench.search.pruning`), and the refit never reports (it has
no validation split).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytorch_lightning as pl

from tsbench.rundir import CHECKPOINT_DIR
from tsbench.search.pruning import BLOCK, Reporter
from tsbench.search.record import PrunedMark
from tsbench.training.module import VAL_LOSS
from tsbench.training.trained_on import TrainedOn


class TrialPruned(Exception):
    """The sweep's pruning rule stopped this trial (raised after training ended)."""

    def __init__(self, mark: PrunedMark, epochs: int, train_seconds: float,
                 warmup: list[dict[str, Any]], trained_on: TrainedOn) -> None:
        super().__init__(mark.reason)
        self.mark = mark
        self.trained_on = trained_on  # the stopped training's, for the protocol card
        self.epochs = epochs  # epochs trained, every fold together
        self.train_seconds = train_seconds  # every fold's training together
        #: the stopped training's warmup overrun, if any (:mod:`.schedules`' WARMUP_KEY case)
        self.warmup = warmup


class TrialPruning:
    """The pruning of one run: a callback for each training, and the verdict."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.fits = 0  # trainings with a validation split so far (the next one's fold)
        self.train_seconds = 0.0  # of the trainings so far

    def callbacks(self, has_val: bool) -> list[pl.Callback]:
        """The callbacks of the next training (none without a validation split)."""
        if not has_val:
            return []
        self.fits += 1
        return [_ReportEpochs(self.reporter, fold=self.fits - 1)]

    def raise_if_pruned(self, train_seconds: float, warmup: dict[str, Any] | None,
                        trained_on: TrainedOn) -> None:
        """After each training (which took ``train_seconds`` on ``trained_on``; ``warmup``: its
        warmup overrun, if any): raise :class:`TrialPruned` if the rule stopped the trial."""
        self.train_seconds += train_seconds
        if self.reporter.stopped is not None:
            raise TrialPruned(self.reporter.stopped, self.reporter.epochs,
                              round(self.train_seconds, 3), [warmup] if warmup else [],
                              trained_on)


def trial_pruning(cfg: Any) -> TrialPruning | None:
    """The pruning of a run launched by a pruning sweep; None for any other run."""
    reporter = Reporter.from_config(cfg.get(BLOCK), max_epochs=int(cfg.trainer.max_epochs))
    return None if reporter is None else TrialPruning(reporter)


def pruned_metrics(cfg: Any, run_dir: Path, stopped: TrialPruned, threads: int
                   ) -> dict[str, Any]:
    """The metrics.json of a pruned run: the objective (best validation loss) up to the
    epoch where it was stopped, the epochs and seconds it trained, and no test scores. Its
    checkpoint is deleted: nothing scores, refits or ensembles a pruned run, and a long
    sweep prunes most of its trials."""
    for checkpoints in list(run_dir.rglob(CHECKPOINT_DIR)):  # the folds' too, with cv=tscv
        shutil.rmtree(checkpoints, ignore_errors=True)
    mark = stopped.mark
    metrics: dict[str, Any] = {
        "pruned": True,
        "pruned_at_epoch": mark.epoch,
        "objective": mark.objective,
        "pruning_reason": mark.reason,
        "epochs": stopped.epochs,
        "train_seconds": stopped.train_seconds,
        "splits_read": ["train", "val"],
        "seed": int(cfg.seed),
        "threads": threads,
    }
    if str(cfg.cv.name) == "tscv":
        metrics["pruned_at_fold"] = mark.fold
    return metrics


class _ReportEpochs(pl.Callback):
    """Reports each validation epoch's ``val_loss``; stops training when told to."""

    def __init__(self, reporter: Reporter, fold: int) -> None:
        self.reporter = reporter
        self.fold = fold

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or VAL_LOSS not in trainer.callback_metrics:
            return
        loss = float(trainer.callback_metrics[VAL_LOSS])
        if self.reporter.report(trainer.current_epoch + 1, loss, self.fold):
            trainer.should_stop = True
