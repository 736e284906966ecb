"""Atomic file writes: a reader sees the old file or the new one, never half of one.

The one writer of every file tsbench leaves behind (run directories, sweep records,
downloads): the content goes to a temporary file beside the target, which then replaces
the target in one ``os.replace``. On an error the temporary file is removed and the old
file, if any, stays as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

#: The process's umask, read once at import (setting it to read it is not thread-safe).
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, with the
    permissions of a file ``open`` would create (``mkstemp`` makes it owner-only, which
    would hide results from the colleagues sharing a cluster's folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, 0o666 & ~_UMASK)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except OSError as error:  # a full disk's write names no file: name the target
        if error.filename is None:
            error.filename = str(path)
        raise
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_with(path: Path, write: Callable[[IO[str]], None]) -> None:
    """Write the text file ``path`` through ``write(handle)`` (e.g. a csv writer)."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        write(handle)


def write_text(path: Path, text: str) -> None:
    write_with(path, lambda handle: handle.write(text))


def write_json(path: Path, payload: dict[str, Any]) -> None:
    write_text(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
