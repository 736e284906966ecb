"""Load a dataset config into a validated numeric series (target column last)."""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import BaseOffset, BusinessHour, Tick

from tsbench.config_values import number, whole
from tsbench.counted import counted, noun_for, word_for
from tsbench.data.frequency import MIN_ROWS, Timeline, infer_offset, parse_freq, timeline
from tsbench.data.long_files import long_key, name_series, pivot_advice
from tsbench.data.sources import DataFile, local_copies, resolve_file
from tsbench.data.splits import TEST_FRAC, TRAIN_FRAC, check_split_freq
from tsbench.data.synthetic import make_synthetic
from tsbench.data.timefeatures import time_features
from tsbench.data.utc_offsets import check_posix_offsets, check_zone, wall_text, without_offset
from tsbench.errors import ConfigError, DataError, TsbenchError, closest, closest_beside, either
from tsbench.shell_override import shell_override
from tsbench.user_paths import user_path

#: Units of epoch-number dates (``dataset.date_unit``).
DATE_UNITS = ("s", "ms", "us", "ns")
#: ``dataset.gaps``: missing = a skipped timestamp is a missing row (refused, or filled with
#: ``dataset.fillna=ffill``); keep = the rows are the series as published, whatever the dates.
GAPS = ("missing", "keep")
#: Characters that a file read with the wrong separator shows in its one column's name
#: (a comma last: the default, seen where ``dataset.sep`` was set to another).
_SEPARATORS = {";": ";", "\t": "\\t", "|": "|", ",": ","}


#: ``features``: M = every channel in and scored, S = the target alone, MS = every channel
#: in, the target (the last channel) scored.
FEATURES = ("M", "S", "MS")


def check_features(value: Any) -> None:
    """Refuse a ``features`` other than :data:`FEATURES`, with the one a typo meant."""
    if value not in FEATURES:
        raise ConfigError("features", f"unknown value {value!r}",
                          _meant("features", value, FEATURES) + "use M, S or MS")


class EmptyColumns(DataError):
    """Columns of a file that hold no value at all (``columns``, as named in the file); the
    fix names another ``target`` where the target is one of them, from the ``others``."""

    def __init__(self, source: str, columns: list[str], target: str = "",
                 others: list[str] | None = None) -> None:
        self.source, self.columns, self.target = source, columns, target
        self.others = others or []
        fix = (_another_target(target, self.others, "values") if target in columns else
               f"leave {word_for(len(columns), 'it', 'them')} out with dataset.columns=[...]")
        super().__init__(f"{source}: {noun_for(len(columns), 'column')} {columns} "
                         f"{word_for(len(columns), 'holds', 'hold')} no values (every cell is "
                         f"empty) -> {fix}")

    def __reduce__(self) -> tuple:  # from a launcher's worker, pickled
        return type(self), (self.source, self.columns, self.target, self.others)


def _another_target(target: str, usable: list[str], holding: str) -> str:
    """The fix for a ``target`` column that holds no numbers: another target among the
    ``usable`` columns (those ``holding`` numbers or values), kept with them alone in
    ``dataset.columns`` (the old target, left among the channels, is refused next)."""
    if not usable:
        return f"no column holds {holding}: check the file and its dataset settings"
    kept = (shell_override("dataset.columns", usable) if len(usable) <= NAMED_COLUMNS
            else f"dataset.columns=[...] naming the {len(usable)} columns of {holding}")
    return (f"the target '{target}' must hold {holding}: forecast a column that does, e.g. "
            f"{shell_override('dataset.target', usable[-1])} {kept}")


class EmptyTargetTail(DataError):
    """The last ``rows`` rows of a file hold no ``target`` value (``after``: the date of
    its last one): the future's rows, which a run cannot score."""

    def __init__(self, source: str, rows: int, target: str, after: str) -> None:
        self.source, self.rows, self.target, self.after = source, rows, target, after
        super().__init__(f"{self.where}: a row without its target cannot be scored, and "
                         "filling it would score an invented value -> drop "
                         f"{word_for(rows, 'that row', 'those rows')} from the file")

    @property
    def where(self) -> str:
        """``<file>: the last 2 rows of target 'OT' are empty (after <date>)``, or ``the
        last row ... is empty``."""
        rows = "the last row" if self.rows == 1 else f"the last {self.rows} rows"
        return (f"{self.source}: {rows} of target '{self.target}' "
                f"{word_for(self.rows, 'is', 'are')} empty (after {self.after})")

    def __reduce__(self) -> tuple:
        return type(self), (self.source, self.rows, self.target, self.after)


