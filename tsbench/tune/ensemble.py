"""Reload finished runs and score them, alone or as an ensemble of averaged forecasts;
pick the ensemble's members greedily on validation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf

from tsbench.data.datamodule import ForecastData
from tsbench.data.splits import benchmark_borders
from tsbench.errors import ConfigError
from tsbench.models.base import ForecastModel
from tsbench.models.recursive import RecursiveForecaster
from tsbench.rundir import (
    LoadedRun,
    fold_dir,
    load_run,
    read_metrics,
    read_protocol,
    warn_code_changes,
)
from tsbench.training.crossval import fold_ranges
from tsbench.training.evaluate import evaluate


class Ensemble(ForecastModel):
    """The (weighted) mean forecast of members that may differ in look-back: each member
    reads the last ``seq_len`` rows it was trained on from the longest look-back. Where a
    member rolls out a recursive strategy with calendar features (``horizon_marks``), the
    marks cover the longest look-back and the horizon, and each member gets those of its own
    look-back (and the horizon, for a recursive one)."""

    def __init__(self, members: list[ForecastModel], weights: Sequence[float] | None = None
                 ) -> None:
        longest = max(m.seq_len for m in members)
        super().__init__(longest, members[0].pred_len, members[0].n_vars)
        self.members = torch.nn.ModuleList(members)
        weights = [1.0] * len(members) if weights is None else [float(w) for w in weights]
        if len(weights) != len(members) or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"need one weight >= 0 per member, not all 0; got {weights}")
        self.weights = [w / sum(weights) for w in weights]
        self.uses_time_features = any(m.uses_time_features for m in members)
        self.trainable = any(m.trainable for m in members)
        #: Whether the marks must cover the horizon too (a recursive member rolls them out).
        self.horizon_marks = any(_rolls_out_marks(m) for m in members)

    def member_forecasts(self, x: torch.Tensor, x_mark: torch.Tensor | None = None
                         ) -> torch.Tensor:
        """Every member's forecast, stacked: ``(members, batch, pred_len, n_vars)``."""
        longest = x.shape[1]
        forecasts = []
        for m in self.members:
            start = longest - m.seq_len
            marks = None
            if m.uses_time_features and x_mark is not None:
                marks = x_mark[:, start:] if _rolls_out_marks(m) else x_mark[:, start:longest]
            forecasts.append(m(x[:, start:], marks))
        return torch.stack(forecasts)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        weights = torch.tensor(self.weights, dtype=x.dtype, device=x.device)
        return torch.tensordot(weights, self.member_forecasts(x, x_mark), dims=1)


def _rolls_out_marks(model: ForecastModel) -> bool:
    """Whether ``model`` is a recursive rollout that reads calendar features: it needs the
    marks of its look-back and of the horizon."""
    return isinstance(model, RecursiveForecaster) and model.uses_time_features


def greedy_weights(gram: np.ndarray, rounds: int = 20) -> list[int]:
    """Ensemble selection with replacement (Caruana et al., ICML 2004) on validation.

    ``gram[i, j]`` is the mean product of members i's and j's errors over the same
    validation targets, so the MSE of a weighted mean forecast is ``w @ gram @ w``. Start
    from the best member; each round adds the member whose copy lowers that MSE most; stop
    when no copy helps. Returns how many copies of each member were picked.
    """
    counts = np.zeros(len(gram), dtype=int)
    counts[int(np.argmin(np.diag(gram)))] = 1
    best = float(np.min(np.diag(gram)))
    for _ in range(rounds):
        trials = counts + np.eye(len(gram), dtype=int)  # row k: one more copy of member k
        mses = np.einsum("ki,ij,kj->k", trials, gram, trials) / trials.sum(axis=1) ** 2
        k = int(np.argmin(mses))
        if mses[k] >= best * (1 - 1e-9):
            break
        counts, best = trials[k], float(mses[k])
    return counts.tolist()


def _dataset_read(run: LoadedRun) -> dict[str, Any]:
    """A run's dataset settings, its file as its protocol card names it (absolute): a file
    given relative to one run and absolute to another is one dataset (an edited file is
    refused where a member's model is built: :attr:`LoadedRun.series`)."""
    dataset = OmegaConf.to_container(run.config.dataset, resolve=True)
    file = ((read_protocol(run.root) or {}).get("dataset") or {}).get("file")
    if isinstance(dataset, dict) and dataset.get("path") and file:
        dataset["path"] = file
    return dataset  # type: ignore[return-value]


