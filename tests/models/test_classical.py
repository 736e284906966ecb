"""The classical baselines (ets, theta, arima): fitted on the training rows, filtered forward,
scored on every window like any model, and equal to statsmodels' own forecasts."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_module
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.forecasting.theta import ThetaModel

from tests.conftest import run_tsbench
from tsbench.data.loading import load_series
from tsbench.data.splits import benchmark_borders
from tsbench.errors import ConfigError, TsbenchError
from tsbench.models import classical
from tsbench.models.build import model_for
from tsbench.models.naive import SeasonalNaive
from tsbench.training.history import fit_history, history_forecasts
from tsbench.training.run import run
from tsbench.training.train_and_score import make_data

#: One seasonal channel (period 24) with noise; 600 rows: 420 train, 60 val, 120 test.
BASE = ["dataset=synthetic", "dataset.n_rows=600", "features=S", "seq_len=48", "pred_len=24",
        "trainer=debug", "logger=none"]


def _config(model: str, *overrides: str):
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        return compose("config", overrides=[*BASE, f"model={model}", *overrides])


@pytest.fixture(scope="module")
def naive_scores(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run(_config("naive"), tmp_path_factory.mktemp("naive"))


@pytest.mark.parametrize("model", ["ets", "theta", "arima"])
def test_classical_model_beats_naive_on_a_seasonal_series(model: str, naive_scores: dict,
                                                          tmp_path: Path) -> None:
    metrics = run(_config(model), tmp_path)
    for key in ("n_val_windows", "n_test_windows"):
        assert metrics[key] == naive_scores[key] > 0
    assert metrics["epochs"] == metrics["best_epoch"] == 0
    assert metrics["n_params"] > 0
    assert metrics["test_mse"] < 0.5 * naive_scores["test_mse"]
    assert metrics["val_mse"] < 0.5 * naive_scores["val_mse"]
    assert (tmp_path / "forecast.png").is_file()


def _fitted(model: str, *overrides: str):
    """The run's model fitted on the scaled training rows, its data and the scaled series."""
    cfg = _config(model, *overrides)
    series = load_series(cfg.dataset)
    borders = benchmark_borders(len(series.values), series.split, int(cfg.seq_len),
                                series.train_frac, series.test_frac)
    data = make_data(cfg, series, {"train": borders.train, "val": borders.val,
                                   "test": borders.test}, with_marks=False)
    forecaster = model_for(cfg, series)
    fit_history(forecaster, data)
    return forecaster, data, data.scaled[:, 0].double().numpy()


def _origin(data, split: str, window: int) -> int:
    """Row of the first forecast step of ``window`` in ``split``."""
    return data.ranges[split][0] + data.seq_len + window


