"""Learning-rate schedules equal their published formulas: the rate the optimizer actually
used at every training step of a real ``ForecastModule`` under a real Trainer, checked
against values written out by hand from each formula (not against tsbench's own code)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from tests.conftest import run_tsbench
from tsbench.data.windows import WindowLoader, Windows
from tsbench.models.dlinear import DLinear
from tsbench.training.module import ForecastModule
from tsbench.training.trainer import train_steps_per_epoch

SEQ, PRED, BATCH, STEPS_PER_EPOCH = 16, 4, 8, 4
LR = 0.01

pytestmark = pytest.mark.filterwarnings("ignore:You defined a `validation_step` but have no")


class UsedRates(pl.Callback):
    """The learning rate of the optimizer's group at the start of every training step."""

    def __init__(self) -> None:
        self.seen: list[float] = []

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, i: int) -> None:
        self.seen.append(trainer.optimizers[0].param_groups[0]["lr"])


def used_rates(overrides: list[str], epochs: int, lr: float = LR) -> list[float]:
    """Train a tiny DLinear for ``epochs`` epochs of STEPS_PER_EPOCH steps, starting from
    the rate ``lr`` (``optim.lr`` stays LR); the rates used."""
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        optim = compose("config", overrides=[*overrides, f"optim.lr={LR}"]).optim
    torch.manual_seed(0)
    t = torch.arange(SEQ + PRED + STEPS_PER_EPOCH * BATCH - 1, dtype=torch.float32)
    values = torch.stack([torch.sin(t / 3), torch.cos(t / 5)], dim=1)
    loader = WindowLoader(Windows(values, None, SEQ, PRED), BATCH, shuffle=True, seed=0)
    assert len(loader) == STEPS_PER_EPOCH
    module = ForecastModule(DLinear(SEQ, PRED, 2, kernel_size=5), optim, lr, slice(None),
                            len(loader), epochs)
    rates = UsedRates()
    trainer = pl.Trainer(
        accelerator="cpu", max_epochs=epochs, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
        callbacks=[rates],
    )
    trainer.fit(module, train_dataloaders=loader)
    assert len(rates.seen) == STEPS_PER_EPOCH * epochs
    return rates.seen


def per_epoch(rates: list[float]) -> list[float]:
    """The one rate of each epoch (a per-epoch schedule never moves within an epoch)."""
    epochs = [rates[i:i + STEPS_PER_EPOCH] for i in range(0, len(rates), STEPS_PER_EPOCH)]
    assert all(len(set(epoch)) == 1 for epoch in epochs), epochs
    return [epoch[0] for epoch in epochs]


def test_warmup_cosine_fraction_with_floor_per_step() -> None:
    # 12 steps, warmup 0.25 -> 3 steps: lr (k + 1) / 3 for k = 0, 1, 2; then
    # min_lr + (lr - min_lr) (1 + cos(pi (k - 3) / 9)) / 2, with lr 0.01 and min_lr 0.001:
    # cos(0, 20, 40, ..., 160 degrees) = 1, 0.93969, 0.76604, 0.5, 0.17365, -0.17365, ...
    expected = [0.003333333333, 0.006666666667, 0.01,
                0.01, 0.009728616794, 0.008947199994, 0.00775, 0.0062814168,
                0.0047185832, 0.00325, 0.002052800006, 0.001271383206]
    rates = used_rates(["optim=adamw", "optim.warmup=0.25", "optim.min_lr=0.001"], epochs=3)
    assert rates == pytest.approx(expected, rel=1e-9)


def test_warmup_cosine_ends_at_min_lr_from_a_moved_rate() -> None:
    # optim.lr 0.01 trained from 0.04 (lr_scaling=linear at 4x base_batch_size, or the lr
    # finder's suggestion): 0.04 (k + 1) / 3 for k = 0, 1, 2, then
    # 0.001 + 0.039 (1 + cos(pi (k - 3) / 9)) / 2: the floor is min_lr, not 0.04 x 0.1
    cosines = [1.0, 0.9396926208, 0.7660444431, 0.5, 0.1736481777, -0.1736481777, -0.5,
               -0.7660444431, -0.9396926208]
    expected = [0.04 / 3, 0.08 / 3, 0.04, *(0.001 + 0.039 * (1 + c) / 2 for c in cosines)]
    rates = used_rates(["optim=adamw", "optim.warmup=0.25", "optim.min_lr=0.001"], epochs=3,
                       lr=0.04)
    assert rates == pytest.approx(expected, rel=1e-9)


def test_warmup_cosine_step_count_to_zero_per_step() -> None:
    # 8 steps, warmup 2 steps: 0.005, 0.01; then 0.01 (1 + cos(pi (k - 2) / 6)) / 2
    expected = [0.005, 0.01, 0.01, 0.009330127019, 0.0075, 0.005, 0.0025, 0.0006698729811]
    rates = used_rates(["optim=adam", "optim.warmup=2", "optim.min_lr=0.0"], epochs=2)
    assert rates == pytest.approx(expected, rel=1e-9)


def test_a_floor_above_the_rate_holds_the_rate_and_never_rises() -> None:
    # a rate moved (or searched) below min_lr: 0.0005 (k + 1) / 2 for k = 0, 1, then the
    # rate itself, not a cosine climbing from 0.0005 towards the floor 0.001
    rates = used_rates(["optim=adamw", "optim.warmup=2", "optim.min_lr=0.001"], epochs=2,
                       lr=0.0005)
    assert rates == pytest.approx([0.00025, 0.0005, *[0.0005] * 6], rel=1e-12)


