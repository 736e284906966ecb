"""Calendar covariates ("timeF"): each feature scaled to [-0.5, 0.5]."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _hour(d: pd.DatetimeIndex) -> np.ndarray:
    return d.hour / 23.0 - 0.5


def _minute(d: pd.DatetimeIndex) -> np.ndarray:
    return d.minute / 59.0 - 0.5


def _day_of_week(d: pd.DatetimeIndex) -> np.ndarray:
    return d.dayofweek / 6.0 - 0.5


def _day_of_month(d: pd.DatetimeIndex) -> np.ndarray:
    return (d.day - 1) / 30.0 - 0.5


def _day_of_year(d: pd.DatetimeIndex) -> np.ndarray:
    return (d.dayofyear - 1) / 365.0 - 0.5


def _week_of_year(d: pd.DatetimeIndex) -> np.ndarray:
    return (d.isocalendar().week.to_numpy() - 1) / 52.0 - 0.5


def _month(d: pd.DatetimeIndex) -> np.ndarray:
    return (d.month - 1) / 11.0 - 0.5


_BY_FREQ = {
    "min": (_minute, _hour, _day_of_week, _day_of_month, _day_of_year),
    "h": (_hour, _day_of_week, _day_of_month, _day_of_year),
    "d": (_day_of_week, _day_of_month, _day_of_year),
    "w": (_day_of_month, _week_of_year),
    "m": (_month,),
}


def freq_family(freq: str) -> str:
    """Map a pandas-style alias ('15min', 'h', 'D', 'W', 'ME') to a feature family."""
    alias = freq.lower().lstrip("0123456789")
    for family in ("min", "h", "d", "w", "m"):
        if alias.startswith(family) or (family == "min" and alias in {"t", "s"}):
            return family
    return "h"


def time_features(dates: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """Return ``(rows, n_features)`` float32 calendar features for ``freq``."""
    funcs = _BY_FREQ[freq_family(freq)]
    return np.stack([np.asarray(f(dates), dtype=np.float32) for f in funcs], axis=1)


def seasonal_period(freq: str) -> int:
    """The natural season of a frequency: a day for sub-daily data, a week, a year."""
    alias = freq.lower()
    family = freq_family(freq)
    if family == "min":
        step = int("".join(ch for ch in alias if ch.isdigit()) or 1)
        return 24 * 60 // step
    return {"h": 24, "d": 7, "w": 52, "m": 12}[family]
