"""Classical baselines from statsmodels: exponential smoothing (ETS), the Theta method and
ARIMA, one model per channel (see :class:`~tsbench.models.history.HistoryModel`).

Each is fitted on the scaled training rows, then filtered over the later rows with the
fitted parameters; the forecasts of every origin come from the filtered states at once
(one pass over the series per channel, then array arithmetic over the origins), so scoring
all windows costs about one filtering pass, not one forecast call per window.

Settings are checked when the model is built, and against the number of training rows
before the first channel is fitted; whatever statsmodels still refuses while fitting or
filtering (or non-finite forecasts) becomes one :class:`~tsbench.errors.ConfigError` that
names the model's settings and a fix.
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

from tsbench.errors import ConfigError
from tsbench.models.base import check, check_period
from tsbench.models.history import HistoryModel

#: ``ARIMA.fit(method=...)`` values statsmodels accepts.
ARIMA_METHODS = ("statespace", "innovations_mle", "hannan_rissanen", "innovations", "burg",
                 "yule_walker")
#: The models each non-likelihood method can fit (statsmodels refuses others).
METHOD_SCOPE = {"yule_walker": "pure AR models (q = 0, P = Q = 0)",
                "burg": "pure AR models (q = 0, P = Q = 0)",
                "innovations": "pure MA models (p = 0, P = Q = 0)",
                "hannan_rissanen": "non-seasonal ARMA models (P = Q = 0)"}
#: ``model.trend`` values and the lowest power of time each includes (None: no term).
ARIMA_TRENDS = {"n": None, "c": 0, "t": 1, "ct": 0}
#: Most differences of each kind: more is never needed in practice (Box & Jenkins;
#: Hyndman & Athanasopoulos) and leaves statsmodels fitting amplified noise.
MAX_D, MAX_SEASONAL_D = 2, 1


@contextmanager
def _quiet_fit() -> Iterator[None]:
    """statsmodels' optimizer and start-value notices: one per channel, none actionable."""
    with warnings.catch_warnings():
        for category in (ConvergenceWarning, EstimationWarning, ValueWarning, RuntimeWarning,
                         UserWarning):
            warnings.simplefilter("ignore", category)
        yield


def _check_period(period: int, seasonal: bool) -> None:
    check_period(period)
    check(not seasonal or period >= 2, "model.period",
          f"a seasonal model needs a period >= 2, got {period}",
          "set model.period, or switch the seasonal part off")


def _order(value: Any, field: str, names: str, example: str) -> tuple[int, int, int]:
    """``value`` as three non-negative integers, else a ConfigError naming ``field``."""
    check(isinstance(value, (list, tuple)) and len(value) == 3
          and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value),
          field, f"must be three non-negative integers {names}, got {value}",
          f"write whole numbers, e.g. {field}={example}")
    return tuple(value)


class StatsmodelsModel(HistoryModel):
    """A :class:`HistoryModel` whose fitting and filtering are statsmodels calls, run inside
    :meth:`_statsmodels`: a failure there, or a non-finite forecast, is a
    :class:`ConfigError` on :attr:`settings` with :attr:`fix`."""

    #: The seasonal period the forecasts use (None: the model has no seasonal part).
    season: int | None = None
    #: The config keys that define the fitted model, named by its errors.
    settings = "model"
    #: What to change when statsmodels fails on these settings.
    fix = ""

    def describe(self) -> str:
        """The model and its settings, e.g. ``ARIMA(2,1,1) (method innovations_mle)``."""
        raise NotImplementedError

    def fix_for(self, message: str) -> str:
        """What to change when statsmodels failed with ``message``: :attr:`fix`."""
        return self.fix

    @contextmanager
    def _statsmodels(self, doing: str) -> Iterator[None]:
        """Quiet statsmodels' notices; turn what it raises into a one-line ConfigError."""
        with _quiet_fit():
            try:
                yield
            except Exception as error:  # noqa: BLE001 - statsmodels raises many types
                message = " ".join(str(error).split())
                raise ConfigError(
                    self.settings, f"statsmodels could not {doing} {self.describe()}: "
                    f"{type(error).__name__}: {message}", self.fix_for(message)) from error

    def _check_rows(self, needed: int, rows: int, why: str, field: str, fix: str) -> None:
        check(rows >= needed, field, f"{self.describe()} needs at least {needed} training "
              f"rows ({why}), the run has {rows}", fix)

    def forecast_origins(self, values: np.ndarray, origins: np.ndarray, pred_len: int
                         ) -> np.ndarray:
        out = super().forecast_origins(values, origins, pred_len)
        check(bool(np.isfinite(out).all()), self.settings,
              f"{self.describe()} forecasts non-finite values from the fitted parameters",
              self.fix)
        return out


