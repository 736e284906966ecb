"""Train a model with Lightning: early stopping, and the best-validation weights kept."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint

from tsbench.data.datamodule import ForecastData
from tsbench.models.base import ForecastModel
from tsbench.rundir import CHECKPOINT_DIR, CHECKPOINT_NAME
from tsbench.training.lr_find import tune_lr
from tsbench.training.module import VAL_LOSS, ForecastModule, LossProgressBar, StopOnNonFiniteLoss
from tsbench.training.pruning import TrialPruning
from tsbench.training.schedules import WARMUP_KEY, scaled_lr, warmup_overrun
from tsbench.training.trained_on import PRECISION_KEY, TrainedOn
from tsbench.training.trainer import make_trainer, precision, train_steps_per_epoch


def train(
    model: ForecastModel, data: ForecastData, cfg: Any, out_dir: Path,
    logger: Any = False, max_epochs: int | None = None, pruning: TrialPruning | None = None,
) -> dict[str, Any]:
    """Train on ``data``'s train split with early stopping on its val split (if any: else
    for all epochs), then load the best weights into ``model``. Returns ``epochs``,
    ``best_epoch``, ``train_seconds``, ``lr_used``, the trainer's precision under
    ``PRECISION_KEY`` (and ``lr_suggested`` with tune.lr_find; ``WARMUP_KEY`` where the
    warmup outlasts the training, for the run to say once).
    ``model`` is left on the device it trained on, where the run scores it."""
    if not model.trainable:
        return {"epochs": 0, "best_epoch": 0, "train_seconds": 0.0}
    trainer_cfg = cfg.trainer
    epochs = int(max_epochs if max_epochs is not None else trainer_cfg.max_epochs)
    steps = train_steps_per_epoch(trainer_cfg, len(data.train_dataloader()))
    module = ForecastModule(
        model, cfg.optim, scaled_lr(cfg.optim, data.batch_size), data.target_dims, steps, epochs,
        trainer_cfg.gradient_clip_val, "mixed" in precision(trainer_cfg),
    )
    tuned = tune_lr(module, data, cfg, out_dir) if cfg.tune.lr_find else {}
    overrun = warmup_overrun(cfg.optim, steps, epochs, module.lr)  # at the rate it trains at
    has_val = "val" in data.ranges
    checkpoint = ModelCheckpoint(
        dirpath=out_dir / CHECKPOINT_DIR,
        filename=CHECKPOINT_NAME,
        monitor=VAL_LOSS if has_val else None,
        mode="min",
        save_top_k=1,
        save_weights_only=True,
        enable_version_counter=False,
    )
    callbacks: list[pl.Callback] = [checkpoint, StopOnNonFiniteLoss()]
    if has_val and int(trainer_cfg.patience) > 0:
        callbacks.append(EarlyStopping(VAL_LOSS, patience=int(trainer_cfg.patience), mode="min"))
    if trainer_cfg.progress_bar:
        callbacks.append(LossProgressBar(refresh_rate=int(trainer_cfg.progress_refresh)))
    if pruning is not None:  # a pruning sweep's trial: report epochs, stop when told
        callbacks += pruning.callbacks(has_val)
    trainer = make_trainer(trainer_cfg, out_dir, epochs, callbacks=callbacks, logger=logger,
                           log_every_n_steps=max(1, min(50, steps)))
    start = time.perf_counter()
    trainer.fit(
        module,
        train_dataloaders=data.train_dataloader(),
        val_dataloaders=data.val_dataloader() if has_val else None,
    )
    seconds = time.perf_counter() - start
    if pruning is not None:
        # stopped: nothing more to score
        pruning.raise_if_pruned(seconds, overrun, TrainedOn(trainer.strategy.root_device,
                                                            str(trainer.precision)))
    best_epoch = trainer.current_epoch
    if checkpoint.best_model_path:
        state = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
        module.load_state_dict(state["state_dict"])
        best_epoch = _epoch_of(state)
    model.to(trainer.strategy.root_device)  # Lightning's teardown moved it to the CPU
    return {
        "epochs": int(trainer.current_epoch),
        "best_epoch": best_epoch,
        "train_seconds": round(seconds, 3),
        "lr_used": module.lr,
        "history": module.history,
        PRECISION_KEY: str(trainer.precision),  # Lightning's, which the card records
        **tuned,
        **({WARMUP_KEY: [overrun]} if overrun else {}),
    }


def _epoch_of(checkpoint: dict) -> int:
    """1-based epoch at which the best checkpoint was saved."""
    return int(checkpoint.get("epoch", -1)) + 1
