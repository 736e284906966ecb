"""Reload finished runs and score them, alone or as an ensemble of averaged forecasts."""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from tsbench.data.datamodule import ForecastData
from tsbench.data.loading import load_series
from tsbench.data.splits import benchmark_borders
from tsbench.data.timefeatures import time_features
from tsbench.errors import ConfigError
from tsbench.models.base import ForecastModel
from tsbench.training.evaluate import evaluate
from tsbench.training.fit import build_model


def load_member(run_dir: Path) -> tuple[DictConfig, ForecastModel]:
    """A finished run's config and its model with the best-validation weights."""
    cfg = OmegaConf.load(run_dir / "config.yaml")
    series = load_series(cfg.dataset)
    n_vars = 1 if cfg.features == "S" else series.values.shape[1]
    n_marks = time_features(series.dates[:1], series.freq).shape[1]
    model = build_model(cfg.model, int(cfg.seq_len), int(cfg.pred_len), n_vars, n_marks)
    checkpoint = run_dir / "checkpoints" / "best.ckpt"
    if model.trainable:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
        model.load_state_dict({k.removeprefix("model."): v for k, v in state.items()})
    model.eval()
    return cfg, model


class Ensemble(ForecastModel):
    """The mean forecast of members that may differ in look-back: each member reads the
    last ``seq_len`` rows it was trained on from the longest look-back."""

    def __init__(self, members: list[ForecastModel]) -> None:
        longest = max(m.seq_len for m in members)
        super().__init__(longest, members[0].pred_len, members[0].n_vars)
        self.members = torch.nn.ModuleList(members)
        self.uses_time_features = any(m.uses_time_features for m in members)
        self.trainable = any(m.trainable for m in members)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        preds = [
            m(x[:, -m.seq_len :], x_mark[:, -m.seq_len :] if m.uses_time_features else None)
            for m in self.members
        ]
        return torch.stack(preds).mean(dim=0)


def score_runs(run_dirs: list[Path], splits: list[str]) -> dict[str, float]:
    """Score the mean forecast of ``run_dirs`` on ``splits`` (every window; one run = a
    single model). Members must share dataset, features and pred_len; the scaler is fitted
    on the same training rows whatever their look-back."""
    loaded = [load_member(d) for d in run_dirs]
    first = loaded[0][0]
    for cfg, _ in loaded[1:]:
        for key in ("features", "pred_len"):
            if cfg[key] != first[key]:
                raise ConfigError(key, f"ensemble members differ ({cfg[key]} vs {first[key]})")
        if cfg.dataset != first.dataset:
            raise ConfigError("dataset", "ensemble members use different datasets")
    model = Ensemble([m for _, m in loaded])
    series = load_series(first.dataset)
    borders = benchmark_borders(
        len(series.values), series.split, model.seq_len, series.train_frac, series.test_frac
    )
    ranges = {"train": borders.train, **{s: borders[s] for s in splits}}
    data = ForecastData(
        series,
        ranges,
        model.seq_len,
        model.pred_len,
        str(first.features),
        eval_batch_size=int(first.data.eval_batch_size),
        with_marks=model.uses_time_features,
    )
    scores: dict[str, float] = {}
    for split in splits:
        result = evaluate(model, data, split)
        scores.update(
            {
                f"{split}_mse": result["mse"],
                f"{split}_mae": result["mae"],
                f"n_{split}_windows": result["n_windows"],
            }
        )
    return scores