@dataclass(frozen=True)
class Series:
    """A multivariate series ready for splitting: rows in time order, one per step of
    ``freq`` (the data's pandas frequency alias; with ``dataset.gaps=keep`` a skipped step
    has no row), target last."""

    name: str
    #: ``(rows, channels)`` float64, as the file holds them: the scaler is fitted and
    #: applied in float64 (float32 would round a large offset's small movement away).
    values: np.ndarray
    dates: pd.DatetimeIndex
    columns: list[str]
    freq: str
    split: str
    train_frac: float = TRAIN_FRAC
    test_frac: float = TEST_FRAC
    #: Calendar features as for this frequency instead of ``freq`` (``dataset.calendar_freq``).
    calendar_freq: str | None = None
    #: ``(rows, channels)``: True where ``dataset.fillna`` filled the cell (None: none was).
    filled: np.ndarray | None = None
    #: How timestamps whose UTC offset changes were read: ``utc`` (the instants) or
    #: ``local`` (the local calendar, offsets dropped); None where no offset changes.
    changing_offsets: str | None = None

    def time_features(self, rows: slice = slice(None)) -> np.ndarray:
        """Calendar features ``(rows, n_marks)`` of the chosen rows."""
        return time_features(self.dates[rows], self.calendar_freq or self.freq)


def _synthetic_settings(cfg: Any) -> dict[str, Any]:
    """``dataset=synthetic``'s numbers, each refused by name where it is none or out of
    range."""
    settings = {key: whole(cfg[key], f"dataset.{key}") for key in ("n_rows", "n_vars", "seed")}
    settings.update({key: number(cfg[key], f"dataset.{key}") for key in ("noise", "trend")})
    settings["periods"] = [number(p, "dataset.periods") for p in cfg.periods]
    for key, least in (("n_rows", 1), ("n_vars", 1), ("noise", 0)):
        if settings[key] < least:
            raise ConfigError(f"dataset.{key}", f"must be >= {least}, got {cfg[key]}")
    if any(p < 2 for p in settings["periods"]):
        raise ConfigError("dataset.periods", f"each period must be >= 2 steps, got "
                          f"{list(cfg.periods)}")
    return settings


def load_series(cfg: Any, known: Path | None = None) -> Series:
    """Read the dataset described by ``cfg`` (the ``dataset`` config node); ``known``: where
    a finished run read its published file (:func:`~tsbench.data.sources.resolve_file`)."""
    name = str(cfg.name)
    if name == "synthetic":
        frame = make_synthetic(**_synthetic_settings(cfg), freq=str(cfg.get("freq") or "h"))
        source = "synthetic series"
    elif name == "csv":
        if not cfg.get("path"):
            raise ConfigError("dataset.path", "is required for dataset=csv",
                              "add dataset.path=/path/to/file.csv")
        path = user_path(cfg.path)
        frame = _read_csv(path, cfg)
        source = str(path)
    elif cfg.get("file"):
        path = resolve_file(DataFile.of(cfg), known)
        frame = _read_csv(path, cfg)
        source = str(path)
    else:
        raise ConfigError(
            "dataset.file", f"dataset '{name}' names no file",
            "give dataset.file and dataset.url (as conf/dataset/etth1.yaml does), or use "
            "dataset=csv dataset.path=<file> for your own CSV",
        )
    return _to_series(frame, cfg, source)


def csv_columns(cfg: Any) -> list[str] | None:
    """The column names of the dataset's CSV file (``cfg``: the ``dataset`` config node) as
    :func:`load_series` reads them, from its header alone: ``dataset.path`` of
    ``dataset=csv``, a published dataset's copy on disk (not checked against its digest,
    nor downloaded). None for the synthetic series, a file not on disk, or a header that
    cannot be read so (the run then says why)."""
    if str(cfg.name) == "csv":
        path = user_path(cfg.path) if cfg.get("path") else None
    else:
        found = [p for p, _ in local_copies(DataFile.of(cfg)) if p.is_file()] if cfg.get(
            "file") else []
        path = found[0] if found else None
    if path is None:
        return None
    try:
        sep = _separators(cfg)[0]
        return [str(c) for c in pd.read_csv(path, sep=sep, nrows=0).columns]
    except (OSError, ValueError, TsbenchError):  # pandas' parser errors are ValueErrors
        return None


def _near_file(path: Path) -> str:
    """``did you mean dataset.path=<file>? Else `` for a file of ``path``'s folder whose name
    is close to its name ("" where none is, or the folder does not exist)."""
    meant = closest_beside(path)
    return _did_you_mean("dataset.path", [str(meant)] if meant else [])


def _read_csv(path: Path, cfg: Any) -> pd.DataFrame:
    if path.is_dir():
        raise DataError(f"dataset.path: {path} is a folder, not a file -> give the path of "
                        f"the CSV file itself")
    if not path.is_file():
        where = "" if path.is_absolute() else f" (read from the working directory {Path.cwd()})"
        raise DataError(f"dataset.path: file {path} does not exist{where} -> "
                        f"{_near_file(path)}check the path")
    sep, decimal, thousands = _separators(cfg)
    # with a date format, the dates as written (20240131 is text, not a number)
    text = {str(cfg.get("date_col", "date")): str} if cfg.get("date_format") else None
    try:
        frame = pd.read_csv(path, sep=sep, decimal=decimal, thousands=thousands, dtype=text)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        _check_separator(path, sep, decimal)  # '1,5' in a ';'-file read at ',': rows differ
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path} is not a readable CSV ({first}) -> check the file") from None
    if frame.shape[1] == 1:
        _check_separator(path, sep, decimal)
    return frame


