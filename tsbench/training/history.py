"""Fitting and scoring the models that read the whole history (``HistoryModel``: the
classical baselines) on a run's splits: no Lightning loop, the same windows and scores."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from tsbench.counted import noun_for
from tsbench.data.datamodule import ForecastData
from tsbench.models.history import HistoryModel

log = logging.getLogger(__name__)


def fit_history(model: HistoryModel, data: ForecastData) -> dict[str, Any]:
    """Fit on the scaled training rows of the scored channels (each channel's model reads
    that channel alone, so under ``features=MS`` the target's); the same keys as a deep
    model's training."""
    start, end = data.ranges["train"]
    began = time.perf_counter()
    model.fit_series(data.scored_rows(start, end))
    if model.constant_channels:
        read = data.series.columns[-1:] if data.features == "S" else data.series.columns
        scored = list(read)[data.target_dims]
        log.warning("%s: %s %s constant over the training rows, forecast as that "
                    "constant whatever the later rows do", type(model).__name__,
                    noun_for(len(model.constant_channels), "channel"),
                    ", ".join(scored[k] for k in model.constant_channels))
    return {"epochs": 0, "best_epoch": 0, "train_seconds": round(time.perf_counter() - began, 3)}


def history_forecasts(model: HistoryModel, data: ForecastData, split: str,
                      windows: np.ndarray | None = None) -> torch.Tensor:
    """Forecasts ``(windows, pred_len, scored channels)`` (scaled, float64) of the
    ``split`` windows numbered ``windows`` (all by default): window ``i``'s origin is its
    first target row, and the model has read every row of the scored channels from the
    start of training up to it."""
    train_start = data.ranges["train"][0]
    split_start = data.ranges[split][0]
    if windows is None:
        windows = np.arange(len(data.windows(split)))
    origins = split_start + data.seq_len + np.asarray(windows) - train_start
    # every split is asked with the same rows (through the last split's end), so the model
    # filters them once; a forecast reads only the rows before its origin
    last_row = max(end for _, end in data.ranges.values())
    values = data.scored_rows(train_start, last_row)
    return torch.from_numpy(model.forecast_origins(values, origins, data.pred_len))


def history_batches(model: HistoryModel, data: ForecastData, split: str
                    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(forecast, truth) batches of the scored channels over every window of ``split``, as
    ``data.loader`` gives the truths."""
    forecasts = history_forecasts(model, data, split)
    done = 0
    for _, y, _ in data.loader(split):
        yield forecasts[done:done + len(y)], y[..., data.target_dims]
        done += len(y)
