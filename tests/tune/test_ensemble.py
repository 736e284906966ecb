"""Greedy ensemble selection on validation errors (tsbench-tune stage f)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_module

from tsbench.errors import ConfigError
from tsbench.models.base import ForecastModel
from tsbench.training.evaluate import forecast_windows
from tsbench.training.run import run
from tsbench.tune import ensemble as ensemble_module
from tsbench.tune.ensemble import (
    Ensemble,
    _error_products,
    greedy_weights,
    load_ensemble,
    score_runs,
)


def _gram(errors: np.ndarray) -> np.ndarray:
    return errors @ errors.T / errors.shape[1]


def test_gram_gives_the_mse_of_any_weighted_mean() -> None:
    rng = np.random.default_rng(0)
    truth = rng.standard_normal(500)
    preds = truth + rng.standard_normal((3, 500)) * np.array([[0.5], [1.0], [2.0]])
    weights = np.array([0.5, 0.3, 0.2])
    mse = np.mean((weights @ preds - truth) ** 2)
    assert np.isclose(weights @ _gram(preds - truth) @ weights, mse)


def test_greedy_mixes_complementary_members_and_skips_bad_ones() -> None:
    rng = np.random.default_rng(1)
    shared = rng.standard_normal(1000)
    errors = np.stack([shared + 0.1 * rng.standard_normal(1000),   # errors cancel with
                       -shared + 0.1 * rng.standard_normal(1000),  # this member's
                       3.0 + rng.standard_normal(1000)])           # biased, noisy: never
    counts = greedy_weights(_gram(errors))
    assert counts[0] >= 1 and counts[1] >= 1 and counts[2] == 0
    gram = _gram(errors)
    w = np.array(counts) / sum(counts)
    assert w @ gram @ w < 0.1 * gram.diagonal().min()


def test_greedy_keeps_the_best_alone_when_nothing_helps() -> None:
    same = np.random.default_rng(2).standard_normal(200)
    errors = np.stack([same, 1.5 * same, 2.0 * same])  # perfectly correlated, larger
    assert greedy_weights(_gram(errors)) == [1, 0, 0]


class _LastValue(ForecastModel):
    """Forecasts the last value of its look-back window, whatever the window's length."""

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        assert x.shape[1] == self.seq_len  # the window it was trained on, no longer
        return x[:, -1:].expand(-1, self.pred_len, -1)


def test_members_of_different_look_backs_each_read_their_last_rows() -> None:
    ensemble = Ensemble([_LastValue(4, 3, 1), _LastValue(8, 3, 1)], weights=[1, 3])
    x = torch.arange(8.0).reshape(1, 8, 1)  # the longest look-back's window
    members = ensemble.member_forecasts(x)
    assert members.shape == (2, 1, 3, 1) and torch.equal(members, torch.full_like(members, 7.0))
    assert torch.equal(ensemble(x), torch.full((1, 3, 1), 7.0))


def test_greedy_starts_from_the_best_member_and_repeats_it_when_that_lowers_the_mse() -> None:
    """Independent errors of variances 5, 2 and 1: the best member (not the first) starts,
    the second joins (3/4), then a second copy of the best lowers w@G@w / (sum w)^2 to 2/3,
    below every member alone or once each; no further copy lowers it."""
    gram = np.diag([5.0, 2.0, 1.0])
    counts = greedy_weights(gram)
    assert counts == [0, 1, 2]
    w = np.array(counts) / sum(counts)
    assert w @ gram @ w == pytest.approx(2 / 3)
    assert w @ gram @ w < min(1.0, np.ones(3) @ gram @ np.ones(3) / 9)


class _Scaled(ForecastModel):
    """Forecasts ``factor`` times the last value of each channel."""

    def __init__(self, factor: float) -> None:
        super().__init__(2, 1, 2)
        self.factor = factor

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return self.factor * x[:, -1:]


class _Windows:
    """The one batch of windows a split has, its scored channels the last (features=MS)."""

    target_dims = slice(-1, None)

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.batch = (x, y, None)

    def loader(self, split: str) -> list[tuple[torch.Tensor, torch.Tensor, None]]:
        return [self.batch]


def test_the_gram_covers_only_the_scored_channel() -> None:
    """With features=MS the members' error products are those of the target channel: the
    diagonal is each member's MSE of the target, the other channels' errors left out."""
    x = torch.tensor([[[10.0, 1.0], [20.0, 2.0]], [[30.0, 3.0], [40.0, 4.0]]])  # 2 windows
    y = torch.zeros(2, 1, 2)
    gram, count = _error_products(Ensemble([_Scaled(1.0), _Scaled(2.0)]), _Windows(x, y),
                                  "val")
    assert count == 2  # one target value a window
    # target errors: member 1 [2, 4], member 2 [4, 8]
    assert torch.allclose(gram / count, torch.tensor([[10.0, 20.0], [20.0, 40.0]],
                                                     dtype=torch.float64))


class _LastMark(ForecastModel):
    """Forecasts the last time feature of the marks it is given."""

    uses_time_features = True

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        assert x_mark is not None and x_mark.shape[1] == self.seq_len
        return x_mark[:, -1:, :1].expand(-1, self.pred_len, -1)


