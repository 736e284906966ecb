"""A scaled report leaves out of bold, paired tests and ranks the cells whose runs' cards
flag a channel (near-)constant over the scaler's training rows (its scaled errors outweigh
every other channel's), as it does cells of another protocol; ``--units original``, which no
scaler's spread enters, keeps them in. Real naive and seasonal naive runs (features=M) on a
CSV whose ``peg`` is 0 over the training rows and swings after."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_tsbench
from tests.report.conftest import report

ROWS = 400


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("flat_cells")
    t = np.arange(ROWS)
    noise = np.random.default_rng(3).standard_normal(ROWS)
    csv = root / "flat.csv"
    pd.DataFrame({"date": pd.date_range("2024-03-01", periods=ROWS, freq="h"),
                  "peg": np.where(t < 300, 0.0, 5 * np.sin(2 * np.pi * t / 24) + noise),
                  "OT": 10 + 3 * np.sin(2 * np.pi * t / 24) + 0.3 * noise}
                 ).to_csv(csv, index=False)
    out = root / "sweep"
    run_tsbench(["dataset=csv", f"dataset.path={csv}", "features=M", "seq_len=48",
                 "pred_len=12,24", "model=naive,seasonal_naive", "logger=none", "plots=false"], out,
                multirun=True)
    return out


def _row(out: str, model: str) -> list[str]:
    return next(line for line in out.splitlines()
                if line.startswith(f"| flat.csv | 12 | {model} |")).split(" | ")


def test_a_flat_channel_keeps_a_scaled_cell_out_of_bold_tests_and_ranks(sweep: Path) -> None:
    scaled = report(sweep, "--baseline", "naive").stdout
    for model in ("naive", "seasonal_naive"):
        row = _row(scaled, model)
        assert "**" not in row[3]
        assert row[-1].startswith("⚠ scaled scores distorted by peg")
    assert "– (not compared: the baseline's scaled scores are distorted)" in _row(
        scaled, "seasonal_naive")
    assert "better (p" not in scaled and "worse (p" not in scaled
    assert "⚠ scaled scores distorted by <channel>: its runs' cards flag a channel" in scaled
    assert "⚠ Scaled scores distorted by a channel (near-)constant" in scaled
    assert "Average ranks (1 = best" not in scaled  # no table left to rank
    # in original units no scaler's spread enters: bold, a verdict and ranks again
    original = report(sweep, "--baseline", "naive", "--units", "original").stdout
    assert "scaled scores distorted" not in original
    assert any("**" in _row(original, m)[3] for m in ("naive", "seasonal_naive"))
    assert "(p" in _row(original, "seasonal_naive")[-2]
    assert "Average ranks (1 = best test MSE in original units)" in original
