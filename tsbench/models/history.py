"""The contract of models that forecast from the whole history rather than a look-back window
(the classical baselines): fitted once on the training rows, then run forward over later
rows with the fitted parameters, forecasting from every window's origin at once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

from tsbench.counted import counted
from tsbench.errors import TsbenchError
from tsbench.models.base import ForecastModel


@dataclass(frozen=True)
class Constant:
    """The model of a channel constant over the training rows: its value."""

    value: float


class HistoryModel(ForecastModel):
    """One univariate model per channel, fitted on the training rows only. Its ``n_vars``
    are the channels it forecasts: under ``features=MS`` tsbench builds it for the scored
    target alone (the other channels would be fitted and forecast, never read).

    tsbench calls :meth:`fit_series` once with the scaled training rows, then
    :meth:`forecast_origins` with the scaled rows from the start of training to the end of a
    scored split: the fitted models are filtered over those rows (no refitting) and forecast
    ``pred_len`` steps from each origin, using only the rows before it. Subclasses implement
    :meth:`_fit_channel`, :meth:`_filter_channel` and :meth:`_forecast_channel`; there is no
    ``forward``: a window's look-back alone is not what these models read. The filtered
    series of the last ``values`` is kept, so that the splits of a run, asked with the same
    rows (the forecasts at an origin read only the rows before it), filter once.
    """

    trainable = False
    reads_look_back = False

    def __init__(self, seq_len: int, pred_len: int, n_vars: int) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self._fitted: list[object] = []
        self._filtered: tuple[bytes, list[object]] | None = None
        #: Values estimated from the training rows, summed over channels.
        self.n_fitted_params = 0

    def fit_series(self, train: np.ndarray) -> None:
        """Fit one model per channel of ``train`` ``(rows, n_vars)``. A channel constant over
        the training rows is forecast as that constant, what any of these models fits to it
        (statsmodels cannot estimate, e.g., an ARIMA of a series without variance)."""
        train = np.asarray(train, dtype=np.float64)
        if train.ndim != 2 or train.shape[1] != self.n_vars:
            raise TsbenchError(f"{type(self).__name__} forecasts "
                               f"{counted(self.n_vars, 'channel')}, "
                               f"fit_series got rows of shape {train.shape} -> give it "
                               f"(rows, {self.n_vars}): the channels it forecasts")
        self._fitted, self.n_fitted_params, self._filtered = [], 0, None
        for channel in train.T:
            fitted, count = ((Constant(float(channel[0])), 1) if np.ptp(channel) == 0
                             else self._fit_channel(channel))
            self._fitted.append(fitted)
            self.n_fitted_params += count

    @property
    def constant_channels(self) -> list[int]:
        """The channels fitted as constants (constant over the training rows)."""
        return [k for k, fitted in enumerate(self._fitted) if isinstance(fitted, Constant)]

    def forecast_origins(self, values: np.ndarray, origins: np.ndarray, pred_len: int
                         ) -> np.ndarray:
        """Forecasts ``(len(origins), pred_len, n_vars)``: row ``origins[i]`` of ``values``
        ``(rows, n_vars)`` is the first forecast step, rows before it are the history (row 0
        is the first training row)."""
        if len(self._fitted) != self.n_vars:
            raise TsbenchError(f"{type(self).__name__}: fit_series must come before forecasts")
        origins = np.asarray(origins, dtype=np.int64)
        values = np.ascontiguousarray(values, dtype=np.float64)
        key = hashlib.sha1(values.tobytes()).digest() + bytes(str(values.shape), "ascii")
        if self._filtered is None or self._filtered[0] != key:
            self._filtered = key, [
                fitted if isinstance(fitted, Constant)
                else self._filter_channel(fitted, values[:, k])
                for k, fitted in enumerate(self._fitted)]
        return np.stack([
            np.full((len(origins), pred_len), filtered.value) if isinstance(filtered, Constant)
            else self._forecast_channel(filtered, origins, pred_len)
            for filtered in self._filtered[1]], axis=-1)

    def _fit_channel(self, y: np.ndarray) -> tuple[object, int]:
        """The fitted model of one channel and its number of values estimated from ``y``."""
        raise NotImplementedError

    def _filter_channel(self, fitted: object, y: np.ndarray) -> object:
        """The fitted model of one channel run over ``y`` with its fitted parameters."""
        raise NotImplementedError

    def _forecast_channel(self, filtered: object, origins: np.ndarray, pred_len: int
                          ) -> np.ndarray:
        """``(len(origins), pred_len)`` forecasts of one filtered channel."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        raise TsbenchError(
            f"{type(self).__name__} forecasts from the whole history, not from a look-back "
            "window (it has no per-window forward pass) -> forecast_origins, or a run's "
            "forecasts with tsbench-forecast (tsbench.forecast.tables)")
