"""The plugin is discovered by Hydra and its config is registered."""

from __future__ import annotations

from pathlib import Path

from hydra.core.config_store import ConfigStore
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper

import hydra_plugins
from hydra_plugins.tsbench_skopt_sweeper.config import SkoptSweeperConf
from hydra_plugins.tsbench_skopt_sweeper.skopt_sweeper import SkoptSweeper
from tsbench.search.settings import SweepSettings

ROOT = Path(__file__).resolve().parents[2]


def test_discovered_and_registered() -> None:
    found = {f"{p.__module__}.{p.__name__}" for p in Plugins.instance().discover(Sweeper)}
    assert f"{SkoptSweeper.__module__}.SkoptSweeper" in found  # Hydra loads its own copy
    node = ConfigStore.instance().load("hydra/sweeper/skopt.yaml").node
    assert node._target_ == "hydra_plugins.tsbench_skopt_sweeper.skopt_sweeper.SkoptSweeper"
    assert node.acq_func == SweepSettings().acq_func == "EI"
    assert (node.pruner.kind, node.pruner.eta, node.schedule) == ("none", 3, "auto")
    assert issubclass(SkoptSweeperConf, SweepSettings)


def test_hydra_plugins_stays_a_namespace_package() -> None:
    assert not (ROOT / "hydra_plugins" / "__init__.py").exists()
    assert getattr(hydra_plugins, "__file__", None) is None
