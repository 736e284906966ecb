"""A scored channel (near-)constant over a scaler's training rows that its validation rows
move (exchange's pegged currency over a first fold of 131 rows: fold 0's scaled MSE 106681
beside the others' 0.01-0.49), or spread far less there where its scaled errors dominate
the score (ETTh2's LULL, 17 x over default CV's fold 2: 69 % of that fold's scaled MSE, the
fold 70 % of cv_val_mse_mean): the run says so in one line, its card records it and the
report names it under the table; real naive runs on a small CSV."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from tests.conftest import read_metrics, run_tsbench
from tests.preloaded import run_module
from tsbench.data.loading import Series
from tsbench.training.flat_channels import flat_warning, split_flat_channels

ROWS, FLAT_ROWS = 400, 100
WARNING = "scaled scores distorted by a channel (near-)constant over the scaler's"
REPORT = "⚠ Scaled scores distorted by a channel (near-)constant over its scaler's"
ORIGINAL = ("original-unit scores (test_mse_orig / test_mae_orig, cv_val_mse_orig_mean in "
            "metrics.json; tsbench-report --units original)")


def _csv(path: Path, flat: np.ndarray, **extra: np.ndarray) -> Path:
    """Hourly rows: ``peg`` as ``flat`` says for its first FLAT_ROWS rows, a wide swing
    after; ``OT`` a daily cycle with noise throughout."""
    t = np.arange(ROWS)
    noise = np.random.default_rng(7).standard_normal(ROWS)
    peg = np.where(t < FLAT_ROWS, flat, 1.0 + 5 * np.sin(2 * np.pi * t / 24))
    pd.DataFrame({"date": pd.date_range("2024-03-01", periods=ROWS, freq="h"), "peg": peg,
                  **extra, "OT": 10 + 3 * np.sin(2 * np.pi * t / 24) + noise}
                 ).to_csv(path, index=False)
    return path


def _swing(quiet_rows: int) -> np.ndarray:
    """A daily cycle of amplitude 0.1 over the first ``quiet_rows`` rows, 1.5 after: 15
    times the spread, below the 100 that flags a channel whatever its share."""
    t = np.arange(ROWS)
    return np.where(t < quiet_rows, 0.1, 1.5) * np.sin(2 * np.pi * t / 24)


def entry_folds(card: dict) -> dict:
    """The folds the card's first flagged channel advises (``clean_folds``)."""
    return card["scaler"]["flat_channels"][0]["clean_folds"]


def _run(csv: Path, run_dir: Path, *extra: str) -> tuple[str, dict]:
    said = run_tsbench(["dataset=csv", f"dataset.path={csv}", "seq_len=24", "pred_len=12",
                        "model=naive", "logger=none", "plots=false", *extra], run_dir)
    card = json.loads((run_dir / "protocol.json").read_text())
    return said.stdout + said.stderr, card


def test_a_fold_whose_training_rows_hold_a_channel_flat_says_so(tmp_path: Path) -> None:
    """4 folds of the 320 train+val rows: fold 0 trains on rows [0, 64), where ``peg``
    moves by 1e-6, and is scored on [64, 128), where it swings by 5: one line names the fold, the
    channel, both spreads, its share of the score and the folds that avoid it."""
    jitter = 1.0 + 1e-6 * np.random.default_rng(1).standard_normal(ROWS)
    csv = _csv(tmp_path / "peg.csv", jitter)
    run_dir = tmp_path / "cv"
    said, card = _run(csv, run_dir, "cv=tscv", "cv.n_splits=4")
    assert said.count(WARNING) == 1
    line = next(line for line in said.splitlines() if WARNING in line)
    assert "fold_0 channel peg: std " in line and "over training rows [0, 64)" in line
    assert "cv.n_splits=4 cv.test_size=" in line  # blocks short enough to clear every fold
    assert "fold_1 channel" not in line  # its training rows hold the swing
    (entry,) = card["scaler"]["flat_channels"]
    assert (entry["fold"], entry["channel"], entry["train_rows"], entry["val_rows"]) == (
        0, "peg", [0, 64], [64, 128])
    values = pd.read_csv(csv)["peg"].to_numpy(np.float64)  # as read
    assert entry["train_std"] == pytest.approx(values[:64].std())
    assert entry["val_std"] == pytest.approx(values[64:128].std())
    assert entry["spread_ratio"] > 1e5 and entry["share_of_val_mse"] > 0.99
    metrics = read_metrics(run_dir)
    assert "flat_channels" not in metrics  # a card's fact, not a metric
    assert entry["share_of_cv_mse"] == pytest.approx(
        metrics["fold_0_val_mse"] / sum(metrics[f"fold_{k}_val_mse"] for k in range(4)))
    report = run_module("tsbench.report", [str(run_dir), "--split", "val"], None)
    assert report.returncode == 0, report.stderr
    assert REPORT in report.stdout
    assert "fold_0 channel peg: std " in report.stdout
    smape = run_module("tsbench.report", [str(run_dir), "--split", "val", "--metric", "smape"],
                       None)
    assert smape.returncode == 0 and REPORT not in smape.stdout  # not a scaled metric