def _check_separator(path: Path, sep: str, decimal: str) -> None:
    """Raise the :class:`DataError` naming ``dataset.sep`` (and ``dataset.decimal`` where the
    numbers have decimal commas) for a file whose header holds no ``sep`` but another
    separator."""
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline().rstrip("\r\n")
    if sep in header:
        return
    for char, shown in _SEPARATORS.items():
        if char in header:
            fix = f"\"dataset.sep='{shown}'\""
            if decimal != "," and _has_decimal_commas(path, char):
                fix += " \"dataset.decimal=','\" (its numbers have decimal commas)"
            raise DataError(
                f"dataset.sep: {path} reads as one column named {header!r}; its fields "
                f"look separated by '{shown}', not {sep!r} -> add {fix} to the command line"
            )


def _has_decimal_commas(path: Path, sep: str, lines: int = 20) -> bool:
    """Whether the first data ``lines`` of ``path``, split by ``sep``, hold a number written
    with a decimal comma (``1,5``), as a European CSV's do: then the file needs both settings,
    said at once rather than one refusal after the other. ``12,345`` may be a thousand
    separator's as well: no evidence either way (the column's own error names both)."""
    decimal = re.compile(r"[-+]?\d*,\d+")
    thousands = re.compile(r"[-+]?[1-9]\d{0,2}(,\d{3})+")  # 0,500 is a decimal comma
    with open(path, encoding="utf-8", errors="replace") as handle:
        next(handle, None)  # the header
        for line in itertools.islice(handle, lines):
            fields = (field.strip().strip('"') for field in line.split(sep))
            if any(decimal.fullmatch(f) and not thousands.fullmatch(f) for f in fields):
                return True
    return False


def _separators(cfg: Any) -> tuple[str, str, str | None]:
    """``dataset.sep`` (``\\t`` for a tab), ``dataset.decimal`` and ``dataset.thousands``
    (None: none), each refused where pandas would silently leave the numbers unread."""
    sep = str(cfg.get("sep") or ",").replace("\\t", "\t")
    decimal = str(cfg.get("decimal") or ".")
    if len(decimal) != 1 or decimal == sep:
        marks = " or ".join(repr(mark) for mark in (".", ",") if mark != sep)
        comma = (", and for decimal commas a file separated by ';' with \"dataset.sep=';'\""
                 if sep == "," else "")
        raise ConfigError("dataset.decimal", f"must be one character other than the "
                          f"separator {sep!r}, got {decimal!r}", f"use {marks}{comma}")
    thousands = cfg.get("thousands")
    if thousands is not None and (len(str(thousands)) != 1 or str(thousands) == decimal):
        marks = " or ".join(repr(mark) for mark in (",", ".") if mark != decimal)
        raise ConfigError("dataset.thousands", f"must be one character other than the "
                          f"decimal mark {decimal!r}, got {thousands!r}",
                          f"use {marks}, or null for none")
    return sep, decimal, None if thousands is None else str(thousands)


def _meant(field: str, value: Any, choices: Sequence[str]) -> str:
    """``did you mean <field>=<choice>? Else `` for a misspelt ``value`` ("" otherwise)."""
    meant = closest(str(value), choices)
    return _did_you_mean(field, [meant] if meant else [])


def _meant_column(field: str, name: str, columns: Sequence[str]) -> str:
    """``did you mean <field>=<column>? Else `` for a column ``name`` that the file's
    ``columns`` lack, naming :func:`_columns_meant`'s ("" where none)."""
    return _did_you_mean(field, _columns_meant(name, columns))


def _did_you_mean(field: str, meant: list[str]) -> str:
    """``did you mean <field>=<value>? Else `` for each value ``meant`` ("" for none), each
    written as the shell and Hydra take it (a column's name may hold spaces or ``%``)."""
    if not meant:
        return ""
    return f"did you mean {either([shell_override(field, m) for m in meant])}? Else "


#: The most columns holding a name given that a "did you mean" names: more say little.
HOLDING_NAME = 4


def _columns_meant(name: str, columns: Sequence[str]) -> list[str]:
    """The columns a ``name`` the file lacks most likely meant: the one closest in spelling
    (:func:`~tsbench.errors.closest`), else those whose names hold it, case aside (``ILI``:
    ``% WEIGHTED ILI``, ``%UNWEIGHTED ILI`` and ``ILITOTAL``), where at most
    :data:`HOLDING_NAME` do; none else."""
    meant = closest(name, columns)
    if meant is not None:
        return [meant]
    holding = [c for c in columns if name.strip() and name.strip().lower() in c.lower()]
    return holding if len(holding) <= HOLDING_NAME else []


