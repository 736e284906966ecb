"""An output file that would replace one of tsbench's own records, refused.

``tsbench-forecast -o`` and ``tsbench-report -o`` (and ``--cd-diagram``) write where they are
told. Pointed at a finished run's ``metrics.json``, a search's ``trials.csv`` or a tuning
folder's ``tune.json``, they replaced the scores, the record a resume reads or the report
a finished tuning run prints, without a word. Each kind of tsbench folder is known by a
record it always holds, and its own files by name; a new file of one's own beside them is
written as asked.
"""

from __future__ import annotations

from pathlib import Path

from tsbench.errors import ConfigError
from tsbench.rundir import METRICS, OWN_FILES, OWN_FOLDERS, fold_number
from tsbench.search.names import (
    BEST_FILE,
    DEFINITION_FILE,
    MULTIRUN_FILE,
    TRIALS_FILE,
)
from tsbench.search.names import LOCK_FILE as SWEEP_LOCK
from tsbench.tune.state import CLOCK_FILE, LOCK_FILE
from tsbench.tuning_files import REPORT_FILE, STATE_FILE, SUMMARY_FILE

#: A sweep's records (and the sweeper's plots), and its folders of them.
SWEEP_FILES = frozenset({TRIALS_FILE, BEST_FILE, DEFINITION_FILE, MULTIRUN_FILE, SWEEP_LOCK,
                         "convergence.png", "evaluations.png", "objective.png"})
SWEEP_FOLDERS = frozenset({"record"})
#: A tuning folder's records beside its stages' folders (which are runs and sweeps).
TUNE_FILES = frozenset({STATE_FILE, CLOCK_FILE, SUMMARY_FILE, REPORT_FILE, LOCK_FILE,
                        "e_warm_start.csv"})


def owner(path: Path) -> tuple[str, Path, Path] | None:
    """What ``path`` is one of the own files of: ``(kind, folder, path inside it)`` for a
    finished run's (a folder holding :data:`METRICS`: its :data:`OWN_FILES`, its job log,
    anything in :data:`OWN_FOLDERS`, the same in a fold's folder), a sweep's (holding
    ``multirun.yaml`` or ``trials.csv``) or a tuning folder's (holding ``tune.json``); None
    for any other path."""
    path = path.resolve()
    for folder in path.parents:
        inside = path.relative_to(folder)
        if (folder / METRICS).is_file() and _run_owned(inside):
            return "finished run", folder, inside
        if ((folder / MULTIRUN_FILE).is_file() or (folder / TRIALS_FILE).is_file()) and (
                inside.parts[0] in (SWEEP_FOLDERS if len(inside.parts) > 1 else SWEEP_FILES)):
            return "sweep", folder, inside
        if (folder / STATE_FILE).is_file() and len(inside.parts) == 1 and (
                inside.name in TUNE_FILES or inside.suffix == ".log"):
            return "tuning run", folder, inside
    return None


def _run_owned(inside: Path) -> bool:
    """Whether ``inside`` (a path in a run's folder) is one of the run's own files: by
    name, its job log, anything in its own folders, the same in a fold's folder."""
    top, rest = inside.parts[0], Path(*inside.parts[1:])
    if not rest.parts:
        return top in OWN_FILES or inside.suffix == ".log"
    return top in OWN_FOLDERS or (fold_number(Path(top)) is not None and _run_owned(rest))


def check_output(path: Path, option: str, example: str) -> None:
    """Refuse a command's output file ``path`` (given as ``option``, e.g. ``-o``) that is one
    of tsbench's own records (:func:`owner`). ``example``: a file name of one's own to
    suggest in that folder."""
    found = owner(path)
    if found is not None:
        kind, folder, inside = found
        if owner(folder / example) is not None:  # a tuning folder's report.md
            example = f"my_{example}"
        raise ConfigError(f"{option} {path}", f"is the {kind} {folder}'s own {inside}: "
                          "writing there would replace it",
                          f"give a file of your own, e.g. {folder / example}")

