"""A generated multivariate series with known periods, trend and noise."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_synthetic(
    n_rows: int = 2000,
    n_vars: int = 3,
    periods: tuple[int, ...] | list[int] = (24,),
    noise: float = 0.1,
    trend: float = 0.0,
    seed: int = 0,
    freq: str = "h",
    start: str = "2020-01-01",
) -> pd.DataFrame:
    """Return a frame with a ``date`` column and ``n_vars`` channels, the last named ``OT``.

    Each channel is a sum of sines with the given ``periods`` (random amplitude in
    [0.5, 1.5] and random phase per channel), a linear ``trend`` (units per 1000 rows)
    and Gaussian noise of standard deviation ``noise``.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n_rows, dtype=np.float64)[:, None]
    values = np.zeros((n_rows, n_vars))
    for period in periods:
        amplitude = rng.uniform(0.5, 1.5, size=n_vars)
        phase = rng.uniform(0.0, 2 * np.pi, size=n_vars)
        values += amplitude * np.sin(2 * np.pi * t / period + phase)
    values += trend * t / 1000.0
    values += noise * rng.standard_normal((n_rows, n_vars))
    columns = [f"x{i}" for i in range(n_vars - 1)] + ["OT"]
    frame = pd.DataFrame(values.astype(np.float32), columns=columns)
    frame.insert(0, "date", pd.date_range(start, periods=n_rows, freq=freq))
    return frame
