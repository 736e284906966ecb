"""The one place a Lightning ``Trainer`` is built from ``cfg.trainer``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl

from tsbench.training.gpu import trainer_devices


def make_trainer(trainer_cfg: Any, out_dir: Path, max_epochs: int, *,
                 callbacks: list[pl.Callback] | None = None, logger: Any = False,
                 log_every_n_steps: int = 50, progress_bar: bool | None = None,
                 checkpointing: bool = True, limit_batches: bool = True) -> pl.Trainer:
    """A Trainer on ``trainer.accelerator`` with its precision and determinism, writing under
    ``out_dir``; no sanity validation and no model summary. ``progress_bar`` defaults to
    ``trainer.progress_bar``; ``limit_batches`` applies ``trainer.limit_train_batches``."""
    show = bool(trainer_cfg.progress_bar) if progress_bar is None else progress_bar
    return pl.Trainer(
        accelerator=str(trainer_cfg.accelerator), devices=trainer_devices(trainer_cfg),
        precision=trainer_cfg.precision, max_epochs=max_epochs,
        deterministic=bool(trainer_cfg.deterministic), callbacks=callbacks or [],
        logger=logger, enable_checkpointing=checkpointing,
        enable_progress_bar=show, enable_model_summary=False,
        num_sanity_val_steps=0, log_every_n_steps=log_every_n_steps,
        default_root_dir=str(out_dir),
        limit_train_batches=trainer_cfg.limit_train_batches if limit_batches else None,
    )
