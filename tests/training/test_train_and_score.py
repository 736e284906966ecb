"""make_data: a run's data from its config."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_module

from tests.conftest import TINY
from tsbench.data.datamodule import ForecastData
from tsbench.data.loading import load_series
from tsbench.data.splits import benchmark_borders
from tsbench.models.build import model_for
from tsbench.training import fit
from tsbench.training.train_and_score import make_data


def test_pin_memory_pins_only_with_cuda() -> None:
    """``trainer.pin_memory=true`` (trainer=gpu's) pins batches for CUDA copies and is
    ignored without CUDA, as by torch's DataLoader, instead of failing at the first batch."""
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=["dataset=synthetic", "dataset.n_rows=600",
                                           "model=dlinear", "seq_len=48", "pred_len=12",
                                           "trainer.pin_memory=true"])
    series = load_series(cfg.dataset)
    borders = benchmark_borders(len(series.values), series.split, 48)
    data = make_data(cfg, series, {"train": borders.train, "val": borders.val},
                     with_marks=False)
    x, y, _ = next(iter(data.train_dataloader()))
    assert x.shape == (int(cfg.data.batch_size), 48, series.values.shape[1])
    assert x.is_pinned() == y.is_pinned() == torch.cuda.is_available()


class UsedRates(pl.Callback):
    """The optimizer's learning rate at each training step, and after the last one."""

    def __init__(self) -> None:
        self.seen: list[float] = []
        self.after: float | None = None

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, i: int) -> None:
        self.seen.append(trainer.optimizers[0].param_groups[0]["lr"])

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self.after = trainer.optimizers[0].param_groups[0]["lr"]


def _tiny(*overrides: str) -> Any:
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        return compose("config", overrides=[*TINY, *overrides])


def _data(cfg: Any) -> ForecastData:
    series = load_series(cfg.dataset)
    borders = benchmark_borders(len(series.values), series.split, int(cfg.seq_len))
    return make_data(cfg, series, {"train": borders.train, "val": borders.val},
                     with_marks=False)


def test_limit_train_batches_trains_that_many_batches_and_the_schedule_spans_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """trainer.limit_train_batches=2 trains 2 batches an epoch, and the warmup-cosine
    schedule spans those steps: it ends at optim.min_lr after the last trained step."""
    lr, floor, epochs = 0.01, 0.001, 3
    cfg = _tiny("trainer.limit_train_batches=2", f"trainer.max_epochs={epochs}", "optim=adamw",
                f"optim.lr={lr}", f"optim.min_lr={floor}", "optim.warmup=0")
    data = _data(cfg)
    assert len(data.train_dataloader()) > 2
    rates = UsedRates()
    real = fit.make_trainer
    monkeypatch.setattr(fit, "make_trainer", lambda *args, callbacks, **kwargs: real(
        *args, callbacks=[*callbacks, rates], **kwargs))
    fit.train(model_for(cfg, load_series(cfg.dataset)), data, cfg, tmp_path)
    total = 2 * epochs
    cosine = [floor + (lr - floor) * 0.5 * (1 + math.cos(math.pi * i / total))
              for i in range(total)]
    assert rates.seen == pytest.approx(cosine, rel=1e-9)
    assert rates.after == pytest.approx(floor, rel=1e-9)


@pytest.mark.parametrize("drop_last", [True, False])
def test_drop_last_drops_the_short_training_batch(drop_last: bool) -> None:
    """data.drop_last=true trains on full batches only: the last short training batch is
    dropped (false keeps it, so every training window is seen)."""
    cfg = _tiny(f"data.drop_last={str(drop_last).lower()}")
    data = _data(cfg)
    windows, batch = len(data.windows("train")), int(cfg.data.batch_size)
    assert windows % batch  # there is a short last batch to drop
    sizes = [len(x) for x, _, _ in data.train_dataloader()]
    if drop_last:
        assert sizes == [batch] * (windows // batch)
    else:
        assert sum(sizes) == windows and sizes[-1] == windows % batch
