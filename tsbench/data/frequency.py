"""The frequency of a series' timestamps: pandas' own inference, or a given alias checked
against the data, and the regular index the timestamps lie on (with its gaps)."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import BaseOffset, Tick

from tsbench.counted import counted
from tsbench.data.timefeatures import calendar
from tsbench.errors import ConfigError, DataError

#: The fewest rows from which a frequency can be inferred.
MIN_ROWS = 3
#: Rows per stretch when the frequency of a series with gaps is inferred piecewise: long
#: enough to tell business days from days, and the fewest pandas infers from.
_PIECES_ROWS = (8, 3)
#: Windows tried (evenly spread over the series).
_PIECES = 24
#: A regular index may hold at most this many times the rows of the data: beyond, the
#: frequency is finer than the data's and most of the series would be invented.
_MAX_FILL_RATIO = 2

_EXAMPLES = "h, 15min, D, B, W-SUN, MS, ME, QE, YS"


@dataclass(frozen=True)
class Timeline:
    """The frequency of a series (its pandas alias) and the regular index from its first to
    its last timestamp; ``missing`` are the steps of that index the data lacks."""

    freq: str
    index: pd.DatetimeIndex
    missing: pd.DatetimeIndex


def parse_freq(alias: str, field: str) -> BaseOffset:
    """The pandas offset of ``alias``; an unknown, outdated or unsupported alias is a
    :class:`ConfigError` naming ``field``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a deprecated alias ('d') fails, as it soon will
        try:
            offset = to_offset(alias)
        except (ValueError, Warning) as exc:
            hint = re.search(r"Did you mean [^?]+\?|[Pp]lease use '[^']+' instead", str(exc))
            problem = (f"'{alias}' is a deprecated pandas frequency alias"
                       if isinstance(exc, Warning) else
                       f"'{alias}' is not a pandas frequency alias")
            raise ConfigError(field, problem + (f" ({hint.group(0)})" if hint else ""),
                              f"use one such as {_EXAMPLES}, or null to infer it from the "
                              f"timestamps") from None
    try:
        calendar(offset)
    except ValueError as exc:
        raise ConfigError(field, f"'{alias}': {exc}",
                          f"use seconds to years, e.g. {_EXAMPLES}") from None
    return offset


def infer_offset(dates: pd.DatetimeIndex) -> BaseOffset | None:
    """pandas' inferred frequency of ``dates`` (at least 3), or None when irregular."""
    with pd.option_context("future.infer_freq_returns_offset", True):
        return pd.infer_freq(dates)


def timeline(dates: pd.DatetimeIndex, given: str | None, source: str) -> Timeline:
    """The frequency of sorted, unique ``dates`` (3 or more): ``given`` (``dataset.freq``)
    when it describes them, else pandas' inference; a series with gaps gets the frequency
    of its regular stretches. Errors name both frequencies when they disagree."""
    found = _infer(dates)
    if given is not None:
        offset = parse_freq(given, "dataset.freq")
        index = _regular_index(dates, offset)
        if index is None:
            alias = f" ({offset.freqstr})" if offset.freqstr != given else ""
            sparse = None if found is not None else _sparse_grid(dates, offset)
            if sparse is not None:
                raise ConfigError(
                    "dataset.freq",
                    f"'{given}'{alias} holds every timestamp of {source}, but most of its "
                    f"steps are missing: its index from the first to the last timestamp holds "
                    f"{sparse} rows, {sparse / len(dates):.1f} times the file's {len(dates)} "
                    f"(at most {_MAX_FILL_RATIO} times: beyond, most of the series would be "
                    f"invented)",
                    "resample the file to a frequency its rows fill (e.g. D for working hours "
                    "alone), or add the missing rows",
                )
            data_freq = _describe(dates, found)
            raise ConfigError(
                "dataset.freq",
                f"'{given}'{alias} does not match the timestamps of {source}: "
                f"their frequency is {data_freq}",
                f"set dataset.freq={found[0].freqstr}, or null to infer it"
                if found is not None else "resample the file to one frequency",
            )
    elif found is not None:
        offset, index = found
    else:
        raise DataError(
            f"{source}: the timestamps have no regular frequency ({_describe(dates, None)}) "
            f"-> resample the file to one frequency, or set dataset.freq if the rows lie on "
            f"one with gaps (at most as many missing steps as rows)"
        )
    try:
        calendar(offset)
    except ValueError as exc:
        fix = ("resample the file to seconds or coarser, or check dataset.date_unit"
               if isinstance(offset, Tick) else
               f"resample the file to a frequency such as {_EXAMPLES} (every hour of the day "
               f"for hourly data, not business hours alone)")
        raise DataError(
            f"{source}: the timestamps' frequency {offset.freqstr} is not supported ({exc}) "
            f"-> {fix}"
        ) from None
    return Timeline(offset.freqstr, index, index.difference(dates))


