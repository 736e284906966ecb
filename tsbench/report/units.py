"""``tsbench-report --units``: the scores a report reads. ``scaled`` (the default): each run's
MSE/MAE on the z-scores of its scaler's training rows, the papers' protocol, beside their
published numbers. ``original``: the same errors in the data's own units (metrics.json's
``test_mse_orig``, ``val_mae_orig``, a cv=tscv run's ``cv_val_mse_orig_mean``; per-window
``*_window_mse_orig.npy`` for the paired tests), for data whose channels differ in scale or
whose near-constant training channel blows up the scaled scores. Its table, tests and ranks
read those alone: a run without them is left out and named, never mixed in scaled; no
published number stands beside them (those are scaled). MASE and sMAPE have no units to
choose (errors over each channel's naive error; a percentage of the actual values): a
report of them with ``--units original`` is refused."""

from __future__ import annotations

#: The choices of ``--units``: the first is the default.
UNITS = ("scaled", "original")
SCALED_UNITS, ORIGINAL = UNITS
#: The metrics recorded in both units.
WITH_UNITS = ("mse", "mae")


def score_metric(metric: str, units: str) -> str:
    """The metric's name in metrics.json keys and window files: ``mse``, or in original
    units ``mse_orig`` (``test_mse_orig``, ``test_window_mse_orig.npy``)."""
    return f"{metric}_orig" if units == ORIGINAL else metric


def unit_free_refusal(metric: str, units: str) -> str | None:
    """Why ``--metric`` cannot be reported in ``--units`` (None: it can)."""
    if units != ORIGINAL or metric in WITH_UNITS:
        return None
    return (f"--units original --metric {metric}: {metric.upper()} has no units to convert "
            f"({UNIT_FREE.get(metric, 'unit-free')}, the same in any units) -> drop --units "
            "original, or report --metric mse or mae in original units")


#: Why each metric without units has none.
UNIT_FREE = {"mase": "each channel's errors over its own naive forecast's",
             "smape": "a percentage of the actual values"}


#: The note of an original-unit test report on the published numbers it leaves out.
PUBLISHED_SCALED = ("Published numbers: left out, as they are scaled scores (the papers' "
                    "protocol: z-scores of the training rows' scaler) and these are in the "
                    "data's original units, which are not comparable with them -> compare "
                    "with them in a report without --units original.")
