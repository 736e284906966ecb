"""Build a model from its config and train it with Lightning (early stopping, best weights)."""

from __future__ import annotations

import inspect
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint

from tsbench.data.datamodule import ForecastData
from tsbench.errors import ConfigError
from tsbench.models.base import ForecastModel
from tsbench.training.lr_find import tune_lr
from tsbench.training.module import ForecastModule, LossProgressBar
from tsbench.training.schedules import scaled_lr

#: Keys of a model config that are not constructor arguments.
_NON_ARGS = ("_target_", "name", "compile")


def model_class(model_cfg: Any) -> type[ForecastModel]:
    """The class named by ``model._target_``, checked against the model contract."""
    target = str(model_cfg.get("_target_", ""))
    try:
        cls = get_class(target)
    except Exception:  # noqa: BLE001 - Hydra raises several types for a bad path
        raise ConfigError(
            "model._target_", f"cannot import '{target}'",
            "point it at a ForecastModel subclass, e.g. mypkg.models.MyModel",
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, ForecastModel)):
        raise ConfigError("model._target_", f"{target} is not a tsbench ForecastModel",
                          "subclass tsbench.models.base.ForecastModel")
    return cls


def build_model(model_cfg: Any, seq_len: int, pred_len: int, n_vars: int, n_marks: int = 0
                ) -> ForecastModel:
    """Instantiate the model of ``model_cfg``; unknown hyperparameters name the field."""
    cls = model_class(model_cfg)
    params = OmegaConf.to_container(model_cfg, resolve=True) if isinstance(
        model_cfg, DictConfig) else dict(model_cfg)
    kwargs = {k: v for k, v in params.items() if k not in _NON_ARGS}
    accepted = inspect.signature(cls.__init__).parameters
    for key in kwargs:
        if key not in accepted:
            names = sorted(set(accepted) - {"self", "seq_len", "pred_len", "n_vars", "n_marks"})
            raise ConfigError(f"model.{key}", f"{cls.__name__} has no such hyperparameter",
                              f"use one of {names}")
    if "n_marks" in accepted:
        kwargs["n_marks"] = n_marks
    return cls(seq_len=seq_len, pred_len=pred_len, n_vars=n_vars, **kwargs)


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def train(
    model: ForecastModel, data: ForecastData, cfg: Any, out_dir: Path,
    logger: Any = False, max_epochs: int | None = None,
) -> dict[str, Any]:
    """Train on ``data``'s train split with early stopping on its val split (if any: else
    for all epochs), then load the best weights into ``model``. Returns ``epochs``,
    ``best_epoch``, ``train_seconds``, ``lr_used`` (and ``lr_suggested`` with tune.lr_find)."""
    if not model.trainable:
        return {"epochs": 0, "best_epoch": 0, "train_seconds": 0.0}
    trainer_cfg = cfg.trainer
    epochs = int(max_epochs if max_epochs is not None else trainer_cfg.max_epochs)
    steps = len(data.train_dataloader())
    module = ForecastModule(
        model, cfg.optim, scaled_lr(cfg.optim, data.batch_size), data.target_dims, steps, epochs,
        trainer_cfg.gradient_clip_val,
    )
    tuned = tune_lr(module, data, cfg, out_dir) if cfg.tune.lr_find else {}
    has_val = "val" in data.ranges
    checkpoint = ModelCheckpoint(
        dirpath=out_dir / "checkpoints",
        filename="best",
        monitor="val_loss" if has_val else None,
        mode="min",
        save_top_k=1,
        save_weights_only=True,
        enable_version_counter=False,
    )
    callbacks: list[pl.Callback] = [checkpoint]
    if has_val and int(trainer_cfg.patience) > 0:
        callbacks.append(EarlyStopping("val_loss", patience=int(trainer_cfg.patience), mode="min"))
    if trainer_cfg.progress_bar:
        callbacks.append(LossProgressBar(refresh_rate=int(trainer_cfg.progress_refresh)))
    trainer = pl.Trainer(
        accelerator=str(trainer_cfg.accelerator), devices=1,
        precision=trainer_cfg.precision, max_epochs=epochs,
        deterministic=bool(trainer_cfg.deterministic), callbacks=callbacks, logger=logger,
        enable_progress_bar=bool(trainer_cfg.progress_bar), enable_model_summary=False,
        num_sanity_val_steps=0, log_every_n_steps=max(1, min(50, steps)),
        default_root_dir=str(out_dir), limit_train_batches=trainer_cfg.limit_train_batches,
    )
    start = time.perf_counter()
    trainer.fit(
        module,
        train_dataloaders=data.train_dataloader(),
        val_dataloaders=data.val_dataloader() if has_val else None,
    )
    seconds = time.perf_counter() - start
    best_epoch = trainer.current_epoch
    if checkpoint.best_model_path:
        state = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
        module.load_state_dict(state["state_dict"])
        best_epoch = _epoch_of(state)
    return {
        "epochs": int(trainer.current_epoch),
        "best_epoch": best_epoch,
        "train_seconds": round(seconds, 3),
        "lr_used": module.lr,
        "history": module.history,
        **tuned,
    }


def _epoch_of(checkpoint: dict) -> int:
    """1-based epoch at which the best checkpoint was saved."""
    return int(checkpoint.get("epoch", -1)) + 1
