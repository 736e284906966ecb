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


def train_steps_per_epoch(trainer_cfg: Any, n_batches: int) -> int:
    """The optimizer steps of one training epoch of ``n_batches`` batches under
    ``trainer.limit_train_batches`` as Lightning reads it (a whole number: at most that many
    batches; a fraction in (0, 1]: that share of them, at least one): a per-step schedule
    spans the steps that run, or it never reaches its end."""
    limit = trainer_cfg.get("limit_train_batches")
    if limit is None:
        return n_batches
    if isinstance(limit, float) and limit <= 1.0:
        return max(1, int(n_batches * limit))
    return max(1, min(n_batches, int(limit)))