def test_a_channel_spread_less_that_dominates_its_fold_and_the_mean_says_so(
        tmp_path: Path) -> None:
    """3 folds of 80 rows: ``peg`` swings 15 x more over fold 0's validation rows [80, 160)
    than over its training rows [0, 80), makes nearly all of fold 0's scaled MSE, and fold
    0 nearly all of cv_val_mse_mean: flagged by its share (a ratio of 15 alone is not), with
    the folds that avoid it (their first trains on rows of the swing)."""
    frame = pd.read_csv(_csv(tmp_path / "quiet.csv", np.zeros(ROWS)))
    frame["peg"] = 1.0 + _swing(80)
    csv = tmp_path / "quiet.csv"
    frame.to_csv(csv, index=False)
    run_dir = tmp_path / "cv"
    said, card = _run(csv, run_dir, "cv=tscv", "cv.n_splits=3")
    assert said.count(WARNING) == 1
    line = next(line for line in said.splitlines() if WARNING in line)
    assert "fold_0 channel peg: std " in line and "(15 x)" in line
    assert f"cv.n_splits={entry_folds(card)['n_splits']} cv.test_size=" in line
    assert f"compare on {ORIGINAL}" in line
    (entry,) = card["scaler"]["flat_channels"]
    assert (entry["fold"], entry["channel"], entry["rule"]) == (0, "peg", "share")
    assert 10 < entry["spread_ratio"] < 100
    assert entry["share_of_val_mse"] > 0.9 and entry["share_of_cv_mse"] > 0.9
    clean = entry["clean_folds"]
    report = run_module("tsbench.report", [str(run_dir), "--split", "val"], None)
    assert report.returncode == 0, report.stderr
    assert REPORT in report.stdout and "fold_0 channel peg: std " in report.stdout
    assert (f"-> rerun it with cv.n_splits={clean['n_splits']} cv.test_size="
            f"{clean['test_size']} (every fold's training rows then reach row "
            f"{clean['train_end']}") in report.stdout
    assert ("compare these cells in the same tsbench-report command with --units original"
            in report.stdout)


def test_a_channel_spread_less_in_a_fold_that_does_not_dominate_the_mean_is_not_named(
        tmp_path: Path) -> None:
    """``lift`` swings 15 x more over fold 1's validation rows [160, 240) than over its
    training rows and makes nearly all of fold 1's scaled MSE, but fold 0 (``peg`` pegged)
    makes nearly all of cv_val_mse_mean: only fold 0's ``peg`` is named."""
    jitter = 1.0 + 1e-6 * np.random.default_rng(1).standard_normal(ROWS)
    csv = _csv(tmp_path / "lift.csv", jitter, lift=_swing(160))
    said, card = _run(csv, tmp_path / "cv", "cv=tscv", "cv.n_splits=3")
    assert said.count(WARNING) == 1  # (the MASE line names lift: its own concern)
    assert "lift" not in next(line for line in said.splitlines() if WARNING in line)
    (entry,) = card["scaler"]["flat_channels"]
    assert (entry["fold"], entry["channel"], entry["rule"]) == (0, "peg", "spread")


