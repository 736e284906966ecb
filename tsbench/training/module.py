"""The LightningModule: MSE training, exact validation MSE, optimizer and schedule."""

from __future__ import annotations

import math
from contextlib import nullcontext
from typing import Any, ClassVar

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import TQDMProgressBar
from torch.nn import functional as F

from tsbench.errors import ConfigError
from tsbench.models.base import ForecastModel
from tsbench.models.layers import kernels
from tsbench.models.layers.dropout import PassMasks
from tsbench.training.schedules import PER_STEP, lr_factor

OPTIMIZERS = ("adamw", "adam", "radam", "sgd")
#: The per-epoch validation MSE's name in every logger (metrics.csv, TensorBoard, MLflow,
#: W&B) and for what reads it in training (the checkpoint, early stopping, pruning). Not
#: metrics.json's ``val_mse``, the run's score, which TensorBoard and MLflow log at step 0
#: after the curve: under one name MLflow's run table would show the last epoch's value.
VAL_LOSS = "val_loss"


class ForecastModule(pl.LightningModule):
    """Trains ``model`` on the channels ``target_dims`` with MSE, clipping the gradient
    norm at ``gradient_clip_val`` (None: no clipping); ``mixed_precision`` says whether the
    Trainer runs under autocast (``trainer.precision`` bf16-mixed or 16-mixed).

    ``val_loss`` is the exact MSE over every validation window (summed errors over the
    epoch, divided once), not a mean of batch means. The optimizer and schedule are
    stepped here (Lightning's manual optimization) in the order of Lightning's automatic
    loop, which skips the automatic loop's closure and per-step hooks (their cost is
    measured in ``benchmarks/RESULTS-throughput.md``).
    """

    def __init__(
        self,
        model: ForecastModel,
        optim: Any,
        lr: float,
        target_dims: slice,
        steps_per_epoch: int,
        max_epochs: int,
        gradient_clip_val: float | None = None,
        mixed_precision: bool = False,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.gradient_clip_val = gradient_clip_val
        self.mixed_precision = mixed_precision
        self.model = model
        self.optim = optim
        self.lr = lr  # read by configure_optimizers; the lr finder writes it
        self.target_dims = target_dims
        self.steps_per_epoch = steps_per_epoch
        self.max_epochs = max_epochs
        self._val_sse = torch.zeros(())
        self._val_count = 0
        self._train_sum = torch.zeros(())
        self._train_count = 0
        #: Per-epoch mean training loss and validation MSE, for the loss-curve plot.
        self.history: dict[str, list[float]] = {"train_loss": [], VAL_LOSS: []}
        #: Each training pass's dropout masks drawn together (fresh for every fit).
        self.pass_masks = PassMasks()

    def on_fit_start(self) -> None:
        self.history = {"train_loss": [], VAL_LOSS: []}
        self.pass_masks = PassMasks()

    def on_train_epoch_start(self) -> None:
        self._train_sum = torch.zeros((), device=self.device)
        self._train_count = 0

    def on_train_epoch_end(self) -> None:
        train_loss = self._train_sum / max(1, self._train_count)
        self.log("train_loss", train_loss, prog_bar=True)
        self.history["train_loss"].append(float(train_loss))
        self._step_schedules("epoch")

    def running_train_loss(self) -> float | None:
        """Mean training loss of the epoch so far (one host sync; for the progress bar)."""
        return float(self._train_sum / self._train_count) if self._train_count else None

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return self.model(x, x_mark)

    def training_step(self, batch: tuple, batch_idx: int) -> torch.Tensor:
        """One optimizer step: loss, zeroed gradients, backward, clipping, step, then the
        per-step schedules (the learning-rate finder's too)."""
        optimizer = self.optimizers()
        loss = self.training_loss(batch)
        # Lightning runs a manual step under the precision plugin's autocast; the backward
        # pass and the update run outside it, as in Lightning's automatic loop.
        device = self.device.type
        outside_autocast = (torch.autocast(device, enabled=False)
                            if torch.is_autocast_enabled(device) else nullcontext())
        with outside_autocast:
            optimizer.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            if self.gradient_clip_val:
                self.clip_gradients(optimizer, gradient_clip_val=self.gradient_clip_val,
                                    gradient_clip_algorithm="norm")
            optimizer.step()
        self._step_schedules("step")
        return loss

    def _step_schedules(self, interval: str) -> None:
        for config in self.trainer.lr_scheduler_configs:
            if config.interval == interval:
                config.scheduler.step()

    def training_loss(self, batch: tuple) -> torch.Tensor:
        """The batch's MSE on the target channels (added to the epoch's running loss)."""
        x, y, x_mark = batch
        with self.pass_masks.drawing() if kernels.enabled() else nullcontext():
            pred = self.model(x, x_mark)
        loss = F.mse_loss(pred[..., self.target_dims], y[..., self.target_dims])
        # No self.log here: a per-step log costs more Python than a small model's step, and
        # the loss stays a device tensor (no host sync) until the epoch ends or the bar shows it.
        self._train_sum = self._train_sum + loss.detach() * x.shape[0]
        self._train_count += x.shape[0]
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val_sse = torch.zeros((), device=self.device)
        self._val_count = 0

    def validation_step(self, batch: tuple, batch_idx: int) -> None:
        x, y, x_mark = batch
        err = self.model(x, x_mark)[..., self.target_dims] - y[..., self.target_dims]
        self._val_sse = self._val_sse + err.float().pow(2).sum()
        self._val_count += err.numel()

    def on_validation_epoch_end(self) -> None:
        val_loss = self._val_sse / max(1, self._val_count)
        self.log(VAL_LOSS, val_loss, prog_bar=True)
        if not self.trainer.sanity_checking:
            self.history[VAL_LOSS].append(float(val_loss))

    def configure_optimizers(self) -> dict:
        params = [p for p in self.model.parameters() if p.requires_grad]
        name, wd = str(self.optim.name), float(self.optim.weight_decay)
        betas = tuple(self.optim.get("betas", (0.9, 0.999)))
        # Fused (Adam, AdamW) or multi-tensor (RAdam, SGD) updates: the same math in a few
        # kernels instead of a dozen small ops per parameter tensor. Lightning's mixed-precision
        # plugin refuses to clip the gradients of a fused optimizer: multi-tensor Adam then.
        update = {"fused": True} if self._fused_adam() else {"foreach": True}
        if name == "adamw":
            optimizer = torch.optim.AdamW(params, lr=self.lr, weight_decay=wd, betas=betas,
                                          **update)
        elif name == "adam":
            optimizer = torch.optim.Adam(params, lr=self.lr, weight_decay=wd, betas=betas,
                                         **update)
        elif name == "radam":
            optimizer = torch.optim.RAdam(params, lr=self.lr, weight_decay=wd, betas=betas,
                                          foreach=True)
        elif name == "sgd":
            optimizer = torch.optim.SGD(params, lr=self.lr, weight_decay=wd,
                                        momentum=float(self.optim.momentum),
                                        nesterov=bool(self.optim.get("nesterov", False)),
                                        foreach=True)
        else:
            raise ConfigError("optim.name", f"unknown optimizer '{name}'",
                              f"use one of {OPTIMIZERS}")
        factor = lr_factor(self.optim, self.steps_per_epoch, self.max_epochs, self.lr)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        interval = "step" if str(self.optim.schedule) in PER_STEP else "epoch"
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "interval": interval}}

    def _fused_adam(self) -> bool:
        """Whether Adam/AdamW may be fused: not when gradients are clipped under mixed precision."""
        return not (self.gradient_clip_val and self.mixed_precision)


