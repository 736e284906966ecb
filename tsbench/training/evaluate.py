"""Score a model on every window of a split, streaming the error sums."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from tsbench.counted import noun_for
from tsbench.data.datamodule import ForecastData
from tsbench.data.seasons import mase_season
from tsbench.flat_words import ORIGINAL_UNITS
from tsbench.models.base import ForecastModel
from tsbench.models.history import HistoryModel
from tsbench.rundir import SAVED_WINDOW_METRICS, WindowErrors
from tsbench.training.history import history_batches, history_forecasts

#: A scored channel whose actual values come within this many of its scaler's standard
#: deviations of zero (or cross it) is named in ``<split>_smape_near_zero``: there sMAPE's
#: denominator, |forecast| + |actual|, shrinks and a small error scores up to 200.
NEAR_ZERO = 0.1
#: The key under which a run's scored splits whose MASE is undefined go up to the run, each
#: ``{"where": "fold_0's " or "the refit's " or "", "key": "val_mase", "channels": [...]}``
#: (never written to metrics.json): :func:`mase_undefined_warning` says them in one line.
MASE_KEY = "mase_undefined"


def naive_scale(data: ForecastData) -> torch.Tensor:
    """MASE's denominator (Hyndman & Koehler, 2006) per scored channel: the in-sample MAE
    of the seasonal naive forecast (:func:`mase_season`) over the rows the scaler was fitted
    on (the training rows; the published ones for a refit), in scaled units (float64)."""
    start, end = data.scaler.fitted_rows  # type: ignore[misc]
    season = mase_season(data.series.freq, end - start)
    rows = data.scaled[start:end, data.target_dims].double()
    return (rows[season:] - rows[:-season]).abs().mean(dim=0)


def scored_channels(data: ForecastData) -> list[str]:
    """The names of the channels ``data`` scores (``features=S`` reads the target alone)."""
    read = data.series.columns[-1:] if data.features == "S" else data.series.columns
    return list(read)[data.target_dims]


def model_device(model: ForecastModel) -> torch.device:
    """Where ``model``'s weights are, so where it is scored: once trained, the device the
    trainer trained it on (:func:`tsbench.training.fit.train` leaves it there); the CPU for
    a model without weights."""
    return next(model.parameters(), torch.zeros(())).device


@torch.inference_mode()
def evaluate(model: ForecastModel, data: ForecastData, split: str) -> dict[str, Any]:
    """MSE/MAE over all windows x horizon steps x scored channels, on the scaled data
    (the published convention) and in original units, plus MSE per horizon step and per
    scored channel (scaled), the scale-free MASE (each channel's absolute errors over its
    :func:`naive_scale`; left out where a channel's is 0, those channels in
    ``mase_undefined``, :func:`mase_undefined_warning`) and sMAPE (0-200,
    original units, a 0/0 term counts 0), ``smape_near_zero``: the scored channels whose
    actual values cross zero or come near it (:data:`NEAR_ZERO`), where sMAPE misleads, and
    ``window_errors``: each window's of them, and of the MSE and MAE in original units
    (:class:`WindowErrors`, float32, window order; their means are the split's)."""
    model.eval()
    device = model_device(model)
    dims = data.target_dims
    scale = torch.as_tensor(data.scaler.scale_[dims], dtype=torch.float64, device=device)
    mean = torch.as_tensor(data.scaler.mean_[dims], dtype=torch.float64, device=device)
    naive = naive_scale(data).to(device)
    scale_free = bool((naive > 0).all())
    sse_step = torch.zeros(data.pred_len, dtype=torch.float64, device=device)
    sse_channel = torch.zeros(int(scale.numel()), dtype=torch.float64, device=device)
    sums = {key: torch.zeros((), dtype=torch.float64, device=device)
            for key in ("mae", "mse_orig", "mae_orig", "mase", "smape")}
    windowed: dict[str, list[torch.Tensor]] = {key: [] for key in SAVED_WINDOW_METRICS}
    lowest, highest, nearest = (torch.full_like(scale, bound) for bound in
                                (torch.inf, -torch.inf, torch.inf))
    for pred, y in forecast_batches(model, data, split, device):
        err = (pred - y).double()
        err_orig = err * scale  # the mean cancels in a difference
        truth = y.double() * scale + mean
        lowest = torch.minimum(lowest, truth.amin(dim=(0, 1)))
        highest = torch.maximum(highest, truth.amax(dim=(0, 1)))
        nearest = torch.minimum(nearest, truth.abs().amin(dim=(0, 1)))
        size = (truth + err_orig).abs() + truth.abs()  # |forecast| + |actual|
        terms = {"mse": err.pow(2), "mae": err.abs(), "mase": err.abs() / naive,
                 "smape": torch.where(size > 0, 200.0 * err_orig.abs() / size, 0.0),
                 "mse_orig": err_orig.pow(2), "mae_orig": err_orig.abs()}
        sse_step += terms["mse"].sum(dim=(0, 2))
        sse_channel += terms["mse"].sum(dim=(0, 1))
        for key, term in terms.items():
            windowed[key].append(term.mean(dim=(1, 2)))
        for key in sums:
            sums[key] += terms[key].sum()
    windows = len(data.windows(split))
    per_step = windows * int(scale.numel())
    count = per_step * data.pred_len
    per_window = {k: torch.cat(v).float().cpu().numpy() for k, v in windowed.items()}
    exact = [c for c, n in zip(scored_channels(data), naive.tolist(), strict=True) if n == 0]
    if not scale_free:
        per_window.pop("mase")
        sums.pop("mase")
    near_zero = (lowest < 0) & (highest > 0) | (nearest <= NEAR_ZERO * scale)
    return {
        "mse": float(sse_step.sum() / count),
        **{key: float(total / count) for key, total in sums.items()},
        "mse_per_step": (sse_step / per_step).tolist(),
        "mse_per_channel": (sse_channel / (windows * data.pred_len)).tolist(),
        "smape_near_zero": [c for c, near in zip(scored_channels(data), near_zero.tolist(),
                                                 strict=True) if near],
        "n_windows": windows,
        "mase_undefined": exact,
        "window_errors": WindowErrors(per_window),
    }


def mase_undefined_warning(cases: list[dict[str, Any]]) -> str:
    """The run's one line on the MASE scores it left out (``cases``: :data:`MASE_KEY`'s),
    each channel list said once with every split and fold it holds for."""
    keys: dict[tuple[str, ...], list[str]] = {}
    for case in cases:
        keys.setdefault(tuple(case["channels"]), []).append(case["where"] + case["key"])
    where = "; ".join(f"{', '.join(named)} "
                      f"({noun_for(len(channels), 'channel')} {', '.join(channels)})"
                      for channels, named in keys.items())
    return ("MASE is left out where the seasonal naive forecast is exact on a scored "
            "channel's training rows (constant?), so MASE would divide by 0: "
            f"{where} -> compare on {ORIGINAL_UNITS} (sMAPE is 200 wherever a channel is 0 "
            "and its forecast is not), or leave the channel out with dataset.columns")


def forecast_batches(model: ForecastModel, data: ForecastData, split: str,
                     device: torch.device) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(forecast, truth) batches of the scored channels over every window of ``split``."""
    if isinstance(model, HistoryModel):  # forecasts the scored channels alone
        yield from history_batches(model, data, split)
        return
    dims = data.target_dims
    for x, y, x_mark in data.loader(split):
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        x_mark = None if x_mark is None else x_mark.to(device, non_blocking=True)
        yield model(x, x_mark)[..., dims], y[..., dims]


@torch.inference_mode()
def forecast_windows(
    model: ForecastModel, data: ForecastData, split: str, starts: list[int]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inputs, truths and forecasts of chosen windows, in original units, scored channels."""
    model.eval()
    device = model_device(model)
    x, y, x_mark = data.windows(split).batch(torch.as_tensor(starts))
    dims = data.target_dims
    if isinstance(model, HistoryModel):  # forecasts the scored channels alone
        pred = history_forecasts(model, data, split, starts)
    else:
        pred = model(x.to(device), None if x_mark is None else x_mark.to(device)).cpu()
        pred = pred[..., dims]
    return tuple(  # type: ignore[return-value]
        torch.from_numpy(data.inverse(t.double().numpy()))
        for t in (x[..., dims], y[..., dims], pred)
    )
