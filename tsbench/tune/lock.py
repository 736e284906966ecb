"""One ``tsbench-tune`` at a time in a tuning folder.

The same command run twice (two terminals, or again at once after a kill) would run two
copies of a stage in one sweep folder: each takes the other's running trials for lost and
launches them again, and the budget clock counts one of them. The first holds an exclusive
lock on ``<out>/tune.lock`` (``flock``: the system drops it when the process dies, however
it dies) and the second is refused, naming the first's pid. Where ``fcntl`` is missing
(Windows), or the file system cannot lock (a cluster's scratch space mounted without
flock), nothing is locked (with a warning in the latter case).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from tsbench.errors import TsbenchError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = "tune.lock"

log = logging.getLogger(__name__)


@contextlib.contextmanager
def held(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir``'s lock, or raise :class:`TsbenchError` if another process holds it."""
    if fcntl is None:
        yield
        return
    with open(out_dir / LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise TsbenchError(
                f"out={out_dir}: another tsbench-tune (pid {holder}) is running this tuning "
                "run -> wait for it to end, or stop it (kill -INT "
                f"{holder}), then run the same command again to resume") from None
        except OSError as error:  # a file system without flock (Lustre's noflock, FUSE)
            log.warning("cannot lock %s (%s): run one tsbench-tune at a time in it",
                        out_dir, error)
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