def test_a_channel_spread_less_is_named_only_where_it_makes_most_of_the_split() -> None:
    """A holdout split: the same 15 x spread is named where the channel makes most of the
    split's scaled MSE (0.7), not where it makes less (0.3)."""
    t = np.arange(200)
    values = np.stack([1.0 + _swing(150)[:200], np.sin(t / 3)], axis=1)
    series = Series("quiet", values, pd.date_range("2024-03-01", periods=200, freq="h"),
                    ["peg", "OT"], "h", "ratio")
    named = {share: split_flat_channels(series, "M", (0, 150), (150, 200), [share, 1 - share])
             for share in (0.7, 0.3)}
    assert [(e["channel"], e["rule"]) for e in named[0.7]] == [("peg", "share")]
    assert named[0.7][0]["share_of_val_mse"] == pytest.approx(0.7)
    assert named[0.3] == []


def test_a_channel_constant_over_the_training_rows_is_named_unscaled(tmp_path: Path) -> None:
    """Holdout, 280 training rows: ``peg`` exactly 0 over its first 300 rows is left
    unscaled (scale 1), so its validation errors are in original units among z-scores."""
    csv = _csv(tmp_path / "idle.csv", np.zeros(ROWS))
    frame = pd.read_csv(csv)
    frame.loc[:299, "peg"] = 0.0
    frame.to_csv(csv, index=False)
    run_dir = tmp_path / "holdout"
    said, card = _run(csv, run_dir)
    assert said.count(WARNING) == 1
    assert "channel peg: std 0 over training rows [0, 280)" in said
    assert "constant, left unscaled" in said
    (entry,) = card["scaler"]["flat_channels"]
    assert "fold" not in entry
    assert entry["spread_ratio"] is None and entry["train_std"] == 0
    report = run_module("tsbench.report", [str(run_dir)], None)  # the test split's report
    assert report.returncode == 0, report.stderr
    assert REPORT in report.stdout and "channel peg: std 0 over training rows" in report.stdout
    assert "-> rerun it with a later split whose training rows hold" in report.stdout
    assert "fewer folds" not in report.stdout and "cv.test_size" not in report.stdout
    # a CSV holds data alone: the caveat on what its scores mean is a warning beside it
    data = run_module("tsbench.report", [str(run_dir), "--format", "csv"], None)
    assert data.returncode == 0 and "⚠" not in data.stdout
    assert f"tsbench-report: warning: {REPORT.removeprefix('⚠ ')}" in data.stderr


def test_training_rows_that_hold_the_swing_say_nothing(tmp_path: Path) -> None:
    """The same flat start, but every scaler's rows hold some of the swing (2 folds, the
    first trained on rows [0, 108); the published 280 training rows): no line, and an empty
    list on the card."""
    csv = _csv(tmp_path / "peg.csv", np.ones(ROWS))
    for run_dir, extra in ((tmp_path / "cv", ["cv=tscv", "cv.n_splits=2"]),
                           (tmp_path / "holdout", [])):
        said, card = _run(csv, run_dir, *extra)
        assert WARNING not in said
        assert card["scaler"]["flat_channels"] == []
        report = run_module("tsbench.report", [str(run_dir), "--split", "val"], None)
        assert report.returncode == 0 and REPORT not in report.stdout


@pytest.mark.parametrize("refit", [["cv=refit"], ["cv=tscv", "cv.n_splits=2", "cv.refit=true"]])
def test_a_refit_is_checked_against_the_validation_rows_it_trained_on(
        tmp_path: Path, refit: list[str]) -> None:
    """A refit scores the test split with the published training rows' scaler, and no
    validation split: its check reads the validation rows it trained on (not the test rows),
    its entries say refit, and the test report's line names them."""
    csv = _csv(tmp_path / "idle.csv", np.zeros(ROWS))
    frame = pd.read_csv(csv)
    frame.loc[:299, "peg"] = 0.0  # constant over the 280 training rows, moving from row 300
    frame.to_csv(csv, index=False)
    said, card = _run(csv, tmp_path / "refit", *refit)
    refits = [e for e in card["scaler"]["flat_channels"] if e.get("refit")]
    assert [(e["channel"], e["train_rows"], e["val_rows"]) for e in refits] == [
        ("peg", [0, 280], [280, 320])]
    assert "the refit's channel peg: std 0 over training rows [0, 280)" in said
    report = run_module("tsbench.report", [str(tmp_path / "refit")], None)
    assert report.returncode == 0, report.stderr
    assert REPORT in report.stdout and "the refit's channel peg" in report.stdout
    assert "-> rerun it with a later split whose training rows hold" in report.stdout
    assert "fewer folds" not in report.stdout and "cv.test_size" not in report.stdout


