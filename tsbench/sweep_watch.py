"""A process started for a sweep or a tuning run ends when the process that started it dies.

joblib's (loky) and submitit_local's workers outlive a sweep killed with SIGKILL, or by the
out-of-memory killer: re-parented, they train on, hold their memory (and GPU memory) for
minutes, and finish trials that no one records (a resumed sweep launches them again). The
``tsbench`` process marks itself as the sweep's (:func:`mark_sweep_process`); a trial that
descends from that process watches it and exits once it is gone. A trial in the sweep's own
process (the basic launcher) or on another machine (SLURM) does not descend from it: not
watched. A ``tsbench-tune`` stage (forked by :mod:`tsbench.preload`) watches
``tsbench-tune`` the same way (:func:`exit_with`): a stage left running would go on beside
the stage that the same command, run again to resume, starts in the same folder.

Parents are read from ``/proc`` (Linux), or from ``ps`` where there is none (macOS, BSD).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

#: The environment variable naming the process that runs the sweep (workers inherit it).
SWEEP_PID = "TSBENCH_SWEEP_PID"
_watching: list[int] = []  # the pid watched by this process, once
if hasattr(os, "register_at_fork"):  # POSIX: a fork has none of its parent's threads, its
    # watch included, so it watches anew (a stage forked by tsbench.preload.serve_from_here's
    # server, which a watched tsbench-tune forked)
    os.register_at_fork(after_in_child=_watching.clear)
#: Whether this system shows processes in /proc (else ``ps`` is asked).
_PROC = Path("/proc/self/stat").is_file()


def mark_sweep_process() -> None:
    """Name this process as the sweep's to the workers it starts."""
    os.environ[SWEEP_PID] = str(os.getpid())


def _descends_from(pid: int) -> bool | None:
    """Whether ``pid`` is this process's parent or an earlier ancestor (the parent only
    where neither /proc nor ``ps`` tells); None when ``ps`` failed to answer (a fork refused
    under memory pressure): the watch then keeps watching. submitit_local's jobs are
    grandchildren of the sweep's process, whose death re-parents their parent."""
    current = os.getppid()
    for _ in range(64):
        if current == pid:
            return True
        if current <= 1:
            return False
        try:
            parent = _parent(current)
        except _NoAnswer:
            return None
        if parent is None:
            return False
        current = parent
    return False


class _NoAnswer(Exception):
    """``ps`` could not be run or did not answer in time."""


def _parent(pid: int) -> int | None:
    """``pid``'s parent, read from /proc or ``ps`` (None where the process is gone or cannot
    be read; :class:`_NoAnswer` where ``ps`` failed)."""
    if not _PROC:
        return {row.pid: row.parent for row in _ps_rows(pid)}.get(pid)
    row = _proc_row(pid)
    return None if row is None else row.parent


class _Row(NamedTuple):
    """A process as /proc or ``ps`` shows it: its state letter (Z: ended, not yet reaped)
    and its command line."""

    pid: int
    parent: int
    state: str
    command: str


