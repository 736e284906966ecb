"""Classical baselines from statsmodels: exponential smoothing (ETS), the Theta method and
ARIMA, one model per channel (see :class:`~tsbench.models.history.HistoryModel`).

Each is fitted on the scaled training rows, then filtered over the later rows with the
fitted parameters; the forecasts of every origin come from the filtered states at once
(one pass over the series per channel, then array arithmetic over the origins), so scoring
all windows costs about one filtering pass, not one forecast call per window.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from scipy.signal import lfilter
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    EstimationWarning,
    ValueWarning,
)
from statsmodels.tsa.arima.model import ARIMA as StatsmodelsARIMA
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.forecasting.theta import ThetaModel
from statsmodels.tsa.seasonal import seasonal_decompose

from tsbench.models.base import check
from tsbench.models.history import HistoryModel

#: ``ARIMA.fit(method=...)`` values statsmodels accepts.
ARIMA_METHODS = ("statespace", "innovations_mle", "hannan_rissanen", "innovations", "burg",
                 "yule_walker")


@contextmanager
def _quiet_fit() -> Iterator[None]:
    """statsmodels' optimizer and start-value notices: one per channel, none actionable."""
    with warnings.catch_warnings():
        for category in (ConvergenceWarning, EstimationWarning, ValueWarning, RuntimeWarning,
                         UserWarning):
            warnings.simplefilter("ignore", category)
        yield


def _check_period(period: int, seasonal: bool) -> None:
    check(not seasonal or period >= 2, "model.period",
          f"a seasonal model needs a period >= 2, got {period}",
          "set model.period, or switch the seasonal part off")


class ETS(HistoryModel):
    """Exponential smoothing with additive errors, ETS(A, N|A|Ad, N|A): statsmodels'
    ``ETSModel``, smoothing parameters by maximum likelihood, initial states by the
    heuristic of Hyndman & Athanasopoulos (from the first seasons of the training rows).
    Additive errors and seasons, because the scaled series crosses zero."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, period: int = 24,
                 trend: bool = True, damped_trend: bool = True, seasonal: bool = True,
                 revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        _check_period(period, seasonal)
        check(trend or not damped_trend, "model.damped_trend", "needs model.trend=true")
        self.spec = {
            "error": "add", "trend": "add" if trend else None, "damped_trend": damped_trend,
            "seasonal": "add" if seasonal else None,
            "seasonal_periods": period if seasonal else None,
            "initialization_method": "heuristic",
        }
        self.period = period

    def _fit_channel(self, y: np.ndarray) -> tuple[Any, int]:
        with _quiet_fit():
            params = np.asarray(ETSModel(y, **self.spec).fit(disp=False).params)
        initial_states = 1 + bool(self.spec["trend"]) + (self.period if self.spec["seasonal"]
                                                         else 0)
        return params, len(params) + initial_states

    def _filter_channel(self, fitted: Any, y: np.ndarray) -> Any:
        return ETSModel(y, **self.spec).smooth(fitted)

    def _forecast_channel(self, filtered: Any, origins: np.ndarray, pred_len: int
                          ) -> np.ndarray:
        last = origins - 1  # the states after the last observation before each origin
        steps = np.arange(1, pred_len + 1)
        out = np.repeat(np.asarray(filtered.level)[last, None], pred_len, axis=1)
        if self.spec["trend"]:
            growth = (np.cumsum(float(filtered.phi) ** steps) if self.spec["damped_trend"]
                      else steps.astype(np.float64))
            out += np.asarray(filtered.slope)[last, None] * growth
        if self.spec["seasonal"]:
            m = self.period
            rows = last[:, None] + steps - m * ((steps - 1) // m + 1)  # same phase, last season
            out += np.asarray(filtered.season)[rows]
        return out


class Theta(HistoryModel):
    """The Theta method (Assimakopoulos & Nikolopoulos, 2000) as statsmodels' ``ThetaModel``
    fits it: additive deseasonalizing by classical decomposition, drift ``b0`` by OLS and
    simple exponential smoothing ``alpha`` on the training rows; forecast = SES level +
    ``(1 - 1/theta) * b0 * (h - 1 + 1/alpha - (1 - alpha)^T / alpha)`` + season, with ``T``
    the number of observations before the origin (Hyndman & Billah, 2003)."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, period: int = 24,
                 deseasonalize: bool = True, theta: float = 2.0, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        _check_period(period, deseasonalize)
        check(theta >= 1, "model.theta", f"must be >= 1, got {theta}")
        self.period, self.deseasonalize, self.theta = period, deseasonalize, theta

    def _fit_channel(self, y: np.ndarray) -> tuple[Any, int]:
        with _quiet_fit():
            res = ThetaModel(y, period=self.period, deseasonalize=self.deseasonalize,
                             use_test=False, method="additive").fit()
        b0, alpha = (float(v) for v in np.asarray(res.params))
        season = (np.asarray(seasonal_decompose(y, model="additive", period=self.period)
                             .seasonal[: self.period]) if self.deseasonalize
                  else np.zeros(self.period))
        return (b0, alpha, season), 2 + (self.period if self.deseasonalize else 0)

    def _filter_channel(self, fitted: Any, y: np.ndarray) -> Any:
        b0, alpha, season = fitted
        adjusted = y - season[np.arange(len(y)) % self.period]
        # SES level after each row, started at the first value (as statsmodels does)
        level = lfilter([alpha], [1.0, alpha - 1.0], adjusted, zi=[(1 - alpha) * adjusted[0]])[0]
        return b0, alpha, season, level

    def _forecast_channel(self, filtered: Any, origins: np.ndarray, pred_len: int
                          ) -> np.ndarray:
        b0, alpha, season, level = filtered
        steps = np.arange(pred_len, dtype=np.float64)
        horizon = np.broadcast_to(steps, (len(origins), pred_len)).copy()
        if alpha > 0:
            horizon += 1 / alpha - (1 - alpha) ** origins[:, None].astype(np.float64) / alpha
        weight = (self.theta - 1) / self.theta
        out = level[origins - 1, None] + weight * b0 * horizon
        return out + season[(origins[:, None] + np.arange(pred_len)) % self.period]


