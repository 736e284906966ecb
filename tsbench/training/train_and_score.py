"""Train one fresh model on given row ranges and score every split but train: the unit of
work of a holdout run, of each cross-validation fold and of a fold's refit."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from tsbench.data.datamodule import ForecastData
from tsbench.data.loading import Series
from tsbench.errors import ConfigError
from tsbench.models.build import count_parameters, model_for
from tsbench.models.history import HistoryModel
from tsbench.models.recursive import strategy_step
from tsbench.rundir import LOSS_PLOT, write_window_errors
from tsbench.training.evaluate import MASE_KEY, evaluate, model_device
from tsbench.training.fit import train
from tsbench.training.flat_channels import FLAT_KEY, flat_channels
from tsbench.training.history import fit_history
from tsbench.training.model_check import (
    check_forecast_shape,
    check_history_forecasts,
    check_trained_windows,
    trains_on_cpu,
)
from tsbench.training.module import diverged
from tsbench.training.naive_reference import (
    LAST_VALUE_VAL_KEY,
    NAIVE_VAL_KEY,
    naive_mse,
    seasonal_naive_mse,
)
from tsbench.training.plots import plot_losses
from tsbench.training.pruning import TrialPruning
from tsbench.training.trained_on import PRECISION_KEY, TrainedOn

#: The key under which :func:`fit_and_score` hands the protocol card where the model
#: trained and was scored, and at which precision (a :class:`TrainedOn`, read after
#: training): the card's, not a metric.
DEVICE_KEY = "device"


def make_data(cfg: Any, series: Series, ranges: dict[str, tuple[int, int]], with_marks: bool,
              scaler_rows: tuple[int, int] | None = None) -> ForecastData:
    """The scaled splits, windows and loaders of a run config (a recursive strategy trains on
    ``strategy.step``-ahead windows and rolls out over the horizon's calendar features)."""
    step = strategy_step(cfg)
    return ForecastData(
        series, ranges, int(cfg.seq_len), int(cfg.pred_len), str(cfg.features),
        batch_size=int(cfg.data.batch_size), eval_batch_size=int(cfg.data.eval_batch_size),
        seed=int(cfg.seed), with_marks=with_marks, pin_memory=bool(cfg.trainer.pin_memory),
        drop_last=bool(cfg.data.drop_last),
        train_pred_len=step, horizon_marks=with_marks and step is not None,
        scaler_rows=scaler_rows,
    )


def fit_and_score(cfg: Any, series: Series, ranges: dict[str, tuple[int, int]], out_dir: Path,
                  logger: Any = False, max_epochs: int | None = None,
                  pruning: TrialPruning | None = None,
                  scaler_rows: tuple[int, int] | None = None, part: str = "",
                  ) -> tuple[dict[str, Any], Any, ForecastData]:
    """Train a fresh model on ``ranges`` and score every split in it except train (the
    scaler fitted on ``scaler_rows``, by default the training rows); ``part`` names a
    fold or a refit in the title of its loss plot and in its errors (:func:`naming`). A
    validation split's channels that its scaler's rows hold (near-)constant are under
    ``FLAT_KEY`` (:mod:`.flat_channels`), the splits whose MASE is undefined under
    ``MASE_KEY`` (:mod:`.evaluate`); the seasonal naive and naive forecasts' MSE on the
    validation windows are ``NAIVE_VAL_KEY``'s and ``LAST_VALUE_VAL_KEY``'s
    (:mod:`.naive_reference`)."""
    with naming(part, series, ranges["train"]):
        return _fit_and_score(cfg, series, ranges, out_dir, logger, max_epochs, pruning,
                              scaler_rows, part)


@contextmanager
def naming(part: str, series: Series, train: tuple[int, int]) -> Iterator[None]:
    """A :class:`ConfigError` of a fold or a refit (``part``) names it and its training rows
    (and their dates): the same settings may fit the published training rows and fail on a
    fold's fewer (an ARIMA whose fit finds them non-stationary)."""
    try:
        yield
    except ConfigError as error:
        if not part:
            raise
        start, end = train
        first, last = (str(series.dates[row]).removesuffix(" 00:00:00")
                       for row in (start, end - 1))
        raise ConfigError(error.field, f"{error.problem} (in {part}, trained on rows "
                          f"{start}-{end - 1}: {first} to {last})", error.fix) from error


def _fit_and_score(cfg: Any, series: Series, ranges: dict[str, tuple[int, int]],
                   out_dir: Path, logger: Any, max_epochs: int | None,
                   pruning: TrialPruning | None, scaler_rows: tuple[int, int] | None,
                   part: str) -> tuple[dict[str, Any], Any, ForecastData]:
    model = model_for(cfg, series)
    data = make_data(cfg, series, ranges, with_marks=model.uses_time_features,
                     scaler_rows=scaler_rows)
    # every run trains or fits here (holdout, each fold, a refit): the model's output shape
    # on two of these windows is checked before anything is trained or written
    check_forecast_shape(model, data, trains_on_cpu(str(cfg.trainer.accelerator)))
    if bool(cfg.model.get("compile", False)):
        model.compile()
    if isinstance(model, HistoryModel):  # classical baselines: fitted, not trained
        info = fit_history(model, data)
        check_history_forecasts(model, data)
    else:
        info = train(model, data, cfg, out_dir, logger=logger, max_epochs=max_epochs,
                     pruning=pruning)
    history = info.pop("history", None)
    trained_at = info.pop(PRECISION_KEY, None)  # the card's, not a metric
    if history and history["train_loss"] and cfg.plots:
        what = f"{cfg.model.name} on {series.name}" + (f", {part}" if part else "")
        plot_losses(history, f"{what}: loss per epoch", out_dir / LOSS_PLOT)
    # a model may read its batch, or overflow on some windows, only once trained (refused
    # after its loss plot: the folder kept shows how it trained)
    check_trained_windows(model, data, partial(diverged, lr=info.get("lr_used"),
                                               clip=cfg.trainer.get("gradient_clip_val")))
    metrics: dict[str, Any] = {**info, "n_params": count_parameters(model),
                               "n_train_windows": len(data.windows("train")),
                               "splits_read": sorted(ranges),
                               DEVICE_KEY: TrainedOn(model_device(model), trained_at)}
    for split in ranges:
        if split == "train":
            continue
        scores = evaluate(model, data, split)
        if not all(math.isfinite(scores[key]) for key in ("mse", "mae")):
            what = f"{split}_mse={scores['mse']}, {split}_mae={scores['mae']}"
            if not model.trainable:  # no learning rate to blame: the model's own forecast
                raise ConfigError("model._target_", f"{type(model).__name__}, which does not "
                                  f"train, forecast NaN or inf on the {split} split ({what})",
                                  "fix the model's forward")
            raise diverged(what, info.get("lr_used"), cfg.trainer.get("gradient_clip_val"))
        metrics[f"n_{split}_windows"] = scores.pop("n_windows")
        if undefined := scores.pop(MASE_KEY):
            metrics.setdefault(MASE_KEY, []).append(
                {"where": "", "key": f"{split}_mase", "channels": undefined})
        per_channel = scores.pop("mse_per_channel")
        if split == "val":
            metrics[FLAT_KEY] = flat_channels(data, split, per_channel)
            metrics[NAIVE_VAL_KEY] = seasonal_naive_mse(data, split)
            metrics[LAST_VALUE_VAL_KEY] = naive_mse(data, split)
        write_window_errors(out_dir, split, scores.pop("window_errors"))
        metrics.update({f"{split}_{key}": value for key, value in scores.items()})
    return metrics, model, data
