"""Look-back candidates for a dataset, read from the periodicity of its training rows."""

from __future__ import annotations

from typing import Any

from tsbench.analysis.periodicity import dominant_periods, lookback_candidates
from tsbench.data.loading import Series, load_series
from tsbench.data.splits import Borders, benchmark_borders
from tsbench.errors import DataError

#: Longest look-back suggested when no bounds are given (the longest published setting).
DEFAULT_MAX_LOOKBACK = 720


def split_rows(series: Series) -> Borders:
    """The benchmark split's own rows (no look-back overlap)."""
    return benchmark_borders(
        len(series.values), series.split, 0, series.train_frac, series.test_frac
    )


def longest_window(borders: Borders) -> int:
    """Rows of the shortest split: the most that one window (look-back + horizon) may span."""
    return min(end - start for start, end in (borders.train, borders.val, borders.test))


def suggest_lookbacks(
    dataset_cfg: Any,
    pred_len: int,
    seq_len_bounds: tuple[int, int] | None = None,
    n_periods: int = 3,
    min_strength: float = 0.1,
) -> list[int]:
    """Look-backs for ``seq_len: auto``: whole multiples (two cycles or more) of the dominant
    periods of the dataset's training rows, within ``seq_len_bounds`` (inclusive; default
    ``(1, 720)``) and short enough that ``seq_len + pred_len`` fits every split."""
    low, high = seq_len_bounds or (1, DEFAULT_MAX_LOOKBACK)
    series = load_series(dataset_cfg)
    borders = split_rows(series)
    train = series.values[borders.train[0] : borders.train[1]]
    periods = [p.period for p in dominant_periods(train, high // 2, n_periods, min_strength)]
    max_len = min(longest_window(borders), high + pred_len)
    found = [c for c in lookback_candidates(periods, pred_len, max_len) if c >= low]
    if not found:
        raise DataError(
            f"seq_len: auto found no look-back for dataset '{series.name}' in "
            f"[{low}, {high}] with pred_len={pred_len} (dominant periods of the training rows: "
            f"{periods or 'none'}) -> give seq_len explicit values or widen its bounds"
        )
    return found
