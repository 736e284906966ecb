"""Split-conformal prediction intervals around a run's forecasts, calibrated on its
validation windows: for each horizon step and channel, the absolute residual of rank
``ceil((n + 1) * level)`` among the ``n`` validation windows (the finite-sample rule: under
exchangeability of the validation windows and a later one, the interval covers the later
actual with probability at least ``level``, step by step, not jointly over the horizon)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction

import numpy as np
import pandas as pd

from tsbench.counted import noun_for, word_for


def parse_levels(text: str) -> list[float]:
    """``--intervals 0.8,0.95``: the levels, each in (0, 1), in increasing order."""
    try:
        levels = [float(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"--intervals {text!r}: not a comma-separated list of numbers -> give "
                         "coverage levels in (0, 1), e.g. --intervals 0.8,0.95") from None
    return check_levels(levels, "--intervals")


def check_levels(levels: float | Iterable[float], name: str = "intervals") -> list[float]:
    """``levels`` (one level, or several) as floats in increasing order, each in (0, 1), no
    one twice."""
    levels = [levels] if isinstance(levels, int | float) else list(levels)
    bad = [level for level in levels if not 0 < level < 1]
    if bad:
        raise ValueError(f"{name}: {noun_for(len(bad), 'level')} {bad} "
                         f"{word_for(len(bad), 'is', 'are')} not in (0, 1) -> give coverage "
                         "levels as fractions, e.g. 0.8,0.95 for 80 % and 95 %")
    return sorted({float(level) for level in levels})


def rank(n: int, level: float) -> int:
    """The rank (1-based) of the residual bounding a ``level`` interval among ``n``:
    ``ceil((n + 1) * level)``, in exact decimals (0.7 * 100 is 70, not 70.00000000000001)."""
    return math.ceil((n + 1) * Fraction(str(level)))


#: A level's coverage spread (one sd, :func:`coverage_spread`) above which a forecast says
#: its bounds rest on too few validation windows to be more than rough.
ROUGH_SPREAD = 0.05


def coverage_spread(n: int, level: float) -> float:
    """The sd, over calibrations, of the coverage that the bound of rank ``k`` =
    :func:`rank` among ``n`` exchangeable validation windows gives later windows: that
    coverage is Beta(k, n + 1 - k) distributed (Vovk 2012), mean ``k / (n + 1)``."""
    k = rank(n, level)
    return math.sqrt(k * (n + 1 - k) / ((n + 1) ** 2 * (n + 2)))


def rough_levels(n: int, levels: list[float]) -> str | None:
    """The warning for levels whose coverage spread over calibrations on ``n`` windows
    exceeds :data:`ROUGH_SPREAD` (None where none does): a user reads a 0.8 interval from
    25 windows as an 80 % one, where its coverage of later windows is 0.8 +- 0.08."""
    rough = [(level, coverage_spread(n, level)) for level in levels
             if coverage_spread(n, level) > ROUGH_SPREAD]
    if not rough:
        return None
    spreads = ", ".join(f"{level:g} +- {spread:.2f}" for level, spread in rough)
    return (f"--intervals: calibrated on n = {n} validation windows, the coverage these bounds "
            f"give later windows varies from one calibration to another by about {spreads} "
            "(one sd for exchangeable windows; more, as consecutive windows' errors are "
            "correlated) -> read them as rough, or calibrate on a run with more validation "
            "rows (for a CSV, a lower dataset.train_frac)")


def half_widths(residuals: np.ndarray, levels: list[float]) -> dict[float, np.ndarray]:
    """Per level, the half-width of each step and channel's interval: the residual of rank
    :func:`rank` among ``residuals`` (absolute, shape ``(n, pred_len, channels)``), refused
    where that rank exceeds ``n`` (the level needs more windows than there are)."""
    n = len(residuals)
    too_high = [level for level in levels if rank(n, level) > n]
    if too_high:
        largest = math.floor(n / (n + 1) * 1e4) / 1e4
        raise ValueError(f"intervals: {noun_for(len(too_high), 'level')} {too_high} "
                         f"{word_for(len(too_high), 'needs', 'need')} the residual of rank "
                         f"ceil((n+1)*level) = {rank(n, max(too_high))} of the run's n = {n} "
                         f"validation windows, more than there are -> give levels up to "
                         f"{largest} (n/(n+1)), or calibrate on a run with more validation "
                         "windows")
    ordered = np.sort(residuals, axis=0)
    return {level: ordered[rank(n, level) - 1] for level in levels}


def label(level: float) -> str:
    """A level as a column suffix: 0.8 -> '80', 0.975 -> '97.5'."""
    return f"{float(Fraction(str(level)) * 100):g}"


def with_future_bounds(table: pd.DataFrame, widths: dict[float, np.ndarray]) -> pd.DataFrame:
    """The future's table (one column per channel) with ``<channel>_lower_<level>`` and
    ``<channel>_upper_<level>`` beside each channel's column."""
    columns = {}
    for i, channel in enumerate(table.columns):
        columns[channel] = table[channel]
        for level, width in widths.items():
            columns[f"{channel}_lower_{label(level)}"] = table[channel] - width[:, i]
            columns[f"{channel}_upper_{label(level)}"] = table[channel] + width[:, i]
    return pd.DataFrame(columns, index=table.index)


def with_window_bounds(table: pd.DataFrame, widths: dict[float, np.ndarray]
                       ) -> pd.DataFrame:
    """The long table of windows (rows in window, step, channel order) with ``lower_<level>``
    and ``upper_<level>`` columns after its own."""
    n_rows = len(table)
    table = table.copy()
    for level, width in widths.items():
        spread = np.tile(width.ravel(), n_rows // width.size)
        table[f"lower_{label(level)}"] = table["forecast"].to_numpy() - spread
        table[f"upper_{label(level)}"] = table["forecast"].to_numpy() + spread
    return table
