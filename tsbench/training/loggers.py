"""Lightning loggers chosen by ``logger=``: csv (default), tensorboard, none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytorch_lightning.loggers import CSVLogger, Logger, TensorBoardLogger

from tsbench.errors import ConfigError

LOGGERS = ("csv", "tensorboard", "none")


def build_logger(cfg: Any, run_dir: Path) -> Logger | bool:
    name = str(cfg.logger.name)
    if name == "csv":
        return CSVLogger(save_dir=str(run_dir), name="logs", version="")
    if name == "tensorboard":
        return TensorBoardLogger(save_dir=str(run_dir), name="tensorboard", version="")
    if name == "none":
        return False
    raise ConfigError("logger", f"unknown logger '{name}'", f"use one of {LOGGERS}")


def log_final_metrics(logger: Logger | bool, metrics: dict[str, Any]) -> None:
    """Record the scalar end-of-run metrics with the run's logger."""
    if not logger:
        return
    scalars = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
    logger.log_metrics(scalars)
    logger.save()
