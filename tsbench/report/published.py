"""Published reference numbers (one data file, with sources)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from omegaconf import OmegaConf

_FILE = Path(__file__).with_name("published.yaml")


@cache
def _table() -> dict:
    return OmegaConf.to_container(OmegaConf.load(_FILE), resolve=True)  # type: ignore[return-value]


def _entry(model: str, dataset: str, pred_len: int) -> dict | None:
    return _table()["results"].get(model, {}).get(dataset, {}).get(pred_len)


def published(model: str, dataset: str, pred_len: int, metric: str = "mse") -> float | None:
    """The reference for a cell: the all-windows re-run where one exists, else the paper."""
    entry = _entry(model, dataset, pred_len)
    if entry is None:
        return None
    return entry.get(f"{metric}_allwindows", entry.get(metric))


def published_seq_len(model: str, dataset: str, pred_len: int) -> int | None:
    """The look-back the reference for a cell was obtained at (the all-windows re-runs ran
    the papers' scripts, at the papers' look-back)."""
    entry = _entry(model, dataset, pred_len)
    if entry is None:
        return None
    lookbacks = _table()["lookbacks"].get(entry["source"], {})
    return lookbacks.get(dataset, lookbacks.get("default"))
