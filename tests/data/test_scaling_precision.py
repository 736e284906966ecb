"""A channel with a large offset and a small movement (``1e6 + 0.05 sin t``, a latitude
``52.52 + 2e-4 sin t``) keeps its movement: the file's values are scaled in float64, as
the official code scales them, and forecasts go back to the file's units in float64."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from tests.conftest import ROOT, run_tsbench
from tests.preloaded import run_module
from tsbench.data.datamodule import ForecastData
from tsbench.data.loading import load_series
from tsbench.forecast.tables import future, windows

ROWS, SEQ_LEN, PRED_LEN = 300, 24, 6
#: ratio split: int(0.7 * 300) = 210 training rows
TRAIN_ROWS = 210


@pytest.fixture(scope="module")
def csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    t = np.arange(ROWS, dtype=np.float64)
    path = tmp_path_factory.mktemp("data") / "offset.csv"
    pd.DataFrame({"date": pd.date_range("2024-03-01", periods=ROWS, freq="h"),
                  "lat": 52.52 + 2e-4 * np.sin(t),
                  "OT": 1e6 + 0.05 * np.sin(t)}).to_csv(path, index=False)
    return path


def _file_values(csv: Path) -> np.ndarray:
    return pd.read_csv(csv).drop(columns="date").to_numpy(np.float64)


def _assert_within_spread(actual: np.ndarray, expected: np.ndarray, spread: np.ndarray
                          ) -> None:
    """Equal to within 1e-6 of each channel's spread (a float32 1e6 is a multiple of
    0.0625, 1.8 of the ``OT`` channel's spread)."""
    np.testing.assert_array_less(np.abs(actual - expected) / spread, 1e-6)


def test_scaled_training_rows_match_a_float64_standard_scaler(csv: Path) -> None:
    cfg = OmegaConf.merge(OmegaConf.load(ROOT / "tsbench" / "conf" / "dataset" / "csv.yaml"),
                          {"path": str(csv)})
    data = ForecastData(load_series(cfg), {"train": (0, TRAIN_ROWS),
                                           "val": (TRAIN_ROWS, 240), "test": (240, ROWS)},
                        SEQ_LEN, PRED_LEN)
    values = _file_values(csv)
    train = values[:TRAIN_ROWS]
    expected = (train - train.mean(axis=0)) / train.std(axis=0)  # float64 StandardScaler
    scaled = data.scaled[:TRAIN_ROWS].double().numpy()
    # float32's rounding of a z-score within +-1.5: under 1e-7 (float32 file values: 0.71)
    np.testing.assert_allclose(scaled, expected, rtol=0, atol=2e-7)
    assert len(np.unique(scaled[:, 1])) == len(np.unique(expected[:, 1]))
    back = data.inverse(data.scaled.double().numpy())  # back to the file's units
    assert back.dtype == np.float64
    _assert_within_spread(back, values, train.std(axis=0))


def test_original_unit_forecasts_keep_the_small_movement(csv: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "naive"
    run_tsbench(["dataset=csv", f"dataset.path={csv}", f"seq_len={SEQ_LEN}",
                 f"pred_len={PRED_LEN}", "trainer=debug", "logger=none", "model=naive"],
                run_dir)
    values = _file_values(csv)
    spread = values[:TRAIN_ROWS].std(axis=0)
    naive = future(run_dir)  # the last row, repeated, in the file's units
    _assert_within_spread(naive.to_numpy(), np.repeat(values[-1:], PRED_LEN, axis=0), spread)
    table = windows(run_dir, "test")
    first = table[table["window"] == 0].pivot(index="step", columns="channel",
                                              values="actual")[["lat", "OT"]]
    start = ROWS - int(0.2 * ROWS)  # the first test row (its look-back reaches back)
    _assert_within_spread(first.to_numpy(), values[start:start + PRED_LEN], spread)
    # the CSV tsbench-forecast prints keeps those digits too
    said = run_module("tsbench.forecast", [str(run_dir)],
                      {**os.environ, "OMP_NUM_THREADS": "1"})
    assert said.returncode == 0, said.stderr
    printed = pd.read_csv(io.StringIO(said.stdout), index_col="date")
    _assert_within_spread(printed.to_numpy(), naive.to_numpy(), spread)
