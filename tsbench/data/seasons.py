"""The season a seasonal naive forecast repeats, from the data's frequency: shared by MASE's
scale, the validation reference and the unusual-validation check, which must agree on it."""

from __future__ import annotations

from tsbench.data.timefeatures import seasonal_period


def frequency_season(freq: str) -> int:
    """The data frequency's season in steps (24 hourly, 7 daily, 52 weekly, ...; 1 where it
    has none)."""
    try:
        return seasonal_period(freq) or 1
    except ValueError:
        return 1


def mase_season(freq: str, rows: int) -> int:
    """The season of MASE's naive forecast: :func:`frequency_season`, or 1 where ``rows``
    fitted rows hold no more than one."""
    season = frequency_season(freq)
    return season if rows > season else 1
