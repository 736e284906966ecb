"""The protocol card of a run (``protocol.json``): the facts a score depends on that the
config alone does not show.

Which file (its sha256) and rows were used, the split rule and borders, the rows the
scaler saw, how many windows were scored of how many there are, on which scale the
metrics are, the training budget actually spent (or, for the untrained baselines, what
they were fitted on), the seasonal period a model used, how ``seq_len`` was chosen, the
device, precision, library versions and the source revision. The report compares cards
before it compares numbers; :func:`flat_params` flattens a card for a tracker's params.

``seq_len`` is ``searched`` when the run is a trial of a search (a multirun whose sweeper
optimizes, e.g. tsbench's skopt sweeper) whose space holds ``seq_len`` (the sweeper's
``params``, or the sweep's command line, saved as ``multirun.yaml`` before launching), or
when the config says so (``seq_len_searched_on=val``: a run whose look-back an earlier
search picked, e.g. a tsbench-tune stage); otherwise ``fixed``. A plain ``-m seq_len=96,336``
grid (Hydra's basic sweeper) runs each look-back as set and chooses none: ``fixed``.

A trial that a pruning sweep stopped has a card too (:func:`pruned_card`), with a ``pruned``
block: what it read and trained before the stop, and that nothing scored it at its budget.
"""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import OmegaConf

import tsbench
from tsbench.code_digest import PACKAGE, imported_sources, model_source
from tsbench.data.datamodule import ForecastData
from tsbench.data.loading import Series
from tsbench.data.seasons import mase_season
from tsbench.data.sources import dataset_file, file_sha256
from tsbench.data.splits import Borders, n_windows
from tsbench.data.windows import drops_last
from tsbench.models.build import build_model, model_class, reads_target_alone
from tsbench.models.history import HistoryModel
from tsbench.models.recursive import strategy_step
from tsbench.rundir import fold_dir, fold_metric, read_window_mse
from tsbench.search.names import is_search
from tsbench.swept import multirun_lines, swept_keys
from tsbench.training.crossval import fold_blocks, fold_ranges
from tsbench.training.flat_channels import scored_values
from tsbench.training.trained_on import TrainedOn
from tsbench.training.trainer import precision

#: Bumped when a field changes meaning.
CARD_VERSION = 1
#: The split a sweep's objective is computed on, per cross-validation mode.
OBJECTIVE_SPLIT = {"holdout": "val", "tscv": "cv folds (validation blocks of train+val rows)",
                   "refit": "none (a refit has no validation split)"}
SPLIT_RULES = {
    "ett_hour": "ETT hourly: train/val/test = 12/4/4 months of 30 days",
    "ett_minute": "ETT 15-minute: train/val/test = 12/4/4 months of 30 days",
    "ratio": "ratio: int(train_frac * N) train rows, int(test_frac * N) test rows, "
             "validation between",
}
SCALER = "StandardScaler per channel (mean, population std) fitted on these rows only"
#: What the untrained models' parameters come from, in place of a training budget.
FITTED_ON = {
    "history": "the scaled fitted_rows (each fold's with cv=tscv), one statsmodels model per "
               "scored channel, then filtered over the later rows with those parameters (no "
               "refitting): each forecast reads every row from the first fitted one to its origin",
    "look-back": "nothing: each forecast is computed from its window's look-back alone "
                 "(seq_len rows)",
}


