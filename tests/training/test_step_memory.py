"""The memory estimate of a training step (:mod:`tsbench.training.step_memory`) leaves the
published settings far below a laptop's memory: only a step that cannot fit is refused
(tests/cli/test_bad_input.py refuses one; benchmarks/step_memory.md calibrates it)."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_module

from tests.conftest import ROOT
from tsbench.data.loading import load_series
from tsbench.data.splits import benchmark_borders
from tsbench.training.step_memory import estimate

#: The Transformer presets of conf/experiment/.
TRANSFORMERS = sorted(p.stem for p in (ROOT / "tsbench" / "conf" / "experiment").glob("*.yaml")
                      if not p.stem.startswith("dlinear"))


@pytest.mark.parametrize("experiment", TRANSFORMERS)
def test_a_published_setting_needs_well_under_a_laptops_memory(experiment: str) -> None:
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[f"experiment={experiment}"])
    series = load_series(cfg.dataset)
    borders = benchmark_borders(len(series.values), series.split, int(cfg.seq_len),
                                series.train_frac, series.test_frac)
    found = estimate(cfg, series, borders)
    assert found is not None
    assert found[1] < 2 * 2**30, f"{experiment}: {found[1] / 2**30:.1f} GiB"
