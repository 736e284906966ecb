"""Whether a run is a trial of a search, and so whether it scores the test split:
``score_test``, whose null default means yes except in a trial of a search, which must
never see the test split."""

from __future__ import annotations

from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from tsbench.config_values import flag
from tsbench.errors import ConfigError
from tsbench.search.names import RESUMABLE_SWEEPER, is_search


def scores_test(cfg: Any) -> bool:
    """``score_test``, where null is true except in a trial of a search
    (:func:`~tsbench.search.names.is_search`): a search must not see the test split, and
    the trial it chooses is scored once by rerunning it (best.yaml's command)."""
    if cfg.score_test is not None:
        try:
            return flag(cfg.score_test, "score_test")
        except ConfigError:
            raise ConfigError(
                "score_test", f"must be true, false or null, got {cfg.score_test!r}",
                "give score_test=true, false, or null (the default: true except in a "
                "search's trials)") from None
    return not in_search()


def in_search() -> bool:
    """Whether this run is a trial of a search (:func:`~tsbench.search.names.is_search`),
    whose poor trials are expected: it tries them to learn where not to look."""
    if not HydraConfig.initialized():
        return False
    hydra = HydraConfig.get()
    return is_search(hydra.mode == RunMode.MULTIRUN, hydra.sweeper)


def experiment_preset() -> str | None:
    """The ``experiment=`` preset this run composed (a paper's settings), None for none."""
    if not HydraConfig.initialized():
        return None
    chosen = HydraConfig.get().runtime.choices.get("experiment")
    return str(chosen) if chosen else None


def command_settings() -> list[str]:
    """The settings this run's command line gave it (Hydra's task overrides), none outside
    Hydra."""
    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def summed_by_sweep() -> bool:
    """Whether this run is a job of a plain multirun of tsbench's sweeper, which says once,
    for all its jobs, the warnings each job's log keeps with its numbers (the seasonal naive
    reference's: :func:`tsbench.training.naive_reference.sweep_summary`)."""
    if not HydraConfig.initialized():
        return False
    hydra = HydraConfig.get()
    return (hydra.mode == RunMode.MULTIRUN
            and str(hydra.sweeper.get("_target_", "")) == RESUMABLE_SWEEPER)
