"""Whether a run scores the test split: ``score_test``, whose null default means yes except
in a trial of a search, which must never see the test split."""

from __future__ import annotations

from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from tsbench.search.names import is_search


def scores_test(cfg: Any) -> bool:
    """``score_test``, where null is true except in a trial of a search
    (:func:`~tsbench.search.names.is_search`): a search must not see the test split, and
    the trial it chooses is scored once by rerunning it (best.yaml's command)."""
    if cfg.score_test is not None:
        return bool(cfg.score_test)
    if not HydraConfig.initialized():
        return True
    hydra = HydraConfig.get()
    return not is_search(hydra.mode == RunMode.MULTIRUN, hydra.sweeper)
