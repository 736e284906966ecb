"""How a tuning stage runs its command: ``python -m <module> <args>`` forked from the
preloaded server, its output in ``<name>.log`` of the tuning folder, and a failure told by
the command's own error line, in the recipe's terms."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from tsbench.errors import TsbenchError
from tsbench.preload import run_module
from tsbench.tune_stage import TUNE_STAGE_ENV

log = logging.getLogger("tsbench.tune")


class StageFailed(TsbenchError):
    """A stage's command exited non-zero."""


class StagesStopped(TsbenchError):
    """An error met once the stages began (a stage's or between stages), not a refusal of
    the command: the tuning folder holds what they wrote so far."""


def tsbench(*args: str) -> list[str]:
    """The stage command ``python -m tsbench args``: the module, then its arguments."""
    return ["tsbench", *args]


def run_stage(name: str, command: list[str], out_dir: Path) -> None:
    """Run one stage's command (``python -m command[0] command[1:]``, forked from the
    preloaded server of :mod:`tsbench.preload`), its output appended to
    ``<out_dir>/<name>.log``; a failure names the command's own error line. The command
    knows its stage (:data:`TUNE_STAGE_ENV`): its advice is for the stage, not a run of
    its own."""
    log.debug("stage %s: python -m %s", name, " ".join(command))
    path = out_dir / f"{name}.log"
    code = run_module(command[0], command[1:], path, env={**os.environ, TUNE_STAGE_ENV: name})
    if code != 0:
        cause = failure_cause(path.read_text(errors="replace"))
        said = f": {in_recipe_terms(cause)}" if cause else ""
        raise StageFailed(f"stage {name} failed (exit {code}){said}; see {path}")


#: Lines of a failed command's output that say why, most telling first: tsbench's own
#: error line, a Python exception (a traceback's last line), Hydra's composition error.
CAUSES = (re.compile(r": error: "), re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\b"),
          re.compile(r"^(In '|Could not |Error merging override )"))


def failure_cause(output: str) -> str:
    """The last line of ``output`` of the most telling kind in ``CAUSES`` ('' if none)."""
    lines = output.splitlines()
    for cause in CAUSES:
        found = [line.strip() for line in lines if cause.search(line)]
        if found:
            return found[-1]
    return ""


def in_recipe_terms(said: str) -> str:
    """A stage command's error, with where the recipe sets what it names."""
    if "cv.n_splits" in said:
        return f"{said} (tsbench-tune sets cv.n_splits to recipe.cv_folds)"
    if "is writing into" in said:  # the folder's lock (tsbench.cli.holding)
        return (f"{said} (a stage of a tsbench-tune stopped moments ago ends within seconds "
                "of it: run the same command again then)")
    return said


def override_key(override: str) -> str:
    """The key an override sets: ``model.d_model`` of ``+model.d_model=64``."""
    return override.split("=", 1)[0].lstrip("+~")


def search_path(overrides: list[str]) -> list[str]:
    """The command's ``hydra.searchpath`` override (config groups of the user's, outside the
    package), for the stage commands that take not every override of the command."""
    return [o for o in overrides if override_key(o) == "hydra.searchpath"]