@pytest.mark.parametrize("window", [0, 57])
def test_ets_matches_statsmodels_filtered_to_the_origin(window: int) -> None:
    model, data, y = _fitted("ets")
    train_end = data.ranges["train"][1]
    spec = {"error": "add", "trend": "add", "damped_trend": True, "seasonal": "add",
            "seasonal_periods": 24, "initialization_method": "heuristic"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ETSModel(y[:train_end], **spec)
        params = fitted.fit(disp=False).params
    origin = _origin(data, "test", window)
    known = {**spec, "initialization_method": "known", "initial_level": fitted.initial_level,
             "initial_trend": fitted.initial_trend, "initial_seasonal": fitted.initial_seasonal}
    expected = ETSModel(y[:origin], **known).smooth(params).forecast(24)
    got = history_forecasts(model, data, "test", np.array([window]))[0, :, 0].numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert model.n_fitted_params == len(params) + 1 + 1 + 24  # + initial level, trend, season


def test_ets_forecasts_from_within_the_first_season_with_its_initial_states() -> None:
    # origins 1 to 23 of period 24: the first step's same-phase season lies before the first
    # row, an initial state the training rows gave (a negative row read the series' end);
    # statsmodels' one-step fitted values over the same rows read those states
    model, data, y = _fitted("ets")
    train_end = data.ranges["train"][1]
    spec = {"error": "add", "trend": "add", "damped_trend": True, "seasonal": "add",
            "seasonal_periods": 24}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ETSModel(y[:train_end], **spec, initialization_method="heuristic")
        params = fitted.fit(disp=False).params
        known = {**spec, "initialization_method": "known", "initial_level": fitted.initial_level,
                 "initial_trend": fitted.initial_trend,
                 "initial_seasonal": fitted.initial_seasonal}
        expected = ETSModel(y[:train_end], **known).smooth(params).fittedvalues[1:24]
    origins = np.arange(1, 24)
    got = model.forecast_origins(y[:train_end, None], origins, 1)[:, 0, 0]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("build", [
    lambda: classical.ETS(24, 6, 1, period=12),
    lambda: classical.ETS(24, 6, 1, period=12, damped_trend=False),
    lambda: classical.Theta(24, 6, 1, period=12),
    lambda: classical.ARIMA(24, 6, 1, period=12, order=(1, 1, 1)),
])
def test_a_forecast_reads_no_row_at_or_after_its_origin(build) -> None:
    """Training rows of fewer than five seasons (a short CSV, the first folds of cv=tscv):
    statsmodels' heuristic ETS start, run again over the rows a forecast was filtered over,
    took its initial states from later rows, test targets among them."""
    rng = np.random.default_rng(0)
    t = np.arange(90)
    values = (np.sin(2 * np.pi * t / 12) + 0.02 * t + 0.1 * rng.standard_normal(90))[:, None]
    model = build()
    model.fit_series(values[:40])  # 3.3 seasons
    later = values.copy()
    later[48:] += 20.0  # the origin's row and every row after it, in the first five seasons
    np.testing.assert_array_equal(model.forecast_origins(values, np.array([48]), 6),
                                  model.forecast_origins(later, np.array([48]), 6))


@pytest.mark.parametrize(("overrides", "order", "trend"), [
    ([], (2, 0, 1), None),
    (["model.order=[1,1,1]"], (1, 1, 1), None),
    # a linear time trend: statsmodels' observation intercept grows with the row, so each
    # forecast step adds the trend at its own row (the first row's read a constant before)
    (["model.order=[1,1,0]", "model.trend=t"], (1, 1, 0), "t"),
    (["model.trend=ct"], (2, 0, 1), "ct"),
])
def test_arima_matches_statsmodels_filtered_to_the_origin(
        overrides: list[str], order: tuple[int, int, int], trend: str | None) -> None:
    model, data, y = _fitted("arima", *overrides)
    train_end = data.ranges["train"][1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ARIMA(y[:train_end], order=order, trend=trend).fit(method="innovations_mle")
    for split, window in (("val", 0), ("test", 33), ("test", 95)):
        origin = _origin(data, split, window)
        expected = fitted.apply(y[:origin]).forecast(24)
        got = history_forecasts(model, data, split, np.array([window]))[0, :, 0].numpy()
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
        # handed the rows before the origin alone (tsbench-forecast's future): the trend
        # runs on past the filtered rows
        got = model.forecast_origins(y[:origin, None], np.array([origin]), 24)[0, :, 0]
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert model.n_fitted_params == len(fitted.params)


def test_theta_matches_statsmodels_at_the_end_of_training() -> None:
    """The first validation window's origin is the end of the training rows, where the
    fitted Theta model's own forecast applies."""
    model, data, y = _fitted("theta")
    train_end = data.ranges["train"][1]
    assert _origin(data, "val", 0) == train_end
    expected = ThetaModel(y[:train_end], period=24, use_test=False,
                          method="additive").fit().forecast(24)
    got = history_forecasts(model, data, "val", np.array([0]))[0, :, 0].numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def _refused(args: list[str], run_dir: Path) -> str:
    """The one stderr line of a run refused for bad input (exit 2, no run folder left)."""
    proc = run_tsbench(args, run_dir, check=False)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("tsbench: error: ")
    assert not run_dir.exists()  # no half-written results
    return proc.stderr.strip()


def test_a_statsmodels_fit_failure_is_one_line_naming_the_orders(tmp_path: Path) -> None:
    """Orders that pass every early check but that statsmodels cannot fit on these rows."""
    line = _refused([*BASE, "model=arima", "model.order=[3,2,3]",
                     "model.method=hannan_rissanen"], tmp_path / "run")
    assert line.startswith("tsbench: error: model.order: statsmodels could not fit "
                           "ARIMA(3,2,3) (method hannan_rissanen): ValueError: Non-invertible "
                           "moving average parameters")
    assert line.endswith("-> use fewer lags (lower p or q of model.order=[3,2,3]) or "
                         "model.method=statespace")


@pytest.mark.parametrize(("order", "problem"), [
    ("[9,9,9]", "model.order: d=9 differences the series 9 times"),  # the user's: refused
    ("[1.5,0,0]", "model.order: must be three non-negative integers [p, d, q], "  # not cut
                  "got [1.5, 0, 0] -> write whole numbers"),
])
def test_an_impossible_order_is_refused_before_anything_is_fitted(
        order: str, problem: str, tmp_path: Path) -> None:
    line = _refused(["dataset=ili", "seq_len=104", "pred_len=24", "trainer=debug",
                     "logger=none", "model=arima", f"model.order={order}"], tmp_path / "run")
    assert line.startswith(f"tsbench: error: {problem}")


def _arima(**settings: object) -> classical.ARIMA:
    return classical.ARIMA(48, 24, 1, **{"period": 24, **settings})


@pytest.mark.parametrize(("build", "field"), [
    (lambda: _arima(order=[1.5, 0, 0]), "model.order"),
    (lambda: _arima(order=[1.0, 0, 0]), "model.order"),
    (lambda: _arima(order=[True, 0, 0]), "model.order"),
    (lambda: _arima(order=[1, 0]), "model.order"),
    (lambda: _arima(order=2), "model.order"),
    (lambda: _arima(order=[-1, 0, 0]), "model.order"),
    (lambda: _arima(order=["1", 0, 0]), "model.order"),
    (lambda: _arima(seasonal_order=[1, 0, 0.5]), "model.seasonal_order"),
    (lambda: _arima(seasonal_order=[0, 2, 0]), "model.seasonal_order"),
    (lambda: _arima(order=[24, 0, 0], seasonal_order=[1, 0, 0]), "model.order"),
    (lambda: _arima(order=[1, 0, 30], seasonal_order=[0, 0, 1]), "model.order"),
    (lambda: _arima(order=[1, 1, 0], trend="c"), "model.trend"),
    (lambda: _arima(order=[1, 2, 0], trend="t"), "model.trend"),
    (lambda: _arima(trend="x"), "model.trend"),
    (lambda: _arima(order=[1, 0, 1], method="burg"), "model.method"),
    (lambda: _arima(order=[1, 0, 1], method="innovations"), "model.method"),
    (lambda: _arima(seasonal_order=[1, 0, 0], method="hannan_rissanen"), "model.method"),
    (lambda: _arima(seasonal_order=[1, 0, 0], period=7.5), "model.period"),
    (lambda: classical.ETS(48, 24, 1, period=7.5), "model.period"),
    (lambda: classical.Theta(48, 24, 1, period=7.5), "model.period"),
    (lambda: SeasonalNaive(48, 24, 1, period=7.5), "model.period"),
])
def test_malformed_settings_are_refused_when_the_model_is_built(build, field: str) -> None:
    with pytest.raises(ConfigError) as refused:
        build()
    assert refused.value.field == field and refused.value.fix


@pytest.mark.parametrize(("model", "rows", "needed"), [
    (_arima(order=[3, 2, 3]), 11, "needs at least 12 training rows (2 lost to differencing, "
                                  "3 to the longest lag, 7 for the coefficients)"),
    (classical.ETS(48, 24, 1, period=24), 47, "needs at least 48 training rows (two seasons"),
    (classical.Theta(48, 24, 1, period=24), 47, "needs at least 48 training rows (two seasons"),
])
def test_too_few_training_rows_are_refused_before_statsmodels_fits(
        model: classical.StatsmodelsModel, rows: int, needed: str) -> None:
    y = np.random.default_rng(0).standard_normal((rows, 1)).cumsum(axis=0)
    with pytest.raises(ConfigError) as refused:
        model.fit_series(y)
    assert needed in refused.value.problem
    try:  # one row more passes the count (statsmodels may still refuse a fit this short)
        model.fit_series(np.vstack([y, y[-1:]]))
    except ConfigError as error:
        assert "statsmodels could not fit" in error.problem


def test_non_finite_forecasts_name_the_model_not_the_learning_rate() -> None:
    """Rows the filter cannot run over give a ConfigError on the model's settings (a NaN
    score would otherwise be reported as a diverged training run, blaming optim.lr)."""
    model, data, y = _fitted("ets")
    values = y[:, None].copy()
    values[data.ranges["train"][1] + 5] = np.nan
    origins = np.array([data.ranges["train"][1] + 10])
    with pytest.raises(ConfigError) as refused:
        model.forecast_origins(values, origins, 24)
    assert refused.value.field == "model.trend, model.damped_trend, model.seasonal"
    assert "forecasts non-finite values" in refused.value.problem


@pytest.mark.parametrize("build", [
    lambda n_vars: classical.ETS(48, 24, n_vars, period=24),
    lambda n_vars: classical.Theta(48, 24, n_vars, period=24),
    lambda n_vars: classical.ARIMA(48, 24, n_vars),
])
def test_a_channel_constant_over_training_is_forecast_as_that_constant(build) -> None:
    """Not statsmodels' failure on a series without variance (ARIMA: ZeroDivisionError),
    and the other channels' forecasts are those they get alone."""
    t = np.arange(400)
    seasonal = np.sin(2 * np.pi * t / 24) + 0.3 * np.random.default_rng(0).standard_normal(400)
    values = np.column_stack([seasonal, np.full(400, 2.5)])
    values[300:, 1] += np.linspace(0, 1, 100)  # later rows may vary: the fit saw a constant
    origins = np.array([300, 333, 376])
    model, alone = build(2), build(1)
    model.fit_series(values[:300])
    alone.fit_series(values[:300, :1])
    got = model.forecast_origins(values, origins, 24)
    np.testing.assert_array_equal(got[..., 1], 2.5)
    np.testing.assert_array_equal(got[..., 0], alone.forecast_origins(values[:, :1], origins,
                                                                       24)[..., 0])
    assert model.n_fitted_params == alone.n_fitted_params + 1


def test_an_ms_run_fits_the_target_alone_and_scores_as_the_s_run(tmp_path: Path) -> None:
    """features=MS scores the target alone and each channel's model reads its own channel:
    the run fits the target's model only (3 channels, 1 fitted: the others' would be fitted
    and filtered, never scored), counts its parameters alone, and scores exactly as
    features=S, which reads the target alone."""
    multi = ["dataset.n_vars=3"]
    target = model_for(_config("arima", *multi, "features=MS"),
                       load_series(_config("arima", *multi).dataset))
    assert target.n_vars == 1
    scores = {features: run(_config("arima", *multi, f"features={features}"),
                            tmp_path / features) for features in ("S", "MS", "M")}
    assert scores["MS"]["n_params"] == scores["S"]["n_params"] == scores["M"]["n_params"] / 3
    scored = [key for key, value in scores["S"].items()
              if key.startswith(("val_", "test_")) and isinstance(value, float)]
    assert {"test_mse", "test_mae_orig", "val_mse"} <= set(scored)
    assert {key: scores["MS"][key] for key in scored} == {key: scores["S"][key]
                                                           for key in scored}


def test_fitting_rows_of_other_channels_than_the_model_forecasts_is_refused() -> None:
    """Not a model that fits 2 channels and later says it was never fitted."""
    with pytest.raises(TsbenchError, match=re.escape(
            "ARIMA forecasts 1 channel, fit_series got rows of shape (300, 2) -> give it "
            "(rows, 1): the channels it forecasts")):
        classical.ARIMA(48, 24, 1).fit_series(np.ones((300, 2)))


def test_a_run_names_the_channel_it_forecasts_as_a_constant(tmp_path: Path) -> None:
    """OT is 2.0 over the 280 training rows and 5.0 after them: the fit cannot see the step,
    and the run says so rather than leave a test MSE of 9 unexplained."""
    t = np.arange(400)
    csv = tmp_path / "step.csv"
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=400, freq="h"),
                  "a": np.sin(t / 5), "OT": np.where(t < 300, 2.0, 5.0)}).to_csv(csv, index=False)
    proc = run_tsbench(["dataset=csv", f"dataset.path={csv}", "model=arima", "seq_len=48",
                        "pred_len=12", "trainer=debug", "logger=none"], tmp_path / "run")
    said = [line for line in (proc.stdout + proc.stderr).splitlines()
            if "ARIMA: channel " in line]  # (MASE, left out for OT, and the scaled scores'
    # flat-channel warning, OT left unscaled, each say so on their own)
    assert len(said) == 1 and said[0].endswith(
        "ARIMA: channel OT constant over the training rows, forecast as that constant "
        "whatever the later rows do")


