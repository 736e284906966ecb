"""``logger=mlflow``'s run: Lightning's MLflow logger whose run tsbench ends once, with the
status that tells how the whole run ended.

Lightning ends an MLflow run at the end of every training (FINISHED, before the run is
scored and while a refit may follow) and at any exception in training (FAILED, a Ctrl-C or
a scheduler's SIGTERM too), so a run stopped from outside read as one that failed or, once
its training had ended, as one that finished (without an objective). Here Lightning's ends
are ignored and tsbench ends the run: FINISHED once its outputs are attached
(:meth:`MlflowRunLogger.end`), FAILED for an exception of its own, KILLED for a stop from
outside with the epoch it reached (:meth:`MlflowRunLogger.end_broken_off`).

MLflow refuses a param named with a character outside letters, digits, ``_ - . /``, space and
colon, and a data file's column names reach param names (the protocol card's
``scaler.channel_std.<column>``: ILI's ``% WEIGHTED ILI``, a ``temp (C)``): each name is
logged as MLflow takes it (:func:`mlflow_names`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.loggers import MLFlowLogger

#: MLflow's statuses of a run's end: it ran to its end, raised an error of its own, or was
#: stopped from outside (a signal: Ctrl-C, SIGTERM).
FINISHED, FAILED, KILLED = "FINISHED", "FAILED", "KILLED"
#: The metric of a killed run: the epoch under way when it was stopped, counted from 1 (as
#: metrics.json's ``best_epoch`` and a pruned run's ``pruned_at_epoch`` count).
KILLED_AT_EPOCH = "killed_at_epoch"
#: A character MLflow refuses in a name on some system (Windows refuses the colon too), or
#: a slash, which it takes only where the name reads as a clean path (not ``km/h/``).
_REFUSED = re.compile(r"[^\w.\- ]")


def mlflow_names(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` under names MLflow takes: each refused character written ``_``
    (``channel_std.% WEIGHTED ILI`` as ``channel_std._ WEIGHTED ILI``), and a name that two
    keys come to share numbered (``_2``, ...) rather than one value over the other, which
    MLflow also refuses."""
    named: dict[str, Any] = {}
    for key, value in params.items():
        name = base = _REFUSED.sub("_", str(key))
        copy = 1
        while name in named:
            copy += 1
            name = f"{base}_{copy}"
        named[name] = value
    return named


class MlflowRunLogger(MLFlowLogger):
    """Lightning's MLflow logger whose run only tsbench ends (see the module's text)."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        #: The epoch under way in the latest training it logs, from 1 (None: none began).
        self.epoch: int | None = None
        self.ended = False

    def log_hyperparams(self, params: Any) -> None:
        """Lightning's, a flat mapping's names as MLflow takes them (:func:`mlflow_names`)."""
        super().log_hyperparams(mlflow_names(params) if isinstance(params, Mapping)
                                else params)

    def follower(self) -> pl.Callback:
        """The callback that tells this logger each epoch that begins in a training that
        logs to it (:attr:`epoch`)."""
        return _FollowEpochs(self)

    def finalize(self, status: str = "success") -> None:
        """Lightning's end of one training, or of its exception: the run goes on (scored,
        refitted, its files attached) or is ended by tsbench with the cause, which Lightning
        does not know (:meth:`end_broken_off`)."""

    def end(self, status: str = FINISHED) -> None:
        """End the run with MLflow's ``status``, once."""
        if self.ended or not self._initialized:
            return
        self.ended = True
        self.experiment.set_terminated(self.run_id, status)

    def end_broken_off(self, error: BaseException) -> None:
        """End the run that ``error`` broke off: FAILED for an exception of its own; KILLED
        for a stop from outside (SystemExit, which tsbench's signal handler raises, or a
        KeyboardInterrupt), with :data:`KILLED_AT_EPOCH` where a training had begun."""
        if self.ended or not self._initialized:
            return
        if isinstance(error, Exception):
            self.end(FAILED)
            return
        if self.epoch is not None:
            self.experiment.log_metric(self.run_id, KILLED_AT_EPOCH, self.epoch)
        self.end(KILLED)


class _FollowEpochs(pl.Callback):
    """Keeps :attr:`MlflowRunLogger.epoch` at the epoch under way."""

    def __init__(self, logger: MlflowRunLogger) -> None:
        self.logger = logger

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.logger.epoch = trainer.current_epoch + 1
