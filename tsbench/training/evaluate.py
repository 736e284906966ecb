"""Score a model on every window of a split, streaming the error sums."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from tsbench.data.datamodule import ForecastData
from tsbench.models.base import ForecastModel
from tsbench.models.history import HistoryModel
from tsbench.rundir import WindowErrors
from tsbench.training.history import history_batches, history_forecasts


@torch.inference_mode()
def evaluate(model: ForecastModel, data: ForecastData, split: str) -> dict[str, Any]:
    """MSE/MAE over all windows x horizon steps x scored channels, on the scaled data
    (the published convention) and in original units, plus MSE per horizon step and
    ``window_errors``: each window's MSE and MAE (:class:`tsbench.rundir.WindowErrors`, float32,
    window order; their means are ``mse`` and ``mae``)."""
    model.eval()
    device = next(model.parameters(), torch.zeros(())).device
    dims = data.target_dims
    scale = torch.as_tensor(data.scaler.scale_[dims], dtype=torch.float64, device=device)
    sse_step = torch.zeros(data.pred_len, dtype=torch.float64, device=device)
    sae = torch.zeros((), dtype=torch.float64, device=device)
    sse_orig = torch.zeros((), dtype=torch.float64, device=device)
    sae_orig = torch.zeros((), dtype=torch.float64, device=device)
    window_mse, window_mae = [], []
    for pred, y in forecast_batches(model, data, split, device):
        err = (pred[..., dims] - y[..., dims]).double()
        squared = err.pow(2)
        sse_step += squared.sum(dim=(0, 2))
        window_mse.append(squared.mean(dim=(1, 2)))
        absolute = err.abs()
        window_mae.append(absolute.mean(dim=(1, 2)))
        sae += absolute.sum()
        err_orig = err * scale  # the mean cancels in a difference
        sse_orig += err_orig.pow(2).sum()
        sae_orig += err_orig.abs().sum()
    windows = len(data.windows(split))
    per_step = windows * int(scale.numel())
    count = per_step * data.pred_len
    return {
        "mse": float(sse_step.sum() / count),
        "mae": float(sae / count),
        "mse_orig": float(sse_orig / count),
        "mae_orig": float(sae_orig / count),
        "mse_per_step": (sse_step / per_step).tolist(),
        "n_windows": windows,
        "window_errors": WindowErrors(mse=torch.cat(window_mse).float().cpu().numpy(),
                                   mae=torch.cat(window_mae).float().cpu().numpy()),
    }


def forecast_batches(model: ForecastModel, data: ForecastData, split: str,
                     device: torch.device) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(forecast, truth) batches over every window of ``split``."""
    if isinstance(model, HistoryModel):
        yield from history_batches(model, data, split)
        return
    for x, y, x_mark in data.loader(split):
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        x_mark = None if x_mark is None else x_mark.to(device, non_blocking=True)
        yield model(x, x_mark), y


@torch.inference_mode()
def forecast_windows(
    model: ForecastModel, data: ForecastData, split: str, starts: list[int]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inputs, truths and forecasts of chosen windows, in original units, scored channels."""
    model.eval()
    device = next(model.parameters(), torch.zeros(())).device
    x, y, x_mark = data.windows(split).batch(torch.as_tensor(starts))
    if isinstance(model, HistoryModel):
        pred = history_forecasts(model, data, split, starts)
    else:
        pred = model(x.to(device), None if x_mark is None else x_mark.to(device)).cpu()
    dims = data.target_dims
    return tuple(  # type: ignore[return-value]
        torch.from_numpy(data.inverse(t[..., dims].double().numpy())) for t in (x, y, pred)
    )