def load_ensemble(run_dirs: list[Path], splits: list[str],
                  weights: Sequence[float] | None = None,
                  fold: dict[str, list[int]] | None = None,
                  ) -> tuple[Ensemble, ForecastData]:
    """Members must share dataset, features and pred_len; the scaler is fitted on the same
    training rows whatever their look-back: the published ones, or a cross-validation
    ``fold``'s (its ``train`` rows, and ``val`` windows whose targets lie in its block)."""
    loaded = [load_run(d, warn_code=False) for d in run_dirs]
    warn_code_changes(loaded)  # one line for members of one code, not one each
    first, first_data = loaded[0].config, _dataset_read(loaded[0])
    for run in loaded[1:]:
        for key in ("features", "pred_len"):
            if run.config[key] != first[key]:
                raise ConfigError(
                    key, f"ensemble members differ ({run.config[key]} vs {first[key]})")
        if (data := _dataset_read(run)) != first_data:
            raise ConfigError("dataset", f"ensemble members use different datasets: "
                              f"{run.root} read {data}, {loaded[0].root} {first_data}",
                              "ensemble runs of one dataset")
    model = Ensemble([run.model for run in loaded], weights)
    series = loaded[0].series  # where the run read it (its card's file, if need be)
    if fold is None:
        borders = benchmark_borders(
            len(series.values), series.split, model.seq_len, series.train_frac,
            series.test_frac)
        ranges = {"train": borders.train, **{s: borders[s] for s in splits}}
    else:
        ranges = fold_ranges(tuple(fold["train"]), tuple(fold["val"]), model.seq_len)
    data = ForecastData(
        series,
        ranges,
        model.seq_len,
        model.pred_len,
        str(first.features),
        eval_batch_size=int(first.data.eval_batch_size),
        with_marks=model.uses_time_features,
        horizon_marks=model.horizon_marks,
    )
    return model, data


@torch.inference_mode()
def _error_products(model: Ensemble, data: ForecastData, split: str
                    ) -> tuple[torch.Tensor, int]:
    """Sums of products of the members' errors over every window of ``split`` (scaled data,
    scored channels), streamed batch by batch, and how many values were summed."""
    model.eval()
    dims = data.target_dims
    n = len(model.members)
    gram = torch.zeros(n, n, dtype=torch.float64)
    count = 0
    for x, y, x_mark in data.loader(split):
        err = (model.member_forecasts(x, x_mark)[..., dims] - y[..., dims]).double()
        err = err.reshape(n, -1)
        gram += err @ err.T
        count += err.shape[1]
    return gram, count


def error_gram(run_dirs: list[Path], split: str = "val") -> np.ndarray:
    """Mean products of the members' errors over every window of ``split``: members x
    members, for :func:`greedy_weights`."""
    gram, count = _error_products(*load_ensemble(run_dirs, [split]), split)
    return (gram / count).numpy()


def cv_error_gram(run_dirs: list[Path]) -> np.ndarray:
    """The same over the validation windows of every fold of cross-validation runs, each
    member's fold ``k`` model forecasting fold ``k``'s block (out-of-fold errors, in the
    fold's scaling). The runs must share their folds; with equally long blocks the diagonal
    is each run's ``cv_val_mse_mean``."""
    folds = [read_metrics(Path(d)).get("cv_folds") for d in run_dirs]
    if folds[0] is None or any(f != folds[0] for f in folds):
        raise ConfigError("cv", "the runs are not cross-validation runs on the same folds",
                          "use runs of one cv=tscv setting (n_splits, gap, test_size)")
    total, count = None, 0
    for k, fold in enumerate(folds[0]):
        members = [fold_dir(Path(d), k) for d in run_dirs]
        gram, n = _error_products(*load_ensemble(members, ["val"], fold=fold), "val")
        total, count = (gram if total is None else total + gram), count + n
    return (total / count).numpy()


def score_runs(run_dirs: list[Path], splits: list[str],
               weights: Sequence[float] | None = None) -> dict[str, float]:
    """Score the (weighted) mean forecast of ``run_dirs`` on ``splits`` (every window; one
    run = a single model): MSE and MAE scaled, and in original units (``_orig``, as a run
    scores itself: the mean of scaled forecasts, inverse-transformed with the training
    rows' scaler, which is affine, is the mean of the members' forecasts in those units)."""
    model, data = load_ensemble(run_dirs, splits, weights)
    scores: dict[str, float] = {}
    for split in splits:
        result = evaluate(model, data, split)
        scores.update(
            {
                f"{split}_mse": result["mse"],
                f"{split}_mae": result["mae"],
                f"{split}_mse_orig": result["mse_orig"],
                f"{split}_mae_orig": result["mae_orig"],
                f"n_{split}_windows": result["n_windows"],
            }
        )
    return scores
