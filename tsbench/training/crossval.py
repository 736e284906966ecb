"""``cv=tscv``: scikit-learn's TimeSeriesSplit over the train+val rows (test rows untouched),
a fresh model and scaler per fold, and optionally one refit scored on the test split."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
from omegaconf import OmegaConf
from pytorch_lightning.loggers import CSVLogger
from sklearn.model_selection import TimeSeriesSplit

from tsbench.config_values import whole
from tsbench.data.loading import Series
from tsbench.data.splits import Borders
from tsbench.errors import ConfigError
from tsbench.rundir import LOGS, fold_dir, fold_metric, fold_part
from tsbench.training.evaluate import MASE_KEY
from tsbench.training.flat_channels import (
    FLAT_KEY,
    SHARE_RATIO,
    cv_flat_channels,
    flat_columns,
    refit_flat_channels,
    scored_values,
)
from tsbench.training.pruning import TrialPruned, TrialPruning
from tsbench.training.schedules import WARMUP_KEY
from tsbench.training.search_trial import scores_test
from tsbench.training.train_and_score import DEVICE_KEY, fit_and_score

#: Per-fold metrics copied into metrics.json as ``fold_<k>_<key>``.
_FOLD_KEYS = ("val_mse", "val_mae", "val_mase", "val_smape", "val_mse_seasonal_naive",
              "val_mse_naive", "best_epoch", "lr_suggested", "lr_used")


def _fits(n_rows: int, n_splits: int, gap: int, test_size: int | None, window: int,
          pred_len: int) -> bool:
    """Whether every validation block holds a horizon (its windows' look-back reaches back
    before it) and the first training block a whole window."""
    block = test_size if test_size is not None else n_rows // (n_splits + 1)
    return block >= pred_len and n_rows - n_splits * block - gap >= window


def block_rows(cv: Any, val_rows: int | None) -> int | None:
    """``cv.test_size`` in rows: a number, null (TimeSeriesSplit's default), or ``val``: as
    long as the published validation split (``val_rows``), whose own block is then the last
    fold's, trained on the published training rows."""
    size = cv.test_size
    if size is None:
        return None
    if str(size) == "val" and val_rows is not None:
        return val_rows
    if isinstance(size, int) and not isinstance(size, bool):
        return size
    raise ConfigError("cv.test_size", f"'{size}' is not a number of rows",
                      "give rows per validation block, null, or val (the published "
                      "validation split's length)")


def fold_blocks(
    n_rows: int, seq_len: int, pred_len: int, cv: Any, val_rows: int | None = None
) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(training rows, validation block) per fold, half-open, as TimeSeriesSplit cuts rows
    ``[0, n_rows)``. A validation block must hold a horizon of ``pred_len`` rows (its
    windows' look-back reaches before it, as the published validation split's does), the
    first training block a whole window of ``seq_len + pred_len`` rows. ``val_rows`` is the
    published validation split's length (for ``cv.test_size=val``)."""
    n_splits, gap = whole(cv.n_splits, "cv.n_splits"), whole(cv.gap, "cv.gap")
    test_size = block_rows(cv, val_rows)
    max_train = (None if cv.max_train_size is None
                 else whole(cv.max_train_size, "cv.max_train_size"))
    window = seq_len + pred_len
    if n_splits < 2:
        raise ConfigError(
            "cv.n_splits",
            f"must be >= 2, got {n_splits}",
            "use 2 or more folds, or cv=holdout for the single published split",
        )
    if gap < 0:
        raise ConfigError("cv.gap", f"must be >= 0, got {gap}",
                          "use cv.gap=0 (validation right after training) or more rows")
    if test_size is not None and test_size < pred_len:
        raise ConfigError(
            "cv.test_size",
            f"validation blocks of {test_size} rows are shorter than pred_len = {pred_len}",
            f"use cv.test_size >= {pred_len}, or lower pred_len",
        )
    if max_train is not None and max_train < window:
        raise ConfigError(
            "cv.max_train_size",
            f"{max_train} rows hold no training window of seq_len + pred_len = {window} rows",
            f"use cv.max_train_size >= {window}, or null",
        )
    if not _fits(n_rows, n_splits, gap, test_size, window, pred_len):
        block = test_size if test_size is not None else n_rows // (n_splits + 1)
        first = max(0, n_rows - n_splits * block - gap)
        if gap > 0 and _fits(n_rows, n_splits, 0, test_size, window, pred_len):
            raise ConfigError(
                "cv.gap",
                f"a gap of {gap} rows leaves the first fold {first} "
                f"training rows, fewer than seq_len + pred_len = {window}",
                f"use cv.gap <= {n_rows - n_splits * block - window}",
            )
        most = max(
            (k for k in range(2, n_splits)
             if _fits(n_rows, k, gap, test_size, window, pred_len)),
            default=None,
        )
        fitting = (n_rows - gap - window) // n_splits  # the longest blocks that fit
        if not most and test_size is not None and fitting >= pred_len:
            raise ConfigError(
                "cv.test_size",
                f"{n_splits} validation blocks of {test_size} rows leave the first fold "
                f"{first} of the {n_rows} train+val rows, fewer than seq_len + pred_len = "
                f"{window}",
                f"use cv.test_size <= {fitting}, or null (equal blocks)",
            )
        fix = f"use cv.n_splits <= {most}" if most else "lower seq_len or pred_len, or cv=holdout"
        raise ConfigError(
            "cv.n_splits",
            f"{n_splits} folds are more than the {n_rows} train+val rows allow: "
            f"validation blocks of {block} rows and a first training block of {first} rows, "
            f"which needs seq_len + pred_len = {window}",
            fix,
        )
    splitter = TimeSeriesSplit(
        n_splits=n_splits, gap=gap, test_size=test_size, max_train_size=max_train
    )
    return [
        ((int(tr[0]), int(tr[-1]) + 1), (int(va[0]), int(va[-1]) + 1))
        for tr, va in splitter.split(np.arange(n_rows))
    ]


#: The most validation-block lengths :func:`clean_folds` tries per fold count.
BLOCK_TRIES = 64


def clean_folds(cfg: Any, series: Series, borders: Borders) -> dict[str, int] | None:
    """The folds nearest ``cfg.cv`` whose every training block holds each scored channel's
    movement: no channel that its validation block spreads more than :data:`SHARE_RATIO`
    times (:func:`flat_columns`; either rule's ratio, as no score is known here), checked on
    the recomputed folds. The most folds (up to ``cv.n_splits``), then the longest
    validation blocks (up to ``cv.test_size``'s); ``{"n_splits", "test_size",
    "train_end"}`` (``train_end``: the first fold's training rows' end), or None where no
    such folds exist."""
    values, _ = scored_values(series, str(cfg.features))
    seq_len, pred_len, gap = int(cfg.seq_len), int(cfg.pred_len), int(cfg.cv.gap)
    n_rows, val_rows = borders.val[1], borders.val[1] - borders.train[1]
    current = block_rows(cfg.cv, val_rows)
    for n_splits in range(int(cfg.cv.n_splits), 1, -1):
        longest = min((n_rows - gap - seq_len - pred_len) // n_splits,
                      n_rows // (n_splits + 1) if current is None else current)
        if longest < pred_len:
            continue
        for test_size in dict.fromkeys(np.linspace(longest, pred_len, BLOCK_TRIES).astype(int)):
            cv = OmegaConf.merge(cfg.cv, {"n_splits": n_splits, "test_size": int(test_size)})
            blocks = fold_blocks(n_rows, seq_len, pred_len, cv, val_rows=val_rows)
            if not any(flat_columns(values, train, block, SHARE_RATIO) for train, block in blocks):
                return {"n_splits": n_splits, "test_size": int(test_size),
                        "train_end": blocks[0][0][1]}
    return None


def refit_epoch_count(median_best_epoch: float) -> int:
    """The epochs ``cv.refit`` trains on train+val: the folds' median best epoch, rounded
    up."""
    return max(1, math.ceil(median_best_epoch))


def fold_ranges(
    train: tuple[int, int], block: tuple[int, int], seq_len: int
) -> dict[str, tuple[int, int]]:
    """ForecastData ranges of one fold: the validation windows' targets lie wholly in
    ``block``; their look-back may reach ``seq_len`` rows back, as in the published split."""
    return {"train": train, "val": (block[0] - seq_len, block[1])}


def _fold_logger(cfg: Any, out: Path) -> CSVLogger | bool:
    """A fold's per-epoch curves go to ``fold_<k>/logs/metrics.csv`` (nothing with
    ``logger=none``); the run's own logger gets the summary and the refit."""
    return False if str(cfg.logger.name) == "none" else CSVLogger(str(out), LOGS, "")


def refit_and_score(cfg: Any, series: Series, borders: Borders, run_dir: Path, logger: Any,
                    max_epochs: int | None = None) -> tuple[dict[str, Any], Any, Any]:
    """Train on every train+val row (no validation to stop on) and score the test split
    unless ``score_test=false``; the scaler is the published training rows', so the scores
    are on the published scale (``cv=refit``, and ``cv.refit`` after the folds). Its
    channels flat over those rows that the validation rows move are under ``FLAT_KEY``
    (:func:`refit_flat_channels`)."""
    ranges = {"train": (0, borders.val[1])}
    if scores_test(cfg):
        ranges["test"] = borders.test
    metrics, model, data = fit_and_score(cfg, series, ranges, run_dir, logger,
                                         max_epochs=max_epochs, scaler_rows=borders.train,
                                         part="refit on the train+val rows")
    metrics[FLAT_KEY] = refit_flat_channels(series, str(cfg.features), borders.train,
                                            (borders.train[1], borders.val[1]))
    return metrics, model, data


def cross_validate(
    cfg: Any, series: Series, borders: Borders, run_dir: Path, logger: Any,
    pruning: TrialPruning | None = None,
) -> dict[str, Any]:
    """Train and score one fresh model per fold (outputs in ``run_dir/fold_<k>``, k from 0);
    with ``cv.refit`` train once more on all train+val rows for the folds' median best epoch
    and score the test split (scaled as the published training rows are, as ``cv=refit``).
    ``cv_val_mse_std`` is the population std over folds (as in scikit-learn's
    ``cv_results_``); ``epochs`` and ``train_seconds`` add up every training."""
    seq_len = int(cfg.seq_len)
    blocks = fold_blocks(borders.val[1], seq_len, int(cfg.pred_len), cfg.cv,
                         val_rows=borders.val[1] - borders.train[1])
    metrics: dict[str, Any] = {"cv_folds": [{"train": list(t), "val": list(v)} for t, v in blocks]}
    scores: list[dict[str, Any]] = []
    overruns: list[dict[str, Any]] = []
    for k, (train, block) in enumerate(blocks):
        pl.seed_everything(int(cfg.seed), workers=True, verbose=False)
        out = fold_dir(run_dir, k)
        try:
            fold, _, _ = fit_and_score(
                cfg, series, fold_ranges(train, block, seq_len), out, _fold_logger(cfg, out),
                pruning=pruning, part=fold_part(k, len(blocks)),
            )
        except TrialPruned as stopped:  # the folds' warmups so far, said by the pruned run
            stopped.warmup = overruns + _named(stopped.warmup, f"fold_{k}'s")
            raise
        overruns += _named(fold.pop(WARMUP_KEY, []), f"fold_{k}'s")
        metrics.update({fold_metric(k, key): fold[key] for key in _FOLD_KEYS if key in fold})
        scores.append(fold)
    mse = np.array([s["val_mse"] for s in scores])
    metrics[FLAT_KEY] = cv_flat_channels([fold.pop(FLAT_KEY, []) for fold in scores], mse)
    metrics[MASE_KEY] = [{**case, "where": f"fold_{k}'s "}
                         for k, fold in enumerate(scores) for case in fold.pop(MASE_KEY, [])]
    metrics[WARMUP_KEY] = overruns
    metrics[DEVICE_KEY] = scores[0][DEVICE_KEY]  # every fold's and the refit's: one config
    best = [s["best_epoch"] for s in scores]
    metrics.update(
        cv_val_mse_mean=float(mse.mean()),
        cv_val_mse_std=float(mse.std()),
        cv_val_mae_mean=float(np.mean([s["val_mae"] for s in scores])),
        **{f"cv_val_{m}_mean": float(np.mean([s[f"val_{m}"] for s in scores]))
           for m in ("mse_orig", "mae_orig", "mase", "smape", "mse_seasonal_naive",
                     "mse_naive")
           if all(f"val_{m}" in s for s in scores)},
        cv_val_smape_near_zero=[c for c in series.columns if any(
            c in s.get("val_smape_near_zero", ()) for s in scores)],
        cv_best_epoch_median=float(np.median(best)),
        splits_read=["train", "val"],
        n_params=scores[0]["n_params"],
        epochs=sum(s["epochs"] for s in scores),
        train_seconds=round(sum(s["train_seconds"] for s in scores), 3),
    )
    if bool(cfg.cv.refit):
        pl.seed_everything(int(cfg.seed), workers=True, verbose=False)
        epochs = refit_epoch_count(float(np.median(best)))
        refit, _, _ = refit_and_score(cfg, series, borders, run_dir, logger, max_epochs=epochs)
        metrics.update({k: v for k, v in refit.items() if k.startswith(("test_", "n_test", "lr_"))})
        metrics[FLAT_KEY] += refit[FLAT_KEY]  # the refit's scaler, which scales the test split
        metrics[MASE_KEY] += [{**case, "where": "the refit's "}
                              for case in refit.get(MASE_KEY, [])]
        metrics[WARMUP_KEY] += _named(refit.get(WARMUP_KEY, []), "the refit's")
        metrics.update(
            splits_read=["train", "test", "val"],
            refit_epochs=refit["epochs"],
            epochs=metrics["epochs"] + refit["epochs"],
            train_seconds=round(metrics["train_seconds"] + refit["train_seconds"], 3),
        )
    return metrics


def _named(cases: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    """A fold's or the refit's cases (:data:`WARMUP_KEY`'s), renamed as its."""
    return [{**case, "where": where} for case in cases]
