"""The test metric by horizon: each point's bars are the table's interval, cut at 0 where
the table's is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tsbench.report.build import build
from tsbench.report.collect import Run, group
from tsbench.report.plots import horizon_figure


def _run(pred_len: int, seed: int, test_mse: float) -> Run:
    config = {"dataset.name": "ili", "model.name": "dlinear", "pred_len": pred_len,
              "seed": seed, "features": "M", "seq_len": 104}
    return Run(Path(f"/runs/{pred_len}-{seed}"), config, {"test_mse": test_mse}, None)


def test_the_bars_are_the_tables_intervals_cut_at_zero() -> None:
    """At 24 two seeds 0.4 apart reach below 0 (drawn from 0, not symmetric to -2.2); at
    36 three close seeds keep their whole t-interval."""
    runs = [_run(24, 1, 0.1), _run(24, 2, 0.5), _run(36, 1, 0.30), _run(36, 2, 0.31),
            _run(36, 3, 0.32)]
    report = build(group(runs, warn=lambda message: None))
    spreads = {row.cell.pred_len: row.spread for row in report.rows}
    assert spreads[24].clipped and not spreads[36].clipped
    figure = horizon_figure(report)
    assert figure is not None
    (bars,) = figure.axes[0].containers
    ends = [segment[:, 1] for segment in bars.lines[2][0].get_segments()]
    for pred_len, (low, high) in zip((24, 36), ends, strict=True):
        assert (low, high) == pytest.approx(spreads[pred_len].ci)
    assert np.min(ends) == 0.0
