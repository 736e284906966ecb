"""The command that runs more seeds of a report's cell: its run's own ``tsbench`` command as
a plain multirun over the seeds it lacks (never a search over them, which would choose the
luckiest seed on validation: :mod:`tsbench.search.seeds`)."""

from __future__ import annotations

import shlex

import yaml
from hydra.errors import HydraException

from tsbench.report.collect import Cell
from tsbench.rundir import HYDRA_OVERRIDES, HYDRA_RECORD, ran_in
from tsbench.search.composition import compose_tsbench
from tsbench.search.report import absolute_paths, run_hydra_overrides
from tsbench.search.seeds import plain_multirun

#: Where a cell's run folder keeps no command (a run saved in process, or by an older tsbench).
NO_COMMAND = "its tsbench command with -m and seed={seeds} added"


def new_seeds(cell: Cell, total: int) -> str:
    """The smallest seeds the cell has not run, enough for ``total`` in all: ``3,4,5``."""
    have = {run.seed for run in cell.runs}
    seeds = [s for s in range(1, total + len(have) + 1) if s not in have]
    return ",".join(map(str, seeds[: max(1, total - len(have))]))


def more_seeds_command(cell: Cell, total: int) -> str:
    """The shell command (in backticks, as Markdown quotes code) that runs the cell's
    configuration at the seeds it lacks for ``total`` (:func:`new_seeds`) into a folder of
    its own: its first run's command-line overrides (``.hydra/overrides.yaml``) and Hydra
    ones that shape a run, relative paths made absolute from the folder it ran in, made a
    plain multirun; :data:`NO_COMMAND` where the folder keeps none (or a search preset in
    it does not compose here)."""
    seeds = new_seeds(cell, total)
    run_dir = cell.runs[0].path
    try:
        overrides = [str(o) for o in yaml.safe_load((run_dir / HYDRA_OVERRIDES).read_text())]
    except (OSError, yaml.YAMLError, TypeError):
        return NO_COMMAND.format(seeds=seeds)
    start = ran_in(run_dir / HYDRA_RECORD)
    lines = [absolute_paths(o, start) for o in [*run_hydra_overrides(run_dir), *overrides]]
    try:
        multirun = plain_multirun(lines, compose_tsbench, seeds)
    except HydraException:
        return NO_COMMAND.format(seeds=seeds)
    return "`" + " ".join(["tsbench", *map(shlex.quote, multirun)]) + "`"