def protocol_card(cfg: Any, series: Series, borders: Borders, metrics: dict[str, Any],
                  run_dir: Path, data: ForecastData | None = None,
                  flat: list[dict[str, Any]] | None = None,
                  validation_ratio: float | None = None, *,
                  trained_on: TrainedOn) -> dict[str, Any]:
    """The card of a finished run (trained and scored on ``trained_on``'s device, as its
    trainer put the model, at its precision): ``metrics`` are its scores, ``data`` its holdout data
    (None for cross-validation, whose folds each had their own), ``flat`` the scored
    channels (near-)constant over a scaler's training rows that its validation rows move,
    or spread far less there where they dominate the score
    (:mod:`tsbench.training.flat_channels`; a refit's against the validation rows it
    trained on; None: not checked), ``validation_ratio`` the unusual-validation check's
    ratio (:func:`~tsbench.data.unusual_validation.naive_mse_ratio`; None: not checked),
    whose warning a plain multirun says once for its jobs
    (:mod:`tsbench.training.sweep_summary`)."""
    cv = str(cfg.cv.name)
    seq_len, pred_len = int(cfg.seq_len), int(cfg.pred_len)
    ranges = _ranges_read(cv, borders, metrics)
    return {
        "card_version": CARD_VERSION,
        "dataset": {**_dataset(cfg.dataset, series, max(end for _, end in ranges.values()),
                               reads_target_alone(cfg)),
                    "filled": filled_facts(cfg, series, borders)},
        "split": _split(cfg, series, borders, metrics),
        "validation_naive_mse_ratio": validation_ratio,
        "scaler": {**_scaler(cv, borders, metrics, data), "flat_channels": flat,
                   "channel_std": channel_stds(series, str(cfg.features), data.scaler.fitted_rows
                                               if data is not None else borders.train)},
        "features": str(cfg.features),
        "target": series.columns[-1],
        "seq_len": {"value": seq_len, **seq_len_policy(cfg),
                    "read": model_class(cfg.model).reads_look_back},
        "pred_len": pred_len,
        "strategy": _strategy(cfg),
        "windows": _windows(cfg, ranges, metrics, run_dir),
        "metrics_scale": {
            "headline": "scaled",
            "scaled": "test_/val_ mse, mae, mse_per_step and the window-MSE files: "
                      "z-scores of the scaler above (the published convention)",
            "original": "test_/val_ mse_orig, mae_orig (cv=tscv: cv_val_mse_orig_mean, "
                        "cv_val_mae_orig_mean) and the window-MSE/MAE files *_orig.npy: "
                        "original units",
            "scale_free": "test_/val_ mase: absolute errors over each channel's in-sample "
                          "seasonal naive MAE on the scaler's rows, averaged; smape: "
                          "200 |forecast - actual| / (|forecast| + |actual|), original units, "
                          "misleading where the actual values cross or near zero (metrics: "
                          "<split>_smape_near_zero)",
            **_mase_seasons(series.freq, _scaler(cv, borders, metrics, data)),
        },
        "seasonal_period": _seasonal_period(cfg, series),
        "training": _training(cfg, borders, metrics),
        "seed": int(cfg.seed),
        "deterministic": bool(cfg.trainer.deterministic),
        "device": _device(cfg, metrics.get("threads"), trained_on),
        "versions": {"tsbench": tsbench.__version__, "torch": torch.__version__,
                     "lightning": pl.__version__, "python": platform.python_version()},
        "source": source_revision(model_class(cfg.model)),
    }


def pruned_card(cfg: Any, series: Series, borders: Borders, metrics: dict[str, Any],
                run_dir: Path, trained_on: TrainedOn) -> dict[str, Any]:
    """The card of a trial its sweep's pruning rule stopped (on ``trained_on``; ``metrics``:
    :func:`tsbench.training.pruning.pruned_metrics`'s): a finished run's facts of the rows
    it read (train and val: no test split), of the folds it trained with ``cv=tscv`` (up to
    the one it stopped in, whose windows were not scored after training), ``training`` with
    the epochs it trained before the stop (no best epoch: its weights were deleted), and a
    ``pruned`` block: where and why it stopped, what its objective is, and that nothing
    scored it at its full budget."""
    seq_len, pred_len = int(cfg.seq_len), int(cfg.pred_len)
    fold = metrics.get("pruned_at_fold")
    read = dict(metrics)
    if fold is not None:  # cv=tscv
        blocks = fold_blocks(borders.val[1], seq_len, pred_len, cfg.cv,
                             val_rows=borders.val[1] - borders.train[1])
        read["cv_folds"] = [{"train": list(t), "val": list(v)} for t, v in blocks[:fold + 1]]
    else:  # each validation epoch's loss covered every window of the split
        read["n_val_windows"] = n_windows(borders.val[1] - borders.val[0], seq_len, pred_len)
    card = protocol_card(cfg, series, borders, read, run_dir, trained_on=trained_on)
    where = ""
    if fold is not None:
        card["training"]["epochs_counts"] = f"fold_0 to fold_{fold} together, up to the stop"
        where = f" of fold_{fold}"
    card["pruned"] = {
        "at_epoch": metrics["pruned_at_epoch"], "at_fold": fold,
        "reason": metrics["pruning_reason"],
        "objective": f"the best val_loss (MSE, scaled, over every validation window{where}) "
                     f"up to epoch {metrics['pruned_at_epoch']}, as the pruning rule compared "
                     "it: an early epoch's, not a full-budget score",
        "scored": "nothing after training: no test split, no final validation scores; the "
                  "checkpoint was deleted",
    }
    return card


