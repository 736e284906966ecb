"""strategy=recursive through the real run function: same windows, scores and keys as direct."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_module

from tsbench.data.loading import load_series
from tsbench.data.splits import benchmark_borders
from tsbench.data.timefeatures import time_features
from tsbench.errors import ConfigError
from tsbench.rundir import LOGS
from tsbench.training.run import run
from tsbench.training.train_and_score import make_data

BASE = ["dataset=synthetic", "dataset.n_rows=500", "model=dlinear", "seq_len=32", "pred_len=12",
        "trainer=debug", "logger=none", "data.batch_size=32"]
SMALL_ITRANSFORMER = ["model=itransformer", "model.d_model=16", "model.n_heads=2",
                      "model.e_layers=1", "model.d_ff=16"]
#: Keys that differ between two runs of the same config (wall time) or by design.
VOLATILE = {"train_seconds", "run_seconds", "strategy"}


def _config(*overrides: str):
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        return compose("config", overrides=[*BASE, *overrides])


@pytest.mark.parametrize("features", ["M", "MS"])
def test_recursive_with_one_roll_is_the_direct_run(features: str, tmp_path: Path) -> None:
    direct = run(_config(f"features={features}"), tmp_path / "direct")
    recursive = run(_config(f"features={features}", "strategy=recursive", "strategy.step=12"),
                    tmp_path / "recursive")
    assert (direct["strategy"], recursive["strategy"]) == ("direct", "recursive")
    assert direct["step"] == recursive["step"] == 12
    assert direct.keys() == recursive.keys()
    assert {k: v for k, v in recursive.items() if k not in VOLATILE} == {
        k: v for k, v in direct.items() if k not in VOLATILE}


def test_recursive_scores_every_window_and_stops_on_the_rollout(tmp_path: Path) -> None:
    direct = run(_config(), tmp_path / "direct")
    recursive = run(_config("strategy=recursive", "strategy.step=5", "logger=csv"),
                    tmp_path / "recursive")
    assert recursive.keys() == direct.keys()
    for key in ("n_val_windows", "n_test_windows"):
        assert recursive[key] == direct[key] > 0, key
    # the step model trains on every window of its own horizon: pred_len - step more
    assert recursive["n_train_windows"] == direct["n_train_windows"] + 12 - 5
    assert len(recursive["test_mse_per_step"]) == 12
    assert recursive["test_mse"] != direct["test_mse"]
    # early stopping judged the rolled-out forecast: the best epoch's validation loss is
    # the scored validation MSE (float32 in training, float64 when scoring)
    logged = pd.read_csv(tmp_path / "recursive" / LOGS / "metrics.csv")
    val_loss = logged["val_loss"].dropna().to_numpy()
    assert val_loss[recursive["best_epoch"] - 1] == pytest.approx(recursive["val_mse"], rel=1e-5)


def test_recursive_model_with_calendar_features(tmp_path: Path) -> None:
    """iTransformer reads marks: training windows carry the look-back's, scored windows the
    look-back's and the horizon's, aligned with the rows."""
    cfg = _config(*SMALL_ITRANSFORMER, "strategy=recursive", "strategy.step=5")
    series = load_series(cfg.dataset)
    borders = benchmark_borders(len(series.values), series.split, 32)
    ranges = {"train": borders.train, "val": borders.val}
    data = make_data(cfg, series, ranges, with_marks=True)
    marks = time_features(series.dates, series.freq)
    x, y, x_mark = data.windows("train").batch(torch.tensor([3]))
    assert y.shape[1] == 5 and x_mark.shape[1] == 32
    x, y, x_mark = data.windows("val").batch(torch.tensor([7]))
    start = borders.val[0] + 7
    assert y.shape[1] == 12
    np.testing.assert_array_equal(x_mark[0].numpy(), marks[start:start + 32 + 12])
    metrics = run(cfg, tmp_path)
    assert metrics["n_test_windows"] > 0 and np.isfinite(metrics["test_mse"])


@pytest.mark.parametrize(("overrides", "field"), [
    (["strategy=recursive", "strategy.step=13"], "strategy.step"),
    (["strategy=recursive", "strategy.step=0"], "strategy.step"),
    (["strategy=recursive", "strategy.step=4", "model=ets"], "strategy"),
])
def test_impossible_strategies_name_the_field(overrides: list[str], field: str,
                                              tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        run(_config(*overrides), tmp_path)
    assert caught.value.field == field
    assert not (tmp_path / "metrics.json").exists()
