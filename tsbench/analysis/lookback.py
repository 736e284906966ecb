"""The rows a periodicity analysis may read, and the longest window the splits allow."""

from __future__ import annotations

from tsbench.data.loading import Series
from tsbench.data.splits import Borders, benchmark_borders


def split_rows(series: Series) -> Borders:
    """The benchmark split's own rows (no look-back overlap)."""
    return benchmark_borders(
        len(series.values), series.split, 0, series.train_frac, series.test_frac
    )


def longest_window(borders: Borders) -> int:
    """Rows of the shortest split: the most that one window (look-back + horizon) may span."""
    return min(end - start for start, end in (borders.train, borders.val, borders.test))