def test_a_member_of_a_shorter_look_back_gets_the_marks_of_its_own_last_rows() -> None:
    ensemble = Ensemble([_LastMark(4, 3, 1), _LastMark(8, 3, 1)])
    x = torch.zeros(1, 8, 1)
    x_mark = torch.arange(8.0).reshape(1, 8, 1)
    members = ensemble.member_forecasts(x, x_mark)
    assert torch.equal(members, torch.full_like(members, 7.0))


def test_the_score_of_one_run_is_its_own_mse_and_mae(monkeypatch: pytest.MonkeyPatch) -> None:
    """score_runs passes each split's MSE, MAE (scaled and in original units) and window
    count through, each to its key."""
    monkeypatch.setattr(ensemble_module, "load_ensemble", lambda *args: (None, None))
    results = {"val": {"mse": 0.25, "mae": 0.4, "mse_orig": 25.0, "mae_orig": 4.5,
                       "n_windows": 7},
               "test": {"mse": 1.5, "mae": 0.9, "mse_orig": 150.0, "mae_orig": 9.5,
                        "n_windows": 5}}
    monkeypatch.setattr(ensemble_module, "evaluate", lambda model, data, split: results[split])
    assert score_runs([Path("run")], ["val", "test"]) == {
        "val_mse": 0.25, "val_mae": 0.4, "val_mse_orig": 25.0, "val_mae_orig": 4.5,
        "n_val_windows": 7, "test_mse": 1.5, "test_mae": 0.9, "test_mse_orig": 150.0,
        "test_mae_orig": 9.5, "n_test_windows": 5}


def test_members_rolling_out_calendar_features_score_as_their_runs(tmp_path: Path) -> None:
    """A recursive member that reads calendar features needs the marks of its look-back and
    the horizon; a direct member of a shorter look-back beside it those of its own
    look-back: each, alone in the weights, scores its own run's numbers."""
    runs = {"recursive": ["seq_len=48", "strategy=recursive", "strategy.step=8"],
            "direct": ["seq_len=32"]}
    for name, overrides in runs.items():
        with initialize_config_module("tsbench.conf", version_base="1.3"):
            cfg = compose("config", overrides=[
                "dataset=synthetic", "dataset.n_rows=600", "model=itransformer",
                "model.d_model=16", "model.d_ff=16", "model.e_layers=1", "model.n_heads=2",
                "pred_len=24", "trainer=debug", "trainer.max_epochs=1", "logger=none",
                *overrides])
        run(cfg, tmp_path / name)
    dirs = [tmp_path / name for name in runs]
    for k, run_dir in enumerate(dirs):
        own = json.loads((run_dir / "metrics.json").read_text())
        scores = score_runs(dirs, ["val", "test"], [float(i == k) for i in range(len(dirs))])
        for key in ("val_mse", "test_mse", "test_mse_orig", "test_mae_orig", "n_val_windows",
                    "n_test_windows"):
            assert scores[key] == pytest.approx(own[key], rel=1e-6), (run_dir.name, key)
    # a weighted mean in original units: the members' forecasts of every test window, each
    # inverse-transformed with the training rows' scaler, then averaged
    weights = [0.3, 0.7]
    forecasts = []
    for k in range(len(dirs)):
        model, data = load_ensemble(dirs, ["test"], [float(i == k) for i in range(len(dirs))])
        every = list(range(len(data.windows("test"))))
        _, truth, forecast = forecast_windows(model, data, "test", every)
        forecasts.append(forecast)
    error = sum(w * f for w, f in zip(weights, forecasts, strict=True)) - truth
    scores = score_runs(dirs, ["test"], weights)
    assert scores["test_mse_orig"] == pytest.approx(float(error.pow(2).mean()), rel=1e-6)
    assert scores["test_mae_orig"] == pytest.approx(float(error.abs().mean()), rel=1e-6)
    assert scores["test_mse_orig"] != pytest.approx(scores["test_mse"], rel=1e-3)  # rescaled


def test_members_given_one_file_relative_and_absolute_are_one_dataset(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tsbench-tune's baseline ran with ``dataset.path`` as typed (``data.csv``), its
    searches' trials with it absolute: one file, so they ensemble; a member of another
    file is refused, naming what each read."""
    monkeypatch.chdir(tmp_path)
    t = np.arange(600)
    frame = {"date": pd.date_range("2020-01-01", periods=len(t), freq="h"),
             "x": np.sin(2 * np.pi * t / 24), "y": np.cos(2 * np.pi * t / 12)}
    pd.DataFrame(frame).to_csv(tmp_path / "data.csv", index=False)
    pd.DataFrame(frame).to_csv(tmp_path / "other.csv", index=False)
    paths = {"relative": "data.csv", "absolute": str(tmp_path / "data.csv"),
             "other": str(tmp_path / "other.csv")}
    for name, path in paths.items():
        with initialize_config_module("tsbench.conf", version_base="1.3"):
            cfg = compose("config", overrides=[
                "dataset=csv", f"dataset.path={path}", "dataset.target=y", "model=dlinear",
                "seq_len=48", "pred_len=12", "trainer=debug", "trainer.max_epochs=1",
                "logger=none"])
        run(cfg, tmp_path / name)
    scores = score_runs([tmp_path / "relative", tmp_path / "absolute"], ["val"], [0.5, 0.5])
    assert scores["n_val_windows"] > 0
    with pytest.raises(ConfigError, match=r"ensemble members use different datasets: .*other"
                                          r" read .*other\.csv"):
        score_runs([tmp_path / "relative", tmp_path / "other"], ["val"], [0.5, 0.5])
