"""A command whose reader stops early ends quietly, as Unix tools do.

``tsbench --help | head`` or ``tsbench-tune --help | head``: once ``head`` has its lines it
closes the pipe, and the command's next write raised ``BrokenPipeError``, a traceback under
the lines the user asked for. Each console script's entry is wrapped in
:func:`quiet_when_stdout_closes`, and so is a Hydra task that prints its results
(tsbench-analyze's table, a run's scores), whose errors Hydra catches before the entry sees them.
"""

from __future__ import annotations

import functools
import os
import select
import sys
from collections.abc import Callable
from typing import Any

#: The exit status of a command whose reader closed its stdout: Python's on EPIPE.
CLOSED_STDOUT_EXIT = 1


def _stdout_closed() -> bool:
    """Whether stdout is a pipe (or socket) whose reading end is closed: an error or
    hang-up event on it (Linux says the one, BSDs may say the other). Another pipe that
    broke (a worker's) is no reader gone, and is not hidden."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by an object without a file
        return False
    poll = select.poll()
    poll.register(fd, select.POLLOUT)
    return any(event & (select.POLLERR | select.POLLHUP) for _, event in poll.poll(0))


def quiet_when_stdout_closes(entry: Callable[..., Any]) -> Callable[..., Any]:
    """``entry``, ending with :data:`CLOSED_STDOUT_EXIT` and no traceback where a write to
    stdout found its reader gone. Stdout then points at ``os.devnull``, so that the
    interpreter's own flush at exit does not fail on the same pipe again (Python's
    documented recipe, "Note on SIGPIPE")."""

    @functools.wraps(entry)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return entry(*args, **kwargs)
        except BrokenPipeError:
            if not _stdout_closed():
                raise
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(CLOSED_STDOUT_EXIT)

    return wrapped