def flat_params(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """``tree`` flattened to string params under dotted keys, as overrides name them
    (``optim.lr``; a card under ``protocol``: ``protocol.dataset.sha256``), for MLflow, W&B
    or any tracker that takes flat key-value params; ``None`` written ``null`` as in the
    config; a list of scalars stays one value, a list holding dicts or lists is numbered."""
    flat: dict[str, str] = {}

    def walk(node: Any, key: str) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                walk(value, f"{key}.{name}" if key else str(name))
        elif isinstance(node, list) and any(isinstance(v, (dict, list)) for v in node):
            for i, value in enumerate(node):
                walk(value, f"{key}.{i}")
        else:
            flat[key] = "null" if node is None else str(node)

    walk(tree, prefix)
    return flat


def seq_len_policy(cfg: Any) -> dict[str, Any]:
    """``fixed``, or ``searched`` and the split the search scored on (module docstring)."""
    explicit = cfg.get("seq_len_searched_on")
    if explicit:
        return {"policy": "searched", "searched_on": str(explicit),
                "how": "config: seq_len_searched_on"}
    if "seq_len" in searched_keys():
        return {"policy": "searched", "searched_on": OBJECTIVE_SPLIT[str(cfg.cv.name)],
                "how": "a trial of a Hydra sweep over seq_len"}
    return {"policy": "fixed", "searched_on": None, "how": "set in the config"}


def searched_keys() -> set[str]:
    """Config keys the current search sweeps (empty outside a search)."""
    if not HydraConfig.initialized():
        return set()
    hc = HydraConfig.get()
    if not is_search(hc.mode == RunMode.MULTIRUN, hc.sweeper):
        return set()
    return set(swept_keys(multirun_lines(hc)))


def source_revision(model: type | None = None) -> dict[str, Any]:
    """The git commit of the tsbench checkout that ran, whether its tree had changes
    (tracked or untracked, ignored files aside; nulls for an installed package), the
    digest of the package's code as this process imported it (:func:`imported_sources`:
    the code that ran, which a file edited since no longer shows), and, for a ``model``
    class whose file lies outside the package (a user's own model), that file and its
    sha256 as the class was first seen (:func:`model_source`): an edit of it between two
    runs is no change of tsbench's code, and would pass unseen."""
    found = {**_git_revision(PACKAGE.parent), "sources_sha256": imported_sources()}
    source = model_source(model)
    if source is not None:
        found.update(model_file=str(source[0]), model_sha256=source[1])
    return found


def _git_revision(root: Path) -> dict[str, Any]:
    if not (root / ".git").exists():
        return {"git_commit": None, "git_dirty": None, "checkout": None}

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain"))
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None, "checkout": str(root)}
    return {"git_commit": commit, "git_dirty": dirty, "checkout": str(root)}


