"""Vectorized windows equal a plain per-window loop; loaders keep every window."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsbench.data.datamodule import ForecastData
from tsbench.data.loading import Series
from tsbench.data.windows import WindowLoader, Windows


def _reference(values: np.ndarray, seq_len: int, pred_len: int):
    xs, ys = [], []
    for i in range(len(values) - seq_len - pred_len + 1):
        xs.append(values[i:i + seq_len])
        ys.append(values[i + seq_len:i + seq_len + pred_len])
    return np.stack(xs), np.stack(ys)


def _series(values: np.ndarray) -> Series:
    dates = pd.date_range("2020-01-01", periods=len(values), freq="h")
    return Series("toy", values, dates, ["y"], "h", "ratio")


def test_windows_equal_reference_loop() -> None:
    rng = np.random.default_rng(0)
    values = rng.standard_normal((257, 5)).astype(np.float32)
    marks = rng.standard_normal((257, 4)).astype(np.float32)
    windows = Windows(torch.from_numpy(values), torch.from_numpy(marks), 48, 24)
    ref_x, ref_y = _reference(values, 48, 24)
    ref_m, _ = _reference(marks, 48, 24)
    assert len(windows) == len(ref_x) == 257 - 48 - 24 + 1
    x, y, m = windows.batch(torch.arange(len(windows)))
    assert np.array_equal(x.numpy(), ref_x)
    assert np.array_equal(y.numpy(), ref_y)
    assert np.array_equal(m.numpy(), ref_m)
    # a roll-out's windows carry the marks of the input and the horizon rows [i, i+L+H)
    rolled = Windows(torch.from_numpy(values), torch.from_numpy(marks), 48, 24,
                     horizon_marks=True)
    x, y, m = rolled.batch(torch.arange(len(rolled)))
    assert np.array_equal(x.numpy(), ref_x) and np.array_equal(y.numpy(), ref_y)
    assert np.array_equal(m.numpy(), np.stack([marks[i:i + 72] for i in range(len(rolled))]))


def test_loader_keeps_every_window_and_shuffles_reproducibly() -> None:
    values = torch.arange(100, dtype=torch.float32)[:, None]
    windows = Windows(values, None, 10, 5)
    plain = list(WindowLoader(windows, 16))
    assert len(plain) == 6 and sum(b[0].shape[0] for b in plain) == len(windows) == 86
    firsts = torch.cat([b[0][:, 0, 0] for b in plain])
    assert torch.equal(firsts, torch.arange(86, dtype=torch.float32))

    def order(seed: int) -> torch.Tensor:
        return torch.cat([b[0][:, 0, 0] for b in WindowLoader(windows, 16, True, seed)])

    assert torch.equal(order(3), order(3))
    assert not torch.equal(order(3), order(4))
    assert torch.equal(order(3).sort().values, firsts)


def test_drop_last_is_for_training_only() -> None:
    values = torch.arange(100, dtype=torch.float32)[:, None]
    windows = Windows(values, None, 10, 5)  # 86 windows
    dropped = list(WindowLoader(windows, 16, True, 0, drop_last=True))
    assert len(dropped) == len(WindowLoader(windows, 16, drop_last=True)) == 86 // 16
    assert {b[0].shape[0] for b in dropped} == {16}
    assert len(set(torch.cat([b[0][:, 0, 0] for b in dropped]).tolist())) == 80
    assert len(list(WindowLoader(windows, 100, drop_last=True))) == 1  # never zero batches
    data = ForecastData(_series(values.numpy()), {"train": (0, 60), "val": (40, 100)}, 10, 5,
                        batch_size=16, eval_batch_size=16, drop_last=True)
    assert sum(b[0].shape[0] for b in data.train_dataloader()) == 46 // 16 * 16
    assert sum(b[0].shape[0] for b in data.val_dataloader()) == 46  # scoring keeps all


@pytest.mark.skipif(not torch.cuda.is_available(), reason="page-locked memory needs CUDA")
def test_pinned_batches_equal_pageable_ones() -> None:
    values, marks = torch.randn(120, 3), torch.randn(120, 2)
    starts = torch.tensor([5, 0, 60])
    pinned = Windows(values, marks, 24, 12, pin_memory=True).batch(starts)
    for got, want in zip(pinned, Windows(values, marks, 24, 12).batch(starts), strict=True):
        assert got.is_pinned() and torch.equal(got, want)
