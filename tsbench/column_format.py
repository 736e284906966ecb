"""The format of a column of numbers in the data's own units (of any size), shared by the
report's tables and a tuning run's result table so that both write such numbers alike."""

from __future__ import annotations

import math
from collections.abc import Iterable


def column_format(values: Iterable[float]) -> str:
    """The format spec of every number of a column of ``values`` (its means): the decimals
    that give the smallest one 5 significant digits (``31.630`` beside ``37.043``), or, where
    one reaches 1e5 or falls below 1e-3, scientific notation for all (``3.0012e-07``), so
    that a column lines up and never mixes ``48473`` with ``1.1092e+05``. Zeros and
    non-finite values set nothing."""
    sizes = [abs(v) for v in values if v and math.isfinite(v)]
    if any(size >= 1e5 or size < 1e-3 for size in sizes):
        return ".4e"
    return f".{max(0, 4 - math.floor(math.log10(min(sizes, default=1.0))))}f"
