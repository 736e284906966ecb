"""Digests of the code a run ran: tsbench's package (its code and configs) and a model file
of the user's outside it.

A run's protocol card records them (:func:`tsbench.training.protocol.source_revision`);
reading a run back (:func:`tsbench.rundir.load_run`) compares them with the code that now
rebuilds its model, whose digests are computed once per process (:func:`current_sources`,
:func:`current_file`).
"""

from __future__ import annotations

import hashlib
import inspect
from functools import cache
from pathlib import Path
from typing import Any

#: The tsbench package's folder.
PACKAGE = Path(__file__).resolve().parent


def sources_digest(package: Path) -> str:
    """sha256 over the package's code and configs (each ``.py`` and ``.yaml`` file's path
    inside it and bytes): runs of a dirty checkout (a model edited between two trials of a
    sweep) or of an installed package tell their code apart by it, as a commit cannot."""
    digest = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".yaml")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """sha256 of one file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def model_file(model: type | None) -> Path | None:
    """The file that defines ``model`` where it lies outside the package (a user's own model:
    an edit of it is no change of tsbench's code); None for tsbench's own models and for a
    class without a source file (built in, or made at run time)."""
    try:
        file = None if model is None else Path(inspect.getsourcefile(model) or "").resolve()
    except TypeError:
        return None
    if file is None or not file.is_file() or PACKAGE in file.parents:
        return None
    return file


@cache
def current_sources() -> str:
    """:func:`sources_digest` of the package this process runs, computed once: a process
    reads a run back with the code it imported."""
    return sources_digest(PACKAGE)


@cache
def current_file(path: Path) -> str:
    """:func:`file_digest` of ``path``, computed once per process."""
    return file_digest(path)


def changes(source: dict[str, Any], model: Path | None) -> list[tuple[str, str, str]]:
    """What of the code a protocol card's ``source`` names differs from the code installed
    now, ``(key, old digest, new digest)``: tsbench's package (``sources_sha256``) and, with
    ``model`` the user's model file as it lies now (None or gone: not compared), that file
    (``model_sha256``)."""
    found = []
    old = source.get("sources_sha256")
    if old and old != current_sources():
        found.append(("sources_sha256", str(old), current_sources()))
    old = source.get("model_sha256")
    if old and model is not None and model.is_file() and current_file(model) != old:
        found.append(("model_sha256", str(old), current_file(model)))
    return found


def restore_hint(source: dict[str, Any], changed: list[str], model: Path | None) -> str:
    """How to get back the code a protocol card's ``source`` names, of which the ``changed``
    digests (:func:`changes`' keys) differ now: the card's commit restores tsbench's code
    and a ``model`` file inside the checkout that commit belongs to (``source.checkout``);
    a model file outside it (the user's own) is named, for the user to restore."""
    checkout = source.get("checkout")
    outside = "model_sha256" in changed and model is not None and not (
        checkout and Path(checkout).resolve() in model.parents)
    parts = []
    if "sources_sha256" in changed or ("model_sha256" in changed and not outside):
        commit = source.get("git_commit")
        parts.append("that code" + ("" if not commit else f" (git checkout {str(commit)[:12]})"
                     if not source.get("git_dirty") else f" (its card names commit "
                     f"{str(commit)[:12]} with uncommitted changes: that commit alone is not "
                     "the code it ran)"))
    if outside:
        parts.append(f"{model} as it was when the run ran (outside tsbench's checkout: no "
                     "commit the card names holds it)")
    return "restore " + " and ".join(parts)


def import_root(target: str, file: Path) -> Path | None:
    """The folder to put on ``PYTHONPATH`` for ``target`` (``my_models.mlp.MLP``) to import
    from ``file``, the model file a protocol card records (``/proj/my_models/mlp.py``:
    ``/proj``); None where ``file`` is gone or is not that module's file."""
    module = target.rpartition(".")[0].split(".")
    parts = file.with_suffix("").parts
    if file.stem == "__init__":  # a package's own module
        parts = parts[:-1]
    if not file.is_file() or len(parts) <= len(module) or list(parts[-len(module):]) != module:
        return None
    return Path(*parts[:-len(module)])
