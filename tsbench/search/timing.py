"""Wall-clock time of each trial, measured where the trial runs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig

#: Attribute set on a trial's exception: seconds the trial ran before raising.
SECONDS_ATTR = "tsbench_trial_seconds"


@dataclass(frozen=True)
class TimedValue:
    """What a timed trial returns to the sweeper: the task's value and its duration."""

    value: Any
    seconds: float


class TimedTask:
    """Wraps the Hydra task function so that each trial reports its own duration.

    Launchers (joblib, submitit, ray) pickle the task function together with this
    wrapper and run it in other processes, so the time is taken where the trial runs.
    The job's ``JobReturn.return_value`` is a :class:`TimedValue`; an exception keeps
    propagating unchanged, with the duration stored as attribute ``SECONDS_ATTR``.
    """

    def __init__(self, task_function: Any) -> None:
        self.task_function = task_function

    def __call__(self, cfg: DictConfig) -> TimedValue:
        start = time.perf_counter()
        try:
            value = self.task_function(cfg)
        except BaseException as error:
            setattr(error, SECONDS_ATTR, time.perf_counter() - start)
            raise
        return TimedValue(value, time.perf_counter() - start)
