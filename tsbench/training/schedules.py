"""Learning-rate schedules as multiplicative factors of ``optim.lr``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tsbench.config_values import number, whole
from tsbench.errors import ConfigError

SCHEDULES = ("warmup_cosine", "constant", "step", "type1", "type3")
SCALING_RULES = ("none", "sqrt", "linear")
#: Schedules stepped once per batch; the others once per epoch.
PER_STEP = ("warmup_cosine",)
#: The key under which a run's trainings whose warmup outlasts them go up to the run
#: (never written to metrics.json): :func:`warmup_warning` says them in one line.
WARMUP_KEY = "warmup_overrun"


def check_schedule(optim: Any) -> None:
    """Raise a :class:`ConfigError` for an unknown schedule or scaling rule, or a setting of
    them that is no number or out of range, before anything runs."""
    name = str(optim.schedule)
    if name not in SCHEDULES:
        raise _unknown_schedule(name)
    if number(optim.get("warmup", 0), "optim.warmup") < 0:
        raise ConfigError("optim.warmup", f"must be >= 0, got {optim.warmup}",
                          "give a step count (e.g. 500) or a fraction of all steps (e.g. 0.05)")
    if name == "warmup_cosine" and number(optim.min_lr, "optim.min_lr") < 0:
        raise ConfigError("optim.min_lr", f"must be >= 0, got {optim.min_lr}",
                          "give the cosine's floor, e.g. optim.min_lr=0")
    if name == "step":
        if whole(optim.step_size, "optim.step_size") < 1:
            raise ConfigError("optim.step_size", f"must be >= 1, got {optim.step_size}",
                              "give the epochs between decays, e.g. optim.step_size=1")
        if number(optim.gamma, "optim.gamma") <= 0:
            raise ConfigError("optim.gamma", f"must be > 0, got {optim.gamma}",
                              "give the decay factor, e.g. optim.gamma=0.5")
    rule = str(optim.get("lr_scaling", "none"))
    if rule not in SCALING_RULES:
        raise _unknown_rule(rule)
    if rule != "none" and whole(optim.base_batch_size, "optim.base_batch_size") < 1:
        raise ConfigError("optim.base_batch_size", f"must be >= 1, got "
                          f"{optim.base_batch_size}", "give the batch size at which optim.lr "
                          "applies unscaled, e.g. optim.base_batch_size=32")


def warmup_steps(warmup: float, total_steps: int) -> int:
    """``warmup`` >= 1 is a step count; 0 <= ``warmup`` < 1 is a fraction of all steps."""
    return int(warmup) if warmup >= 1 else round(warmup * total_steps)


def lr_factor(optim: Any, steps_per_epoch: int, max_epochs: int, lr: float
              ) -> Callable[[int], float]:
    """Return ``f(i)`` -> multiplier of the rate ``lr`` the optimizer starts from
    (``optim.lr``, or as ``optim.lr_scaling`` or the lr finder moved it), where ``i`` counts
    steps (per-step schedules) or finished epochs (per-epoch schedules).

    - ``warmup_cosine``: linear warmup from lr/warmup to lr, then cosine to ``min_lr`` (the
      rate itself, whatever ``lr``; a floor above ``lr``, e.g. a searched rate below it,
      holds the rate at ``lr``: the schedule never rises). A warmup longer than the run
      never reaches ``lr`` (:func:`warmup_overrun`, said once per run).
    - ``constant``: lr throughout; ``step``: x ``gamma`` every ``step_size`` epochs.
    - ``type1`` (TSLib, LTSF-Linear, iTransformer): as their ``adjust_learning_rate``
      called after each epoch, epochs 1-2 train at lr, then lr halves every epoch.
    - ``type3`` (PatchTST): epochs 1-4 at lr, then x 0.9 per epoch.
    """
    name = str(optim.schedule)
    if name == "warmup_cosine":
        total = max(1, steps_per_epoch * max_epochs)
        warm = warmup_steps(float(optim.warmup), total)
        floor = min(1.0, float(optim.min_lr) / lr) if lr > 0 else 0.0

        def cosine(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            progress = min(1.0, (step - warm) / max(1, total - warm))
            return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

        return cosine
    if name == "constant":
        return lambda epoch: 1.0
    if name == "step":
        step_size, gamma = int(optim.step_size), float(optim.gamma)
        return lambda epoch: gamma ** (epoch // step_size)
    if name == "type1":
        return lambda epoch: 0.5 ** max(0, epoch - 1)
    if name == "type3":
        return lambda epoch: 0.9 ** max(0, epoch - 3)
    raise _unknown_schedule(name)


def warmup_overrun(optim: Any, steps_per_epoch: int, max_epochs: int, lr: float
                   ) -> dict[str, Any] | None:
    """A ``warmup_cosine`` training whose warmup is longer than its steps (its rate never
    reaches ``lr``), as a case of :func:`warmup_warning` (``where``: the run's; a fold or a
    refit renames it); None for any other training."""
    if str(optim.schedule) != "warmup_cosine":
        return None
    total = max(1, steps_per_epoch * max_epochs)
    warm = warmup_steps(float(optim.warmup), total)
    if warm <= total:
        return None
    return {"where": "the run's", "setting": optim.warmup, "steps": warm, "total": total,
            "epochs": max_epochs, "batches": steps_per_epoch, "lr": lr}


def warmup_warning(cases: list[dict[str, Any]]) -> str:
    """The run's one line on its trainings whose warmup outlasts them (``cases``:
    :data:`WARMUP_KEY`'s, from :func:`warmup_overrun`), those of equal length and rate
    named together. Only a step count outlasts a run (a fraction never does), so every
    case holds the same ``steps``."""
    groups: dict[tuple[int, int, int, float], list[str]] = {}
    for case in cases:
        key = (case["total"], case["epochs"], case["batches"], case["lr"])
        groups.setdefault(key, []).append(case["where"])
    steps = cases[0]["steps"]
    runs = "; ".join(
        f"{', '.join(where)} {total} ({epochs} epoch{'s' * (epochs != 1)} of {batches} "
        f"batches): the rate peaks at {100 * total / steps:.0f} % of its {lr:.3g}"
        for (total, epochs, batches, lr), where in groups.items())
    return (f"optim.warmup={cases[0]['setting']} is {steps} steps, longer than {runs} -> "
            "give a shorter warmup, e.g. optim.warmup=0.05 (a fraction of all steps)")


def scaled_lr(optim: Any, batch_size: int) -> float:
    """``optim.lr`` moved with the batch size: none, sqrt or linear in
    ``batch_size / optim.base_batch_size``."""
    rule = str(optim.get("lr_scaling", "none"))
    lr = float(optim.lr)
    if rule == "none":
        return lr
    ratio = batch_size / float(optim.base_batch_size)
    if rule == "sqrt":
        return lr * math.sqrt(ratio)
    if rule == "linear":
        return lr * ratio
    raise _unknown_rule(rule)


def _unknown_schedule(name: str) -> ConfigError:
    return ConfigError("optim.schedule", f"unknown schedule '{name}'", f"use one of {SCHEDULES}")


def _unknown_rule(rule: str) -> ConfigError:
    return ConfigError("optim.lr_scaling", f"unknown rule '{rule}'",
                       f"use {', '.join(SCALING_RULES[:-1])} or {SCALING_RULES[-1]}")
