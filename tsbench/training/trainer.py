"""The one place a Lightning ``Trainer`` is built from ``cfg.trainer``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl

from tsbench.errors import ConfigError
from tsbench.tracking.mlflow_run import MlflowRunLogger
from tsbench.training.gpu import trainer_devices

#: The ``trainer.precision`` values tsbench trains at, Lightning's short names included, by
#: the name Lightning gives them: float32 weights (the windows are float32), under autocast
#: for the mixed ones.
PRECISIONS = {"32-true": "32-true", "32": "32-true", "bf16-mixed": "bf16-mixed",
              "bf16": "bf16-mixed", "16-mixed": "16-mixed", "16": "16-mixed"}


def precision(trainer_cfg: Any) -> str:
    """``trainer.precision`` by Lightning's full name (``bf16`` is ``bf16-mixed``); refused
    where the weights themselves would be cast (``bf16-true``, ``64-true``): tsbench's
    float32 windows would meet them at the first step as a dtype error."""
    value = str(trainer_cfg.precision)
    if value in PRECISIONS:
        return PRECISIONS[value]
    if value.endswith("-true") or value in ("64", "transformer-engine",
                                            "transformer-engine-float16"):
        raise ConfigError("trainer.precision", f"'{value}' casts the model's weights away from "
                          "float32, which tsbench's float32 windows do not feed (the run would "
                          "fail at its first step)", "use bf16-mixed (autocast: the weights "
                          "stay float32, trainer=gpu's default), 16-mixed or 32-true")
    raise ConfigError("trainer.precision", f"unknown precision '{value}'",
                      "use 32-true, bf16-mixed or 16-mixed")


def check_cpu_precision(trainer_cfg: Any, on_cpu: bool) -> None:
    """Refuse ``16-mixed`` for a run that trains on the CPU (``on_cpu``): Lightning has no
    float16 autocast there and trains at ``bf16-mixed`` instead, with a warning, so the
    run's card would name a precision the run did not use."""
    if on_cpu and precision(trainer_cfg) == "16-mixed":
        raise ConfigError("trainer.precision", f"'{trainer_cfg.precision}' (float16 autocast) "
                          "does not run on the CPU: Lightning would train at bf16-mixed "
                          "instead", "use trainer.precision=bf16-mixed or 32-true on the CPU, "
                          "or 16-mixed with trainer=gpu")


def make_trainer(trainer_cfg: Any, out_dir: Path, max_epochs: int, *,
                 callbacks: list[pl.Callback] | None = None, logger: Any = False,
                 log_every_n_steps: int = 50, progress_bar: bool | None = None,
                 checkpointing: bool = True, limit_batches: bool = True) -> pl.Trainer:
    """A Trainer on ``trainer.accelerator`` with its precision and determinism, writing under
    ``out_dir``; no sanity validation and no model summary. ``progress_bar`` defaults to
    ``trainer.progress_bar``; ``limit_batches`` applies ``trainer.limit_train_batches``."""
    show = bool(trainer_cfg.progress_bar) if progress_bar is None else progress_bar
    callbacks = list(callbacks or [])
    if isinstance(logger, MlflowRunLogger):  # a stopped run's end names its epoch
        callbacks.append(logger.follower())
    return pl.Trainer(
        accelerator=str(trainer_cfg.accelerator), devices=trainer_devices(trainer_cfg),
        precision=precision(trainer_cfg), max_epochs=max_epochs,
        deterministic=bool(trainer_cfg.deterministic), callbacks=callbacks,
        logger=logger, enable_checkpointing=checkpointing,
        enable_progress_bar=show, enable_model_summary=False,
        num_sanity_val_steps=0, log_every_n_steps=log_every_n_steps,
        default_root_dir=str(out_dir),
        limit_train_batches=trainer_cfg.limit_train_batches if limit_batches else None,
    )


def train_steps_per_epoch(trainer_cfg: Any, n_batches: int) -> int:
    """The optimizer steps of one training epoch of ``n_batches`` batches under
    ``trainer.limit_train_batches`` as Lightning reads it (a whole number: at most that many
    batches; a fraction in (0, 1]: that share of them, rounded down): a per-step schedule
    spans the steps that run, or it never reaches its end. A fraction that leaves no batch
    is refused (Lightning would stop the run with a traceback)."""
    limit = trainer_cfg.get("limit_train_batches")
    if limit is None:
        return n_batches
    if isinstance(limit, float) and limit <= 1.0:
        if int(n_batches * limit) < 1:
            raise ConfigError("trainer.limit_train_batches", f"{limit:g} of the {n_batches} "
                              "training batches is no batch", f"give a share of at least "
                              f"1/{n_batches}, or a whole number of batches (e.g. 1)")
        return int(n_batches * limit)
    return max(1, min(n_batches, int(limit)))