def _dataset(ds_cfg: Any, series: Series, rows_end: int, target_alone: bool
             ) -> dict[str, Any]:
    """The file and its rows; ``channels`` are those the model reads (the target alone with
    ``features=S``, and with ``features=MS`` for a classical model: ``target_alone``);
    ``changing_offsets``: how timestamps whose UTC offset changes were read (``utc``,
    ``local``; None where none changes)."""
    path = dataset_file(ds_cfg)
    facts: dict[str, Any] = {
        "name": series.name,
        "file": None if path is None else str(path),
        "sha256": None if path is None else file_sha256(path),
        "rows_loaded": int(len(series.values)),
        "rows_used": [0, int(rows_end)],
        "channels": list(series.columns[-1:] if target_alone else series.columns),
        "freq": series.freq,
        "changing_offsets": series.changing_offsets,
    }
    if path is None:
        facts["generator"] = {k: v for k, v in OmegaConf.to_container(ds_cfg, resolve=True).items()
                              if k not in ("name", "split", "train_frac", "test_frac")}
    return facts


def filled_scored_channels(filled: np.ndarray, features: str) -> np.ndarray:
    """``dataset.fillna``'s ``(rows, channels)`` marks of the channels a run scores."""
    return filled[:, -1:] if features in ("S", "MS") else filled


def filled_targets(series: Series, borders: Borders, seq_len: int, features: str
                   ) -> dict[str, int]:
    """Per split, the cells of its target rows (from its first target on) of the channels a
    run scores that ``dataset.fillna`` filled: trained on (train) or scored (val, test) as
    if observed."""
    if series.filled is None:
        return {}
    scored = filled_scored_channels(series.filled, features)
    firsts = {"train": borders.train[0] + seq_len, "val": borders.val[0] + seq_len,
              "test": borders.test[0] + seq_len}
    return {split: int(scored[first:borders[split][1]].sum())
            for split, first in firsts.items()}


def filled_facts(cfg: Any, series: Series, borders: Borders) -> dict[str, Any] | None:
    """How many cells ``dataset.fillna`` filled, and how many lie in each split's target
    rows of the scored channels."""
    if series.filled is None:
        return None
    return {"by": str(cfg.dataset.get("fillna")), "cells": int(series.filled.sum()),
            "in_target_rows": filled_targets(series, borders, int(cfg.seq_len),
                                             str(cfg.features))}


def _ranges_read(cv: str, borders: Borders, metrics: dict[str, Any]) -> dict[str, tuple]:
    """The row ranges the run read: the holdout splits it read, or the train+val rows that
    cross-validation cuts into folds or a refit trains on (``train``) and the test split."""
    if cv in ("tscv", "refit"):
        ranges = {"train": (0, borders.val[1])}
        if "test" in metrics.get("splits_read", []):
            ranges["test"] = tuple(borders.test)
        return ranges
    return {split: tuple(borders[split]) for split in metrics["splits_read"]}


def _split(cfg: Any, series: Series, borders: Borders, metrics: dict[str, Any]) -> dict:
    split: dict[str, Any] = {
        "rule": series.split,
        "rule_text": SPLIT_RULES.get(series.split, series.split),
        "train": list(borders.train), "val": list(borders.val), "test": list(borders.test),
        "first_target": {"val": borders.train[1], "test": borders.val[1]},
        "look_back_overlap": "val and test start seq_len rows before their first target",
        "splits_read": list(metrics.get("splits_read", [])),
        "cv": str(cfg.cv.name),
    }
    if series.split == "ratio":
        split.update(train_frac=series.train_frac, test_frac=series.test_frac)
    if cfg.cv.name == "tscv":
        split["tscv"] = {
            "n_splits": int(cfg.cv.n_splits), "gap": int(cfg.cv.gap),
            "test_size": cfg.cv.test_size, "max_train_size": cfg.cv.max_train_size,
            "refit": bool(cfg.cv.refit), "folds": metrics["cv_folds"],
            "refit_train": [0, borders.val[1]] if cfg.cv.refit else None,
        }
    if cfg.cv.name == "refit":
        trained = model_class(cfg.model).trainable
        how = ("trained on the train and val rows for a fixed epoch count" if trained
               else "fitted on the train and val rows")
        split["refit"] = {"train": [0, borders.val[1]],
                          "epochs": int(cfg.trainer.max_epochs) if trained else None,
                          "rule": f"{how}, no validation; scaler of the published training "
                                  "rows"}
    return split