def test_an_arima_fold_that_statsmodels_cannot_fit_is_named_with_its_rows(
        tmp_path: Path) -> None:
    """A series stationary for 200 rows, then explosive (AR 1.1) for 200, then a random walk:
    ARIMA(2,0,1) fits fold_0's 200 training rows and finds fold_1's 400 non-stationary (30
    of 30 seeds, far from statsmodels' edge: a twice-integrated walk sat on it and flipped
    between machines). The error names the fold, unambiguously, and its rows, with the fix
    for a non-stationary AR part; its state-space fit then runs every fold."""
    rng = np.random.default_rng(1)
    shocks = rng.standard_normal(1000)
    values = np.zeros(1000)
    for t in range(1, 1000):
        values[t] = (0.5 if t < 200 else 1.1 if t < 400 else 1.0) * values[t - 1] + shocks[t]
    csv = tmp_path / "wander.csv"
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=1000, freq="D"),
                  "OT": values}).to_csv(csv, index=False)
    folds = ["dataset=csv", f"dataset.path={csv}", "model=arima", "seq_len=48", "pred_len=12",
             "trainer=debug", "logger=none", "cv=tscv", "cv.n_splits=3"]
    proc = run_tsbench(folds, tmp_path / "folds", check=False)
    line = proc.stderr.strip().splitlines()[-1]  # after: the failed run's folder is kept
    assert proc.returncode == 2 and line.startswith(
        "tsbench: error: model.order: statsmodels could not fit ARIMA(2,0,1) (method "
        "innovations_mle): ValueError: ")
    assert "non-stationary" in line  # statsmodels' words, which differ by where it stopped
    assert line.endswith(
        "(in fold_1, the 2nd of 3 folds, trained on rows 0-399: 2024-01-01 to 2025-02-03) -> "
        "difference the rows once (d=1: model.order=[2,1,1] fits an ARMA to the changes, as a "
        "trend or a random walk such as an exchange rate needs), or use model.method=statespace, "
        "which keeps the AR part stationary while fitting")
    run_tsbench([*folds, "model.method=statespace"], tmp_path / "state_space")


