"""One device per trial, several trials per GPU: ``trainer.devices`` and the guard that
turns a trial's GPU out-of-memory error into one clear message naming the packing.

tsbench trains each trial on one device. Trials run side by side on one GPU through a
parallel Hydra launcher (``hydra/launcher=joblib hydra.launcher.n_jobs=k trainer=gpu``):
each is its own process on the same device, with the CPU cores shared out as for CPU
trials (:mod:`tsbench.training.threads`). When their memory does not fit, a trial whose
allocation fails raises ``torch.cuda.OutOfMemoryError``; :func:`out_of_memory_error` says
how many trials shared the GPU and what to lower, and the sweep goes on.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from omegaconf import ListConfig

from tsbench.counted import counted
from tsbench.errors import ConfigError

#: What to write instead of a bad ``trainer.devices``.
DEVICES_FIX = ("use trainer.devices=1 (the first GPU) or trainer.devices=[i] (GPU i); to run "
               "k trials at once on one GPU use hydra/launcher=joblib hydra.launcher.n_jobs=k")


def trainer_devices(trainer_cfg: Any) -> int | list[int]:
    """``trainer.devices`` checked, as Lightning's ``devices`` takes it: ``1`` (one device:
    the first visible GPU, or the CPU) or ``[i]`` (GPU ``i``). One device per trial: tsbench
    trains no trial on several devices (no data-parallel training)."""
    value = trainer_cfg.get("devices", 1)
    if isinstance(value, ListConfig | list):
        indices = list(value)
        if len(indices) != 1 or not all(_is_int(i) and i >= 0 for i in indices):
            raise ConfigError("trainer.devices", f"must list one GPU index, got {indices}: "
                              "tsbench trains each trial on one device", DEVICES_FIX)
        _check_gpu_index(str(trainer_cfg.accelerator), indices[0])
        return indices
    if not _is_int(value) or value < 1:
        raise ConfigError("trainer.devices",
                          f"must be a positive int or a list of device indices, got {value!r}",
                          DEVICES_FIX)
    if value > 1:
        raise ConfigError("trainer.devices", f"asks for {value} devices, but tsbench trains "
                          "each trial on one device", DEVICES_FIX)
    return 1


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_gpu_index(accelerator: str, index: int) -> None:
    if accelerator == "cpu":
        raise ConfigError("trainer.devices", f"[{index}] selects GPU {index}, but "
                          "trainer.accelerator is cpu", "use trainer=gpu, or trainer.devices=1")
    if accelerator in ("gpu", "cuda") and torch.cuda.is_available():
        count = torch.cuda.device_count()
        if index >= count:
            raise ConfigError("trainer.devices", f"GPU {index} does not exist: torch finds "
                              f"{counted(count, 'GPU')}", "use index 0" if count == 1 else
                              f"use an index from 0 to {count - 1}")


def out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is, or was raised from (``__cause__``/``__context__``), a device
    out-of-memory error: Lightning re-raises it as it is, ``torch.compile`` wraps it."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, torch.cuda.OutOfMemoryError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def out_of_memory_error(error: BaseException, parallel_jobs: int) -> ConfigError:
    """The one-line error for a trial that ran out of GPU memory, naming how many trials
    shared the GPU (``hydra.launcher.n_jobs``) and what to lower."""
    asked = re.search(r"Tried to allocate [\d.]+ \w+", str(error))
    detail = f" ({asked.group(0).replace('Tried', 'tried')})" if asked else ""
    if parallel_jobs > 1:
        return ConfigError(
            "trainer", f"GPU out of memory{detail} with {parallel_jobs} trials on one GPU "
            f"(hydra.launcher.n_jobs={parallel_jobs})",
            "lower hydra.launcher.n_jobs or data.batch_size")
    return ConfigError("trainer", f"GPU out of memory{detail}",
                       "lower data.batch_size or the model's size")