def _to_series(frame: pd.DataFrame, cfg: Any, source: str) -> Series:
    date_col = str(cfg.get("date_col", "date"))
    target = str(cfg.get("target", "OT"))
    if date_col not in frame.columns:
        raise DataError(
            f"dataset.date_col: column '{date_col}' not found in {source}; columns are "
            f"{list(frame.columns)} -> "
            + _meant_column("dataset.date_col", date_col, [str(c) for c in frame.columns])
            + "set dataset.date_col=<name of the date column>"
        )
    if len(frame) < MIN_ROWS:
        rows = ("no data rows, only a header" if frame.empty else
                f"only {counted(len(frame), 'data row')}")
        raise DataError(f"{source} has {rows}; a series needs {MIN_ROWS} rows to show its "
                        f"frequency, and seq_len + pred_len rows in each split -> use a "
                        f"longer series")
    dayfirst, date_format = bool(cfg.get("dayfirst", False)), cfg.get("date_format")
    dates, offsets_change = _parse_dates(frame[date_col], cfg.get("date_unit"), date_col,
                                         source, dayfirst=dayfirst, date_format=date_format)
    _check_order(dates, source, frame, date_col, target, _measured(cfg, target))
    data = _channels(frame.drop(columns=[date_col]), cfg.get("columns"), target, source,
                     date_col)
    data = _numeric(data, source, *_separators(cfg),
                    other_reading=lambda column: _pivot_instead(frame, dates, date_col,
                                                                column, target))
    _check_finite(data, source)
    fillna = cfg.get("fillna")
    if fillna not in (None, "ffill"):
        raise ConfigError("dataset.fillna", f"unknown value {fillna!r}",
                          _meant("dataset.fillna", fillna, ["ffill"]) + "use null or ffill")
    gaps = str(cfg.get("gaps") or "missing")
    if gaps not in GAPS:
        raise ConfigError("dataset.gaps", f"unknown value {gaps!r}",
                          _meant("dataset.gaps", gaps, GAPS) + f"use one of {GAPS}")
    freq = cfg.get("freq")
    given = None if freq is None else str(freq)
    changing_offsets = None
    if offsets_change:
        dates, changing_offsets = _offsets_reading(frame[date_col], dates, given, source,
                                                   dayfirst, date_format)
    try:
        line = timeline(dates, given, source)
    except TsbenchError:  # no frequency at all: dates read the wrong way round?
        if freq is None and not (dayfirst or date_format or cfg.get("date_unit")):
            _check_day_first(frame[date_col], dates, date_col, source)
        raise
    check_split_freq(str(cfg.split), line.freq)
    if len(line.missing) and gaps == "missing":
        if fillna is None:
            after = int(np.flatnonzero(dates != line.index[: len(dates)])[0]) - 1
            skipped = len(line.missing)
            raise DataError(
                f"{source}: {counted(skipped, 'step')} of its frequency {line.freq} "
                f"{word_for(skipped, 'is', 'are')} missing (the first gap follows row {after}, "
                f"{dates[after]}, whose next row is {dates[after + 1]}) -> " + _daylight_saving(
                    f"add {word_for(skipped, 'that row', 'those rows')}, or set "
                    f"dataset.fillna=ffill to forward-fill {word_for(skipped, 'it', 'them')} "
                    f"on a regular {line.freq} index", "skipped", line.missing, dates)
            )
        data = data.set_axis(dates).reindex(line.index).reset_index(drop=True)
        dates = line.index
    empty_cells = data.isna().to_numpy()
    data = _fill(data, fillna, dates, source)
    calendar_freq = cfg.get("calendar_freq")
    return Series(
        name=str(cfg.name), values=data.to_numpy(dtype=np.float64, copy=True),
        dates=pd.DatetimeIndex(dates), columns=list(data.columns), freq=line.freq,
        split=str(cfg.split),
        train_frac=number(cfg.get("train_frac", TRAIN_FRAC), "dataset.train_frac"),
        test_frac=number(cfg.get("test_frac", TEST_FRAC), "dataset.test_frac"),
        calendar_freq=None if calendar_freq is None else parse_freq(
            str(calendar_freq), "dataset.calendar_freq").freqstr,
        filled=empty_cells if empty_cells.any() else None,
        changing_offsets=changing_offsets,
    )


def _offsets_reading(column: pd.Series, instants: pd.DatetimeIndex, given: str | None,
                     source: str, dayfirst: bool, date_format: Any
                     ) -> tuple[pd.DatetimeIndex, str]:
    """Timestamps of ``column`` whose UTC offset changes, and how they were read: as their
    ``instants`` in UTC (``utc``) where those lie on a regular grid (hourly data across
    daylight saving), else on their local calendar (``local``: each at the wall-clock time
    written, its offset dropped) where that is sorted, unique and regular at a step of a
    day or more. Local midnights across a daylight-saving change are 23 h or 25 h apart in
    UTC and fall at 23:00 UTC in winter, 22:00 in summer (pandas calls such month starts
    month ends all the same). Else in UTC, to be refused there: a sub-daily series regular
    only in local time skips or repeats real hours."""
    try:
        if _on_grid(timeline(instants, given, source)):
            return instants, "utc"
    except TsbenchError:
        pass
    wall = _wall_times(column, dayfirst, date_format)
    if wall is None or not (wall.is_monotonic_increasing and wall.is_unique):
        return instants, "utc"
    try:
        daily = _daily_or_coarser(to_offset(timeline(wall, given, source).freq))
    except TsbenchError:
        daily = False
    return (wall, "local") if daily else (instants, "utc")


def _on_grid(line: Timeline) -> bool:
    """Whether the index of ``line`` is its frequency's grid from its first timestamp, times
    of day included (pandas infers monthly and coarser frequencies from the dates alone)."""
    index = line.index
    return bool(index.equals(pd.date_range(index[0], periods=len(index), freq=line.freq,
                                           unit=index.unit)))