def _infer(dates: pd.DatetimeIndex) -> tuple[BaseOffset, pd.DatetimeIndex] | None:
    """pandas' frequency of ``dates`` and their regular index; for a series with gaps, the
    frequency pandas infers on short stretches of it on whose index every date lies (the
    one with the fewest missing steps); None when irregular."""
    inferred = infer_offset(dates)
    if inferred is not None:
        return inferred, dates
    candidates: dict[str, BaseOffset] = {}
    for rows in _PIECES_ROWS:
        if rows > len(dates):
            continue
        for start in np.unique(np.linspace(0, len(dates) - rows, _PIECES).astype(int)):
            offset = infer_offset(dates[start : start + rows])
            if offset is not None:
                candidates.setdefault(offset.freqstr, offset)
    fits = [(offset, index) for offset in candidates.values()
            if (index := _regular_index(dates, offset)) is not None]
    return min(fits, key=lambda fit: len(fit[1])) if fits else None


def _regular_index(dates: pd.DatetimeIndex, offset: BaseOffset) -> pd.DatetimeIndex | None:
    """The ``offset`` index from the first to the last date, if every date lies on it and
    it is no finer than the data (at most ``_MAX_FILL_RATIO`` times its rows)."""
    limit = _MAX_FILL_RATIO * len(dates)
    if isinstance(offset, Tick) and (dates[-1] - dates[0]) // pd.Timedelta(offset) >= limit:
        return None
    index = pd.date_range(dates[0], dates[-1], freq=offset, unit=dates.unit)
    if len(index) > limit or len(index) == 0 or index[0] != dates[0]:
        return None
    return index if bool(dates.isin(index).all()) else None


def _sparse_grid(dates: pd.DatetimeIndex, offset: BaseOffset) -> int | None:
    """The length of the ``offset`` index from the first to the last of ``dates`` (with no
    regular frequency of their own) where every date lies on it, which then holds more than
    ``_MAX_FILL_RATIO`` times their rows (hours of the working day on an hourly grid); None
    where some date does not."""
    if isinstance(offset, Tick):
        step = pd.Timedelta(offset)
        on_grid = bool(((dates - dates[0]) % step == pd.Timedelta(0)).all())
        return (dates[-1] - dates[0]) // step + 1 if on_grid else None
    index = pd.date_range(dates[0], dates[-1], freq=offset, unit=dates.unit)
    on_grid = len(index) > 0 and index[0] == dates[0] and bool(dates.isin(index).all())
    return len(index) if on_grid else None


def _describe(dates: pd.DatetimeIndex, found: tuple[BaseOffset, pd.DatetimeIndex] | None
              ) -> str:
    """The data's frequency in words: its alias (and gaps), or how its steps vary."""
    if found is not None:
        offset, index = found
        gaps = len(index) - len(dates)
        return offset.freqstr + (f" with {counted(gaps, 'missing step')}" if gaps else "")
    steps = pd.Series(dates[1:] - dates[:-1])
    common = steps.mode().iloc[0]
    odd = np.flatnonzero((steps != common).to_numpy())
    if not odd.size:
        return f"irregular: steps of {_span(common)}"
    row = int(odd[0]) + 1
    return (f"irregular: most steps are {_span(common)}, but row {row} ({dates[row]}) comes "
            f"{_span(steps.iloc[row - 1])} after the row before")


def _span(step: pd.Timedelta) -> str:
    """A time step as a pandas alias: 56min, 3h, 31D."""
    return to_offset(step).freqstr
