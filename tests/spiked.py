"""A daily demand-like series (a weekly cycle and noise) with one week's spike where a test
puts it: in the validation rows an unusual validation period, elsewhere an ordinary one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: Rows of the series; the ratio split's validation rows are [210, 240), test [240, 300).
N_ROWS = 300
VAL_SPIKE, TEST_SPIKE = 222, 262


def spiked_csv(path: Path, spike_at: int | None) -> Path:
    """Write the series (columns date, west, east; target east) with the 7 rows from
    ``spike_at`` on raised by 40% (none where None) to ``path``."""
    rng = np.random.default_rng(7)
    t = np.arange(N_ROWS)
    east = 175 + 10 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 2, N_ROWS)
    if spike_at is not None:
        east[spike_at:spike_at + 7] *= 1.4
    west = 90 + 5 * np.cos(2 * np.pi * t / 7) + rng.normal(0, 1, N_ROWS)
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=N_ROWS, freq="D"),
                  "west": west, "east": east}).to_csv(path, index=False)
    return path