def _wall_times(column: pd.Series, dayfirst: bool, date_format: Any
                ) -> pd.DatetimeIndex | None:
    """Each timestamp of ``column`` at the local time written, its UTC offset dropped
    (:func:`~tsbench.data.utc_offsets.wall_text`: 2021-03-28T00:00:00+02:00 is 2021-03-28
    00:00). None where a timestamp has no offset, or its local time does not read."""
    wall = wall_text(column)
    if wall is None:
        return None
    fmt = None if date_format is None else without_offset(str(date_format))
    dates = pd.DatetimeIndex(_to_datetime(wall, errors="coerce", dayfirst=dayfirst,
                                          format=fmt))
    return None if dates.hasnans else dates


def _daily_or_coarser(offset: BaseOffset) -> bool:
    """Whether ``offset`` steps a day or more: D, B, W, MS, ...; not h, min or bh."""
    if isinstance(offset, Tick):  # h, min, s (and D before pandas 3)
        return pd.Timedelta(offset) >= pd.Timedelta(days=1)
    return not isinstance(offset, BusinessHour)


#: Hours at which local clocks repeat or skip an hour at a daylight-saving change: 02:00 in
#: Europe, 01:00 in North America, 23:00 or 00:00 where the change is at midnight (Chile).
DAYLIGHT_SAVING_HOURS = (23, 0, 1, 2, 3)


def _daylight_saving(fix: str, change: str, stamps: pd.DatetimeIndex,
                     dates: pd.DatetimeIndex) -> str:
    """``fix`` for the duplicated or missing ``stamps`` of the series ``dates``; where they
    look like local time's hour ``change`` (repeated, skipped) at a daylight-saving change,
    the UTC offsets first, as the fix (aggregating two hours, or adding one, would not be),
    and ``fix`` for times that are not local. Such stamps: naive times within one hour, at
    night, in a month such changes fall in, of a series with times of day (a duplicate day
    at 18:00 or of a daily series is no clock change)."""
    if stamps.tz is not None or not len(stamps):
        return fix
    clock_change = (stamps.max() - stamps.min() < pd.Timedelta(hours=1)
                    and stamps[0].month in (3, 4, 9, 10, 11)
                    and stamps[0].hour in DAYLIGHT_SAVING_HOURS
                    and not (dates == dates.normalize()).all())
    if not clock_change:
        return fix
    return (f"if these are local times (the clock {change} that hour at a daylight-saving "
            "change), write each time with its UTC offset, e.g. 2024-10-27 02:00:00+02:00, "
            f"which tsbench reads as an instant in UTC; else {fix}")


def _measured(cfg: Any, target: str) -> set[str]:
    """The columns the user names as measurements: ``dataset.target`` and
    ``dataset.columns``."""
    return {target, *(str(c) for c in cfg.get("columns") or [])}


def _check_order(dates: pd.DatetimeIndex, source: str, frame: pd.DataFrame, date_col: str,
                 target: str, measured: set[str]) -> None:
    """Refuse duplicated or unsorted timestamps; where a column names the series of a long
    file (:func:`~tsbench.data.long_files.long_key`), with the pivot that widens it."""
    duplicated = np.flatnonzero(np.asarray(dates.duplicated()))
    if duplicated.size:
        stamp = dates[int(duplicated[0])]
        rows = _rows(np.flatnonzero(np.asarray(dates == stamp)))
        said = (f"{source}: {counted(duplicated.size, 'duplicate timestamp')} (first {stamp} "
                f"at {rows})")
        _refuse_if_long(said, frame, dates, date_col, target, measured)
        raise DataError(f"{said} -> " + _daylight_saving(
            "keep one row per timestamp (e.g. aggregate duplicates)", "repeated",
            dates[duplicated], dates))
    steps = np.diff(dates.asi8)
    backwards = np.flatnonzero(steps < 0)
    if backwards.size:
        row = int(backwards[0]) + 1
        said = (f"{source}: timestamps are not sorted (row {row}, {dates[row]}, comes before "
                f"row {row - 1}, {dates[row - 1]})")
        _refuse_if_long(said, frame, dates, date_col, target, measured)
        raise DataError(f"{said} -> sort the file by its date column")


def _rows(rows: np.ndarray, shown: int = 4) -> str:
    """``row 3``, ``rows 2 and 3``, ``rows 0, 1, 2 and 3``; beyond ``shown`` rows the first
    three and how many more."""
    named = [str(row) for row in rows[: shown if len(rows) <= shown else shown - 1]]
    if len(named) < len(rows):
        named.append(f"{len(rows) - len(named)} more")
    return (f"row {named[0]}" if len(named) == 1 else
            f"rows {', '.join(named[:-1])} and {named[-1]}")


def _refuse_if_long(said: str, frame: pd.DataFrame, dates: pd.DatetimeIndex, date_col: str,
                    target: str, measured: set[str]) -> None:
    """Raise the :class:`DataError` that tells a long file to pivot, not aggregate or sort
    (either would mix its series), after ``said`` (its duplicated or unsorted timestamps);
    nothing where no column names its series."""
    key = long_key(frame, dates, date_col, measured)
    if key is not None:
        raise DataError(
            f"{said}: the file looks long (one row per {key} and timestamp), but tsbench "
            f"reads wide files (one row per timestamp, one column per series) -> "
            + pivot_advice(frame, dates, date_col, key, target)
        )


