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