@pytest.mark.parametrize(("settings", "fix"), [
    ({"order": [2, 1, 1]}, "difference the rows once more (d=2: model.order=[2,2,1] fits an "
     "ARMA to the changes, as a trend or a random walk such as an exchange rate needs), or "
     "use model.method=statespace, which keeps the AR part stationary while fitting"),
    ({"order": [2, 2, 1]}, "use model.method=statespace, which keeps the AR part stationary "
     "while fitting"),
    ({"order": [2, 0, 1], "trend": "c"}, "use model.method=statespace, which keeps the AR "
     "part stationary while fitting"),  # d=1 would remove the constant
    ({"order": [2, 0, 1], "method": "statespace"}, "difference the rows once (d=1: "
     "model.order=[2,1,1] fits an ARMA to the changes, as a trend or a random walk such as "
     "an exchange rate needs)"),
    ({"order": [2, 2, 1], "method": "statespace"}, "use fewer lags (lower p or q of "
     "model.order=[2,2,1]) or model.method=innovations_mle"),
])  # fmt: skip
def test_a_non_stationary_fit_is_told_the_differencing_that_is_allowed(
        settings: dict, fix: str) -> None:
    """Not "smaller orders" naming a differenced model: d one higher where allowed, and the
    state-space fit, which keeps the AR part stationary (not the fit that failed)."""
    assert _arima(**settings).fix_for("indicate that the process is non-stationary") == fix
