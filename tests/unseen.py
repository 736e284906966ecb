"""Checking from the outside that a command never reads some rows of its series: run it on
a CSV series, then on the same series with those rows replaced by a different, huge
pattern, at the same paths, and compare everything it wrote.

Both runs use the same CSV path and the same output folder (the first run's moved aside
afterwards), so that every path recorded in configs, logs and reports is the same; the two
output trees must then agree file by file, except for wall-clock timings."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from tsbench.data.synthetic import make_synthetic

#: Fields that measure wall-clock time (or derive from it: the share of a time budget kept
#: for retraining): the only ones two identical runs may disagree on.
TIMINGS = frozenset({"seconds", "train_seconds", "run_seconds", "started", "ended", "time",
                     "spent_seconds", "a_seconds", "seconds_per_epoch", "f_reserve",
                     "searches_from", "d_random_until", "wall_seconds", "start_seconds",
                     "max_seconds", "deadline"})
#: The same as an override in a list (tsbench-tune gives each search the time left, and
#: each trial the moment it is spent).
TIMED_OVERRIDE = re.compile(r"((?:max_seconds|deadline)=)[0-9.e+-]+")
#: The wall-clock time opening each record of a log (Hydra's ``[2026-01-05 10:17:28,661]``).
LOG_TIME = re.compile(rb"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\]", re.MULTILINE)


def series(n_rows: int) -> pd.DataFrame:
    """The synthetic test series (period 24, three channels) as a frame with dates."""
    return make_synthetic(n_rows=n_rows)


def replaced_from(frame: pd.DataFrame, row: int) -> pd.DataFrame:
    """``frame`` with every value from ``row`` on replaced by a period-7 sine around 5000
    with amplitude 1000: another period, far off the scale of the rows before."""
    out = frame.copy()
    t = np.arange(row, len(frame))
    for j, column in enumerate(c for c in frame.columns if c != "date"):
        out.loc[row:, column] = (5000 + 1000 * np.sin(2 * np.pi * t / 7 + j)).astype(np.float32)
    return out


def outputs_of_both(root: Path, frame: pd.DataFrame, row: int,
                    command: Callable[[Path, Path], object]) -> tuple[Path, Path]:
    """Run ``command(csv_path, out_dir)`` on ``frame`` with its rows from ``row`` on
    replaced (:func:`replaced_from`), then on ``frame`` itself, both times with the CSV at
    ``root/series.csv`` and the outputs in ``root/out``. Returns the outputs of the clean
    run (left in ``root/out``, where the paths it recorded point) and of the replaced one
    (moved to ``root/replaced``)."""
    data, out = root / "series.csv", root / "out"
    replaced_from(frame, row).to_csv(data, index=False)
    command(data, out)
    shutil.move(out, root / "replaced")
    frame.to_csv(data, index=False)
    command(data, out)
    return out, root / "replaced"


#: The data file's checksum (protocol.json): the replaced rows change it by construction.
CHECKSUMS = frozenset({"sha256"})


def _without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items()
                if k not in TIMINGS | CHECKSUMS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    if isinstance(value, str):
        return TIMED_OVERRIDE.sub(r"\1<seconds>", value)
    return value


def content(path: Path) -> Any:
    """What a file says, timings left out: parsed JSON, YAML and CSV, a log's records
    without their times, else its bytes."""
    if path.suffix == ".json":
        return _without_timings(json.loads(path.read_text()))
    if path.suffix == ".yaml":
        return _without_timings(yaml.safe_load(path.read_text()))
    if path.suffix == ".csv":
        return _without_timings(list(csv.DictReader(io.StringIO(path.read_text()))))
    if path.suffix == ".log":
        return LOG_TIME.sub(b"[<time>]", path.read_bytes())
    return path.read_bytes()


def snapshot(folder: Path, skip: Callable[[str], bool] = lambda name: False) -> dict[str, Any]:
    """Every file under ``folder`` (relative path -> :func:`content`), except ``skip``'s and
    the locks (``run.lock``, ``sweep.lock``, ...: each holds its holder's pid)."""
    files = (p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix != ".lock")
    return {name: content(p) for p in files if not skip(name := str(p.relative_to(folder)))}


def differences(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """The files that exist in one snapshot only, or say different things."""
    only = sorted(set(first) ^ set(second))
    changed = sorted(k for k in set(first) & set(second) if first[k] != second[k])
    return [f"only in one run: {k}" for k in only] + [f"differs: {k}" for k in changed]