def _mase_seasons(freq: str, scaler: dict[str, Any]) -> dict[str, Any]:
    """The season of MASE's naive scale over the scaler's rows (None where nothing was
    scored with them: folds without a refit), and each fold's with ``cv=tscv``."""
    seasons: dict[str, Any] = {"mase_season": None if scaler["fitted_rows"] is None else
                               mase_season(freq, _rows(scaler["fitted_rows"]))}
    if "fold_fitted_rows" in scaler:
        seasons["fold_mase_season"] = [mase_season(freq, _rows(r))
                                       for r in scaler["fold_fitted_rows"]]
    return seasons


def _rows(span: list[int]) -> int:
    return span[1] - span[0]


def channel_stds(series: Series, features: str, rows: tuple[int, int]) -> dict[str, float]:
    """Each scored channel's std over the scaler's training ``rows`` (a cv=tscv run's: the
    published training rows, its refit's): how far apart the channels' scales lie, which
    an original-unit MSE over several (features=M) weighs as the squares."""
    values, columns = scored_values(series, features)
    stds = values[rows[0]:rows[1]].astype(np.float64).std(axis=0)
    return {name: float(std) for name, std in zip(columns, stds, strict=True)}


def _scaler(cv: str, borders: Borders, metrics: dict[str, Any], data: ForecastData | None
            ) -> dict[str, Any]:
    """The rows the scaler saw: the holdout training rows (a pruned holdout trial's kept no
    data: the published training rows), or each fold's and the refit's."""
    if data is not None:
        return {"fitted_rows": list(data.scaler.fitted_rows), "kind": SCALER}
    if cv == "holdout":
        return {"fitted_rows": list(borders.train), "kind": SCALER}
    folds = [fold["train"] for fold in metrics.get("cv_folds", [])]
    refit = list(borders.train) if "test" in metrics.get("splits_read", []) else None
    return {"fitted_rows": refit, "fold_fitted_rows": folds, "kind": SCALER + " (one per fold)"}


def _windows(cfg: Any, ranges: dict[str, tuple], metrics: dict[str, Any], run_dir: Path
             ) -> dict[str, Any]:
    """Windows scored per split against the windows the split holds (the training split's
    windows have ``strategy.step`` target rows with ``strategy=recursive``), and whether
    training dropped each epoch's last partial batch (not said of an untrained model)."""
    seq_len, pred_len = int(cfg.seq_len), int(cfg.pred_len)
    windows: dict[str, Any] = {}
    for split, (start, end) in ranges.items():
        available = n_windows(end - start, seq_len, pred_len)
        if split == "train":
            trained = n_windows(end - start, seq_len, strategy_step(cfg) or pred_len)
            windows["train"] = {"available": trained}
            if model_class(cfg.model).trainable:
                windows["train"]["drop_last"] = drops_last(
                    trained, int(cfg.data.batch_size), bool(cfg.data.drop_last))
        else:
            scored = int(metrics[f"n_{split}_windows"])
            windows[split] = {"scored": scored, "available": available, "all": scored == available}
    if cfg.cv.name == "tscv":
        windows.pop("train")  # each fold (and the refit) trained on its own rows
        folds = []
        for k, fold in enumerate(metrics["cv_folds"]):
            start, end = fold_ranges(fold["train"], fold["val"], seq_len)["val"]
            errors = read_window_mse(fold_dir(run_dir, k), "val")
            scored = None if errors is None else int(errors.size)
            available = n_windows(end - start, seq_len, pred_len)
            folds.append({"scored": scored, "available": available, "all": scored == available})
        windows["cv_val_folds"] = folds
    return windows


