"""Digests of the code a run ran: tsbench's package (its code and configs) and a model file
of the user's outside it, each as this process imported it.

A process runs its modules as they were when imported, which a file edited since no longer
shows: a stage forked from ``tsbench-tune``'s preloaded server (:mod:`tsbench.preload`) runs
the modules the server imported, and the trials of a one-process sweep the model file the
first trial imported. So each module of the package is digested as its code is read
(:func:`record_imports`, which ``tsbench/__init__.py`` runs before any other module of the
package is imported), and a model file as its class is first seen, its module just imported
(:func:`model_source`); the configs, which each run composes anew, and the modules not
imported are read as they lie.

A run's protocol card records them (:func:`tsbench.training.protocol.source_revision`);
reading a run back (:func:`tsbench.rundir.load_run`) compares them with the code that now
rebuilds its model, whose digests are computed once per process (:func:`current_sources`,
:func:`current_file`).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import inspect
import sys
import weakref
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.machinery import ModuleSpec, SourceFileLoader
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

#: The tsbench package's folder.
PACKAGE = Path(__file__).resolve().parent
#: sha256 of each of the package's module files (by its path inside the package) as the
#: module's code was read: the code this process runs (:func:`record_imports`).
IMPORTED: dict[str, str] = {}
#: Each model class seen, and its file outside the package and that file's sha256 then
#: (:func:`model_source`).
_MODELS: weakref.WeakKeyDictionary[type, tuple[Path, str] | None] = (
    weakref.WeakKeyDictionary())


def sources_digest(package: Path, imported: Mapping[str, str] | None = None) -> str:
    """sha256 over the package's code and configs: each ``.py`` and ``.yaml`` file's path
    inside it and sha256, as ``imported`` (path inside the package -> sha256 of a module's
    file as it was imported; one gone since counts too) gives it, else of the file as it
    lies. Runs of a dirty checkout (a model edited between two trials of a sweep) or of an
    installed package tell their code apart by it, as a commit cannot."""
    imported = imported or {}
    files = {p.relative_to(package).as_posix(): p for p in package.rglob("*")
             if p.suffix in (".py", ".yaml")}
    digest = hashlib.sha256()
    for name in sorted({*files, *imported}):
        digest.update(f"{name}\0{imported.get(name) or file_digest(files[name])}\0".encode())
    return digest.hexdigest()


def imported_sources() -> str:
    """:func:`sources_digest` of the package as this process imported it (its modules'
    code as read, :data:`IMPORTED`)."""
    return sources_digest(PACKAGE, IMPORTED)


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


def model_source(model: type | None) -> tuple[Path, str] | None:
    """The file that defines ``model`` outside the package (:func:`model_file`) and its
    sha256 as the class was first seen in this process: where a run builds its model
    (:func:`tsbench.models.build.model_class`), its module just imported, so an edit after
    that, which the run does not run, does not show in its card. None for tsbench's own
    models (:func:`record_imports` covers them). A class made anew (a module reloaded) is
    seen anew."""
    if model is None:
        return None
    if model not in _MODELS:
        file = model_file(model)
        _MODELS[model] = None if file is None else (file, file_digest(file))
    return _MODELS[model]


@cache
def current_sources() -> str:
    """:func:`imported_sources`, computed once: a process reads a run back with the code
    it imported."""
    return imported_sources()


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


class _RecordingLoader(SourceFileLoader):
    """Python's loader of a ``.py`` file, which first records the file's sha256 in
    :data:`IMPORTED`: as a module is imported or reloaded, and as ``python -m`` reads it."""

    def get_code(self, fullname: str) -> CodeType | None:
        _record(Path(self.path))
        return super().get_code(fullname)


class _Recorder(importlib.abc.MetaPathFinder):
    """Finds the package's modules as the finders after it would, giving each found by
    Python's own ``.py`` loader a :class:`_RecordingLoader`; any other module, and one a
    finder of another kind loads, are left to those finders."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if not fullname.startswith(f"{__package__}.") or self not in sys.meta_path:
            return None
        for finder in sys.meta_path[sys.meta_path.index(self) + 1:]:
            find = getattr(finder, "find_spec", None)
            spec = None if find is None else find(fullname, path, target)
            if spec is None:
                continue
            if type(spec.loader) is SourceFileLoader:
                spec.loader = _RecordingLoader(spec.loader.name, spec.loader.path)
            return spec
        return None


def record_imports() -> None:
    """Record each module of the package in :data:`IMPORTED` as its code is read, from
    now on (a finder ahead of the others, installed once), and those imported before (the
    package's ``__init__``, this one) as they lie now."""
    if not any(isinstance(finder, _Recorder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Recorder())
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if (name == __package__ or name.startswith(f"{__package__}.")) and file:
            relative = _inside(Path(file))
            if relative is not None and relative not in IMPORTED:
                _record(Path(file))


def _record(file: Path) -> None:
    relative = _inside(file)
    if relative is not None:
        IMPORTED[relative] = file_digest(file)


def _inside(file: Path) -> str | None:
    """``file``'s path inside the package; None outside it."""
    resolved = file.resolve()
    return resolved.relative_to(PACKAGE).as_posix() if PACKAGE in resolved.parents else None
