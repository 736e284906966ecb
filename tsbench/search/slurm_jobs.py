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
so and the resume goes on without waiting. Light to import (the standard library and
tsbench.counted): trials import it.

A trial whose job was still pending in SLURM's queue when the sweep died never started, so
it noted no id, and its job starts later anyway: launched again too, it ran twice. Hydra's
submitit launcher returns only once all its jobs end, so the sweeper never sees their ids;
but submitit keeps a folder per submitted job (``hydra.launcher.submitit_folder``, its
``%j`` the job id, ``123_4`` for task 4 of array 123), holding ``<id>_submitted.pkl``. A
resume under submitit_slurm therefore waits also for the jobs named by those files
(:func:`submitted_jobs`; never unpickled) that SLURM still lists. Ended jobs' folders stay
for ever, so SLURM is asked once a poll for all of the user's jobs (:func:`still_running`),
whatever the number of ids, and the answer intersected with them.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Collection, Mapping
from pathlib import Path

from tsbench.counted import noun_for, word_for

log = logging.getLogger(__name__)

SQUEUE = "squeue"
#: The states of a job that has ended, in which ``squeue --states=all`` still lists it for
#: a while; in any other (PD, R, CG, S, ...) it still runs, or will.
ENDED_STATES = frozenset({"BF", "CA", "CD", "DL", "F", "NF", "OOM", "PR", "RV", "TO"})
PENDING = "PD"
#: The file submitit writes into a job's folder once it submitted it, named by its id.
SUBMITTED = re.compile(r"(\d+(?:_\d+)?)_submitted\.pkl")
#: submitit's tags for ids in ``submitit_folder`` (job, array job, array task, task).
ID_TAGS = re.compile("%[jAat]")
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


def submitted_jobs(submitit_folder: str) -> set[str]:
    """The ids of the SLURM jobs submitit submitted with ``submitit_folder`` (the launcher's,
    resolved: ``%j`` and the other id tags in it match any folder), read from the names of
    their ``<id>_submitted.pkl`` files, never unpickled; the sweep's own job left out (it
    would wait for itself). Empty where no folder exists."""
    parts = ID_TAGS.split(str(Path(submitit_folder).expanduser().absolute()))
    pattern = "*".join(glob.escape(part) for part in parts)
    found = {match.group(1) for path in glob.glob(f"{pattern}/*_submitted.pkl")
             if (match := SUBMITTED.fullmatch(Path(path).name))}
    return found - {own_job_id(), os.environ.get("SLURM_JOB_ID")}


def still_running(ids: Collection[str]) -> dict[str, str]:
    """The jobs among ``ids`` that SLURM lists as not ended (pending, running, completing,
    suspended, requeued), each with its state (``PD``, ``R``, ...); raises
    :class:`Unanswered` where ``squeue`` is missing or fails. One call for any number of
    ids: this user's jobs in every state, each array task on a line of its own (``123_4``,
    as submitit and :func:`own_job_id` name it, pending ones too). Asking ``--jobs=`` for
    the ids instead cost a call per id where SLURM refuses a list naming one it no longer
    knows, and a sweep's ended jobs are hundreds."""
    squeue = shutil.which(SQUEUE)
    if squeue is None:
        raise Unanswered(f"{SQUEUE} is not on PATH")
    command = [squeue, "--noheader", "--format=%i %t", "--array", "--states=all",
               f"--user={os.getuid()}"]
    try:
        answer = subprocess.run(command, capture_output=True, text=True,
                                timeout=SQUEUE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Unanswered(f"{SQUEUE} failed: {error}") from error
    if answer.returncode != 0:
        problem = answer.stderr.strip().splitlines()[-1:] or [
            f"exit status {answer.returncode}"]
        raise Unanswered(f"{SQUEUE} failed: {problem[0]}")
    wanted = set(ids)
    listed = (line.split() for line in answer.stdout.splitlines())
    return {f[0]: f[1] for f in listed
            if len(f) == 2 and f[0] in wanted and f[1] not in ENDED_STATES}


def wait_while_running(jobs: Mapping[str, str | None], poll_seconds: float) -> None:
    """Wait while SLURM lists any of ``jobs`` (SLURM job id -> the trial it runs, named;
    None for a job the sweep submitted that no trial noted), asking every
    ``poll_seconds``: one line as the wait starts, one every few minutes at most while it
    lasts, one as it ends. No ``squeue`` call where ``jobs`` is empty; where ``squeue``
    cannot answer (after it has in this wait: :data:`FAILURES_IN_A_ROW` times in a row),
    one warning, and no more waiting."""
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
                "scancel those jobs first", why, _asked(jobs))
            return
        if not running:
            if waiting:
                log.info("resume: %s %s %s ended (waited %.0f s)",
                         noun_for(len(waiting), "SLURM job"),
                         ", ".join(sorted(waiting, key=job_order)),
                         word_for(len(waiting), "has", "have"), time.monotonic() - started)
            return
        now = time.monotonic()
        if not waiting:
            log.info("resume: waiting for the SLURM jobs of the dead sweep's trials that still "
                     "run: %s; each trial is then recorded from its folder or launched again "
                     "(squeue every %g s: hydra.sweeper.slurm_poll_seconds)",
                     _named(running, jobs), poll_seconds)
            logged = now
        elif now - logged >= LOG_EVERY_S:
            log.info("resume: still waiting for %s %s (%.0f min so far)",
                     noun_for(len(running), "SLURM job"), ", ".join(sorted(running, key=job_order)),
                     (now - started) / 60)
            logged = now
        waiting |= running.keys()
        time.sleep(poll_seconds)


def job_order(job: str) -> tuple[tuple[int, ...], str]:
    """A SLURM job id's place in order: ``123_2`` before ``123_10`` (its numbers, not its
    text; an id not of numbers, which SLURM does not give, by its text after them)."""
    return tuple(int(part) if part.isdigit() else -1 for part in job.split("_")), job


def _named(running: Mapping[str, str], jobs: Mapping[str, str | None]) -> str:
    """``trial 3 (Hydra job #2) as SLURM job 123_4, SLURM job 123_5 (pending, not
    started), ...`` for the ``running`` jobs (id -> state)."""
    return ", ".join(_name(i, jobs[i], running[i]) for i in sorted(running, key=job_order))


def _name(job: str, label: str | None, state: str) -> str:
    """One job named by the trial that noted it, or, noted by none, by its state."""
    if label is not None:
        return f"{label} as SLURM job {job}"
    said = "pending, not started" if state == PENDING else f"{state}, noted by no trial"
    return f"SLURM job {job} ({said})"


def _asked(jobs: Mapping[str, str | None]) -> str:
    """The noted ``jobs`` named, the others counted (an ended sweep's are hundreds)."""
    named = [_name(i, jobs[i], "") for i in sorted(jobs, key=job_order) if jobs[i] is not None]
    others = sum(label is None for label in jobs.values())
    if others:
        named.append(f"{others} more SLURM jobs this sweep submitted")
    return ", ".join(named)