def _strategy(cfg: Any) -> dict[str, Any]:
    """How the pred_len steps were forecast: all at once, or ``step`` at a time, each roll's
    forecast appended to the look-back (scored on the same windows either way)."""
    step = strategy_step(cfg)
    if step is None:
        return {"name": "direct"}
    return {"name": "recursive", "step": step, "rolls": -(-int(cfg.pred_len) // step)}


def _seasonal_period(cfg: Any, series: Series) -> dict[str, Any] | None:
    """The season the model's forecasts used (its ``season``: ``model.period``, or the
    data frequency's when null) and where it came from; None for a model without one."""
    if "period" not in cfg.model:
        return None
    model = build_model(cfg.model, int(cfg.seq_len), int(cfg.pred_len), 1, freq=series.freq)
    season = getattr(model, "season", None)
    if season is None:
        return None
    source = ("model.period" if cfg.model.period is not None
              else f"the data's frequency ({series.freq})")
    return {"value": int(season), "from": source}


def _training(cfg: Any, borders: Borders, metrics: dict[str, Any]) -> dict[str, Any]:
    """The training budget spent, or what an untrained model was fitted on."""
    cls = model_class(cfg.model)
    if not cls.trainable:
        return _fitting(cfg, borders, metrics, issubclass(cls, HistoryModel))
    patience = int(cfg.trainer.patience)
    facts: dict[str, Any] = {
        "trained": True,
        "epochs": metrics.get("epochs"),
        "best_epoch": metrics.get("best_epoch"),
        "patience": patience,
        "max_epochs": int(cfg.trainer.max_epochs),
        "early_stopping": patience > 0 and cfg.cv.name != "refit",  # a refit has no val
        "batch_size": int(cfg.data.batch_size),
    }
    if cfg.cv.name == "tscv":
        facts["epochs_counts"] = "all folds and the refit together"
        facts["fold_best_epochs"] = [metrics.get(fold_metric(k, "best_epoch"))
                                     for k in range(len(metrics["cv_folds"]))]
        facts["refit_epochs"] = metrics.get("refit_epochs")
    return facts


def _fitting(cfg: Any, borders: Borders, metrics: dict[str, Any], history: bool
             ) -> dict[str, Any]:
    """An untrained model's block: no epochs, batches or early stopping applied; the
    classical models' fitted rows (each fold's with ``cv=tscv``), or none for the naive
    ones, whose forecasts read only each window's look-back."""
    facts: dict[str, Any] = {"trained": False, "epochs": metrics.get("epochs"),
                             "fitted_on": FITTED_ON["history" if history else "look-back"]}
    if not history:
        return facts
    if cfg.cv.name == "tscv":
        facts["fold_fitted_rows"] = [fold["train"] for fold in metrics["cv_folds"]]
        facts["fitted_rows"] = [0, borders.val[1]] if cfg.cv.refit else None
    else:
        facts["fitted_rows"] = ([0, borders.val[1]] if cfg.cv.name == "refit"
                                else list(borders.train))
    return facts


def _device(cfg: Any, threads: int | None, trained_on: TrainedOn) -> dict[str, Any]:
    """Where the run trained and scored, ``trained_on``, read from the trainer after
    training (not guessed from ``trainer.accelerator``: ``auto`` trains on a GPU where
    there is one): its kind, GPU index and name; the precision its trainer trained at
    (``trainer.precision`` for a model without training), CPU threads and whether
    tsbench's fast CPU kernels were on (same math, other dropout masks)."""
    device = trained_on.device
    kind = device.type
    if kind == "cuda":
        index, name = device.index, torch.cuda.get_device_name(device)
    elif kind == "mps":
        index, name = 0, "Apple MPS"
    else:
        index, name = None, platform.processor() or platform.machine()
    return {"accelerator": str(cfg.trainer.accelerator), "kind": kind, "index": index,
            "name": name,
            "precision": trained_on.precision or precision(cfg.trainer), "threads": threads,
            "fast_kernels": bool(cfg.trainer.get("fast_kernels", False))}
