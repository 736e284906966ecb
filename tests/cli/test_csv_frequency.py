"""``tsbench dataset=csv`` without ``dataset.freq`` takes the season from the timestamps:
52 for a weekly file, 12 for a monthly one, 4 for a quarterly one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import read_metrics, run_tsbench


@pytest.mark.parametrize("alias, period", [("W-SUN", 52), ("MS", 12), ("QE-DEC", 4)])
@pytest.mark.heavy
def test_seasonal_naive_uses_the_season_of_the_inferred_frequency(
    alias: str, period: int, tmp_path: Path
) -> None:
    # Two channels repeating one random pattern of `period` steps exactly: a forecast one
    # season back is exact, any other look-back is not.
    dates = pd.date_range("1990-01-01", periods=320, freq=alias)
    pattern = np.random.default_rng(period).normal(size=(period, 2))
    values = pattern[np.arange(len(dates)) % period]
    csv = tmp_path / "series.csv"
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "a": values[:, 0],
                  "OT": values[:, 1]}).to_csv(csv, index=False)
    base = ["dataset=csv", f"dataset.path={csv}", "model=seasonal_naive", "trainer=debug",
            "logger=none", "pred_len=4"]
    run_tsbench([*base, f"seq_len={period + 4}"], tmp_path / "run")
    metrics = read_metrics(tmp_path / "run")
    assert metrics["val_mse"] < 1e-10 and metrics["test_mse"] < 1e-10
    # a look-back shorter than the season: the error names the period taken from the data
    proc = run_tsbench([*base, f"seq_len={period - 1}"], tmp_path / "short", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"model.period: must be between 1 and seq_len={period - 1}, got {period}" in (
        proc.stderr)
