"""Load a dataset config into a validated numeric series (target column last)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tsbench.data.sources import DataFile, resolve_file
from tsbench.data.synthetic import make_synthetic
from tsbench.errors import ConfigError, DataError


@dataclass(frozen=True)
class Series:
    """A multivariate series ready for splitting: rows in time order, target last."""

    name: str
    values: np.ndarray  # (rows, channels) float32
    dates: pd.DatetimeIndex
    columns: list[str]
    freq: str
    split: str
    train_frac: float = 0.7
    test_frac: float = 0.2


def load_series(cfg: Any) -> Series:
    """Read the dataset described by ``cfg`` (the ``dataset`` config node)."""
    name = str(cfg.name)
    if name == "synthetic":
        frame = make_synthetic(
            n_rows=int(cfg.n_rows), n_vars=int(cfg.n_vars), periods=list(cfg.periods),
            noise=float(cfg.noise), trend=float(cfg.trend), seed=int(cfg.seed),
            freq=str(cfg.freq),
        )
        source = "synthetic series"
    elif name == "csv":
        if not cfg.get("path"):
            raise ConfigError("dataset.path", "is required for dataset=csv",
                              "add dataset.path=/path/to/file.csv")
        frame = _read_csv(Path(str(cfg.path)))
        source = str(cfg.path)
    elif cfg.get("file"):
        path = resolve_file(DataFile.of(cfg))
        frame = _read_csv(path)
        source = str(path)
    else:
        raise ConfigError(
            "dataset.file", f"dataset '{name}' names no file",
            "give dataset.file and dataset.url (as conf/dataset/etth1.yaml does), or use "
            "dataset=csv dataset.path=<file> for your own CSV",
        )
    return _to_series(frame, cfg, source)


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"dataset.path: file {path} does not exist -> check the path")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path} is not a readable CSV ({first}) -> check the file") from None


def _to_series(frame: pd.DataFrame, cfg: Any, source: str) -> Series:
    date_col = str(cfg.get("date_col", "date"))
    target = str(cfg.get("target", "OT"))
    if date_col not in frame.columns:
        raise DataError(
            f"dataset.date_col: column '{date_col}' not found in {source}; columns are "
            f"{list(frame.columns)} -> set dataset.date_col=<name of the date column>"
        )
    dates = pd.to_datetime(frame[date_col], errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if bad.size:
        row = int(bad[0])
        raise DataError(
            f"dataset.date_col: {bad.size} value(s) of column '{date_col}' in {source} are "
            f"not dates (first at row {row}: {frame[date_col].iloc[row]!r}) -> fix or drop "
            f"those rows"
        )
    _check_order(pd.DatetimeIndex(dates), source)

    wanted = cfg.get("columns")
    data = frame.drop(columns=[date_col])
    if wanted:
        missing = [c for c in wanted if c not in data.columns]
        if missing:
            raise DataError(f"dataset.columns: {missing} not in {source}; columns are "
                            f"{list(data.columns)}")
        data = data[list(wanted)]
    if target not in data.columns:
        raise DataError(
            f"dataset.target: column '{target}' not found in {source}; columns are "
            f"{list(data.columns)} -> set dataset.target=<column to forecast>"
        )
    data = data[[c for c in data.columns if c != target] + [target]]
    data = _numeric(data, source)
    data = _fill(data, cfg.get("fillna"), source)
    return Series(
        name=str(cfg.name), values=data.to_numpy(dtype=np.float32, copy=True),
        dates=pd.DatetimeIndex(dates), columns=list(data.columns), freq=str(cfg.freq),
        split=str(cfg.split), train_frac=float(cfg.get("train_frac", 0.7)),
        test_frac=float(cfg.get("test_frac", 0.2)),
    )


def _check_order(dates: pd.DatetimeIndex, source: str) -> None:
    duplicated = np.flatnonzero(np.asarray(dates.duplicated()))
    if duplicated.size:
        row = int(duplicated[0])
        raise DataError(
            f"{source}: {duplicated.size} duplicate timestamp(s) (first {dates[row]} at row "
            f"{row}) -> keep one row per timestamp (e.g. aggregate duplicates)"
        )
    steps = np.diff(dates.asi8)
    backwards = np.flatnonzero(steps < 0)
    if backwards.size:
        row = int(backwards[0]) + 1
        raise DataError(
            f"{source}: timestamps are not sorted (row {row}, {dates[row]}, comes before "
            f"row {row - 1}, {dates[row - 1]}) -> sort the file by its date column"
        )


def _numeric(data: pd.DataFrame, source: str) -> pd.DataFrame:
    converted = data.apply(pd.to_numeric, errors="coerce")
    introduced = converted.isna() & data.notna()
    bad_cols = [c for c in data.columns if introduced[c].any()]
    if bad_cols:
        col = bad_cols[0]
        row = int(np.flatnonzero(introduced[col].to_numpy())[0])
        raise DataError(
            f"{source}: non-numeric column(s) {bad_cols} (e.g. {data[col].iloc[row]!r} in "
            f"'{col}' at row {row}) -> drop them or choose numeric ones with "
            f"dataset.columns=[...]"
        )
    return converted


def _fill(data: pd.DataFrame, fillna: Any, source: str) -> pd.DataFrame:
    if fillna not in (None, "ffill"):
        raise ConfigError("dataset.fillna", f"unknown value {fillna!r}", "use null or ffill")
    if fillna == "ffill":
        data = data.ffill()
    missing = data.isna().to_numpy()
    if missing.any():
        rows, cols = np.nonzero(missing)
        hint = ("the series starts with missing values: drop those rows" if fillna
                else "fill them in the file, or set dataset.fillna=ffill to forward-fill")
        raise DataError(
            f"{source}: {int(missing.sum())} missing value(s) (first in column "
            f"'{data.columns[cols[0]]}' at row {int(rows[0])}) -> {hint}"
        )
    return data
