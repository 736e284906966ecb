"""Refill at once: each trial is one ``Launcher.launch`` call for one job, in its own thread.

Hydra's public launcher API is ``launch(job_overrides, initial_job_idx)``, which returns
when the last job of the call has ended, so a sweep that hands it ``n_jobs`` points at
once leaves slots idle until the slowest point ends (hydra#3091). Here every running
trial is a separate call with a single job, made from a thread of the sweep process; the
call blocks in that thread while the job runs elsewhere, and its result is queued for the
sweep loop, which reads results in the order trials end and starts the next trial at
once. Proposals, the record and the optimizer stay in the loop's (main) thread.

This needs a launcher whose ``launch`` may run in several threads at once because it runs
the job in another process: joblib (every call submits to loky's one reusable pool of
worker processes, so ``hydra.launcher.n_jobs`` workers serve the calls) and submitit
(local and SLURM: every call submits and polls its own job). Hydra's basic launcher runs
the job inside the calling thread of the sweep process and changes process-wide state
(the current Hydra config, logging, the working directory); it keeps the batch schedule.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any

from hydra.core.utils import JobReturn

#: Launchers whose ``launch`` runs jobs in other processes and is safe to call from threads.
REFILL_LAUNCHERS = (
    "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher",
    "hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher",
    "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher",
)
#: How often the waiting loop wakes up (so that Ctrl-C is handled promptly).
POLL_SECONDS = 0.5


def refills(launcher: Any) -> bool:
    """Whether ``launcher`` is one that ``schedule=auto`` refills at once."""
    cls = type(launcher)
    return f"{cls.__module__}.{cls.__qualname__}" in REFILL_LAUNCHERS


@dataclass(frozen=True)
class Ended:
    """A job that came back: its result, or the launcher's own exception."""

    job: int
    result: JobReturn | None
    error: BaseException | None


class Slots:
    """Starts one-job launches in threads and hands back whichever ends first."""

    def __init__(self, launcher: Any) -> None:
        self.launcher = launcher
        self._ended: queue.Queue[Ended] = queue.Queue()

    def start(self, overrides: list[str], job: int) -> None:
        thread = threading.Thread(
            target=self._launch, args=(overrides, job), name=f"tsbench-job-{job}", daemon=True
        )
        thread.start()

    def next(self) -> Ended:
        """Block until a started job has ended."""
        while True:
            try:
                return self._ended.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue

    def _launch(self, overrides: list[str], job: int) -> None:
        try:
            (result,) = self.launcher.launch([overrides], initial_job_idx=job)
            self._ended.put(Ended(job, result, None))
        except BaseException as error:  # reported as the trial's failure by the loop
            self._ended.put(Ended(job, None, error))
