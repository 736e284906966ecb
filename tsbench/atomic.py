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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

#: How a temporary file beside its target ends (it begins with ``_prefix(name)``).
_SUFFIX = ".tmp"


def _prefix(name: str) -> str:
    """The start of the temporary files' names beside the file ``name`` (hidden)."""
    return f".{name}."


#: The process's umask, read once at import (setting it to read it is not thread-safe).
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, with the
    permissions of a file ``open`` would create (``mkstemp`` makes it owner-only, which
    would hide results from the colleagues sharing a cluster's folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_prefix(path.name), suffix=_SUFFIX, dir=path.parent)
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


def remove_leftovers(folder: Path, names: Iterable[str]) -> list[Path]:
    """Remove the temporary files that writes of the files ``names`` in ``folder`` (its top
    level only) left behind when their process was killed mid-write, and return them.
    Only for a caller that holds the folder's lock: another writer's file is no leftover."""
    prefixes = tuple(_prefix(name) for name in names)
    removed = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.name.startswith(prefixes) and path.name.endswith(_SUFFIX) and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
