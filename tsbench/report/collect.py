"""Collect finished runs (config + metrics.json) and aggregate them over seeds."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf


@dataclass(frozen=True)
class Run:
    """One finished run: where it is, what it was, what it scored."""

    path: Path
    dataset: str
    model: str
    pred_len: int
    seed: int
    metrics: dict


@dataclass
class Cell:
    """The runs of one (dataset, model, pred_len) over seeds."""

    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, metrics: dict) -> None:
        for key, value in metrics.items():
            if isinstance(value, (int, float)):
                self.values.setdefault(key, []).append(float(value))

    def mean(self, key: str) -> float:
        return float(np.mean(self.values[key]))

    def std(self, key: str) -> float | None:
        """Sample standard deviation over seeds (None for a single run: undefined)."""
        vals = self.values[key]
        return float(np.std(vals, ddof=1)) if len(vals) > 1 else None

    def count(self, key: str) -> int:
        return len(self.values.get(key, []))


def find_runs(roots: list[Path]) -> list[Run]:
    """Every directory under ``roots`` with a ``metrics.json`` and a saved config."""
    runs = []
    for root in roots:
        for metrics_path in sorted(Path(root).rglob("metrics.json")):
            run_dir = metrics_path.parent
            config_path = run_dir / "config.yaml"
            if not config_path.is_file():
                config_path = run_dir / ".hydra" / "config.yaml"
            if not config_path.is_file():
                continue
            cfg = OmegaConf.load(config_path)
            runs.append(Run(run_dir, str(cfg.dataset.name), str(cfg.model.name),
                            int(cfg.pred_len), int(cfg.seed),
                            json.loads(metrics_path.read_text())))
    return runs


def aggregate(runs: list[Run]) -> dict[tuple[str, str, int], Cell]:
    """Group runs by (dataset, model, pred_len)."""
    cells: dict[tuple[str, str, int], Cell] = {}
    for run in runs:
        cells.setdefault((run.dataset, run.model, run.pred_len), Cell()).add(run.metrics)
    return cells
