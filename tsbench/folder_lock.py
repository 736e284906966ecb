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

:func:`waited` is the blocking kind, for a short step that two processes must take one after
the other rather than refuse (creating a shared store): the second waits for the first.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from tsbench.errors import TsbenchError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


@contextlib.contextmanager
def held(lock_file: Path, refusal: Callable[[str], str]) -> Iterator[None]:
    """Hold ``lock_file`` (its folder must exist), or raise :class:`TsbenchError` saying
    ``refusal(pid)`` (the holder's pid) if another process holds it."""
    if fcntl is None:
        yield
        return
    with open(lock_file, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise TsbenchError(refusal(handle.read().strip() or "?")) from None
        except OSError as error:  # a file system without flock (Lustre's noflock, FUSE)
            log.warning("cannot lock %s (%s): run one process at a time in %s", lock_file,
                        error, lock_file.parent)
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