#: One of the values a date column must hold, as a message names it.
ONE_OF = {"dates": "a date", "epoch numbers": "an epoch number"}


def _parse_dates(column: pd.Series, unit: Any, date_col: str, source: str,
                 dayfirst: bool = False, date_format: Any = None
                 ) -> tuple[pd.DatetimeIndex, bool]:
    """Date strings (in ``date_format``, or inferred with ``dayfirst``: 01/02/2024 is 1
    February; offsets that change, as local time across daylight saving, read in UTC, for
    :func:`_offsets_reading` to choose), or epoch numbers in ``unit``
    (``dataset.date_unit``); and whether the offsets change."""
    fmt = None if date_format is None else str(date_format)
    if unit is not None and fmt is not None:
        raise ConfigError("dataset.date_format", f"{fmt!r} is for date strings, but "
                          f"dataset.date_unit={unit} reads epoch numbers",
                          "set one of them to null")
    if unit is not None:
        if str(unit) not in DATE_UNITS:
            raise ConfigError("dataset.date_unit", f"unknown unit {unit!r}",
                              f"use one of {DATE_UNITS}, or null for date strings")
        numbers = pd.to_numeric(column, errors="coerce")
        what, fix = "epoch numbers", "or set dataset.date_unit=null for date strings"
        bad = np.flatnonzero(numbers.isna().to_numpy())
        if not bad.size:
            try:
                return pd.DatetimeIndex(pd.to_datetime(numbers, unit=str(unit))), False
            except (OverflowError, ValueError) as exc:
                first = str(exc).splitlines()[0]
                raise DataError(
                    f"dataset.date_unit: column '{date_col}' of {source} read as epoch {unit} "
                    f"gives dates out of range ({first}) -> check dataset.date_unit"
                ) from None
    else:
        if is_numeric_dtype(column) and not is_bool_dtype(column):
            if _yyyymmdd(column):
                raise DataError(
                    f"dataset.date_format: column '{date_col}' of {source} holds numbers "
                    f"(first {column.iloc[0]}) that read as dates written YYYYMMDD -> set "
                    "\"dataset.date_format='%Y%m%d'\" if they are such dates, or "
                    "dataset.date_unit to s, ms, us or ns if they count time since 1970-01-01")
            years = column.between(1000, 2999).all() and (column % 1 == 0).all()
            raise DataError(
                f"dataset.date_unit: column '{date_col}' of {source} holds numbers (first "
                f"{column.iloc[0]}), not dates -> set dataset.date_unit to s, ms, us or ns "
                f"if they count time since 1970-01-01"
                + (", or write years as dates (1990 -> 1990-01-01)" if years else "")
            )
        offsets_change = False
        try:
            dates = _to_datetime(column, errors="coerce", dayfirst=dayfirst, format=fmt)
        except ValueError:  # UTC offsets that change (daylight saving): the instants in UTC
            try:
                dates = _to_datetime(column, errors="coerce", dayfirst=dayfirst, format=fmt,
                                     utc=True)
                offsets_change = True
            except ValueError as exc:  # a bad directive of dataset.date_format
                if fmt is None:
                    raise
                raise ConfigError("dataset.date_format", f"{fmt!r}: {exc}",
                                  "use strptime codes, e.g. '%Y%m%d' for 20240131") from None
        what, fix = "dates", "" if fmt is None else f"or check dataset.date_format={fmt!r}"
        bad = np.flatnonzero(dates.isna().to_numpy())
        if not bad.size:
            if dates.dt.tz is not None:
                check_posix_offsets(column, date_col, source)
            return pd.DatetimeIndex(dates), offsets_change
        check_zone(column, int(bad[0]), date_col, source)
        if fmt is None and not dayfirst and _to_datetime(
                column, errors="coerce", dayfirst=True).notna().all():
            row = int(bad[0])  # the rows before it were read month-first (01/02 as 2 January)
            raise DataError(
                f"dataset.dayfirst: column '{date_col}' in {source} holds day-first dates "
                f"(row {row}: {column.iloc[row]!r}), read month-first until then -> set "
                "dataset.dayfirst=true")
    if bad.size == len(column):  # not one value parses: the wrong column, not bad rows
        raise DataError(
            f"dataset.date_col: none of the {bad.size} values of column '{date_col}' in "
            f"{source} are {what} (first {column.iloc[0]!r}) -> set dataset.date_col to the "
            f"column that holds the {what}, or fix column '{date_col}'"
            + (f", {fix}" if fix else "")
        )
    row = int(bad[0])
    raise DataError(
        f"dataset.date_col: {counted(bad.size, 'value')} of column '{date_col}' in {source} "
        f"{word_for(bad.size, 'is not ' + ONE_OF[what], 'are not ' + what)} (first at row "
        f"{row}: {column.iloc[row]!r}) -> fix or drop "
        f"{word_for(bad.size, 'that row', 'those rows')}"
        + (f", {fix}" if fix else "")
    )


