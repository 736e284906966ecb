"""A multirun's jobs say each warning line once on the terminal, whichever process each job
runs in (joblib's workers are processes of their own); outside a multirun, and where the
sweep's folder cannot be reached, every line is said."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tsbench.said_once import SAID_ONCE_ENV, first_to_say, said_once

#: A worker's answers: whether it is the first to say each of two lines.
WORKER = ("from tsbench.said_once import first_to_say; "
          "print(first_to_say('a line'), first_to_say('another line'))")


def test_a_line_is_said_once_by_the_multiruns_processes_together() -> None:
    assert first_to_say("a line") and first_to_say("a line")  # no multirun: every time
    with said_once():
        assert first_to_say("a line") and not first_to_say("a line")
        worker = subprocess.run([sys.executable, "-c", WORKER], capture_output=True,
                                text=True, check=True)
        assert worker.stdout.split() == ["False", "True"]  # said here; its own
        assert not first_to_say("another line")  # said by the worker
        folder = os.environ[SAID_ONCE_ENV]
        shutil.rmtree(folder)  # out of reach (a SLURM job on another machine)
        assert first_to_say("a line") and first_to_say("a line")
    assert SAID_ONCE_ENV not in os.environ
