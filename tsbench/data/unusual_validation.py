"""Whether a series' validation rows are unlike its training rows, judged without the test
rows: every choice of a search is made on validation, so a period there that the rest of
the series does not repeat (a promotion week, an outage) steers it (README "An unusual
validation period")."""

from __future__ import annotations

import numpy as np

from tsbench.data.loading import Series
from tsbench.data.seasons import mase_season
from tsbench.data.splits import benchmark_borders

#: The ratio (validation over training) of the seasonal naive forecast's MSE above which the
#: validation period is called unusual: twice the highest of the four benchmark datasets
#: on their standard splits at their published horizons (0.18 to 2.31, ETTh1's seven
#: channels at 720), far below a daily demand series with a week's spike in its 74
#: validation rows (28 to 40); benchmarks/unusual_validation.md.
UNUSUAL_RATIO = 5.0


def naive_mse_ratio(series: Series, pred_len: int, target_only: bool) -> float | None:
    """The seasonal naive forecast's MSE (MASE's season, repeating its last season over
    ``pred_len`` steps, each channel scaled by its training rows' std) on the validation
    windows over that on the training windows; None where the training rows hold no window
    or the forecast is exact there. Reads only the training and validation rows."""
    borders = benchmark_borders(len(series.values), series.split, 0, series.train_frac,
                                series.test_frac)
    (start, train_end), val_end = borders.train, borders.val[1]
    values = series.values[:val_end]  # never the test rows
    rows = values[:, -1:] if target_only else values
    rows = rows / np.where(rows[start:train_end].std(axis=0) > 0,
                           rows[start:train_end].std(axis=0), 1.0)
    season = mase_season(series.freq, train_end - start)
    train = _naive_mse(rows, start + season, train_end, season, pred_len)
    val = _naive_mse(rows, train_end, val_end, season, pred_len)
    if train is None or val is None or not train > 0:
        return None
    return val / train


def _naive_mse(rows: np.ndarray, first: int, end: int, season: int,
               pred_len: int) -> float | None:
    """The mean squared error of the seasonal naive forecasts made at each origin from
    ``first`` on whose ``pred_len`` targets end by ``end``; None where there is none. Summed
    step by step: all steps' errors at once would hold ``pred_len`` copies of the rows
    (ETTh1 at 720: 40 million numbers)."""
    count = end - pred_len - first + 1
    if count < 1:
        return None
    total, numbers = 0.0, 0
    for step in range(pred_len):
        errors = rows[first + step % season - season:][:count] - rows[first + step:][:count]
        total += float(np.nansum(np.square(errors)))
        numbers += int(np.count_nonzero(~np.isnan(errors)))
    return total / numbers if numbers else None


def unusual_validation_warning(ratio: float | None) -> str | None:
    """The line that says the validation period is unusual and how to weigh it, where
    ``ratio`` (:func:`naive_mse_ratio`) is above :data:`UNUSUAL_RATIO`; None otherwise."""
    if ratio is None or ratio <= UNUSUAL_RATIO:
        return None
    return (f"the validation rows are unusual: the seasonal naive forecast's MSE there is "
            f"{ratio:.1f}x its MSE on the training rows (above "
            f"{UNUSUAL_RATIO:g}x), so every choice made on validation fits that period -> "
            "choose on cross-validation folds: add recipe.cv_folds=4 (tsbench-tune) or "
            "cv=tscv (tsbench); or move the split's borders (dataset.train_frac, "
            "dataset.test_frac) before reading any test score (README \"An unusual "
            "validation period\")")
