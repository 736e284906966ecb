"""Scored channels whose scaled errors the tiny spread of their scaler's rows inflates.

The standard scaler (the papers' protocol, kept as it is) divides each channel by its
training rows' std: a channel almost flat there (a pegged currency over a short first
fold) gets huge scaled errors, which outweigh every other channel's and, with
``cv=tscv``, every other fold's; a channel exactly constant there is left unscaled
(scale 1), so its errors are in original units among z-scores. Two rules flag one
(``rule`` on its entry): ``spread``, its validation rows spread more than
:data:`SPREAD_RATIO` times its training rows (or it is constant there and moves), and
``share``, a lower ratio (:data:`SHARE_RATIO`) where its scaled errors also dominate the
score (:data:`SHARE_OF_SPLIT`, and with ``cv=tscv`` :data:`SHARE_OF_CV`). Only training
and validation rows are read, never the test split. The run says so once
(:func:`flat_warning`) and its card records each case (``scaler.flat_channels``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tsbench.counted import word_for
from tsbench.data.datamodule import ForecastData
from tsbench.data.loading import Series
from tsbench.flat_words import ORIGINAL_UNITS, clean_folds_text, flat_case

#: A channel whose validation rows spread more than this many times its training rows (its
#: validation std in scaled units; about 1 for a channel that behaves alike in both) is
#: flagged (rule ``spread``), as is one constant over its training rows that the validation
#: rows leave.
SPREAD_RATIO = 100.0
#: A channel spreading more than this many times (rule ``share``) is flagged where its scaled
#: errors dominate too. Over holdout and 3, 5 and 10 folds the real datasets' channels reach
#: 2.6 (ETTh1), 3.0 (exchange) and 3.7 (ILI); ETTh2's LULL 15-18 over the one fold whose
#: score it dominates (naive and DLinear: 69-87 % of that fold's scaled MSE, the fold 68-92 %
#: of the folds' sum).
SHARE_RATIO = 10.0
#: ... where it makes at least this share of its split's (fold's) scaled val MSE ...
SHARE_OF_SPLIT = 0.5
#: ... and, with ``cv=tscv``, its fold at least this share of the folds' summed val MSE
#: (the folds' mean times their count): the fold's score makes most of cv_val_mse_mean.
SHARE_OF_CV = 0.5
#: The key under which :func:`tsbench.training.train_and_score.fit_and_score` hands the
#: flagged channels of its validation split up to the run (never written to metrics.json).
FLAT_KEY = "flat_channels"


def flat_columns(values: np.ndarray, train: tuple[int, int], val: tuple[int, int],
                 ratio: float = SPREAD_RATIO) -> list[tuple[int, float, float]]:
    """(column, training std, validation std) of each column of ``values`` (rows x scored
    channels) whose validation std is more than ``ratio`` times its training std, or that
    is constant over ``train``'s rows and leaves that value over ``val``'s (population
    stds)."""
    fitted = values[train[0]:train[1]].astype(np.float64)
    scored = values[val[0]:val[1]].astype(np.float64)
    train_std, val_std = fitted.std(axis=0), scored.std(axis=0)
    flagged = []
    for k in range(values.shape[1]):
        if train_std[k] == 0:
            flat = bool(np.any(scored[:, k] != fitted[0, k]))
        else:
            flat = bool(val_std[k] > ratio * train_std[k])
        if flat:
            flagged.append((k, float(train_std[k]), float(val_std[k])))
    return flagged


def flat_channels(data: ForecastData, split: str, mse_per_channel: list[float]
                  ) -> list[dict[str, Any]]:
    """The flagged scored channels of ``split`` (its target rows, from its first target on)
    against ``data``'s scaler (:func:`split_flat_channels`)."""
    start, end = data.ranges[split]
    return split_flat_channels(data.series, data.features, data.scaler.fitted_rows,
                               (start + data.seq_len, end), mse_per_channel)


def split_flat_channels(series: Series, features: str, train: tuple[int, int],
                        val: tuple[int, int], mse_per_channel: list[float]
                        ) -> list[dict[str, Any]]:
    """The scored channels flagged between the scaler's rows ``train`` and the scored
    validation rows ``val``, each with its share of the split's scaled MSE
    (``mse_per_channel``): ``spread`` ones, and ``share`` ones making :data:`SHARE_OF_SPLIT`
    of it (a fold's are kept only where :func:`cv_flat_channels` finds the fold dominant
    too)."""
    return [entry for entry in flat_entries(series, features, train, val, mse_per_channel)
            if entry["rule"] == "spread" or (entry["share_of_val_mse"] or 0.0) >= SHARE_OF_SPLIT]


