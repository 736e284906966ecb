"""The Hydra ``Sweeper`` plugin class; the work is done by :mod:`tsbench.search.sweep`."""

from __future__ import annotations

import errno
import sys
from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig

from tsbench.hydra_private import parse_each_config_once
from tsbench.search.settings import from_config

parse_each_config_once()  # a sweep composes every trial's config


class SkoptSweeper(Sweeper):
    """Scikit-optimize search over Hydra overrides (``hydra/sweeper=skopt``)."""

    def __init__(self, **settings: Any) -> None:
        # Imported here so that Hydra's plugin discovery does not pay for skopt.
        from tsbench.search.sweep import SkoptSweep

        self.impl = SkoptSweep(from_config(settings))

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.impl.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        """Run the sweep; a user error ends it with one message and exit status 2, a full
        disk with one message and exit status 1 (the records stay whole: written
        atomically)."""
        from tsbench.errors import TsbenchError, error_lines

        try:
            return self.impl.sweep(arguments)
        except TsbenchError as error:
            print(error_lines("tsbench", error), file=sys.stderr)
            raise SystemExit(2) from error
        except OSError as error:
            if error.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            print(f"tsbench: error: {error.strerror} writing {error.filename or 'the sweep'}: "
                  "the sweep stopped, its records whole -> free space (or raise the quota), "
                  "then resume with the same command and hydra.sweeper.resume=true "
                  "hydra.sweeper.retry_failed=true (trials the full disk failed run again)",
                  file=sys.stderr)
            raise SystemExit(1) from error
