"""``ForecastModule`` steps its optimizer and schedules itself (Lightning's manual
optimization) exactly as Lightning's automatic loop would: same learning rates, same
weights, gradient clipping included."""

from __future__ import annotations

from typing import Any

import pytest
import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_module

from tsbench.data.windows import WindowLoader, Windows
from tsbench.models.itransformer import ITransformer
from tsbench.training.module import ForecastModule

SEQ, PRED, VARS, MARKS, BATCHES, EPOCHS = 24, 6, 3, 2, 4, 3
OPTIMIZER_CLASSES = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}
WEIGHT_DECAY = 0.05


class AutomaticReference(ForecastModule):
    """The same module, trained by Lightning's automatic loop (the reference)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.automatic_optimization = True

    def training_step(self, batch: tuple, batch_idx: int) -> torch.Tensor:
        return self.training_loss(batch)

    def _step_schedules(self, interval: str) -> None:
        pass  # Lightning steps them

    def _fused_adam(self) -> bool:
        # Here the Trainer clips, and its mixed-precision plugin refuses a fused optimizer.
        trainer = self.trainer
        return not (trainer.gradient_clip_val and "mixed" in str(trainer.precision))


class LearningRates(pl.Callback):
    def __init__(self) -> None:
        self.seen: list[float] = []
        self.optimizer: torch.optim.Optimizer | None = None

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, i: int) -> None:
        self.optimizer = trainer.optimizers[0]  # the one the Trainer steps
        self.seen.append(self.optimizer.param_groups[0]["lr"])


def _train(module_cls: type[ForecastModule], optim: Any, module_clip: float | None,
           trainer_clip: float | None, precision: str = "32-true"
           ) -> tuple[list[float], list[torch.Tensor], LearningRates]:
    torch.manual_seed(0)
    t = torch.arange(SEQ + PRED + BATCHES * 8 - 1, dtype=torch.float32)
    values = torch.stack([torch.sin(t / (3 + c)) for c in range(VARS)], dim=1)
    marks = torch.stack([t % 7 / 7, t % 5 / 5], dim=1)
    loader = WindowLoader(Windows(values, marks, SEQ, PRED), 8, shuffle=True, seed=0)
    model = ITransformer(SEQ, PRED, VARS, MARKS, d_model=16, n_heads=2, e_layers=1, d_ff=16,
                         dropout=0.1)
    module = module_cls(model, optim, 0.01, slice(None), len(loader), EPOCHS, module_clip,
                        "mixed" in precision)
    rates = LearningRates()
    trainer = pl.Trainer(
        accelerator="cpu", max_epochs=EPOCHS, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
        gradient_clip_val=trainer_clip, callbacks=[rates], precision=precision,
    )
    trainer.fit(module, train_dataloaders=loader)
    return rates.seen, [p.detach().clone() for p in model.parameters()], rates


@pytest.mark.filterwarnings("ignore:You defined a `validation_step` but have no")
@pytest.mark.parametrize(
    ("optim_name", "precision"),
    # per-step and per-epoch schedules; bf16 autocast (trainer=gpu's precision) goes through
    # Lightning's mixed-precision plugin for the backward pass and the clipping, on CPU too
    [("adamw", "32-true"), ("adam_type1", "32-true"), ("adamw", "bf16-mixed")],
)
def test_manual_steps_match_lightnings_automatic_loop(optim_name: str, precision: str) -> None:
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        # a weight decay other than any preset's, so that the optimizer's shows where it came from
        optim = compose("config", overrides=[f"optim={optim_name}",
                                             f"optim.weight_decay={WEIGHT_DECAY}"]).optim
    clip = 0.05  # small enough to clip every step
    rates, weights, seen = _train(ForecastModule, optim, clip, None, precision)
    reference_rates, reference_weights, _ = _train(AutomaticReference, optim, None, clip,
                                                   precision)
    assert len(rates) == BATCHES * EPOCHS and len(set(rates)) > 1  # the schedule moved
    assert rates == reference_rates
    assert all(torch.equal(a, b) for a, b in zip(weights, reference_weights, strict=True))
    # The optimizer the config names, with its weight decay (decoupled for AdamW, an L2
    # penalty for Adam), on every trainable parameter: none is exempt.
    optimizer = seen.optimizer
    assert type(optimizer) is OPTIMIZER_CLASSES[str(optim.name)]
    assert [g["weight_decay"] for g in optimizer.param_groups] == [WEIGHT_DECAY]
    assert len(optimizer.param_groups[0]["params"]) == len(weights)
    _, unclipped, _ = _train(ForecastModule, optim, None, None, precision)
    assert not all(torch.equal(a, b) for a, b in zip(weights, unclipped, strict=True))


def _module(optim: Any, target_dims: slice = slice(None)) -> ForecastModule:
    model = ITransformer(SEQ, PRED, VARS, MARKS, d_model=16, n_heads=2, e_layers=1, d_ff=16,
                         dropout=0.0)
    return ForecastModule(model, optim, 0.01, target_dims, BATCHES, EPOCHS)


def _batch(size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(size, SEQ, VARS, generator=gen),
            torch.randn(size, PRED, VARS, generator=gen),
            torch.randn(size, SEQ, MARKS, generator=gen))


def _optim(*overrides: str) -> Any:
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        return compose("config", overrides=list(overrides)).optim


def test_training_loss_reads_only_the_target_channels() -> None:
    """With features=MS (target_dims the last channel) the training loss is the MSE of that
    channel alone: the other channels' errors do not drive training."""
    module = _module(_optim(), slice(VARS - 1, None))
    x, y, marks = _batch(8, 0)
    with torch.no_grad():
        pred = module.model(x, marks)
        loss = module.training_loss((x, y, marks))
    target = torch.nn.functional.mse_loss(pred[..., -1:], y[..., -1:])
    every = torch.nn.functional.mse_loss(pred, y)
    assert abs(float(every) - float(target)) > 1e-3  # the two readings differ here
    assert float(loss) == pytest.approx(float(target), rel=1e-6)


def test_epoch_train_loss_weights_each_batch_by_its_windows() -> None:
    """The epoch's train_loss is the mean over windows: a short last batch counts by its
    size, not as much as a full one."""
    module = _module(_optim())
    module.on_train_epoch_start()
    losses = []
    for size, seed in ((8, 1), (2, 2)):
        with torch.no_grad():
            losses.append(float(module.training_loss(_batch(size, seed))))
    assert abs(losses[0] - losses[1]) > 1e-3
    expected = (8 * losses[0] + 2 * losses[1]) / 10
    assert module.running_train_loss() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["optim=sgd", "optim.momentum=0.5"], {"momentum": 0.5, "nesterov": False}),
        (["optim=sgd", "optim.momentum=0.5", "+optim.nesterov=true"],
         {"momentum": 0.5, "nesterov": True}),
        (["optim=radam", "optim.weight_decay=0.03", "optim.betas=[0.8,0.95]"],
         {"weight_decay": 0.03, "betas": (0.8, 0.95)}),
        (["optim=adam", "optim.betas=[0.7,0.9]"], {"betas": (0.7, 0.9)}),
    ],
)
def test_optimizer_has_the_configured_settings(overrides: list[str], expected: dict) -> None:
    """The optimizer built has the momentum, Nesterov flag, weight decay and betas the
    config gives (none left at a library default)."""
    optimizer = _module(_optim(*overrides)).configure_optimizers()["optimizer"]
    group = optimizer.param_groups[0]
    assert {key: group[key] for key in expected} == expected
