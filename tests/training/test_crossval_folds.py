"""cv=tscv fold arithmetic on ETTh1's real shapes: no leakage, test rows untouched, one
scaler per fold, folds as scikit-learn's TimeSeriesSplit cuts them, clear errors."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf
from sklearn.model_selection import TimeSeriesSplit

from tests.conftest import data_dir
from tsbench.data.loading import load_series
from tsbench.data.splits import benchmark_borders
from tsbench.errors import ConfigError
from tsbench.training import crossval
from tsbench.training.train_and_score import DEVICE_KEY, make_data
from tsbench.training.trained_on import TrainedOn

SEQ_LEN, PRED_LEN = 336, 96
#: ETTh1: 8640 train + 2880 val rows precede the test rows.
TRAIN_VAL = 11520
SETTINGS = [
    {"n_splits": 3},
    {"n_splits": 5},
    {"n_splits": 4, "gap": 48},
    {"n_splits": 3, "test_size": 1000, "max_train_size": 3000},
]


def _cfg(**cv: Any) -> Any:
    overrides = [f"cv.{k}={'null' if v is None else v}" for k, v in cv.items()]
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        return compose("config", overrides=[
            "dataset=etth1", "model=dlinear", f"seq_len={SEQ_LEN}", f"pred_len={PRED_LEN}",
            "trainer=debug", "logger=none", "cv=tscv", *overrides])


@pytest.fixture(scope="module")
def etth1():
    data_dir()
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=["dataset=etth1"])
    return load_series(cfg.dataset)


def _cross_validate(cfg: Any, series: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                    ) -> tuple[dict, list]:
    """cross_validate with training replaced by building the fold's real ForecastData."""
    seen: list = []

    def fake_fit(cfg, series, ranges, out_dir, logger=False, max_epochs=None, pruning=None,
                 scaler_rows=None, part=""):
        data = make_data(cfg, series, ranges, with_marks=False, scaler_rows=scaler_rows)
        seen.append((ranges, data, max_epochs))
        fold = {"val_mse": 1.0 + len(seen), "val_mae": 0.5, "best_epoch": len(seen) + 1,
                "epochs": 9, "train_seconds": 0.5, "n_params": 7, "test_mse": 0.25,
                DEVICE_KEY: TrainedOn(torch.device("cpu")),
                "n_test_windows": len(data.windows("test")) if "test" in ranges else 0}
        return fold, None, data

    monkeypatch.setattr(crossval, "fit_and_score", fake_fit)
    borders = benchmark_borders(len(series.values), series.split, SEQ_LEN)
    return crossval.cross_validate(cfg, series, borders, tmp_path, False), seen


