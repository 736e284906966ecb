"""What a sweep searches, kept in ``search.yaml`` so that a resumed sweep can be checked.

A sweep's trials are comparable only under one search space, one set of constraints, one
pruner and one set of fixed overrides (``trainer.max_epochs=9`` changes every objective;
a file's path is recorded absolute, from the command's folder, so that written relative or
absolute it is one override).
The first run of a sweep writes them to ``search.yaml``; ``hydra.sweeper.resume=true``
compares the current ones with it and stops before any trial with one message naming
every difference; ``resume=force`` continues with the new ones (recorded points outside
a narrowed space, or breaking a new constraint, stay in the record but are not told to the
optimizer) and rewrites the file. A different *set* of parameters cannot share one
trials.csv even with force: a new sweep warm-started from it can
(``hydra.sweeper.warm_start``). The optimizer's own settings (``n_trials``, ``acq_func``,
``n_jobs``, ...) may change on resume. A sweep without ``random_state`` draws one and
records it here, and its resume takes it back.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

import yaml

from tsbench.atomic import write_with
from tsbench.errors import ConfigError
from tsbench.rundir import ran_in
from tsbench.search.names import DEFINITION_FILE, MULTIRUN_FILE, TRIALS_FILE
from tsbench.search.report import absolute_paths
from tsbench.search.settings import SweepSettings
from tsbench.search.space import SearchSpace

log = logging.getLogger(__name__)

def definition(space: SearchSpace, settings: SweepSettings) -> dict[str, Any]:
    """The parts of a sweep that its trials' results depend on, and its random state (an
    optimizer setting, not compared on resume: kept for :func:`random_state`)."""
    return {
        "params": space.describe(),
        "constraints": list(settings.constraints),
        # a file's path as one spelling: written relative or absolute, one override
        "fixed": sorted(absolute_paths(o.input_line) for o in space.fixed
                        if o.input_line is not None),
        "pruner": asdict(settings.pruner),
        "direction": settings.direction,
        "random_state": settings.random_state,
    }


def random_state(sweep_dir: Path, settings: SweepSettings) -> tuple[int, str]:
    """The sweep's random state and where it came from: the one given; else, resuming, the
    one its ``search.yaml`` recorded (drawn when it started: the resumed sweep proposes the
    points it would have proposed uninterrupted); else one drawn now, which the sweep
    records and logs, so that it can be repeated."""
    if settings.random_state is not None:
        return int(settings.random_state), "given"
    if settings.resume:
        try:
            recorded = yaml.safe_load((sweep_dir / DEFINITION_FILE).read_text(encoding="utf-8"))
            return int(recorded["random_state"]), "recorded"
        except (OSError, yaml.YAMLError, UnicodeDecodeError, KeyError, TypeError, ValueError):
            pass  # none recorded (a new sweep, or one of an older tsbench): draw one
    return secrets.randbelow(2**31), "drawn"


def write_definition(sweep_dir: Path, current: dict[str, Any]) -> None:
    def write(handle: IO[str]) -> None:
        handle.write("# What this sweep searches; a resumed sweep is checked against it.\n")
        yaml.safe_dump(current, handle, sort_keys=False, width=10_000)

    write_with(sweep_dir / DEFINITION_FILE, write)


def check_resume(sweep_dir: Path, current: dict[str, Any], resume: Any) -> None:
    """Raise :class:`ConfigError` when the recorded sweep searched something else
    (``resume=force``: log the differences instead, unless the parameters differ)."""
    path = sweep_dir / DEFINITION_FILE
    if not path.is_file():
        log.info("resume: no %s (a sweep of an older tsbench): not checked", DEFINITION_FILE)
        return
    try:
        recorded = yaml.safe_load(path.read_text(encoding="utf-8"))
        # a relative path recorded by an older tsbench, read from the folder it ran in
        recorded["fixed"] = [absolute_paths(str(o), ran_in(sweep_dir / MULTIRUN_FILE))
                             for o in recorded["fixed"]]
        changes = differences(recorded, current)
    except (yaml.YAMLError, UnicodeDecodeError, AttributeError, TypeError) as error:
        raise ConfigError(
            "hydra.sweeper.resume", f"{path} is damaged ({type(error).__name__})",
            "restore it, or delete it to resume without the check",
        ) from None
    if not changes:
        return
    if set(recorded["params"]) != set(current["params"]):
        raise ConfigError(
            "hydra.sweeper.resume",
            f"the sweep in {sweep_dir} searched other parameters: {'; '.join(changes)}",
            f"search them again, or start a new hydra.sweep.dir with "
            f"hydra.sweeper.warm_start={sweep_dir / TRIALS_FILE}",
        )
    if resume != "force":
        raise ConfigError(
            "hydra.sweeper.resume",
            f"the sweep in {sweep_dir} was started with a different search: "
            f"{'; '.join(changes)}",
            "resume with the recorded settings (search.yaml), or set "
            "hydra.sweeper.resume=force to continue with the new ones",
        )
    for change in changes:
        log.warning("resume=force: %s", change)


def differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """One line per difference between two definitions."""
    changes = []
    old, new = recorded["params"], current["params"]
    for name in [*old, *(n for n in new if n not in old)]:
        if name not in new:
            changes.append(f"parameter {name} removed (was {old[name]})")
        elif name not in old:
            changes.append(f"parameter {name} added ({new[name]})")
        elif old[name] != new[name]:
            changes.append(f"{name}: {old[name]} -> {new[name]}")
    for key, label in (("constraints", "constraint"), ("fixed", "fixed override")):
        changes += [f"{label} removed: {v}" for v in recorded[key] if v not in current[key]]
        changes += [f"{label} added: {v}" for v in current[key] if v not in recorded[key]]
    for key, value in current["pruner"].items():
        if recorded["pruner"].get(key) != value:
            changes.append(f"pruner.{key}: {recorded['pruner'].get(key)} -> {value}")
    if recorded["direction"] != current["direction"]:
        changes.append(f"direction: {recorded['direction']} -> {current['direction']}")
    return changes