class ETS(StatsmodelsModel):
    """Exponential smoothing with additive errors, ETS(A, N|A|Ad, N|A): statsmodels'
    ``ETSModel``, smoothing parameters by maximum likelihood, initial states by the
    heuristic of Hyndman & Athanasopoulos (from the first seasons of the training rows, and
    kept: the filter over later rows starts from them).
    Additive errors and seasons, because the scaled series crosses zero."""

    settings = "model.trend, model.damped_trend, model.seasonal"
    fix = "switch off model.damped_trend, model.trend or model.seasonal"

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
        self.season = period if seasonal else None

    def describe(self) -> str:
        trend = ("Ad" if self.spec["damped_trend"] else "A") if self.spec["trend"] else "N"
        return f"ETS(A,{trend},{'N' if self.season is None else 'A'})" + (
            "" if self.season is None else f" with period {self.season}")

    def _fit_channel(self, y: np.ndarray) -> tuple[Any, int]:
        if self.season is None:  # the heuristic initialization's own minimum
            self._check_rows(10, len(y), "for the initial states", "dataset",
                             "use a dataset with more training rows")
        else:
            self._check_rows(max(10, 2 * self.season), len(y), "two seasons for the initial "
                             "states", "model.period", "set a shorter model.period, or "
                             "model.seasonal=false")
        with self._statsmodels("fit"):
            model = ETSModel(y, **self.spec)
            params = np.asarray(model.fit(disp=False).params)
        initial = {"initial_level": model.initial_level}
        if self.spec["trend"]:
            initial["initial_trend"] = model.initial_trend
        if self.spec["seasonal"]:
            initial["initial_seasonal"] = model.initial_seasonal
        return (params, initial), len(params) + sum(np.size(v) for v in initial.values())

    def _filter_channel(self, fitted: Any, y: np.ndarray) -> Any:
        """Run over ``y`` from the initial states the training rows gave: the heuristic
        again over ``y`` would read them from its first five seasons, rows after the
        training ones (test targets among them) where the training rows hold fewer."""
        params, initial = fitted
        with self._statsmodels("filter"):
            return ETSModel(y, **{**self.spec, "initialization_method": "known"},
                            **initial).smooth(params)

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
            # a row before the first (an origin within the first season) is an initial
            # state, s_{k} = initial_seasonal[k + m]: a negative index read the series' end
            season = np.concatenate([np.asarray(filtered.initial_seasonal, dtype=np.float64),
                                     np.asarray(filtered.season, dtype=np.float64)])
            out += season[rows + m]
        return out


class Theta(StatsmodelsModel):
    """The Theta method (Assimakopoulos & Nikolopoulos, 2000) as statsmodels' ``ThetaModel``
    fits it: additive deseasonalizing by classical decomposition, drift ``b0`` by OLS and
    simple exponential smoothing ``alpha`` on the training rows; forecast = SES level +
    ``(1 - 1/theta) * b0 * (h - 1 + 1/alpha - (1 - alpha)^T / alpha)`` + season, with ``T``
    the number of observations before the origin (Hyndman & Billah, 2003)."""

    settings = "model.deseasonalize, model.period"
    fix = "set model.deseasonalize=false or another model.period"

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, period: int = 24,
                 deseasonalize: bool = True, theta: float = 2.0, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        _check_period(period, deseasonalize)
        check(theta >= 1, "model.theta", f"must be >= 1, got {theta}")
        self.period, self.deseasonalize, self.theta = period, deseasonalize, theta
        self.season = period if deseasonalize else None

    def describe(self) -> str:
        return f"Theta(theta={self.theta})" + (
            "" if self.season is None else f" with period {self.season}")

    def _fit_channel(self, y: np.ndarray) -> tuple[Any, int]:
        if self.season is not None:
            self._check_rows(2 * self.season, len(y), "two seasons to deseasonalize",
                             "model.period", "set a shorter model.period, or "
                             "model.deseasonalize=false")
        with self._statsmodels("fit"):
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