def test_a_holdout_fix_names_a_split_setting_its_split_rule_reads() -> None:
    """``dataset.train_frac`` moves the borders of a ratio split alone: for a fixed split
    (ETT's months) the line names the ratio split it needs, not a setting that changes
    nothing."""
    entry = {"channel": "peg", "train_rows": [0, 8640], "train_std": 0.0,
             "val_rows": [8640, 11520], "val_std": 1.0, "spread_ratio": None,
             "share_of_val_mse": 0.9}
    lines = {split: flat_warning(OmegaConf.create({"cv": {"name": "holdout"},
                                                   "dataset": {"split": split}}), [entry])
             for split in ("ratio", "ett_hour")}
    assert "another split (dataset.train_frac)" in lines["ratio"]
    assert "dataset.split" not in lines["ratio"]
    assert "(dataset.split=ratio dataset.train_frac=..." in lines["ett_hour"]


def test_a_cv_fix_names_folds_only_where_some_avoid_the_flat_rows() -> None:
    """The folds that show no flat channel are advised where some do; where none do (2
    folds of the shortest blocks flag it too) neither a fold count nor shorter validation
    blocks are."""
    entry = {"fold": 0, "channel": "peg", "train_rows": [0, 64], "train_std": 0.0,
             "val_rows": [64, 128], "val_std": 1.0, "spread_ratio": None,
             "share_of_val_mse": 0.9, "share_of_cv_mse": 0.5}
    cfg = OmegaConf.create({"cv": {"name": "tscv", "max_train_size": None}})
    clean = {"n_splits": 3, "test_size": 20, "train_end": 140}
    assert flat_warning(cfg, [entry], clean).count(
        "cv.n_splits=3 cv.test_size=20 (every fold's training rows then reach row 140") == 1
    none = flat_warning(cfg, [entry], None)
    assert "cv.n_splits" not in none and "cv.test_size" not in none
    assert "-> the standard scaler divides by that small spread (a constant channel is left " \
           "unscaled, in original units): leave peg out with dataset.columns" in none


def test_the_cv_fix_names_folds_that_clear_every_fold_and_they_do(tmp_path: Path) -> None:
    """600 rows, ``flat`` constant to 1e-4 over rows [0, 420), a random walk after; 3 folds
    of the 480 train+val rows train from row 120 on: the warning names the folds whose every
    training block reaches past row 420 (shorter blocks alone, 3 x 40 rows, still flag
    it), and a rerun with them says nothing."""
    rows = 600
    rng = np.random.default_rng(5)
    t = np.arange(rows)
    flat = np.where(t < 420, 5 + 1e-4 * rng.standard_normal(rows),
                    5 + np.cumsum(rng.standard_normal(rows)))
    csv = tmp_path / "walk.csv"
    pd.DataFrame({"date": pd.date_range("2024-03-01", periods=rows, freq="h"), "flat": flat,
                  "OT": 10 + 3 * np.sin(2 * np.pi * t / 24) + rng.standard_normal(rows)}
                 ).to_csv(csv, index=False)
    said, card = _run(csv, tmp_path / "cv", "cv=tscv", "cv.n_splits=3")
    line = next(line for line in said.splitlines() if WARNING in line)
    assert "shorter validation blocks" not in line
    clean = card["scaler"]["flat_channels"][0]["clean_folds"]
    assert clean["n_splits"] <= 3 and clean["train_end"] > 420
    fix = (f"cv.n_splits={clean['n_splits']} cv.test_size={clean['test_size']} (every fold's "
           f"training rows then reach row {clean['train_end']}, holding flat's movement")
    assert fix in line
    report = run_module("tsbench.report", [str(tmp_path / "cv"), "--split", "val"], None)
    assert f"-> rerun it with {fix}" in report.stdout
    assert "shorter validation blocks" not in report.stdout
    shorter, _ = _run(csv, tmp_path / "shorter", "cv=tscv", "cv.n_splits=3",
                      "cv.test_size=40")
    assert WARNING in shorter  # shorter blocks alone do not clear it
    rerun, card = _run(csv, tmp_path / "clean", "cv=tscv", f"cv.n_splits={clean['n_splits']}",
                       f"cv.test_size={clean['test_size']}")
    assert WARNING not in rerun and not card["scaler"]["flat_channels"]
