"""What a frequency means for a forecaster: its natural seasonal period and its calendar
covariates ("timeF", each feature scaled to [-0.5, 0.5]).

Frequencies are pandas offsets or their aliases (``15min``, ``h``, ``D``, ``B``, ``W-SUN``,
``MS``, ``ME``, ``QE-DEC``, ``YS-JAN``, ...), from seconds to years.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries import offsets
from pandas.tseries.frequencies import to_offset

_DAY_NS = 86_400 * 10**9


def _second(d: pd.DatetimeIndex) -> np.ndarray:
    return d.second / 59.0 - 0.5


def _minute(d: pd.DatetimeIndex) -> np.ndarray:
    return d.minute / 59.0 - 0.5


def _hour(d: pd.DatetimeIndex) -> np.ndarray:
    return d.hour / 23.0 - 0.5


def _day_of_week(d: pd.DatetimeIndex) -> np.ndarray:
    return d.day_of_week / 6.0 - 0.5


def _day_of_month(d: pd.DatetimeIndex) -> np.ndarray:
    return (d.day - 1) / 30.0 - 0.5


def _day_of_year(d: pd.DatetimeIndex) -> np.ndarray:
    return (d.day_of_year - 1) / 365.0 - 0.5


def _week_of_year(d: pd.DatetimeIndex) -> np.ndarray:
    return (d.isocalendar().week.to_numpy() - 1) / 52.0 - 0.5


def _month(d: pd.DatetimeIndex) -> np.ndarray:
    return (d.month - 1) / 11.0 - 0.5


def _quarter(d: pd.DatetimeIndex) -> np.ndarray:
    return (d.quarter - 1) / 3.0 - 0.5


#: Calendar features per family: everything that varies within the next coarser cycle.
_FEATURES: dict[str, tuple[Callable[[pd.DatetimeIndex], np.ndarray], ...]] = {
    "s": (_second, _minute, _hour, _day_of_week, _day_of_month, _day_of_year),
    "min": (_minute, _hour, _day_of_week, _day_of_month, _day_of_year),
    "h": (_hour, _day_of_week, _day_of_month, _day_of_year),
    "d": (_day_of_week, _day_of_month, _day_of_year),
    "w": (_day_of_month, _week_of_year),
    "m": (_month,),
    "q": (_quarter,),
    "y": (),  # nothing recurs within a year step
}

#: Calendar offsets measured in months per step (n = 1), for the yearly season.
_MONTHS_PER_STEP: tuple[tuple[tuple[type, ...], float, str], ...] = (
    ((offsets.SemiMonthBegin, offsets.SemiMonthEnd), 0.5, "m"),
    ((offsets.MonthBegin, offsets.MonthEnd, offsets.BusinessMonthBegin,
      offsets.BusinessMonthEnd, offsets.CustomBusinessMonthBegin,
      offsets.CustomBusinessMonthEnd, offsets.WeekOfMonth, offsets.LastWeekOfMonth), 1.0, "m"),
    ((offsets.QuarterBegin, offsets.QuarterEnd, offsets.BQuarterBegin, offsets.BQuarterEnd,
      offsets.FY5253Quarter), 3.0, "q"),
    ((offsets.HalfYearBegin, offsets.HalfYearEnd, offsets.BHalfYearBegin,
      offsets.BHalfYearEnd), 6.0, "q"),
)
_YEARLY = (offsets.YearBegin, offsets.YearEnd, offsets.BYearBegin, offsets.BYearEnd,
           offsets.FY5253, offsets.Easter)


@dataclass(frozen=True)
class Calendar:
    """A frequency's feature ``family`` and its natural ``period`` in steps: a day for
    sub-daily data, a week for daily (5 business days), a year for weekly to quarterly data,
    1 for yearly data (no season); None where the season is no whole number of steps."""

    family: str
    period: int | None


def _whole(steps: float) -> int | None:
    return int(round(steps)) if steps >= 1 and abs(steps - round(steps)) < 1e-9 else None


def _days(n: int) -> Calendar:
    if n % 7 == 0:
        return Calendar("w", _whole(52 / (n // 7)))
    return Calendar("d", _whole(7 / n))


def calendar(freq: str | offsets.BaseOffset) -> Calendar:
    """The :class:`Calendar` of a pandas frequency; ``ValueError`` for one tsbench has no
    calendar for (business hours, sub-second steps, unknown aliases)."""
    offset = to_offset(freq)
    n = abs(int(offset.n))
    if isinstance(offset, offsets.Day):
        return _days(n)
    if isinstance(offset, offsets.Tick):
        step = int(offset.nanos)
        if step >= _DAY_NS and step % _DAY_NS == 0:
            return _days(step // _DAY_NS)
        if step < 10**9:
            raise ValueError(f"sub-second steps ({offset.freqstr}) are not supported")
        family = "s" if step < 60 * 10**9 else "min" if step < 3600 * 10**9 else "h"
        return Calendar(family, _whole(_DAY_NS / step))
    if isinstance(offset, offsets.BusinessDay):
        return Calendar("d", _whole(5 / n))
    if isinstance(offset, offsets.Week):
        return Calendar("w", _whole(52 / n))
    for kinds, months, family in _MONTHS_PER_STEP:
        if isinstance(offset, kinds):
            return Calendar(family, _whole(12 / (months * n)))
    if isinstance(offset, _YEARLY):
        return Calendar("y", 1)
    raise ValueError(f"{type(offset).__name__} steps ({offset.freqstr}) are not supported")


def freq_family(freq: str | offsets.BaseOffset) -> str:
    """The calendar-feature family of a frequency: s, min, h, d, w, m, q or y."""
    return calendar(freq).family


def seasonal_period(freq: str | offsets.BaseOffset) -> int | None:
    """The natural season of a frequency in steps (24 for ``h``, 96 for ``15min``, 7 for
    ``D``, 5 for ``B``, 52 for ``W``, 12 for ``MS``, 4 for ``QE``, 1 for ``YS``); None when
    no whole number of steps makes one (``2D``, ``5ME``)."""
    return calendar(freq).period


def time_features(dates: pd.DatetimeIndex, freq: str | offsets.BaseOffset) -> np.ndarray:
    """Return ``(rows, n_features)`` float32 calendar features of ``freq``'s family."""
    funcs = _FEATURES[freq_family(freq)]
    if not funcs:
        return np.zeros((len(dates), 0), dtype=np.float32)
    return np.stack([np.asarray(f(dates), dtype=np.float32) for f in funcs], axis=1)