def test_a_warmup_longer_than_the_run_climbs_all_run() -> None:
    # 8 steps of a 20-step warmup: the rate climbs to 8/20 of 0.01 and never reaches it
    rates = used_rates(["optim=adam", "optim.warmup=20", "optim.min_lr=0.0"], epochs=2)
    assert rates == pytest.approx([0.01 * (k + 1) / 20 for k in range(8)], rel=1e-12)


#: 1000 synthetic rows (700 training rows, 800 train+val), batches of 64 windows of 72 rows.
WARM = ["dataset=synthetic", "dataset.n_rows=1000", "seq_len=48", "pred_len=24", "model=dlinear",
        "trainer=debug", "data.batch_size=64", "logger=none", "optim.schedule=warmup_cosine",
        "optim.lr=0.01", "plots=false"]


def test_a_warmup_longer_than_the_run_is_said_once_per_run(tmp_path: Path) -> None:
    """A holdout run says the warmup outlasts it in one line; a cross-validation run in one
    line too, not once per fold and once more for the refit: folds of the same length
    named together (cv.max_train_size=200: 129 windows, 3 batches each), the refit's own
    length apart (800 rows: 729 windows, 12 batches)."""
    said = run_tsbench([*WARM, "optim.warmup=30"], tmp_path / "holdout")  # 629 windows
    assert said.stderr.count("steps, longer than") == 1
    assert ("optim.warmup=30 is 30 steps, longer than the run's 20 (2 epochs of 10 batches): "
            "the rate peaks at 67 % of its 0.01 -> give a shorter warmup, e.g. "
            "optim.warmup=0.05 (a fraction of all steps)") in said.stderr
    said = run_tsbench([*WARM, "optim.warmup=20", "trainer.max_epochs=1", "cv=tscv",
                        "cv.n_splits=3", "cv.max_train_size=200", "cv.refit=true"],
                       tmp_path / "tscv")
    assert said.stderr.count("steps, longer than") == 1
    assert ("optim.warmup=20 is 20 steps, longer than fold_0's, fold_1's, fold_2's 3 (1 epoch "
            "of 3 batches): the rate peaks at 15 % of its 0.01; the refit's 12 (1 epoch of 12 "
            "batches): the rate peaks at 60 % of its 0.01 -> give a shorter warmup") in said.stderr
    assert "warmup" not in (tmp_path / "tscv" / "metrics.json").read_text()


def test_warmup_of_one_is_one_step() -> None:
    """optim.warmup=1 is a step count (one warmup step at the full rate), not the fraction
    1.0 of all steps: then the cosine runs over the remaining 7 of 8 steps."""
    rates = used_rates(["optim=adam", "optim.warmup=1", "optim.min_lr=0.0"], epochs=2)
    expected = [0.01] + [0.01 * (1 + math.cos(math.pi * (k - 1) / 7)) / 2 for k in range(1, 8)]
    assert rates == pytest.approx(expected, rel=1e-12)


def test_step_decay_per_epoch() -> None:
    # torch's StepLR: lr * gamma ** (epoch // step_size) for 0-based epochs; optim=adamw_step
    # halves every 3 epochs.
    expected = [0.01, 0.01, 0.01, 0.005, 0.005, 0.005, 0.0025]
    assert per_epoch(used_rates(["optim=adamw_step"], epochs=7)) == pytest.approx(
        expected, rel=1e-12)


def test_type1_as_ltsf_linear_adjust_learning_rate() -> None:
    # The official scripts call adjust_learning_rate(epoch + 1) after each 0-based epoch:
    # type1 sets lr * 0.5 ** ((epoch - 1) // 1), so after epoch 1: lr, after 2: lr / 2, ...
    # Epochs 1-2 train at lr, then the rate halves every epoch.
    expected = [0.01, 0.01, 0.005, 0.0025, 0.00125, 0.000625]
    assert per_epoch(used_rates(["optim=adam_type1"], epochs=6)) == pytest.approx(
        expected, rel=1e-12)


def test_type3_as_patchtst_adjust_learning_rate() -> None:
    # type3 sets lr if epoch < 3 else lr * 0.9 ** ((epoch - 3) // 1) after (1-based) epoch:
    # after epochs 1, 2, 3: lr; after 4: 0.9 lr, ... Epochs 1-4 train at lr, epoch k >= 4 at
    # lr * 0.9 ** (k - 4).
    expected = [0.01, 0.01, 0.01, 0.01, 0.009, 0.0081, 0.00729]
    assert per_epoch(used_rates(["optim=adam_type3"], epochs=7)) == pytest.approx(
        expected, rel=1e-12)


@pytest.mark.parametrize(("limit", "steps"), [(None, 12), (5, 5), (40, 12), (0.5, 6),
                                              (0.3, 3), (1.0, 12), (1 / 12, 1), (0, 1)])
def test_a_per_step_schedule_spans_the_batches_lightning_trains(limit, steps) -> None:
    """trainer.limit_train_batches=5 trains 5 of 12 batches an epoch: the warmup-cosine
    schedule must span 5 steps an epoch, or it ends far from its floor (a fraction is a
    share of the batches, rounded down, as Lightning reads it)."""
    cfg = OmegaConf.create({"limit_train_batches": limit})
    assert train_steps_per_epoch(cfg, 12) == steps
