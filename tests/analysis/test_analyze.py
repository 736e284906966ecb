"""``tsbench-analyze`` and the periodicity functions: periods, strengths, look-backs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import data_dir
from tests.unseen import differences, outputs_of_both, replaced_from, series, snapshot
from tsbench.analysis.periodicity import (
    dominant_periods,
    lookback_candidates,
    seasonal_strength,
)


def _analyze(args: list[str], out_dir: Path, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "tsbench.analysis.cli", *args, f"hydra.run.dir={out_dir}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    if check and proc.returncode != 0:
        raise AssertionError(f"tsbench-analyze failed:\n{proc.stderr[-3000:]}")
    return proc


def test_synthetic_period_24_with_noise_and_trend(tmp_path: Path) -> None:
    proc = _analyze(["dataset=synthetic", "dataset.noise=0.5", "dataset.trend=5",
                     "pred_len=24"], tmp_path)
    report = yaml.safe_load((tmp_path / "lookback.yaml").read_text())
    assert report["training_rows"] == [0, 1400]
    assert report["periods"][0] == 24 and report["strengths"][0] > 0.3
    assert all(entry["periods"][0] == 24 for entry in report["channels"].values())
    # the 200-row validation split bounds seq_len + pred_len
    assert report["candidates"] == [48, 72, 96, 120, 144, 168]
    assert (tmp_path / "acf.png").stat().st_size > 10_000
    assert "overall" in proc.stdout and "48 72 96 120 144 168" in proc.stdout


def test_etth1_daily_period_and_candidates(tmp_path: Path) -> None:
    data_dir()
    _analyze(["dataset=etth1"], tmp_path)
    report = yaml.safe_load((tmp_path / "lookback.yaml").read_text())
    assert report["training_rows"] == [0, 8640]
    assert report["periods"][0] == 24
    assert report["channels"]["OT"]["periods"][0] == 24
    assert report["candidates"] == list(range(48, 721, 24))


def test_rows_after_the_training_split_change_nothing(tmp_path: Path) -> None:
    """Checked from the outside: with every row after the training split (validation and
    test) replaced by a huge period-7 pattern, the analysis writes exactly the same files
    (report and ACF plot), although those rows alone have another dominant period."""
    frame = series(900)
    border = int(0.7 * 900)  # the ratio split's training rows are [0, 630)
    clean, replaced = outputs_of_both(tmp_path, frame, border, lambda path, out: _analyze(
        ["dataset=csv", f"dataset.path={path}", "pred_len=24", "max_lookback=120"], out))
    report = yaml.safe_load((clean / "lookback.yaml").read_text())
    assert report["training_rows"] == [0, border] and report["periods"][0] == 24
    assert differences(snapshot(clean), snapshot(replaced)) == []
    values = replaced_from(frame, border).drop(columns="date").to_numpy()
    assert dominant_periods(values, 60)[0].period == 7  # what reading them would find


def test_bad_setting_is_one_clear_error(tmp_path: Path) -> None:
    proc = _analyze(["dataset=synthetic", "pred_len=0"], tmp_path, check=False)
    assert proc.returncode == 2
    assert "tsbench-analyze: error: pred_len: must be >= 1" in proc.stderr


def test_noise_and_random_walks_have_no_period() -> None:
    rng = np.random.default_rng(0)
    assert dominant_periods(rng.standard_normal((2000, 3)), 360) == []
    assert dominant_periods(np.cumsum(rng.standard_normal((4000, 2)), axis=0), 360) == []


def test_daily_and_weekly_periods_under_a_drift() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(4000.0)
    x = (np.sin(2 * np.pi * t / 24) + 0.6 * np.sin(2 * np.pi * t / 168) + t / 200
         + np.cumsum(rng.standard_normal(4000)) * 0.05 + 0.3 * rng.standard_normal(4000))
    found = dominant_periods(x, 360)
    assert [p.period for p in found[:2]] == [24, 168]
    assert seasonal_strength(np.sin(2 * np.pi * t / 24), 24) == pytest.approx(1.0)


def test_lookback_candidates() -> None:
    assert lookback_candidates([24], pred_len=96, max_len=300) == [48, 72, 96, 120, 144, 168, 192]
    assert lookback_candidates([24, 36], pred_len=0, max_len=150) == [48, 72, 96, 108, 120, 144]
    assert lookback_candidates([24], pred_len=96, max_len=100) == []