class ARIMA(StatsmodelsModel):
    """Seasonal ARIMA as statsmodels' ``tsa.arima.model.ARIMA`` (a state-space model):
    fitted with ``model.method``, then Kalman-filtered over the later rows with the fitted
    parameters. The forecasts of every origin come from the filter's one-step state
    predictions, iterated through the transition matrix for all origins together.

    Refused when built: malformed orders, more than :data:`MAX_D` differences
    (:data:`MAX_SEASONAL_D` seasonal ones), non-seasonal lags that reach the seasonal ones,
    a trend the differencing removes and a method that cannot fit the orders."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, period: int = 24,
                 order: tuple[int, int, int] = (2, 0, 1),
                 seasonal_order: tuple[int, int, int] = (0, 0, 0), trend: str | None = None,
                 method: str = "innovations_mle", revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        order = _order(order, "model.order", "[p, d, q]", "[2,1,1]")
        seasonal_order = _order(seasonal_order, "model.seasonal_order", "[P, D, Q]", "[1,0,0]")
        (p, d, q), (sp, sd, sq) = order, seasonal_order
        seasonal = any(seasonal_order)
        _check_period(period, seasonal)
        check(d <= MAX_D, "model.order", f"d={d} differences the series {d} times; more than "
              f"{MAX_D} is almost never needed and leaves mostly amplified noise to fit",
              f"use d <= {MAX_D}, e.g. model.order=[{p},1,{q}]")
        check(sd <= MAX_SEASONAL_D, "model.seasonal_order", f"D={sd} seasonal differences; more "
              f"than {MAX_SEASONAL_D} is almost never needed", "use D = 0 or 1")
        for lags, seasonal_lags, name in ((p, sp, "p"), (q, sq, "q")):
            check(not seasonal_lags or lags < period, "model.order",
                  f"{name}={lags} reaches lag {period}, which model.seasonal_order's "
                  f"{name.upper()}={seasonal_lags} also holds (period {period})",
                  f"use {name} < {period}, or {name.upper()}=0")
        check(trend is None or (isinstance(trend, str) and trend in ARIMA_TRENDS),
              "model.trend", f"unknown trend '{trend}'", "use null, n, c, t or ct")
        lowest = None if trend is None else ARIMA_TRENDS[trend]
        check(lowest is None or lowest >= d + sd, "model.trend",
              f"'{trend}' has a term the d + D = {d + sd} differences remove",
              "use model.trend=n" + (" or t" if d + sd == 1 else ""))
        check(method in ARIMA_METHODS, "model.method", f"unknown fit method '{method}'",
              f"use one of {ARIMA_METHODS}")
        unfit = {"yule_walker": q or sp or sq, "burg": q or sp or sq, "innovations": p or sp or sq,
                 "hannan_rissanen": sp or sq}
        check(not unfit.get(method), "model.method",
              f"{method} fits only {METHOD_SCOPE.get(method)}, not {list(order)} x "
              f"{list(seasonal_order)}", "use model.method=innovations_mle or statespace")
        self.spec = {"order": order,
                     "seasonal_order": (*seasonal_order, period) if seasonal else (0, 0, 0, 0),
                     "trend": trend}
        self.method = method
        self.season = period if seasonal else None
        self.settings = "model.order" + (", model.seasonal_order" if seasonal else "")
        other = "statespace" if method != "statespace" else "innovations_mle"
        fewer = f"fewer lags (lower p or q of model.order=[{p},{d},{q}])" if p or q else ""
        self.fix = f"use {fewer + ' or ' if fewer else ''}model.method={other}"
        #: The fix where the fit found the training rows non-stationary.
        self.unit_root_fix = ", or ".join(
            ([f"difference the rows {'once' if d == 0 else 'once more'} (d={d + 1}: "
              f"model.order=[{p},{d + 1},{q}] fits an ARMA to the changes, as a trend or a "
              f"random walk such as an exchange rate needs)"]
             if d < MAX_D and (lowest is None or lowest >= d + 1 + sd) else [])
            + (["use model.method=statespace, which keeps the AR part stationary while "
                "fitting"] if method != "statespace" else [])) or self.fix

    def fix_for(self, message: str) -> str:
        """:attr:`unit_root_fix` where statsmodels found the AR part non-stationary
        (training rows that wander, as a random walk's do), else :attr:`fix`."""
        return self.unit_root_fix if "non-stationary" in message else self.fix

    def describe(self) -> str:
        seasonal = ("" if self.season is None else
                    "x({},{},{},{})".format(*self.spec["seasonal_order"]))
        return "ARIMA({},{},{}){} (method {})".format(*self.spec["order"], seasonal, self.method)

    def _fit_channel(self, y: np.ndarray) -> tuple[Any, int]:
        (p, d, q), (sp, sd, sq, period) = self.spec["order"], self.spec["seasonal_order"]
        lost, lags = d + sd * period, max(p + sp * period, q + sq * period)
        coefficients = p + q + sp + sq + 1  # and the innovations' variance
        self._check_rows(lost + lags + coefficients, len(y),
                         f"{lost} lost to differencing, {lags} to the longest lag, "
                         f"{coefficients} for the coefficients", self.settings,
                         "lower the orders, or use a dataset with more training rows")
        with self._statsmodels("fit"):
            params = np.asarray(StatsmodelsARIMA(y, **self.spec).fit(method=self.method).params)
        return params, len(params)

    def _filter_channel(self, fitted: Any, y: np.ndarray) -> Any:
        with self._statsmodels("filter"):
            return StatsmodelsARIMA(y, **self.spec).filter(fitted).filter_results

    def _forecast_channel(self, filtered: Any, origins: np.ndarray, pred_len: int
                          ) -> np.ndarray:
        return state_space_forecasts(filtered, origins, pred_len)


def state_space_forecasts(filtered: Any, origins: np.ndarray, pred_len: int) -> np.ndarray:
    """Mean forecasts ``(len(origins), pred_len)`` of a state-space model with time-invariant
    system matrices from its Kalman filter output: ``a`` = the state predicted for row
    ``origin`` from the rows before it; each step forecasts ``Z a + d`` at its row and moves
    ``a`` to ``T a + c``. The observation intercept ``d`` may grow with the row, linearly:
    ARIMA's trend terms (``model.trend`` c, t, ct) are regressors on 1 and the row number."""
    design, transition = filtered.design, filtered.transition
    if design.shape[-1] != 1 or transition.shape[-1] != 1 \
            or filtered.state_intercept.shape[-1] != 1:
        raise ValueError("state_space_forecasts needs time-invariant system matrices")
    first, slope = _intercept_line(np.asarray(filtered.obs_intercept[0], dtype=np.float64))
    z = design[0, :, 0]
    t, c = transition[:, :, 0], filtered.state_intercept[:, 0]
    state = filtered.predicted_state[:, origins].T
    out = np.empty((len(origins), pred_len))
    for step in range(pred_len):
        out[:, step] = state @ z + first + slope * (origins + step)
        state = state @ t.T + c
    return out


def _intercept_line(intercept: np.ndarray) -> tuple[float, float]:
    """The value at row 0 and the slope of an observation intercept (one value, or one per
    row) that is linear in the row, so that rows past the filtered ones extend it."""
    if intercept.size == 1:
        return float(intercept[0]), 0.0
    slope = (intercept[-1] - intercept[0]) / (intercept.size - 1)
    line = intercept[0] + slope * np.arange(intercept.size)
    if not np.allclose(intercept, line, rtol=1e-9, atol=1e-12 * np.abs(intercept).max()):
        raise ValueError("state_space_forecasts needs an observation intercept linear in "
                         "the row")
    return float(intercept[0]), float(slope)
