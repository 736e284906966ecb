"""``tsbench-forecast --intervals``: split-conformal bounds from the run's own validation
residuals (the rank ceil((n+1)*level) of n windows, per step and channel), never from the
test rows, and refused where no held-out validation rows are left or the level needs more
windows than there are."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.conftest import TINY, run_tsbench
from tests.preloaded import run_module
from tsbench.forecast import tables
from tsbench.forecast.tables import WINDOW_COLUMNS, calibration, future, tuned_future, windows

LEVELS = [0.8, 0.95]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def holdout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "dlinear"
    run_tsbench(TINY, run_dir)
    return run_dir


def _residuals(run_dir: Path) -> np.ndarray:
    """|forecast - actual| of the run's validation windows, ``(n, pred_len, channels)``."""
    val = windows(run_dir, "val")
    shape = (val["window"].nunique(), val["step"].nunique(), val["channel"].nunique())
    return (val["forecast"] - val["actual"]).abs().to_numpy().reshape(shape)


def _hand_widths(residuals: np.ndarray, percent: int) -> np.ndarray:
    """The residual of rank ceil((n+1)*percent/100), in whole numbers."""
    n = len(residuals)
    return np.sort(residuals, axis=0)[-(-(n + 1) * percent // 100) - 1]


def test_the_bounds_are_the_validation_residual_of_the_conformal_rank(holdout: Path) -> None:
    residuals = _residuals(holdout)
    n, pred_len, n_channels = residuals.shape
    assert n == 600 - int(0.7 * 600) - int(0.2 * 600) - pred_len + 1
    ahead = future(holdout, intervals=LEVELS)
    plain = future(holdout)
    test = windows(holdout, "test", intervals=LEVELS)
    assert list(test.columns) == [*WINDOW_COLUMNS, "lower_80", "upper_80", "lower_95",
                                  "upper_95"]
    pd.testing.assert_frame_equal(test[WINDOW_COLUMNS], windows(holdout, "test"))
    n_test = test["window"].nunique()
    for percent in (80, 95):
        widths = _hand_widths(residuals, percent)
        assert (widths > 0).all()
        for i, channel in enumerate(plain.columns):
            np.testing.assert_allclose(ahead[channel], plain[channel])
            np.testing.assert_allclose(ahead[f"{channel}_upper_{percent}"] - plain[channel],
                                       widths[:, i], rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(plain[channel] - ahead[f"{channel}_lower_{percent}"],
                                       widths[:, i], rtol=1e-9, atol=1e-9)
            assert (ahead[f"{channel}_lower_{percent}"] <= ahead[channel]).all()
            assert (ahead[channel] <= ahead[f"{channel}_upper_{percent}"]).all()
        spread = (test[f"upper_{percent}"] - test["forecast"]).to_numpy()
        np.testing.assert_allclose(spread.reshape(n_test, pred_len, n_channels),
                                   np.broadcast_to(widths, (n_test, pred_len, n_channels)),
                                   rtol=1e-9, atol=1e-9)
        assert (test[f"lower_{percent}"] <= test["forecast"]).all()
        assert (test["forecast"] <= test[f"upper_{percent}"]).all()
    # the command prints the same table
    said = run_module("tsbench.forecast", [str(holdout), "--intervals", "0.95,0.8"], ENV)
    assert said.returncode == 0, said.stderr
    printed = pd.read_csv(io.StringIO(said.stdout), parse_dates=["date"], index_col="date")
    pd.testing.assert_frame_equal(printed, ahead, check_freq=False, rtol=1e-6)


def test_a_level_past_what_the_validation_windows_allow_is_refused(holdout: Path) -> None:
    n = len(_residuals(holdout))
    largest = n / (n + 1)  # rank n: the largest residual
    assert calibration(holdout, [largest])[largest].shape[0] == 12
    refused = run_module("tsbench.forecast", [str(holdout), "--intervals",
                                              f"0.8,{largest + 1e-4:.6f}"], ENV)
    assert refused.returncode == 2 and refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1
    assert f"the run's n = {n} validation windows" in refused.stderr
    assert f"-> give levels up to {np.floor(largest * 1e4) / 1e4}" in refused.stderr
    for args, said in (
            (["--split", "val"], "intervals are calibrated on the validation windows, so "
                                 "their coverage there is in-sample -> --split test"),
            ([], "--intervals: level [1.0] is not in (0, 1)")):
        level = "1" if not args else "0.8"
        refused = run_module("tsbench.forecast", [str(holdout), *args, "--intervals", level],
                             ENV)
        assert refused.returncode == 2 and refused.stdout == ""
        assert said in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.parametrize("text", ["", "0.8,ninety", "0.8,"])
def test_levels_that_are_not_numbers_are_refused_before_the_run_is_read(
        text: str, tmp_path: Path) -> None:
    """``--intervals ''`` (an empty shell variable) was taken for no intervals at all."""
    refused = run_module("tsbench.forecast", [str(tmp_path / "no_run"), "--intervals", text],
                         ENV)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == (
        f"tsbench-forecast: error: --intervals {text!r}: not a comma-separated list of "
        "numbers -> give coverage levels in (0, 1), e.g. --intervals 0.8,0.95\n")


def test_a_model_that_trained_on_the_validation_rows_is_refused(
        holdout: Path, tmp_path: Path) -> None:
    refit = tmp_path / "refit"
    run_tsbench([*TINY, "cv=refit", "trainer.max_epochs=1"], refit)
    for args in ([], ["--split", "test"]):
        refused = run_module("tsbench.forecast", [str(refit), *args, "--intervals", "0.8"],
                             ENV)
        assert refused.returncode == 2 and refused.stdout == ""
        assert refused.stderr == (
            f"tsbench-forecast: error: {refit} is a refit (cv=refit): its model trained on the "
            "validation rows, so no held-out rows are left to calibrate intervals on -> take "
            "--intervals from a holdout run (cv=holdout) of the same configuration\n")
    assert run_module("tsbench.forecast", [str(refit)], ENV).returncode == 0
    # a tuning folder whose members were refitted on train+val: refused before reading them
    tune_dir = tmp_path / "tune"
    member = tune_dir / "a_baseline" / "0"
    shutil.copytree(holdout, member)
    (tune_dir / "tune.json").write_text("{}")
    (tune_dir / "report.json").write_text(json.dumps({  # as tuned under another path
        "ensemble_weights": {str(member): 1.0}, "refit_seeds": {str(member): [1]},
        "best_single": "/elsewhere/tune/a_baseline/0"}))
    refused = run_module("tsbench.forecast", [str(tune_dir), "--intervals", "0.8"], ENV)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == (
        f"tsbench-forecast: error: {tune_dir}: its ensemble's members were refitted on the "
        "train+val rows (recipe.refit), so no held-out rows are left to calibrate intervals "
        "on -> take --intervals from one of its holdout runs' folders, e.g. its best single "
        f"run's, {member}, or tune with recipe.refit=false to have them on the tuning folder "
        "itself\n")
    # the folder it names gives them
    named = run_module("tsbench.forecast", [str(member), "--intervals", "0.8"], ENV)
    assert named.returncode == 0 and "_upper_80" in named.stdout


def test_an_ensemble_of_holdout_runs_is_calibrated_on_its_own_validation_residuals(
        holdout: Path, tmp_path: Path) -> None:
    tune_dir = tmp_path / "tune"
    members = [tune_dir / "a_baseline" / "0", tune_dir / "d_random" / "3"]
    shutil.copytree(holdout, members[0])
    run_tsbench([*TINY, "model=naive"], members[1])
    (tune_dir / "tune.json").write_text("{}")
    (tune_dir / "report.json").write_text(json.dumps({
        "ensemble_weights": {str(members[0]): 0.25, str(members[1]): 0.75},
        "refit_seeds": {}}))
    val = [windows(m, "val") for m in members]
    mixed = 0.25 * val[0]["forecast"] + 0.75 * val[1]["forecast"]
    residuals = (mixed - val[0]["actual"]).abs().to_numpy().reshape(-1, 12, 3)
    widths = _hand_widths(residuals, 80)
    ahead = tuned_future(tune_dir, intervals=[0.8])
    pd.testing.assert_frame_equal(ahead[["x0", "x1", "OT"]], tuned_future(tune_dir))
    for i, channel in enumerate(["x0", "x1", "OT"]):
        np.testing.assert_allclose(ahead[f"{channel}_upper_80"] - ahead[channel], widths[:, i],
                                   rtol=1e-9, atol=1e-9)


def test_an_ensembles_level_past_its_windows_is_refused_before_forecasting(
        holdout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As for one run (:func:`future` calibrates first), a tuning folder's level that its
    validation windows cannot give is refused before any member forecasts the future."""
    tune_dir = tmp_path / "tune"
    member = tune_dir / "a_baseline" / "0"
    shutil.copytree(holdout, member)
    (tune_dir / "report.json").write_text(json.dumps({
        "ensemble_weights": {str(member): 1.0}, "refit_seeds": {}}))

    def forecast(*args: object) -> None:
        raise AssertionError("the future was forecast before the levels were checked")

    monkeypatch.setattr(tables, "future", forecast)
    with pytest.raises(ValueError, match="more than there are"):
        tables.tuned_future(tune_dir, intervals=[0.8, 0.9999])


def test_the_test_rows_are_never_read_for_calibration(tmp_path: Path) -> None:
    """Two files alike but for their test rows (the last 20 %): the same validation
    residuals, the same widths; the future (read from the test rows' end) moves."""
    rows = 400
    t = np.arange(rows)
    noise = np.random.default_rng(5).standard_normal(rows)
    frame = pd.DataFrame({"date": pd.date_range("2024-03-01", periods=rows, freq="h"),
                          "OT": 300 + 80 * np.sin(2 * np.pi * t / 24) + 10 * noise})
    changed = frame.assign(OT=frame["OT"].where(t < rows - int(0.2 * rows),
                                                frame["OT"] * 3 + 50))
    widths, tables, futures = [], [], []
    for name, rows_of in (("same", frame), ("changed", changed)):
        rows_of.to_csv(tmp_path / f"{name}.csv", index=False)
        run_dir = tmp_path / name
        run_tsbench(["dataset=csv", f"dataset.path={tmp_path / f'{name}.csv'}", "seq_len=48",
                     "pred_len=12", "model=naive", "logger=none", "plots=false"], run_dir)
        widths.append(calibration(run_dir, LEVELS))
        test = windows(run_dir, "test", intervals=LEVELS)
        tables.append(test["upper_80"] - test["forecast"])
        ahead = future(run_dir, intervals=LEVELS)
        futures.append((ahead["OT"], ahead["OT_upper_95"] - ahead["OT"]))
    for level in LEVELS:
        np.testing.assert_array_equal(widths[0][level], widths[1][level])
    np.testing.assert_allclose(*tables, rtol=1e-12)
    np.testing.assert_allclose(futures[0][1], futures[1][1], rtol=1e-12)
    assert not np.allclose(futures[0][0], futures[1][0])  # the test rows did change


def test_a_cross_validation_run_without_a_refit_names_a_holdout_run_for_intervals(
        tmp_path: Path) -> None:
    """Its folds' models cannot be calibrated, nor its cv.refit (trained on the validation
    rows): the fix for --intervals is a holdout run alone."""
    run_dir = tmp_path / "tscv"
    run_tsbench([*TINY, "cv=tscv", "cv.n_splits=2", "trainer.max_epochs=1"], run_dir)
    fix = ("-> take --intervals from a holdout run (cv=holdout) of the same configuration (a "
           "cv.refit run trained on the validation rows they are calibrated on)\n")
    for folder, problem in (
            (run_dir, "a cross-validation run without cv.refit keeps one model per fold, each "
                      "scaled on its own rows"),
            (run_dir / "fold_0", "this fold trained and was scaled on rows")):
        for args in ([], ["--split", "test"]):
            refused = run_module("tsbench.forecast", [str(folder), *args, "--intervals", "0.8"],
                                 ENV)
            assert refused.returncode == 2 and refused.stdout == ""
            assert refused.stderr.startswith(f"tsbench-forecast: error: {folder}")
            assert problem in refused.stderr and refused.stderr.endswith(fix)
        plain = run_module("tsbench.forecast", [str(folder)], ENV)  # no intervals: cv.refit too
        assert plain.returncode == 2
        assert plain.stderr.endswith("-> forecast with a holdout run, or a cross-validation "
                                     "run with cv.refit\n")


def test_the_python_api_takes_paths_as_text_and_one_level_as_a_number(tmp_path: Path) -> None:
    """``future(run, "new.csv", intervals=0.8)``, ``windows(..., intervals=0.8)`` and
    ``tuned_future("tune_dir", ...)`` read as their Path and list forms."""
    rows = 300
    t = np.arange(rows + 24)
    frame = pd.DataFrame({"date": pd.date_range("2024-03-01", periods=rows + 24, freq="h"),
                          "OT": 300 + 80 * np.sin(2 * np.pi * t / 24)
                          + 10 * np.random.default_rng(2).standard_normal(rows + 24)})
    frame.head(rows).to_csv(tmp_path / "load.csv", index=False)
    newer = tmp_path / "newer.csv"
    frame.to_csv(newer, index=False)
    run_dir = tmp_path / "naive"
    run_tsbench(["dataset=csv", f"dataset.path={tmp_path / 'load.csv'}", "seq_len=48",
                 "pred_len=12", "model=seasonal_naive", "logger=none"], run_dir)
    expected = future(run_dir, newer, intervals=[0.8])
    assert list(expected.columns) == ["OT", "OT_lower_80", "OT_upper_80"]
    pd.testing.assert_frame_equal(future(str(run_dir), str(newer), intervals=0.8), expected)
    pd.testing.assert_frame_equal(windows(str(run_dir), "test", intervals=0.8),
                                  windows(run_dir, "test", intervals=[0.8]))
    tune_dir = tmp_path / "tune"
    member = tune_dir / "a_baseline" / "0"
    shutil.copytree(run_dir, member)
    (tune_dir / "tune.json").write_text("{}")
    (tune_dir / "report.json").write_text(json.dumps({
        "ensemble_weights": {str(member): 1.0}, "refit_seeds": {}}))
    pd.testing.assert_frame_equal(tuned_future(str(tune_dir), str(newer), intervals=0.8),
                                  expected)


def test_levels_whose_coverage_few_windows_leave_rough_are_said(holdout: Path) -> None:
    """The coverage a bound of rank k among n validation windows gives later windows is
    Beta(k, n + 1 - k): from 49 windows a 0.8 interval covers 0.8 +- 0.056 (one sd), which
    a user reading "80 %" is told; the 0.95 bound's spread, 0.027, is not said."""
    n = len(_residuals(holdout))
    said = run_module("tsbench.forecast", [str(holdout), "--intervals", "0.8,0.95"], ENV)
    assert said.returncode == 0, said.stderr
    spreads = {}
    for level in (0.8, 0.95):
        k = -(-(n + 1) * round(level * 100) // 100)
        spreads[level] = stats.beta(k, n + 1 - k).std()
    assert spreads[0.8] > 0.05 > spreads[0.95]  # the rule's line between the two
    warned = [line for line in said.stderr.splitlines() if "--intervals: calibrated" in line]
    assert len(warned) == 1, said.stderr
    assert warned[0].startswith("tsbench-forecast: warning: --intervals: calibrated")
    assert f"n = {n} validation windows" in warned[0]
    assert f"about 0.8 +- {spreads[0.8]:.2f} (one sd" in warned[0]
    assert "0.95 +-" not in warned[0]
    quiet = run_module("tsbench.forecast", [str(holdout), "--intervals", "0.95"], ENV)
    assert quiet.returncode == 0 and "--intervals: calibrated" not in quiet.stderr