def diverged(what: str, lr: float | None, clip: float | None) -> ConfigError:
    """The error of a run whose loss or scores are not finite: it names the likely fix
    (clipping only where the run's gradients were not clipped already)."""
    said = [f"this run used {lr:g}"] if lr is not None else []
    if clip:
        said.append(f"its gradients were clipped at trainer.gradient_clip_val={clip:g}")
    fix = f"lower optim.lr ({'; '.join(said)})" if said else "lower optim.lr"
    if not clip:
        fix += ", or clip gradients with trainer.gradient_clip_val=1.0"
    return ConfigError("optim.lr", f"the run diverged: {what}", fix)


class StopOnNonFiniteLoss(pl.Callback):
    """Ends training with :func:`diverged` after the first epoch whose mean training loss
    is NaN or infinite (every later epoch would be wasted)."""

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        loss = pl_module.running_train_loss() if isinstance(pl_module, ForecastModule) else None
        if loss is not None and not math.isfinite(loss):
            raise diverged(f"the training loss is {loss} in epoch {trainer.current_epoch + 1}",
                           pl_module.lr, pl_module.gradient_clip_val)


class LossProgressBar(TQDMProgressBar):
    """Lightning's bar, showing the epoch's running ``train_loss`` at each refresh (every
    ``refresh_rate`` steps), which is the only time the loss is read back from the device."""

    #: Whether the training bar's line is drawn on stdout and not yet ended (training broke
    #: off): only then does a line said after it need a line break first.
    line_open: ClassVar[bool] = False

    def on_train_start(self, *args: Any) -> None:
        super().on_train_start(*args)
        LossProgressBar.line_open = True

    def on_train_end(self, *args: Any) -> None:
        super().on_train_end(*args)  # closing the bar ends its line
        LossProgressBar.line_open = False

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                     exception: BaseException) -> None:
        """Training broke off (a diverged loss, a stop): the bar's line is ended here, as
        at training's end, so that neither the error said next nor, in a multirun of
        in-process jobs, the next job's lines start in it, and no later job finds the line
        open (nor does tqdm draw the bar again at exit)."""
        if LossProgressBar.line_open:
            self.train_progress_bar.close()
            LossProgressBar.line_open = False

    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule
                    ) -> dict[str, int | str | float | dict[str, float]]:
        metrics = super().get_metrics(trainer, pl_module)
        loss = pl_module.running_train_loss() if isinstance(pl_module, ForecastModule) else None
        if loss is not None:
            metrics["train_loss"] = loss
        return metrics