@pytest.mark.parametrize("cv", SETTINGS, ids=lambda cv: "-".join(f"{k}{v}" for k, v in cv.items()))
def test_folds_do_not_leak_and_match_sklearn(cv: dict, etth1, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    metrics, seen = _cross_validate(_cfg(**cv), etth1, tmp_path, monkeypatch)
    sklearn = list(TimeSeriesSplit(n_splits=cv["n_splits"], gap=cv.get("gap", 0),
                                   test_size=cv.get("test_size"),
                                   max_train_size=cv.get("max_train_size")
                                   ).split(np.arange(TRAIN_VAL)))
    assert len(seen) == len(metrics["cv_folds"]) == cv["n_splits"] == len(sklearn)
    gap = cv.get("gap", 0)
    for (ranges, data, _), fold, (tr, va) in zip(seen, metrics["cv_folds"], sklearn, strict=True):
        (a, b), (c, d) = fold["train"], fold["val"]
        assert (a, b, c, d) == (tr[0], tr[-1] + 1, va[0], va[-1] + 1)
        assert ranges == {"train": (a, b), "val": (c - SEQ_LEN, d)}
        # training targets lie in [a + seq_len, b); validation targets in [c, d)
        first_val_target = ranges["val"][0] + SEQ_LEN
        assert first_val_target == c >= b + gap
        assert len(data.windows("val")) == (d - c) - PRED_LEN + 1
        assert len(data.windows("train")) == (b - a) - SEQ_LEN - PRED_LEN + 1
        assert max(b, d) <= TRAIN_VAL  # the test targets start at row 11520
        assert data.scaler.fitted_rows == (a, b)
        np.testing.assert_allclose(data.scaler.mean_, etth1.values[a:b].mean(axis=0), rtol=1e-5)
    assert metrics["cv_val_mse_mean"] == pytest.approx(np.mean([2, 3, 4, 5, 6][:len(seen)]))
    assert not any(key.startswith("test_") for key in metrics)


def test_three_folds_on_etth1_are_the_published_blocks(etth1, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    metrics, _ = _cross_validate(_cfg(n_splits=3), etth1, tmp_path, monkeypatch)
    assert metrics["cv_folds"] == [
        {"train": [0, 2880], "val": [2880, 5760]},
        {"train": [0, 5760], "val": [5760, 8640]},
        {"train": [0, 8640], "val": [8640, 11520]},
    ]
    assert metrics["cv_val_mse_std"] == pytest.approx(np.std([2, 3, 4]))
    assert metrics["fold_2_best_epoch"] == 4 and metrics["epochs"] == 27


def test_refit_trains_on_train_and_val_rows_for_the_median_best_epoch(
        etth1, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    metrics, seen = _cross_validate(_cfg(n_splits=4, refit=True), etth1, tmp_path, monkeypatch)
    ranges, data, max_epochs = seen[-1]
    assert len(seen) == 5
    assert ranges == {"train": (0, TRAIN_VAL), "test": (TRAIN_VAL - SEQ_LEN, 14400)}
    assert data.scaler.fitted_rows == (0, 8640)  # the published training rows: their scale
    assert max_epochs == math.ceil(np.median([2, 3, 4, 5]))
    assert metrics["test_mse"] == 0.25 and metrics["n_test_windows"] == 2880 - PRED_LEN + 1


def test_blocks_as_long_as_the_validation_split_end_with_the_published_one() -> None:
    # ILI's shapes: 676 training and 97 validation rows; look-back 208 is longer than a
    # block, whose windows read their look-back before it, as the published split's do
    node = OmegaConf.create({"n_splits": 4, "gap": 0, "test_size": "val",
                             "max_train_size": None})
    blocks = crossval.fold_blocks(773, 208, 24, node, val_rows=97)
    assert blocks == [((0, 385), (385, 482)), ((0, 482), (482, 579)), ((0, 579), (579, 676)),
                      ((0, 676), (676, 773))]
    borders = benchmark_borders(966, "ratio", 208)
    assert crossval.fold_ranges(*blocks[-1], 208) == {"train": borders.train, "val": borders.val}


@pytest.mark.parametrize("cv, field, fix", [
    ({"n_splits": 40}, "cv.n_splits", "use cv.n_splits <= 26"),
    ({"n_splits": 1}, "cv.n_splits", "2 or more folds"),
    ({"n_splits": 4, "test_size": 3000}, "cv.n_splits", "use cv.n_splits <= 3"),
    ({"n_splits": 3, "test_size": 50}, "cv.test_size", "cv.test_size >= 96"),
    ({"n_splits": 3, "test_size": "week"}, "cv.test_size", "or val"),
    ({"n_splits": 3, "gap": 3000}, "cv.gap", "use cv.gap <= 2448"),
    ({"n_splits": 3, "gap": -1}, "cv.gap", "use cv.gap=0"),
    ({"n_splits": 2.5}, "cv.n_splits", "as an integer"),
    ({"n_splits": "2.5"}, "cv.n_splits", "as an integer"),
    ({"n_splits": "40"}, "cv.n_splits", "use cv.n_splits <= 26"),  # read as 40 folds
    ({"n_splits": 3, "gap": 1.5}, "cv.gap", "as an integer"),
    ({"n_splits": 3, "max_train_size": "all"}, "cv.max_train_size", "as an integer"),
    ({"n_splits": 3, "test_size": 6000}, "cv.test_size", "use cv.test_size <= 3696"),
    ({"n_splits": 3, "max_train_size": 100}, "cv.max_train_size", ">= 432"),
])
def test_bad_settings_name_the_field_and_the_fix(cv: dict, field: str, fix: str) -> None:
    node = OmegaConf.create({"gap": 0, "test_size": None, "max_train_size": None, **cv})
    with pytest.raises(ConfigError) as info:
        crossval.fold_blocks(TRAIN_VAL, SEQ_LEN, PRED_LEN, node)
    assert info.value.field == field
    assert fix in info.value.fix


def test_refit_epochs_are_the_median_not_the_mean_of_skewed_best_epochs(
        etth1, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """cv.refit trains for the folds' median best epoch: one fold's late best epoch
    (1, 2, 30: mean 11) does not stretch the refit (2 epochs)."""
    best_epochs, asked = [1, 2, 30], []

    def fake_fit(cfg, series, ranges, out_dir, logger=False, max_epochs=None, pruning=None,
                 scaler_rows=None, part=""):
        asked.append(max_epochs)
        best = best_epochs[len(asked) - 1] if len(asked) <= len(best_epochs) else max_epochs
        return {"val_mse": 1.0, "val_mae": 0.5, "best_epoch": best, "epochs": best,
                "train_seconds": 0.5, "n_params": 7,
                DEVICE_KEY: TrainedOn(torch.device("cpu"))}, None, None

    monkeypatch.setattr(crossval, "fit_and_score", fake_fit)
    cfg = _cfg(n_splits=3, refit=True)
    borders = benchmark_borders(len(etth1.values), etth1.split, SEQ_LEN)
    metrics = crossval.cross_validate(cfg, etth1, borders, tmp_path, False)
    assert asked == [None, None, None, 2]
    assert metrics["cv_best_epoch_median"] == 2 and metrics["refit_epochs"] == 2
