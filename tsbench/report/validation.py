"""What ``tsbench-report --split val`` reads of a run: its validation score, the protocol
that scored it, and its per-window validation errors.

A holdout run (``cv=holdout``) is scored on its val split (``val_<metric>``,
``val_window_<metric>.npy``); a ``cv=tscv`` run on its folds' validation blocks, its score
the mean over folds (``cv_val_<metric>_mean``) and its per-window errors every fold's
(``fold_<k>/val_window_<metric>.npy``) in time order, each window scored by the model of its
fold. The two are different protocols: their runs are tables of their own
(:func:`protocol` tags the dataset, as another file's runs are), never ranked together.
A ``cv=refit`` run trains on the val rows and has no validation score.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tsbench.rundir import fold_dir, read_window_errors

if TYPE_CHECKING:
    from tsbench.report.collect import Run

#: The splits a report can show: ``test`` (the default) or ``val``.
SPLITS = ("test", "val")
#: How each split is named in a report's heading and lines.
SPLIT_NAMES = {"test": "test", "val": "validation"}
#: The two validation protocols (:func:`kind`).
HOLDOUT, CV = "holdout", "CV"


def cross_validated(config: dict[str, Any]) -> bool:
    """Whether a run's (flattened) config cross-validated its training rows (``cv=tscv``)."""
    return config.get("cv.name") == "tscv"


def score_key(run: Run, split: str, metric: str) -> str:
    """The metrics.json key of ``run``'s ``metric`` on ``split``: ``test_mse``; for ``val``,
    ``val_mse``, or a cv=tscv run's ``cv_val_mse_mean``."""
    if split == "test":
        return f"test_{metric}"
    return f"cv_val_{metric}_mean" if cross_validated(run.config) else f"val_{metric}"


def kind(run: Run) -> str:
    """:data:`HOLDOUT` or :data:`CV`: the validation protocol that scored ``run``."""
    return CV if cross_validated(run.config) else HOLDOUT


def protocol(run: Run) -> str:
    """``val: holdout split`` or ``val: CV, 3 folds, rows [150, 600)``: how ``run`` was
    validated, with the rows its folds' validation blocks cover (runs of other blocks are
    other tables)."""
    if kind(run) == HOLDOUT:
        return "val: holdout split"
    folds = run.metrics.get("cv_folds") or []
    rows = (f", rows [{folds[0]['val'][0]}, {folds[-1]['val'][1]})"
            if folds and all(isinstance(f, dict) and "val" in f for f in folds) else "")
    return f"val: CV, {len(folds)} folds{rows}"


def window_errors(run: Run, metric: str) -> np.ndarray | None:
    """``run``'s per-window validation ``metric``: its val split's, or its folds' in fold
    order (time order); None where a file is missing or unreadable."""
    try:
        if kind(run) == HOLDOUT:
            return read_window_errors(run.path, "val", metric)
        folds = [read_window_errors(fold_dir(run.path, k), "val", metric)
                 for k in range(len(run.metrics.get("cv_folds") or []))]
    except (OSError, ValueError):
        return None
    if not folds or any(f is None for f in folds):
        return None
    return np.concatenate(folds)  # type: ignore[arg-type]


def n_windows(run: Run) -> int | None:
    """How many validation windows ``run`` scored, where its metrics.json says (a holdout
    run's ``n_val_windows``; a CV run's folds do not record theirs)."""
    count = run.metrics.get("n_val_windows") if kind(run) == HOLDOUT else None
    return None if count is None else int(count)