class ARIMA(HistoryModel):
    """Seasonal ARIMA as statsmodels' ``tsa.arima.model.ARIMA`` (a state-space model):
    fitted with ``model.method``, then Kalman-filtered over the later rows with the fitted
    parameters. The forecasts of every origin come from the filter's one-step state
    predictions, iterated through the transition matrix for all origins together."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, period: int = 24,
                 order: tuple[int, int, int] = (2, 0, 1),
                 seasonal_order: tuple[int, int, int] = (0, 0, 0), trend: str | None = None,
                 method: str = "innovations_mle", revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        order, seasonal_order = tuple(int(v) for v in order), tuple(int(v) for v in
                                                                    seasonal_order)
        check(len(order) == 3 and min(order) >= 0, "model.order",
              f"must be three non-negative integers [p, d, q], got {list(order)}")
        check(len(seasonal_order) == 3 and min(seasonal_order) >= 0, "model.seasonal_order",
              f"must be three non-negative integers [P, D, Q], got {list(seasonal_order)}")
        seasonal = any(seasonal_order)
        _check_period(period, seasonal)
        check(method in ARIMA_METHODS, "model.method", f"unknown fit method '{method}'",
              f"use one of {ARIMA_METHODS}")
        self.spec = {"order": order,
                     "seasonal_order": (*seasonal_order, period) if seasonal else (0, 0, 0, 0),
                     "trend": trend}
        self.method = method

    def _fit_channel(self, y: np.ndarray) -> tuple[Any, int]:
        with _quiet_fit():
            params = np.asarray(StatsmodelsARIMA(y, **self.spec).fit(method=self.method).params)
        return params, len(params)

    def _filter_channel(self, fitted: Any, y: np.ndarray) -> Any:
        with _quiet_fit():
            return StatsmodelsARIMA(y, **self.spec).filter(fitted).filter_results

    def _forecast_channel(self, filtered: Any, origins: np.ndarray, pred_len: int
                          ) -> np.ndarray:
        return state_space_forecasts(filtered, origins, pred_len)


def state_space_forecasts(filtered: Any, origins: np.ndarray, pred_len: int) -> np.ndarray:
    """Mean forecasts ``(len(origins), pred_len)`` of a time-invariant state-space model from
    its Kalman filter output: ``a`` = the state predicted for row ``origin`` from the rows
    before it; each step forecasts ``Z a + d`` and moves ``a`` to ``T a + c``."""
    design, transition = filtered.design, filtered.transition
    if design.shape[-1] != 1 or transition.shape[-1] != 1:
        raise ValueError("state_space_forecasts needs time-invariant system matrices")
    z, d = design[0, :, 0], float(filtered.obs_intercept[0, 0])
    t, c = transition[:, :, 0], filtered.state_intercept[:, 0]
    state = filtered.predicted_state[:, origins].T
    out = np.empty((len(origins), pred_len))
    for step in range(pred_len):
        out[:, step] = state @ z + d
        state = state @ t.T + c
    return out
