"""Per-channel standardization fitted on training rows only."""

from __future__ import annotations

import numpy as np


class StandardScaler:
    """Zero mean, unit variance per channel (population std, as scikit-learn's)."""

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.fitted_rows: tuple[int, int] | None = None

    def fit(self, values: np.ndarray, rows: tuple[int, int]) -> StandardScaler:
        """Fit on ``values[rows[0]:rows[1]]`` and remember which rows were seen."""
        part = values[rows[0]:rows[1]].astype(np.float64)
        self.mean_ = part.mean(axis=0)
        std = part.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        self.fitted_rows = rows
        return self

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Scale in float64 (the file's values), then hand the models float32."""
        return ((values.astype(np.float64) - self.mean_) / self.scale_).astype(np.float32)

    def inverse_transform(self, values: np.ndarray, channels: slice = slice(None)) -> np.ndarray:
        """Undo the scaling in float64 (a float32 result would round a large offset's small
        movement away); ``channels`` selects the columns ``values`` holds."""
        return values.astype(np.float64) * self.scale_[channels] + self.mean_[channels]
