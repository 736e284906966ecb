"""A tracked run of a user's CSV file: how trackers name its data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.conftest import TINY


def naive_run_of_a_csv(folder: Path, *logger: str) -> list[str]:
    """The overrides of a naive run on ``folder/load.csv`` (600 hours, written here) logged
    by ``logger`` (``logger=...`` and its settings)."""
    csv = folder / "load.csv"
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=600, freq="h"),
                  "a": range(600), "OT": [i % 24 for i in range(600)]}).to_csv(csv, index=False)
    return [a for a in TINY if not a.startswith(("logger", "model", "dataset"))] + [
        "model=naive", "dataset=csv", f"dataset.path={csv}", *logger]