def _proc_row(pid: int, command: bool = False) -> _Row | None:
    """``pid`` as /proc shows it (its command line read only where asked); None where it
    is gone or cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        line = Path(f"/proc/{pid}/cmdline").read_bytes() if command else b""
        return _Row(pid, int(fields[1]), fields[0], line.replace(b"\0", b" ").decode(
            errors="replace"))
    except (OSError, ValueError, IndexError):
        return None


def _ps_rows(pid: int | None = None) -> list[_Row]:
    """``pid`` (every process when None) as ``ps`` lists it (none where it is gone);
    :class:`_NoAnswer` where ``ps`` failed."""
    chosen = ["-A"] if pid is None else ["-p", str(pid)]
    try:
        with subprocess.Popen(["ps", *chosen, "-o", "pid=", "-o", "ppid=", "-o", "stat=",
                               "-o", "args="], text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL) as ps:
            try:
                listed, _ = ps.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                ps.kill()
                raise _NoAnswer from None
    except (OSError, subprocess.SubprocessError):
        raise _NoAnswer from None
    rows = (line.split(None, 3) for line in listed.splitlines())
    return [_Row(int(row[0]), int(row[1]), row[2][:1], row[3]) for row in rows
            if len(row) == 4 and row[0].isdigit() and row[1].isdigit()]


def has_children() -> bool:
    """Whether this process has child processes (a launcher's workers), as /proc or ``ps``
    shows (``ps`` itself, run here or by a watch thread, left out; False where neither can
    tell)."""
    return bool(children())


def children() -> list[int]:
    """This process's child processes, as /proc or ``ps`` shows them (``ps`` itself left
    out; none where neither can tell)."""
    me = os.getpid()
    return [pid for pid, parent in _parents().items() if parent == me]


def _parents() -> dict[int, int]:
    """Every process's parent, as /proc or ``ps`` shows them (``ps`` itself left out;
    none where neither can tell)."""
    if _PROC:
        rows = (_proc_row(int(p.name)) for p in Path("/proc").glob("[0-9]*"))
        return {row.pid: row.parent for row in rows if row is not None}
    try:
        return {row.pid: row.parent for row in _ps_rows()
                if Path(row.command.split(" ", 1)[0]).name != "ps"}
    except _NoAnswer:
        return {}


def descendants() -> list[int]:
    """This process's children, their children, and so on (parents before children)."""
    parents = _parents()
    found = [os.getpid()]
    for pid in found:  # grows as it goes
        found += [child for child, parent in parents.items() if parent == pid]
    return found[1:]


def _running(pid: int) -> _Row | None:
    """``pid`` while it runs (not ended, nor a zombie left to be reaped), with its command
    line; else None."""
    if _PROC:
        row = _proc_row(pid, command=True)
    else:
        try:
            row = next(iter(_ps_rows(pid)), None)
        except _NoAnswer:
            return None
    return None if row is None or row.state in ("Z", "X") else row


def end_children(seconds: float = 5.0) -> None:
    """Kill (SIGKILL) this process's descendants, and wait until they have ended: a
    stopped sweep's workers, with their trials, end before the sweep says it stopped.
    SIGTERM was not enough: Lightning takes it for a request to end the trial, which loky's
    worker reports as the trial's error, and the worker, outliving the sweep until its watch
    saw it gone, went on to the next job queued in its pipe, writing into the folder after
    the stop line. A worker broken off by the Ctrl-C before it began to watch the sweep
    waited for its next task for minutes (loky's idle timeout); submitit_local's jobs
    (grandchildren) ignore SIGTERM (submitit's handler). The resource trackers (loky's,
    multiprocessing's) stay: they remove the semaphores and folders the workers leave, and
    end once the workers have. A process started meanwhile (a worker replacing a killed
    one) is killed too; after ``seconds`` this gives up on one that does not end."""
    deadline = time.monotonic() + seconds
    killed: set[int] = set()  # a killed worker's children leave the tree: waited for here
    while time.monotonic() < deadline:
        for row in filter(None, map(_running, descendants())):  # the whole tree, then kill
            if row.pid not in killed and "resource_tracker" not in row.command:
                with contextlib.suppress(OSError):  # ended since
                    os.kill(row.pid, signal.SIGKILL)
                killed.add(row.pid)
        if not any(map(_running, killed)):
            return
        time.sleep(0.02)


def exit_with_sweep(interval: float = 1.0) -> bool:
    """In a worker of the sweep's process, start a daemon thread that ends this process
    within ``interval`` seconds of the sweep's death; whether this process is watched."""
    sweep = os.environ.get(SWEEP_PID, "")
    if not sweep.isdigit():
        return bool(_watching)
    return exit_with(int(sweep), "the sweep's process", interval)


def exit_with(pid: int, who: str, interval: float = 1.0) -> bool:
    """Start a daemon thread that ends this process (exit code 3) within ``interval``
    seconds of the death of ``pid``, an ancestor (``who`` names it in the log); whether
    this process is watched (one watch a process: the first one asked for)."""
    if _watching or pid == os.getpid():
        return bool(_watching)
    if not _descends_from(pid):
        return False
    _watching.append(pid)

    def watch() -> None:
        while _descends_from(pid) is not False:
            time.sleep(interval)
        log.error("%s (pid %s) died: this process stops with it", who, pid)
        os._exit(3)

    threading.Thread(target=watch, name="tsbench-watch", daemon=True).start()
    return True
