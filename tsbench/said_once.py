"""The warning lines a multirun's jobs say once on the terminal: the first job to say a line
prints it, the others keep it in their log files alone. Each of a search's 30 trials said
the same line (``dataset.fillna=ffill filled scored target cells ...``), burying the
progress lines.

The jobs may be other processes (joblib's and submitit's workers), so a line said is marked
by a file in a folder the command makes for the sweep (:func:`said_once`), which its jobs
find through :data:`SAID_ONCE_ENV`, inherited as the command's warnings are
(:data:`~tsbench.log_lines.COMMAND_WARNINGS_ENV`). The folder is the command's: a resumed
sweep says its lines again, once. A job that cannot reach it (SLURM's, on another machine,
whose terminal is its own log) says its lines, as a single run does."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: The environment variable naming the folder of the lines the multirun's jobs have said.
SAID_ONCE_ENV = "TSBENCH_SAID_ONCE"


@contextlib.contextmanager
def said_once() -> Iterator[None]:
    """While the multirun runs, its jobs say each line once (:func:`first_to_say`); the
    folder goes with it."""
    folder = tempfile.mkdtemp(prefix="tsbench-said-")
    os.environ[SAID_ONCE_ENV] = folder
    try:
        yield
    finally:
        os.environ.pop(SAID_ONCE_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)


def first_to_say(line: str) -> bool:
    """Whether this job is the first of its multirun to say ``line``, marking it said; True
    outside a multirun, and where the folder cannot be reached (better twice than never)."""
    folder = os.environ.get(SAID_ONCE_ENV)
    if not folder:
        return True
    mark = Path(folder, hashlib.sha256(line.encode()).hexdigest())
    try:
        os.close(os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY))  # atomic: one job wins
    except FileExistsError:
        return False
    except OSError:
        return True
    return True
