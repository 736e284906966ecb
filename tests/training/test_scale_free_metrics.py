"""MASE and sMAPE, recomputed from the file itself: the run's test forecasts in the file's
units (tsbench-forecast's table, which gives the run's test_mse_orig), each channel's
seasonal naive MAE over the training rows, and the 0/0 rule of sMAPE."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_module

from tests.conftest import read_metrics, run_tsbench
from tests.forecast.test_forecast import PRED_LEN, ROWS, SEQ_LEN, TRAIN_ROWS, _run
from tests.preloaded import run_module
from tsbench.data.loading import load_series
from tsbench.data.seasons import mase_season
from tsbench.forecast.tables import windows
from tsbench.training.evaluate import naive_scale
from tsbench.training.train_and_score import make_data

SEASON = 24  # hourly rows: a day's season


def _csv(path: Path, **extra: np.ndarray) -> Path:
    t = np.arange(ROWS)
    noise = np.random.default_rng(5).standard_normal((ROWS, 2))
    pd.DataFrame({"date": pd.date_range("2024-03-01", periods=ROWS, freq="h"),
                  **extra,
                  "temp": 2 + 5 * np.cos(2 * np.pi * t / 24) + noise[:, 0],  # crosses 0
                  "OT": 300 + 80 * np.sin(2 * np.pi * t / 24) + 10 * noise[:, 1]}
                 ).to_csv(path, index=False)
    return path


def expected(csv: Path, run_dir: Path, split: str, fitted: int) -> tuple[float, float]:
    """(MASE, sMAPE) from the file and the run's forecasts in the file's units."""
    frame = pd.read_csv(csv).drop(columns="date")
    table = windows(run_dir, split)
    train = frame.iloc[:fitted].to_numpy(np.float32).astype(np.float64)
    naive = dict(zip(frame.columns, np.abs(train[SEASON:] - train[:-SEASON]).mean(axis=0),
                     strict=True))
    error = (table["forecast"] - table["actual"]).abs()
    mase = float((error / table["channel"].map(naive)).mean())
    size = table["forecast"].abs() + table["actual"].abs()
    smape = float(np.where(size > 0, 200 * error / size.where(size > 0, 1), 0.0).mean())
    return mase, smape


@pytest.mark.parametrize("extra, fitted", [
    (["model=dlinear"], TRAIN_ROWS),
    (["model=naive", "features=MS"], TRAIN_ROWS),
    (["model=dlinear", "cv=refit", "trainer.max_epochs=1"], TRAIN_ROWS),  # published scale
])
def test_mase_and_smape_are_those_of_the_files_values(tmp_path: Path, extra: list[str],
                                                      fitted: int) -> None:
    csv = _csv(tmp_path / "load.csv")
    run_dir = _run(csv, tmp_path / "run", *extra)
    metrics = read_metrics(run_dir)
    mase, smape = expected(csv, run_dir, "test", fitted)
    assert metrics["test_mase"] == pytest.approx(mase, rel=1e-4)
    assert metrics["test_smape"] == pytest.approx(smape, rel=1e-4)
    for metric in ("mase", "smape"):  # the per-window files the report's tests pair
        per_window = np.load(run_dir / f"test_window_{metric}.npy")
        assert per_window.size == metrics["n_test_windows"]
        assert float(per_window.mean()) == pytest.approx(metrics[f"test_{metric}"], rel=1e-5)
    if "cv=refit" not in extra:
        assert metrics["val_mase"] == pytest.approx(expected(csv, run_dir, "val", fitted)[0],
                                                    rel=1e-4)
    card = (run_dir / "protocol.json").read_text()
    assert '"mase_season": 24' in card


def test_a_constant_channel_leaves_mase_out_and_counts_zero_over_zero_as_zero(
        tmp_path: Path) -> None:
    """A channel of zeros: the naive forecast is exact on it (0/0 in sMAPE: 0), and its
    in-sample naive MAE is 0, so MASE is undefined: left out, with a warning, not inf."""
    csv = _csv(tmp_path / "load.csv", idle=np.zeros(ROWS))
    run_dir = tmp_path / "run"
    said = run_tsbench(["dataset=csv", f"dataset.path={csv}", f"seq_len={SEQ_LEN}",
                        f"pred_len={PRED_LEN}", "model=naive", "logger=none", "plots=false"],
                       run_dir)
    metrics = read_metrics(run_dir)
    assert "test_mase" not in metrics and not (run_dir / "test_window_mase.npy").exists()
    assert ("MASE is left out where the seasonal naive forecast is exact on a scored channel's "
            "training rows (constant?), so MASE would divide by 0: val_mase, test_mase "
            "(channel idle) -> compare on original-unit scores") in said.stderr
    assert metrics["test_smape"] == pytest.approx(expected(csv, run_dir, "test", TRAIN_ROWS)[1],
                                                  rel=1e-4)
    table = windows(run_dir, "test")
    assert (table[table["channel"] == "idle"]["forecast"] == 0).all()  # every term 0/0
    said = run_module("tsbench.report", [str(run_dir), "--metric", "mase"], None)
    assert said.returncode == 2 and (  # the reason, not score_test or CV
        "1 run: MASE left out when it ran: a channel's seasonal naive MAE on the training "
        "rows is 0 (its log names it) -> report runs that scored the test split") in said.stderr


def test_mase_left_out_over_folds_is_said_once_naming_them(tmp_path: Path) -> None:
    """With ``cv=tscv`` each fold and the refit score a constant channel: one line names
    every fold and the refit, and advises original-unit scores (MAE's scale is the same
    flat rows' spread), not one unnamed line per fold."""
    csv = _csv(tmp_path / "load.csv", idle=np.zeros(ROWS))
    said = run_tsbench(["dataset=csv", f"dataset.path={csv}", f"seq_len={SEQ_LEN}",
                        f"pred_len={PRED_LEN}", "model=naive", "logger=none", "plots=false",
                        "cv=tscv", "cv.n_splits=3", "cv.refit=true"], tmp_path / "cv")
    assert said.stderr.count("MASE is left out") == 1
    assert ("so MASE would divide by 0: fold_0's val_mase, fold_1's val_mase, fold_2's "
            "val_mase, the refit's test_mase (channel idle) -> compare on original-unit "
            "scores (test_mse_orig / test_mae_orig, cv_val_mse_orig_mean in metrics.json; "
            "tsbench-report --units original)") in said.stderr
    assert "cv_val_mase_mean" not in read_metrics(tmp_path / "cv")


def test_the_report_compares_runs_on_mase(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "load.csv")
    runs = [_run(csv, tmp_path / model, f"model={model}") for model in ("naive", "dlinear")]
    said = run_module("tsbench.report", [*map(str, runs), "--metric", "mase", "--format",
                                          "csv"], None)
    assert said.returncode == 0, said.stderr
    table = pd.read_csv(pd.io.common.StringIO(said.stdout))
    for run_dir in runs:
        row = table[table["model"] == run_dir.name]
        assert float(row["mean"].iloc[0]) == pytest.approx(
            read_metrics(run_dir)["test_mase"], abs=1e-4)


def test_a_series_shorter_than_a_season_says_its_mase_is_one_step(tmp_path: Path) -> None:
    """70 weekly rows (49 training rows) hold no 52-week season: the naive scale is the
    one-step one, which the card records and the run says."""
    csv = tmp_path / "weekly.csv"
    pd.DataFrame({"date": pd.date_range("2020-01-05", periods=70, freq="W-SUN"),
                  "OT": np.random.default_rng(2).standard_normal(70).cumsum()}).to_csv(
        csv, index=False)
    run_dir = tmp_path / "run"
    said = run_tsbench(["dataset=csv", f"dataset.path={csv}", "seq_len=8", "pred_len=2",
                        "model=naive", "logger=none", "plots=false"], run_dir)
    assert ("MASE is scaled by the one-step naive forecast (season 1) where the training rows "
            "hold no more than one season of 52 steps (freq W-SUN): the 49 training rows") \
        in said.stderr
    assert '"mase_season": 1' in (run_dir / "protocol.json").read_text()


def test_folds_shorter_than_a_season_say_their_mase_is_one_step(tmp_path: Path) -> None:
    """ILI's published training rows hold 13 seasons of 52 weeks; folds of cv.max_train_size
    50 hold none: each fold's MASE is scaled by the one-step naive forecast, and so the card
    says of each, and the run."""
    run_dir = tmp_path / "run"
    said = run_tsbench(["dataset=ili", "model=naive", "seq_len=24", "pred_len=12", "cv=tscv",
                        "cv.n_splits=2", "cv.max_train_size=50", "cv.refit=true",
                        "logger=none", "plots=false"], run_dir)
    card = json.loads((run_dir / "protocol.json").read_text())["metrics_scale"]
    assert (card["mase_season"], card["fold_mase_season"]) == (52, [1, 1])
    assert ("MASE is scaled by the one-step naive forecast (season 1) where the training rows "
            "hold no more than one season of 52 steps (freq W-TUE): fold_0's 50, fold_1's 50 "
            "training rows") in said.stderr


def test_exactly_one_season_of_training_rows_scales_by_the_one_step_naive(
        tmp_path: Path) -> None:
    """52 weekly training rows hold one 52-week season and no more: MASE's scale is the
    one-step naive forecast's in-sample MAE over them (53 rows: the seasonal one)."""
    csv = tmp_path / "weekly.csv"
    values = np.random.default_rng(3).standard_normal(80).cumsum()
    pd.DataFrame({"date": pd.date_range("2020-01-05", periods=80, freq="W-SUN"),
                  "OT": values}).to_csv(csv, index=False)
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=["dataset=csv", f"dataset.path={csv}", "seq_len=8",
                                           "pred_len=2", "model=naive"])
    series = load_series(cfg.dataset)
    assert mase_season(series.freq, 52) == 1 and mase_season(series.freq, 53) == 52
    data = make_data(cfg, series, {"train": (0, 52), "val": (44, 80)}, with_marks=False)
    train = series.values[:52, 0].astype(np.float64)
    one_step = np.abs(np.diff(train)).mean() / data.scaler.scale_[0]
    assert naive_scale(data).tolist() == pytest.approx([one_step], rel=1e-5)


