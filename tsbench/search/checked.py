"""A sweep's checks passed, told to the multirun's callbacks.

Hydra calls a callback's ``on_multirun_start`` before the sweeper checks anything, so what
a callback does there (open an MLflow parent run) is done for a sweep then refused: another
sweep running in the folder, a resume of another sweep. tsbench's sweepers
(:data:`TELLING_SWEEPERS`) call each callback's ``on_sweep_checked(config)`` instead, once
every check passed and the folder is theirs, before any job; and, where the sweep ends by
an error (a job's, which Hydra's basic sweeper raises, or a search's too many failures),
``on_sweep_failed(config)``, since Hydra then calls no ``on_multirun_end``: an MLflow parent
run is not left RUNNING.
"""

from __future__ import annotations

import warnings
from typing import Any

from omegaconf import DictConfig, OmegaConf

#: The sweepers that call :data:`HOOK` (their ``_target_``).
TELLING_SWEEPERS = (
    "hydra_plugins.tsbench_basic_sweeper.basic_sweeper.ResumableBasicSweeper",
    "hydra_plugins.tsbench_skopt_sweeper.skopt_sweeper.SkoptSweeper",
)
#: The callback method called once the sweep's checks passed.
HOOK = "on_sweep_checked"
#: The callback method called where the sweep ends by an error of its own or a job's.
FAILED_HOOK = "on_sweep_failed"


def tells_checked(config: DictConfig) -> bool:
    """Whether the multirun's sweeper calls :data:`HOOK` once its checks passed."""
    target = OmegaConf.select(config, "hydra.sweeper._target_", default="")
    return str(target) in TELLING_SWEEPERS


def tell_checked(callbacks: Any, config: DictConfig) -> None:
    """Call :data:`HOOK` of each of Hydra's ``callbacks`` (a ``HydraContext``'s) that has it;
    one that raises is a warning, as Hydra makes it of its own hooks."""
    _tell(callbacks, HOOK, config)


def tell_failed(callbacks: Any, config: DictConfig) -> None:
    """Call :data:`FAILED_HOOK` of each of ``callbacks`` that has it, as :func:`tell_checked`
    (a sweep stopped by a signal is not told: a resume takes it up as it was)."""
    _tell(callbacks, FAILED_HOOK, config)


def _tell(callbacks: Any, name: str, config: DictConfig) -> None:
    for callback in getattr(callbacks, "callbacks", []):
        hook = getattr(callback, name, None)
        if hook is None:
            continue
        try:
            hook(config)
        except Exception as error:  # noqa: BLE001 (Hydra's rule for a callback's failure)
            warnings.warn(f"Callback {type(callback).__name__}.{name} raised "
                          f"{type(error).__name__}: {error}", stacklevel=3)