def cv_flat_channels(folds: list[list[dict[str, Any]]], mse: np.ndarray
                     ) -> list[dict[str, Any]]:
    """The folds' flagged channels (``folds[k]``: fold k's :func:`flat_channels`), each with
    its fold and the fold's share of the folds' summed val MSE (``mse``, one per fold);
    ``share`` ones only where that share reaches :data:`SHARE_OF_CV`."""
    total = float(mse.sum())
    flagged = []
    for k, entries in enumerate(folds):
        share = float(mse[k] / total) if total > 0 else None
        flagged += [{"fold": k, **entry, "share_of_cv_mse": share} for entry in entries
                    if entry["rule"] == "spread" or (share or 0.0) >= SHARE_OF_CV]
    return flagged


def refit_flat_channels(series: Series, features: str, train: tuple[int, int],
                        val: tuple[int, int]) -> list[dict[str, Any]]:
    """A refit's flagged channels: its scaler's rows (``train``, the published training
    rows) against the validation rows ``val`` it trained on, which stand for the test rows
    that scaler scales (never read here); marked ``refit``, with no share (no validation
    split is scored, so the ``spread`` rule alone)."""
    return [{**entry, "refit": True} for entry in flat_entries(series, features, train, val)
            if entry["rule"] == "spread"]


def flat_entries(series: Series, features: str, train: tuple[int, int],
                 val: tuple[int, int], mse_per_channel: list[float] | None = None
                 ) -> list[dict[str, Any]]:
    """The card's entry of each scored channel spreading more than :data:`SHARE_RATIO`
    times between ``train`` and ``val``'s rows (:func:`flat_columns`), with the rule that
    may flag it (``spread`` beyond :data:`SPREAD_RATIO`, else ``share``) and its share of
    the split's scaled MSE where it was scored."""
    values, columns = scored_values(series, features)
    total = float(sum(mse_per_channel)) if mse_per_channel is not None else 0.0
    entries = []
    for k, train_std, val_std in flat_columns(values, train, val, SHARE_RATIO):
        ratio = None if train_std == 0 else val_std / train_std
        entries.append({
            "channel": columns[k], "train_rows": list(train), "train_std": train_std,
            "val_rows": list(val), "val_std": val_std, "spread_ratio": ratio,
            "rule": "spread" if ratio is None or ratio > SPREAD_RATIO else "share",
            "share_of_val_mse": (mse_per_channel[k] / total if mse_per_channel is not None
                                 and total > 0 else None)})
    return entries


def scored_values(series: Series, features: str) -> tuple[np.ndarray, list[str]]:
    """The scored channels' raw values and names: all (M), or the target alone (S, MS)."""
    if features == "M":
        return series.values, list(series.columns)
    return series.values[:, -1:], list(series.columns[-1:])


def flat_warning(cfg: Any, flat: list[dict[str, Any]], clean: dict[str, int] | None = None
                 ) -> str:
    """The run's one line on its flagged channels: where, the two spreads, their share of
    the scaled score, and what to change (``clean``: with ``cv=tscv``, folds whose every
    training block holds the channels' movement,
    :func:`tsbench.training.crossval.clean_folds`; None: none exist)."""
    cases = "; ".join(flat_case(entry) for entry in flat)
    names = sorted({entry["channel"] for entry in flat})
    leave_out = (f"leave {', '.join(names)} out with dataset.columns, or score another "
                 "channel alone (features=S dataset.target=...)")
    if cfg.cv.name == "tscv":
        # only folds checked to clear every fold: shorter blocks alone may not
        folds = f"{clean_folds_text(clean, ', '.join(names))}, or " if clean else ""
        capped = ("" if cfg.cv.max_train_size is None else
                  "uncapped training blocks (cv.max_train_size=null), or ")
        fix = f"{folds}{capped}{leave_out}"
    else:  # train_frac moves a ratio split's borders alone (ETT's months are fixed)
        split = str(cfg.dataset.get("split", "ratio"))
        frac = ("dataset.train_frac" if split == "ratio" else
                f"dataset.split=ratio dataset.train_frac=..., in place of {split}'s borders")
        fix = (f"{leave_out}, or another split ({frac}) whose training rows hold the "
               "channel's movement")
    flagged = word_for(len(names), "a channel", "channels")
    return (f"scaled scores distorted by {flagged} (near-)constant over the "
            f"scaler's training rows, or spread far less there than over the validation "
            f"rows: {cases} -> the standard scaler divides by that small "
            f"spread (a constant channel is left unscaled, in original units): {fix}; or "
            f"compare on {ORIGINAL_UNITS} (protocol.json: scaler.flat_channels)")
