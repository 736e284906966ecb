"""UTC offsets as exports write them in timestamps (``+02:00``, ``+0200``, ``+02``, ``Z``,
``GMT+0200``, before a ctime year): the local wall-clock times without them, and the
writings pandas misreads or cannot read, refused naming the fix."""

from __future__ import annotations

import re

import pandas as pd

from tsbench.errors import DataError

#: The end of a time of day: ``02:00``, ``02:00:00.5``, or ISO basic ``T0200``, ``T020000``.
_TIME = r"\d:\d\d(?::\d\d(?:[.,]\d+)?)?|T\d{4}(?:\d\d(?:[.,]\d+)?)?"
#: A UTC offset pandas reads right: ``±hh``, ``±hhmm``, ``±hh:mm``, ``GMT±hh[:]mm``, ``Z``,
#: ``UTC``, ``GMT`` (not ``GMT±h``: :data:`_UNREADABLE`).
_OFFSET = r"(?:UTC|GMT)\s*[+-]\d\d:?\d\d|[+-]\d\d(?::?\d\d)?|Z|UTC|GMT"
#: A timestamp with its offset after the time of day, at the end or before a ctime year
#: (``Sun Mar 31 02:00:00 +0200 2024``).
_STAMP = re.compile(rf"(?P<wall>.*(?:{_TIME}))\s*(?:{_OFFSET})(?P<year>\s+\d{{4}})?")

#: UTC offsets in hours after GMT or UTC, which pandas reads the POSIX way round.
_POSIX = (re.compile(rf"(?:{_TIME})\s*(?:UTC|GMT)\s*[+-]\d{{1,2}}$"),
          "UTC offsets as GMT+h, which pandas reads the POSIX way round (GMT+2 as "
          "UTC-02:00)", "write them as +hh:mm (+02:00 for GMT+2)")
#: Writings of a zone pandas misreads or cannot read: (pattern, what it is, the fix).
_UNREADABLE = (
    _POSIX,
    (re.compile(rf"(?:{_TIME})\s*[+-]\d\d:?\d\d:?\d\d$"),
     "UTC offsets with seconds, which pandas cannot read",
     "write the offsets in hours and minutes (+00:53), or the times in UTC"),
    (re.compile(rf"(?:{_TIME})\s*(?:{_OFFSET})?\s*(?:\[[^\]]*\]|\([^)]*\))$"),
     "a time zone's name in brackets, which pandas cannot read",
     "remove the names in brackets, keeping the UTC offsets (+02:00)"),
    (re.compile(rf"(?:{_TIME})\s*(?!UTC$|GMT$)[A-Z]{{3,5}}$"),
     "time zones as abbreviations, which pandas cannot read",
     "write UTC offsets (+02:00) instead: an abbreviation may name several zones (CST: US "
     "Central or China)"),
)


def wall_text(column: pd.Series) -> pd.Series | None:
    """Each timestamp of ``column`` as written, without its UTC offset: the local time,
    ``2021-03-28T00:00:00`` for ``2021-03-28T00:00:00+02:00``. None where a timestamp has
    no offset after its time of day."""
    found = column.astype(str).str.strip().str.extract(rf"^{_STAMP.pattern}$")
    if found["wall"].isna().any():
        return None
    return found["wall"] + found["year"].fillna("")


def without_offset(date_format: str) -> str:
    """``date_format`` without its offset's directive (``%z``, ``%Z``), for
    :func:`wall_text`'s timestamps."""
    return re.sub(r"\s*%[zZ]", "", date_format)


def check_zone(column: pd.Series, row: int, date_col: str, source: str) -> None:
    """Raise the :class:`DataError` naming the fix where the timestamp of ``column`` at
    ``row``, which pandas could not read, writes its zone as pandas misreads or cannot
    read it."""
    _refuse(column, row, date_col, source, _UNREADABLE)


def check_posix_offsets(column: pd.Series, date_col: str, source: str) -> None:
    """Raise the :class:`DataError` naming the fix where a timestamp of ``column``, all
    read, writes its offset as GMT+h: pandas read it the POSIX way round, hours off."""
    text = column.astype(str).str.strip()
    found = text.str.contains(_POSIX[0].pattern).to_numpy()
    if found.any():
        _refuse(column, int(found.argmax()), date_col, source, (_POSIX,))


def _refuse(column: pd.Series, row: int, date_col: str, source: str,
            writings: tuple[tuple[re.Pattern[str], str, str], ...]) -> None:
    text = str(column.iloc[row]).strip()
    for pattern, problem, fix in writings:
        if pattern.search(text):
            raise DataError(f"{source}: column '{date_col}' writes {problem} (row {row}: "
                            f"{text!r}) -> {fix}")
