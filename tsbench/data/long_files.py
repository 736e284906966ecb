"""Tell a long CSV (one row per series and timestamp) from a wide one with a stray row, and
say the pivot that widens it: aggregating a long file's duplicated timestamps, or sorting
its rows by time, would mix its series into one."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from tsbench.counted import counted
from tsbench.data.frequency import MIN_ROWS


def long_key(frame: pd.DataFrame, dates: pd.DatetimeIndex, date_col: str,
             measured: set[str]) -> str | None:
    """The column that names the series of a long file whose timestamps repeat or go back
    in time; None where none does. The column must :func:`name_series`, and the file must
    be laid out by it throughout, not hold a stray duplicated row whose flag or note
    happens to differ: either most rows that could share their timestamp with another
    series do (:func:`_shares_timestamps`: every site at every time, or staggered sites
    where their times overlap), or the rows are sorted by the column, then by time, each
    series going back in time to its own start (:func:`_sorted_by_series`). A text column
    is preferred to a numeric one; of several, the one with the fewest values."""
    keys = [column for column in frame.columns if column != date_col
            and name_series(frame[column], dates, measured=str(column) in measured)
            and (_shares_timestamps(frame[column], dates)
                 or _sorted_by_series(frame[column], dates))]
    if not keys:
        return None
    return str(min(keys, key=lambda column: (is_numeric_dtype(frame[column]),
                                             frame[column].nunique())))


def name_series(values: pd.Series, dates: pd.DatetimeIndex, measured: bool = False) -> bool:
    """Whether ``values`` (a column of a file with timestamps ``dates``) could name the
    series of a long file: a value in every row, at least two values, each labelling a
    series of at least :data:`MIN_ROWS` rows (a free-text note or a one-off flag labels
    one or two), and no timestamp twice with one value. A numeric column must also hold
    whole numbers (site ids 101, 102) and not be ``measured`` (the target or one of
    ``dataset.columns``: a channel by the user's word)."""
    if is_bool_dtype(values) or values.isna().any():
        return False
    if is_numeric_dtype(values) and (measured or not bool((values % 1 == 0).all())):
        return False
    counts = values.value_counts()
    return (len(counts) >= 2 and int(counts.min()) >= MIN_ROWS and not pd.DataFrame(
        {"t": dates, "k": values.to_numpy()}).duplicated().any())


def _shares_timestamps(values: pd.Series, dates: pd.DatetimeIndex) -> bool:
    """Whether at least half the rows whose time lies within another series' span (its
    first to its last timestamp) share their timestamp with another row: true of a long
    file where its series overlap in time, whether every site reports at every time or
    sites start at different dates; false of a wide file with one duplicated row, whose
    other rows lie within the span of the rare flag's rows but share no timestamp."""
    stamps = dates.asi8
    spans = pd.DataFrame({"t": stamps, "k": values.to_numpy()}).groupby("k")["t"].agg(
        ["min", "max"])
    starts, ends = np.sort(spans["min"].to_numpy()), np.sort(spans["max"].to_numpy())
    covering = (np.searchsorted(starts, stamps, side="right")
                - np.searchsorted(ends, stamps, side="left"))  # its own series' span too
    overlapping = covering >= 2
    shared = np.asarray(dates.duplicated(keep=False)) & overlapping
    return bool(overlapping.any()) and 2 * int(shared.sum()) >= int(overlapping.sum())


def _sorted_by_series(values: pd.Series, dates: pd.DatetimeIndex) -> bool:
    """Whether the rows are sorted by ``values``, then by time, as a long file often is:
    each value's rows one block, each block's timestamps increasing, and some block
    overlapping the one above it in time (so time goes back at a series' start): exports of
    one series for two years, appended out of order and labelled by file, do not."""
    key = values.to_numpy()
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    if len(starts) != values.nunique():
        return False
    stamps = dates.asi8
    ends = np.r_[starts[1:], len(key)] - 1
    increasing = np.diff(stamps) > 0
    increasing[starts[1:] - 1] = True  # a block's first row may go back
    first, last = stamps[starts], stamps[ends]
    overlapping = (first[1:] < last[:-1]) & (last[1:] > first[:-1])
    return bool(increasing.all()) and bool(overlapping.any())


def pivot_advice(frame: pd.DataFrame, dates: pd.DatetimeIndex, date_col: str, key: str,
                 target: str) -> str:
    """``pivot it to one column per <key> value, e.g. df.pivot(...), and save that``. Where
    some series lacks some of the file's timestamps (staggered sites), the pivot leaves
    those cells empty: ``dataset.fillna=ffill`` forward-fills them, except a series' cells
    before its first value, which are refused; where a series starts after the first
    timestamp, the pivot is then forward-filled and those rows dropped in pandas (dropped
    before filling, the cells of sites reporting on alternate days would stay empty)."""
    values = target if target in frame.columns else "<value column>"
    pivot = f"df.pivot(index='{date_col}', columns='{key}', values='{values}')"
    empty = dates.nunique() * frame[key].nunique() - len(frame)
    if not empty:
        return f"pivot it to one column per {key} value, e.g. {pivot}, and save that"
    missing = (f"not every {key} has a row at every timestamp: the pivot leaves "
               f"{counted(empty, 'cell')} empty")
    firsts = pd.Series(dates.asi8).groupby(frame[key].to_numpy()).min()
    if not bool((firsts > dates.asi8.min()).any()):
        return (f"pivot it to one column per {key} value, e.g. {pivot}, and save that "
                f"({missing}, to fill in the file or forward-fill with dataset.fillna=ffill)")
    return (f"pivot it to one column per {key} value, forward-fill it and drop the rows "
            f"before every {key} has a value, e.g. {pivot}.ffill().dropna(), and save that "
            f"({missing}, and a {key}'s cells before its first row cannot be forward-filled)")
