"""``logger=tensorboard``: Lightning's TensorBoard logger, each epoch drawn once, and the
HParams tab naming settings as the command line does."""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Mapping
from typing import Any

from lightning_fabric.utilities.logger import _convert_params, _flatten_dict
from pytorch_lightning.loggers import TensorBoardLogger


class TensorBoardRunLogger(TensorBoardLogger):
    """Lightning's TensorBoard logger writing the ``epoch`` scalar once per step: Lightning
    adds it to each of its logging calls, and an epoch's end makes one per curve logged
    there (``train_loss``, ``val_loss``), so each epoch was drawn twice at one step. Its
    HParams are named ``model.hidden``, as a Hydra override (and MLflow's params) spell
    them, where Lightning writes ``model/hidden``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._epoch_at: tuple[int | None, Any] | None = None

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        if "epoch" in metrics:
            at, self._epoch_at = self._epoch_at, (step, metrics["epoch"])
            if at == self._epoch_at:  # already written at this step
                metrics = {k: v for k, v in metrics.items() if k != "epoch"}
        super().log_metrics(metrics, step)

    def log_hyperparams(self, params: dict[str, Any] | Namespace,
                        metrics: dict[str, Any] | None = None, step: int | None = None) -> None:
        """Log ``params`` flattened under dotted names; ``hparams.yaml`` keeps them nested."""
        params = _convert_params(params)
        nested = {**self.hparams, **params}
        super().log_hyperparams(_flatten_dict(params, delimiter="."), metrics, step)
        self.hparams = nested
