"""One process at a time in an output folder (a tuning run's, a sweep's).

The same command run twice (two terminals, a cluster requeue while the old job still runs,
or again at once after a kill) would run two copies in one folder: each takes the other's
running trials for lost and launches them again, both write the same job folders, and the
records contradict each other. The first holds an exclusive lock on a file in the folder
(``flock``: the system drops it when the process dies, however it dies) and the second is
refused, naming the first's pid. Where ``fcntl`` is missing (Windows), or the file system
cannot lock (a cluster's scratch space mounted without flock), nothing is locked (with a
warning in the latter case).

The file stays when its holder ends, and locks nothing then (a finished folder keeps it,
holding the last holder's pid). Removing it on the way out would open a race: a second
process that opened the file a moment before locks the removed file once it is released,
while a third creates and locks a new one, and both run. Checking after locking that the
path still names the locked file closes it on a local disk, not on NFS, whose cached
attributes can show the old file for seconds: a cluster's shared scratch is where two
copies of one command (a requeue) meet.

A holder that must remove the file (a refused command removes the folder it made, lock and
all: :func:`tsbench.cli.remove_made`) does it with :func:`removed`, while it still holds
it: it first writes :data:`REMOVED` into the file. A process that opened the file before
and locks it once the holder ends reads that mark and starts over, on the path's new file,
which it shares with any third process; a file's contents read under its lock are the
server's on NFS too (its coherence guarantee, unlike cached attributes). Where another
machine removed the file, NFS answers the lock with ``ESTALE``: started over too.

:func:`waited` is the blocking kind, for a short step that two processes must take one after
the other rather than refuse (creating a shared store): the second waits for the first.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from tsbench.errors import TsbenchError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


#: The line a holder writes into its lock file before it removes it (:func:`removed`).
REMOVED = "removed"
#: How many stale handles (ESTALE) a lock takes before it gives up: each is one removal by
#: another machine, so a mount that answers every lock so is broken, not busy.
STALE_TRIES = 20


@contextlib.contextmanager
def held(lock_file: Path, refusal: Callable[[str], str]) -> Iterator[None]:
    """Hold ``lock_file``, or raise :class:`TsbenchError` saying ``refusal(pid)`` (the
    holder's pid) if another process holds it. Its folder is the caller's to make; where a
    holder removed it with the file on its way out (:func:`removed`), after this process
    had made it or opened the file, both are made again and the new file locked."""
    if fcntl is None:
        yield
        return
    with _locked(lock_file, refusal) as handle:
        if handle is None:  # a file system without flock (Lustre's noflock, FUSE)
            yield
            return
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _locked(lock_file: Path, refusal: Callable[[str], str]) -> Iterator[IO[str] | None]:
    """``lock_file`` open and locked, the file its path names now, not one its last holder
    removed (:func:`removed`) after this process had opened it; None where the file system
    cannot lock (with a warning). A marked file that the path still names when opened again
    (its holder died between the mark and the removal) is taken as it is."""
    with contextlib.ExitStack() as opened:  # each file stays open: no new one takes its inode
        marked = None  # the last file locked here that its holder had marked as removed
        stale = 0  # files found removed by another machine (NFS's ESTALE) so far
        while True:
            try:
                handle = opened.enter_context(open(lock_file, "a+"))
            except FileNotFoundError:  # the folder, removed with the file since it was made
                lock_file.parent.mkdir(parents=True, exist_ok=True)
                continue
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                raise TsbenchError(refusal(handle.readline().strip() or "?")) from None
            except OSError as error:
                if error.errno != errno.ESTALE:
                    log.warning("cannot lock %s (%s): run one process at a time in %s",
                                lock_file, error, lock_file.parent)  # Lustre's noflock, FUSE
                    yield None
                    return
                stale += 1  # removed by another machine (NFS): the path's new file
                if stale == STALE_TRIES:
                    raise TsbenchError(
                        f"{lock_file}: the file server answered {STALE_TRIES} locks with a "
                        "stale file handle (ESTALE) -> check the mount of "
                        f"{lock_file.parent}, then run the command again") from error
                continue
            handle.seek(0)
            identity = os.fstat(handle.fileno())[1:3]  # inode, device
            if REMOVED not in handle.read().split() or identity == marked:
                yield handle
                return
            marked = identity
            fcntl.flock(handle, fcntl.LOCK_UN)


def removed(lock_file: Path) -> None:
    """Remove ``lock_file``, which this process holds (:func:`held`), marked first
    (:data:`REMOVED`) for a process that opened it before and locks it once this one
    releases it: that one starts over on a new file, rather than hold this removed one
    while a third locks the new one. Its folder may go next; the lock is released last."""
    with open(lock_file, "a") as handle:
        handle.write(f"{REMOVED}\n")
        handle.flush()
        os.fsync(handle.fileno())
    lock_file.unlink()


@contextlib.contextmanager
def waited(lock_file: Path) -> Iterator[None]:
    """Hold ``lock_file`` (its folder must exist), waiting for as long as another process
    holds it: for a short step that must not run in two processes at once but that the second
    can take after the first (creating a shared store). Nothing is locked where ``fcntl`` is
    missing or the file system cannot lock (with a warning)."""
    if fcntl is None:
        yield
        return
    with open(lock_file, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)  # no LOCK_NB: wait for the holder
            locked = True
        except OSError as error:  # a file system without flock (Lustre's noflock, FUSE)
            log.warning("cannot lock %s (%s): processes may open it at once", lock_file, error)
            locked = False
        try:
            yield
        finally:
            if locked:
                fcntl.flock(handle, fcntl.LOCK_UN)
