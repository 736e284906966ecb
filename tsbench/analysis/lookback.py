"""The rows a periodicity analysis may read, and the longest window the splits allow."""

from __future__ import annotations

from tsbench.data.loading import Series
from tsbench.data.splits import Borders, benchmark_borders


def split_rows(series: Series) -> Borders:
    """The benchmark split's own rows (no look-back overlap)."""
    return benchmark_borders(
        len(series.values), series.split, 0, series.train_frac, series.test_frac
    )


def longest_lookback(borders: Borders, pred_len: int) -> int:
    """The longest look-back worth trying: validation and test windows take their look-back
    from the rows before their split (the published convention), so only the training split
    bounds it, and at least half of its rows should still start a training window."""
    train_rows = borders.train[1] - borders.train[0]
    return max(1, train_rows // 2 - pred_len)