def _check_day_first(column: pd.Series, dates: pd.DatetimeIndex, date_col: str,
                     source: str) -> None:
    """Raise a :class:`DataError` naming ``dataset.dayfirst`` where dates read month-first
    have no regular frequency and day-first have one: monthly dates written 01.02.2000 hold
    no day past 12, so reading them as 2 January passed unseen until the frequency. A
    column pandas cannot read day-first at all (offsets that change) is left as it is."""
    try:
        day_first = pd.DatetimeIndex(_to_datetime(column, errors="coerce", dayfirst=True))
    except (ValueError, TypeError):
        return
    if day_first.hasnans or day_first.equals(dates) or not day_first.is_monotonic_increasing:
        return
    offset = infer_offset(day_first) if day_first.is_unique else None
    if offset is not None:
        raise DataError(
            f"dataset.dayfirst: the dates of column '{date_col}' in {source} read month-first "
            f"({column.iloc[1]} as {dates[1].date()}) have no regular frequency, day-first "
            f"they are {offset.freqstr} -> set dataset.dayfirst=true if they are written "
            "day-first")


def _to_datetime(column: pd.Series, **kwargs: Any) -> pd.Series:
    """``pd.to_datetime`` without its warnings that it found no one format for the column
    (01/31/22) and parses each value alone, or that it read the dates day-first though
    ``dayfirst`` was not given (31.01.2022, which reads one way only): the same dates, and
    a column read two ways shows as unsorted or irregular timestamps, which are refused,
    so neither warning (with loading.py's path) is a message for the user."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Could not infer format", UserWarning)
        warnings.filterwarnings("ignore", "Parsing dates in .* format when dayfirst=",
                                UserWarning)
        return pd.to_datetime(column, **kwargs)


def _yyyymmdd(column: pd.Series) -> bool:
    """Whether every number of ``column`` reads as a date from 1900 to 2100 written YYYYMMDD
    (20240131). Each is a valid epoch count too, so only the user can say which they are."""
    if not ((column % 1 == 0).all() and column.between(19000101, 21001231).all()):
        return False
    text = column.astype("int64").astype(str)
    return bool(pd.to_datetime(text, format="%Y%m%d", errors="coerce").notna().all())


def _channels(data: pd.DataFrame, wanted: Any, target: str, source: str,
              date_col: str) -> pd.DataFrame:
    """The channels to keep (``dataset.columns``, else all; ``data`` without the dates'
    column ``date_col``), the target moved last."""
    columns = [str(c) for c in data.columns]
    if target not in data.columns:
        raise DataError(
            f"dataset.target: column '{target}' not found in {source}; columns are "
            f"{columns} -> " + _meant_column("dataset.target", target, columns)
            + "set dataset.target=<column to forecast>"
        )
    if wanted:
        names = [str(c) for c in wanted]
        missing = [c for c in names if c not in data.columns]
        if missing:
            raise DataError(f"dataset.columns: {missing} not in {source}; columns are "
                            f"{columns} -> {_columns_fix(missing, columns, date_col)}")
        if target not in names:
            raise ConfigError("dataset.columns", f"{names} leaves out the target '{target}'",
                              f"add '{target}' to dataset.columns, or set dataset.target to "
                              f"one of them")
        data = data[names]
    return data[[c for c in data.columns if c != target] + [target]]


def _columns_fix(missing: list[str], columns: list[str], date_col: str) -> str:
    """The fix for ``dataset.columns`` naming the ``missing`` columns: the file's own
    ``columns`` (the dates' column ``date_col`` is read as the timestamps, not a channel)
    and, for a misspelling, the column meant."""
    fix = "list only columns it has in dataset.columns=[...], or drop dataset.columns to read "
    fix += "them all"
    if date_col in missing:
        fix += f" ('{date_col}' is dataset.date_col, read as the timestamps: leave it out)"
    meant = [f"{either([repr(c) for c in found])} for {name!r}" for name in missing
             if name != date_col and (found := _columns_meant(name, columns))]
    return fix + (f" (did you mean {', '.join(meant)}?)" if meant else "")


def _numeric(data: pd.DataFrame, source: str, sep: str, decimal: str,
             thousands: str | None, other_reading: Callable[[str], str]) -> pd.DataFrame:
    """The channels as numbers; a column of text is refused, with the number marks that
    read it, another target where it is the target, or with ``other_reading`` of its name
    (what else it may be)."""
    converted = data.apply(pd.to_numeric, errors="coerce")
    introduced = converted.isna() & data.notna()
    bad_cols = [c for c in data.columns if introduced[c].any()]
    if bad_cols:
        col = bad_cols[0]
        row = int(np.flatnonzero(introduced[col].to_numpy())[0])
        value = data[col].iloc[row]
        marks = (_number_marks_fix(value.strip(), sep, decimal)
                 if thousands is None and isinstance(value, str) else None)
        target = str(data.columns[-1])  # the channels end in the target
        numeric = [str(c) for c in data.columns
                   if c not in bad_cols and converted[c].notna().any()]
        fix = marks or ((_another_target(target, numeric, "numbers") if target in bad_cols else
                         "drop them or choose numeric ones with dataset.columns=[...]")
                        + other_reading(str(col)))
        raise DataError(
            f"{source}: non-numeric {noun_for(len(bad_cols), 'column')} {bad_cols} (e.g. "
            f"{value!r} in "
            f"'{col}' at row {row}) -> {fix}"
        )
    return converted


def _pivot_instead(frame: pd.DataFrame, dates: pd.DatetimeIndex, date_col: str, column: str,
                   target: str) -> str:
    """``; or, if '<column>' names the series (a long file ...), pivot ...`` where the text
    ``column`` could name the series of a long file whose sites never share a timestamp
    (site A on Mondays, site B on Tuesdays), which the rows' times alone cannot tell from
    a wide file's label (a weekday's name); "" otherwise (the target holds the values)."""
    if column == target or not name_series(frame[column], dates):
        return ""
    return (f"; or, if '{column}' names the series (a long file, one row per {column} and "
            f"timestamp), " + pivot_advice(frame, dates, date_col, column, target))


def _number_marks_fix(text: str, sep: str, decimal: str) -> str | None:
    """The settings that read ``text``, a number written with a decimal comma or a thousands
    separator (None: neither). In a comma-separated file a quoted '1,234' is far likelier a
    thousand, and a decimal comma needs another field separator."""
    if decimal == ",":
        return ("for '.' separating thousands add \"dataset.thousands='.'\" to the command "
                "line" if re.fullmatch(r"[-+]?\d{1,3}(\.\d{3})+(,\d+)?", text) else None)
    if decimal != "." or not re.fullmatch(r"[-+]?\d*,\d+(\.\d+)?", text):
        return None
    thousand = re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", text)
    if sep != ",":
        return ("for decimal commas add \"dataset.decimal=','\" to the command line"
                + (", or \"dataset.thousands=','\" if ',' separates thousands" if thousand
                   else ""))
    comma = ("a decimal comma needs a field separator other than ',': save the file "
             ";-separated, as European CSVs are, and add \"dataset.sep=';'\" "
             "\"dataset.decimal=','\"")
    return (f"if ',' separates thousands, add \"dataset.thousands=','\" to the command line "
            f"({comma})" if thousand else comma)


def _check_finite(data: pd.DataFrame, source: str) -> None:
    """inf, -inf and values beyond float32 would make every score NaN: refused."""
    values = data.to_numpy(dtype=np.float64)
    most = np.finfo(np.float32).max
    bad = (values > most) | (values < -most)  # inf included, NaN excluded
    if bad.any():
        rows, cols = np.nonzero(bad)
        value, row = values[rows[0], cols[0]], int(rows[0])
        problem = "non-finite" if np.isinf(value) else "beyond float32"
        count = int(bad.sum())
        raise DataError(
            f"{source}: {counted(count, f'{problem} value')} (first {value} in column "
            f"'{data.columns[cols[0]]}' at row {row}) -> replace "
            f"{word_for(count, 'it with a number', 'them with numbers')}, or empty "
            f"{word_for(count, 'that cell', 'those cells')} and set dataset.fillna=ffill"
        )


#: The most other columns a fix that leaves one column out names (a wide file's would not
#: fit a line).
NAMED_COLUMNS = 8


def _fill(data: pd.DataFrame, fillna: Any, dates: pd.DatetimeIndex, source: str
          ) -> pd.DataFrame:
    empty = [str(c) for c in data.columns if data[c].isna().all()]
    target = data.columns[-1]
    if empty:
        raise EmptyColumns(source, empty, str(target),
                           [str(c) for c in data.columns if str(c) not in empty])
    known = np.flatnonzero(data[target].notna().to_numpy())
    if known[-1] < len(data) - 1:  # rows after the target's last value: the future's
        raise EmptyTargetTail(source, len(data) - 1 - int(known[-1]), str(target),
                              str(dates[known[-1]]))
    if fillna == "ffill":
        data = data.ffill()
    missing = data.isna().to_numpy()
    if missing.any():
        rows, cols = np.nonzero(missing)
        column, row = data.columns[cols[0]], int(rows[0])
        if fillna:  # only leading values are left
            first = int(data[column].notna().to_numpy().argmax())
            others = [str(c) for c in data.columns if c != column]
            kept = shell_override("dataset.columns", others) if len(others) <= NAMED_COLUMNS \
                else f"dataset.columns=[...] naming the {len(others)} others"
            leave_out = f"leave it out with {kept}, or " if (
                column != target) else ""  # a late column: dropping rows loses every other's
            raise DataError(
                f"{source}: column '{column}' starts with {counted(first, 'missing value')} "
                f"(until {dates[first - 1]}) that ffill cannot fill -> {leave_out}drop "
                f"{word_for(first, 'that row', 'those rows')} (keep the rows from "
                f"{dates[first]} on)"
            )
        other = f", or leave column '{column}' out with dataset.columns=[...]" if (
            column != target) else ""
        count = int(missing.sum())
        them = word_for(count, "it", "them")
        raise DataError(
            f"{source}: {counted(count, 'missing value')} (first in column '{column}' at "
            f"row {row}, {dates[row]}) -> fill {them} in the file, or set dataset.fillna=ffill "
            f"to forward-fill {them}{other}"
        )
    return data
