"""``hydra/sweeper=skopt``: the sweeper's structured config, registered with Hydra."""

from dataclasses import dataclass

from hydra.core.config_store import ConfigStore

from tsbench.search.settings import SweepSettings


@dataclass
class SkoptSweeperConf(SweepSettings):
    """The settings of :class:`tsbench.search.settings.SweepSettings` plus the target."""

    _target_: str = "hydra_plugins.tsbench_skopt_sweeper.skopt_sweeper.SkoptSweeper"


ConfigStore.instance().store(
    group="hydra/sweeper", name="skopt", node=SkoptSweeperConf, provider="tsbench"
)
