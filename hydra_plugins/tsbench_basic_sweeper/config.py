"""``hydra/sweeper=basic_resumable``: the sweeper's structured config, registered with Hydra
(tsbench's ``conf/sweeper.yaml`` makes it a plain multirun's sweeper)."""

from dataclasses import dataclass
from typing import Any

from hydra.core.config_store import ConfigStore

from tsbench.hydra_private import basic_sweeper_conf_class


@dataclass
class ResumableBasicSweeperConf(basic_sweeper_conf_class()):  # type: ignore[misc]
    """Hydra's basic sweeper's settings (``max_batch_size``, ``params``) and ``resume``."""

    _target_: str = (
        "hydra_plugins.tsbench_basic_sweeper.basic_sweeper.ResumableBasicSweeper")
    # true: the jobs whose folders hold their finished runs are not run again (the same
    # command into the same hydra.sweep.dir); force: also those that ran other code
    resume: Any = False


ConfigStore.instance().store(group="hydra/sweeper", name="basic_resumable",
                             node=ResumableBasicSweeperConf, provider="tsbench")
