"""make_data: a run's data from its config."""

from __future__ import annotations

import torch
from hydra import compose, initialize_config_module

from tsbench.data.loading import load_series
from tsbench.data.splits import benchmark_borders
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