def test_smape_names_the_channels_near_zero_and_the_report_warns_of_them(
        tmp_path: Path) -> None:
    """temp crosses zero and near nears it (its least value 0.02, a std of about 1): each
    run records them beside its sMAPE, a report asked for sMAPE warns in one line naming
    them, and runs that record nothing (saved before) are reported without it."""
    t = np.arange(ROWS)
    csv = _csv(tmp_path / "load.csv", near=0.02 + 3 * np.abs(np.sin(2 * np.pi * t / 37)))
    every = _run(csv, tmp_path / "naive", "model=naive")
    target = _run(csv, tmp_path / "target", "model=naive", "features=MS", "seed=2")
    folds = _run(csv, tmp_path / "folds", "model=naive", "cv=tscv", "cv.n_splits=2")
    assert read_metrics(every)["test_smape_near_zero"] == ["near", "temp"]
    assert read_metrics(every)["val_smape_near_zero"] == ["near", "temp"]
    assert read_metrics(target)["test_smape_near_zero"] == []  # OT: 300 +- 80
    assert read_metrics(folds)["cv_val_smape_near_zero"] == ["near", "temp"]
    warning = ("tsbench-report: warning: --metric smape: the scored actual values cross or "
               "come near zero in load.csv{} (near, temp): there sMAPE's denominator "
               "|forecast| + |actual| shrinks and a small error scores up to 200, so its means "
               "and ranks follow those points, not the forecasts' accuracy -> compare with "
               "--metric mase or mae\n")
    for metric, split, runs, said in [
            ("smape", "test", [every, target], warning.format("")),
            ("smape", "val", [folds], warning.format(" [val: CV, 2 folds, rows [108, 320)]")),
            ("mase", "test", [every, target], "")]:
        proc = run_module("tsbench.report", [*map(str, runs), "--metric", metric,
                                             "--split", split], None)
        assert proc.returncode == 0 and proc.stderr == said, proc.stderr
    metrics = read_metrics(every)
    del metrics["test_smape_near_zero"]
    (every / "metrics.json").write_text(json.dumps(metrics))
    proc = run_module("tsbench.report", [str(every), "--metric", "smape"], None)
    assert proc.returncode == 0 and proc.stderr == ""


def test_a_target_alone_is_named_by_its_own_column(tmp_path: Path) -> None:
    """features=S scores the target alone: its MASE warning and sMAPE record name OT (the
    names were matched against every column, and the run failed with a traceback)."""
    t = np.arange(ROWS)
    csv = tmp_path / "idle.csv"
    pd.DataFrame({"date": pd.date_range("2024-03-01", periods=ROWS, freq="h"),
                  "a": np.sin(t / 5), "OT": np.zeros(ROWS)}).to_csv(csv, index=False)
    run_dir = tmp_path / "run"
    said = run_tsbench(["dataset=csv", f"dataset.path={csv}", f"seq_len={SEQ_LEN}",
                        f"pred_len={PRED_LEN}", "model=naive", "features=S", "logger=none",
                        "plots=false"], run_dir)
    assert ("MASE is left out where the seasonal naive forecast is exact on a scored channel's "
            "training rows (constant?), so MASE would divide by 0: val_mase, test_mase "
            "(channel OT) -> compare on original-unit scores") in said.stderr
    assert read_metrics(run_dir)["test_smape_near_zero"] == ["OT"]
