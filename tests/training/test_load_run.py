"""A finished run read back from another place: its series found through the card, and a
classical model fitted again as its run fitted it, giving the run's own scores."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import read_metrics, run_tsbench
from tests.preloaded import run_module
from tsbench.data.splits import benchmark_borders
from tsbench.rundir import fold_dir, load_run
from tsbench.training.history import history_forecasts
from tsbench.training.train_and_score import make_data

ETS = ["dataset=csv", "dataset.path=sales.csv", "features=S", "model=ets", "seq_len=48",
       "pred_len=12", "trainer=debug", "logger=none", "plots=false"]


@pytest.fixture
def sales(tmp_path: Path) -> Path:
    """A seasonal daily-ish series in ``tmp_path/sales.csv`` (the runs name it relatively)."""
    t = np.arange(400)
    noise = np.random.default_rng(0).standard_normal(400)
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=400, freq="h"),
                  "other": np.cos(t / 7), "OT": np.sin(2 * np.pi * t / 24) + 0.2 * noise,
                  }).to_csv(tmp_path / "sales.csv", index=False)
    return tmp_path


def _test_window_mse(run_dir: Path) -> np.ndarray:
    """The loaded run's forecasts of every test window, scored as the run scored them."""
    run = load_run(run_dir)
    series = run.series
    borders = benchmark_borders(len(series.values), series.split, int(run.config.seq_len),
                                series.train_frac, series.test_frac)
    data = make_data(run.config, series, {"train": borders.train, "val": borders.val,
                                          "test": borders.test}, with_marks=False)
    forecasts = history_forecasts(run.model, data, "test")
    truths = np.concatenate([y.double().numpy() for _, y, _ in data.loader("test")])
    return ((forecasts.numpy() - truths) ** 2).mean(axis=(1, 2))


@pytest.mark.parametrize("cv", [[], ["cv=refit", "trainer.max_epochs=1"]])
def test_a_loaded_classical_model_is_fitted_as_its_run_and_scores_its_numbers(
        sales: Path, cv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Loaded from another working directory than the run's (its relative dataset.path
    then read from the card's absolute file); holdout and refit runs fit other rows."""
    run_dir = sales / "run"
    proc = run_module("tsbench", [*ETS, *cv, f"hydra.run.dir={run_dir}"],
                      {**os.environ, "OMP_NUM_THREADS": "1"}, cwd=sales)
    assert proc.returncode == 0, proc.stderr[-2000:]
    monkeypatch.chdir(sales.parent)
    assert not Path("sales.csv").exists()
    saved = np.load(run_dir / "test_window_mse.npy").astype(np.float64)
    np.testing.assert_allclose(_test_window_mse(run_dir), saved, rtol=1e-5)
    assert read_metrics(run_dir)["test_mse"] == pytest.approx(saved.mean(), rel=1e-6)


def test_a_classical_model_of_a_cross_validation_fold_says_what_loads(sales: Path) -> None:
    run_dir = sales / "cv"
    run_tsbench([*ETS, "dataset.path=" + os.fspath(sales / "sales.csv"), "cv=tscv",
                 "cv.n_splits=2"], run_dir)
    for path in (run_dir, fold_dir(run_dir, 0)):
        with pytest.raises(FileNotFoundError, match="load a holdout run, or a cross-"):
            _ = load_run(path).model
