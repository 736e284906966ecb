"""A trial run in a worker process of its sweep ends when the sweep's process dies.

joblib's (loky) and submitit_local's workers outlive a sweep killed with SIGKILL, or by the
out-of-memory killer: re-parented, they train on, hold their memory (and GPU memory) for
minutes, and finish trials that no one records (a resumed sweep launches them again). The
``tsbench`` process marks itself as the sweep's (:func:`mark_sweep_process`); a trial whose
parent is that process watches it and exits once it is gone. A trial in the sweep's own
process (the basic launcher) or on another machine (SLURM) has another parent: not watched.
"""

from __future__ import annotations

import logging
import os
import threading
import time

log = logging.getLogger(__name__)

#: The environment variable naming the process that runs the sweep (workers inherit it).
SWEEP_PID = "TSBENCH_SWEEP_PID"
_watching: list[int] = []  # the pid watched by this process, once


def mark_sweep_process() -> None:
    """Name this process as the sweep's to the workers it starts."""
    os.environ[SWEEP_PID] = str(os.getpid())


def exit_with_sweep(interval: float = 1.0) -> bool:
    """In a worker of the sweep's process, start a daemon thread that ends this process
    within ``interval`` seconds of the sweep's death; whether this process is watched."""
    sweep = os.environ.get(SWEEP_PID, "")
    if _watching or not sweep.isdigit() or os.getppid() != int(sweep):
        return bool(_watching)
    _watching.append(int(sweep))

    def watch() -> None:
        while os.getppid() == int(sweep):
            time.sleep(interval)
        log.error("the sweep's process (pid %s) died: this trial stops with it", sweep)
        os._exit(3)

    threading.Thread(target=watch, name="tsbench-sweep-watch", daemon=True).start()
    return True
