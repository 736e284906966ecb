"""Trials of a dead sweep that still run as SLURM jobs of their own: which, and waiting.

On SLURM (``hydra/launcher=submitit_slurm``) each trial is a job of its own that does not
watch the sweep: when the sweep's job ends (its time limit, ``scancel``), the trials train
on. A resume that launched again every trial without its ``metrics.json`` ran those twice
side by side. So each trial notes, as it starts, the SLURM job it runs as
(:func:`own_job_id`, in ``record/folders/<job>.json``: :mod:`tsbench.search.job_folder`),
where that is not the sweep's own job (a joblib or submitit_local worker, or the basic
launcher, runs inside the sweep's job, and dies with the sweep). Before it decides what
runs again, a resume asks ``squeue`` which of the noted jobs of the trials that were
running when the sweep died are still known to SLURM and not ended, and waits while any is
(:func:`wait_while_running`); then a trial that wrote its ``metrics.json`` is recorded from
its folder and one that did not is launched again, as for any resume. Where SLURM cannot be
asked (no ``squeue`` on PATH: a resume on a laptop; ``squeue`` failing) one warning says
so and the resume goes on without waiting. Standard library only: trials import it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from collections.abc import Collection, Mapping

log = logging.getLogger(__name__)

SQUEUE = "squeue"
#: What ``squeue`` says on stderr, exiting non-zero, about a job id SLURM no longer knows
#: (some versions for a list holding one such id: each is then asked alone).
INVALID_ID = "Invalid job id specified"
#: The states of a job that has ended, in which ``squeue --jobs`` may still list it for a
#: while; in any other (PD, R, CG, S, ...) it still runs, or will.
ENDED_STATES = frozenset({"BF", "CA", "CD", "DL", "F", "NF", "OOM", "PR", "RV", "TO"})
#: Longest wait for one ``squeue`` answer (a busy controller answers in seconds).
SQUEUE_TIMEOUT_S = 60.0
#: Least time between two lines saying that the resume still waits.
LOG_EVERY_S = 300.0
#: Failed ``squeue`` calls in a row, once it has answered in a wait, before the wait gives
#: up (a busy controller times out now and then; one failure must not relaunch trials).
FAILURES_IN_A_ROW = 3


class Unanswered(Exception):
    """SLURM could not be asked which jobs still run (the reason is the message)."""


def own_job_id() -> str | None:
    """The SLURM job this process runs in, as ``squeue`` names it (``123``; ``123_4`` for
    task 4 of array 123, as submitit's batches run); None outside SLURM."""
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return f"{array}_{task}"
    return os.environ.get("SLURM_JOB_ID") or None


def still_running(ids: Collection[str]) -> set[str]:
    """The jobs among ``ids`` that SLURM lists as not ended (pending, running, completing,
    suspended, requeued); raises :class:`Unanswered` where ``squeue`` is missing or fails."""
    squeue = shutil.which(SQUEUE)
    if squeue is None:
        raise Unanswered(f"{SQUEUE} is not on PATH")
    return _ask(squeue, sorted(ids))


def _ask(squeue: str, ids: list[str]) -> set[str]:
    """``still_running`` for ``ids``, all in one call of ``squeue``, or one at a time where
    it refuses the list for an id it no longer knows (an ended job)."""
    command = [squeue, "--noheader", "--format=%i %t", f"--jobs={','.join(ids)}"]
    try:
        answer = subprocess.run(command, capture_output=True, text=True,
                                timeout=SQUEUE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Unanswered(f"{SQUEUE} failed: {error}") from error
    if answer.returncode == 0:
        listed = (line.split() for line in answer.stdout.splitlines())
        return {f[0] for f in listed if len(f) == 2 and f[1] not in ENDED_STATES} & set(ids)
    if INVALID_ID in answer.stderr:
        return set() if len(ids) == 1 else set().union(*(_ask(squeue, [i]) for i in ids))
    problem = answer.stderr.strip().splitlines()[-1:] or [f"exit status {answer.returncode}"]
    raise Unanswered(f"{SQUEUE} failed: {problem[0]}")


def wait_while_running(jobs: Mapping[str, str], poll_seconds: float) -> None:
    """Wait while SLURM lists any of ``jobs`` (SLURM job id -> the trial it runs, named),
    asking every ``poll_seconds``: one line as the wait starts, one every few minutes at
    most while it lasts, one as it ends. No ``squeue`` call where ``jobs`` is empty; where
    ``squeue`` cannot answer (after it has in this wait: :data:`FAILURES_IN_A_ROW` times
    in a row), one warning, and no more waiting."""
    if not jobs:
        return
    started = logged = time.monotonic()
    waiting: set[str] = set()
    failures = 0
    while True:
        try:
            running = still_running(jobs)
            failures = 0
        except Unanswered as why:
            failures += 1
            if waiting and failures < FAILURES_IN_A_ROW:
                time.sleep(poll_seconds)
                continue
            log.warning(
                "resume: %s, so whether the SLURM jobs of the dead sweep's trials still run "
                "is unknown (%s): a trial without its metrics.json is launched again, twice "
                "side by side where its job still runs -> resume where squeue answers, or "
                "scancel those jobs first", why, _named(jobs, jobs))
            return
        if not running:
            if waiting:
                log.info("resume: SLURM jobs %s have ended (waited %.0f s)",
                         ", ".join(sorted(waiting)), time.monotonic() - started)
            return
        now = time.monotonic()
        if not waiting:
            log.info("resume: waiting for the SLURM jobs of the dead sweep's trials that still "
                     "run: %s; each trial is then recorded from its folder or launched again "
                     "(squeue every %g s: hydra.sweeper.slurm_poll_seconds)",
                     _named(running, jobs), poll_seconds)
            logged = now
        elif now - logged >= LOG_EVERY_S:
            log.info("resume: still waiting for SLURM jobs %s (%.0f min so far)",
                     ", ".join(sorted(running)), (now - started) / 60)
            logged = now
        waiting |= running
        time.sleep(poll_seconds)


def _named(ids: Collection[str], jobs: Mapping[str, str]) -> str:
    """``trial 3 (Hydra job #2) as SLURM job 123_4, ...`` for ``ids``."""
    return ", ".join(f"{jobs[i]} as SLURM job {i}" for i in sorted(ids))
