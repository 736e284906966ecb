"""Find a benchmark dataset's file on disk, or download it once with its checksum verified."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tsbench.atomic import atomic_path
from tsbench.errors import DataError
from tsbench.shell_override import shell_override
from tsbench.user_paths import user_path

DATA_DIR_ENV = "TSBENCH_DATA_DIR"
CACHE_DIR_ENV = "TSBENCH_CACHE_DIR"
OFFLINE_ENV = "TSBENCH_OFFLINE"


@dataclass(frozen=True)
class DataFile:
    """A published dataset file: its name, where it is downloaded from, its sha256 (None
    where published copies differ)."""

    filename: str
    url: str
    sha256: str | None

    @classmethod
    def of(cls, cfg: Any) -> DataFile:
        """The file of a dataset config (``dataset.file``, ``url``, ``sha256``)."""
        sha = cfg.get("sha256")
        return cls(str(cfg.file), str(cfg.url), None if sha is None else str(sha))


def cache_dir() -> Path:
    """Download cache: ``$TSBENCH_CACHE_DIR``, else ``datasets/`` of a source checkout,
    else ``~/.cache/tsbench``."""
    if os.environ.get(CACHE_DIR_ENV):
        return user_path(os.environ[CACHE_DIR_ENV])
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").exists() and (checkout / "datasets").is_dir():
        return checkout / "datasets"
    return Path.home() / ".cache" / "tsbench"


def file_sha256(path: Path) -> str:
    """:func:`sha256_of`, computed once per process while the file's size and mtime stay the
    same (a sweep's trials, and the runs a report or ensemble loads, read the same file)."""
    stat = path.stat()
    return _cached_sha256(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=32)
def _cached_sha256(path: Path, size: int, mtime_ns: int) -> str:
    return sha256_of(path)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_file(entry: DataFile, known: Path | None = None) -> Path:
    """Return a local path for ``entry``: ``known`` (the file a finished run's protocol card
    names) where it holds the published bytes -> ``$TSBENCH_DATA_DIR`` -> cache -> ``known``
    of a dataset without a digest -> download."""
    if known is not None and entry.sha256 is not None and known.is_file() and (
            file_sha256(known) == entry.sha256):
        return known  # the run's own file, intact: an edited copy elsewhere is no matter
    data_dir = os.environ.get(DATA_DIR_ENV)
    for candidate, where in local_copies(entry):
        if candidate.is_file():
            return published(entry, candidate, where)
    cached = cache_dir() / entry.filename
    if known is not None and known.is_file() and entry.sha256 is None:
        return known
    if os.environ.get(OFFLINE_ENV, "").lower() in {"1", "true", "yes"}:
        raise DataError(_missing_message(entry, data_dir, f"{OFFLINE_ENV} is set"))
    try:
        return download(entry, cached)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DataError(_missing_message(entry, data_dir, f"download failed: {exc}")) from None


class UnpublishedFileError(DataError):
    """A dataset's file on disk whose bytes are not the published ones (its sha256)."""


def published(entry: DataFile, path: Path, where: str) -> Path:
    """``path`` (``where`` says where it was found), checked to hold the published bytes of
    ``entry`` (its sha256; None: copies differ, not checked), or
    :class:`UnpublishedFileError`: an edited copy would be scored and reported beside the
    published numbers as if it were the benchmark. Hashed once per process per file."""
    if entry.sha256 is None:
        return path
    got = file_sha256(path)
    if got == entry.sha256:
        return path
    raise UnpublishedFileError(
        f"{path} ({where}) has sha256 {got[:12]}..., not the published {entry.filename}'s "
        f"{entry.sha256[:12]}... (dataset.sha256): its scores would not compare with the "
        "published numbers -> restore the byte-exact file (delete it to download it again "
        "when online, or copy it again from your offline copy: the dataset's config, "
        "tsbench --cfg job dataset=<name>, names its sha256), or read an edited copy as your "
        "own data "
        f"with dataset=csv {shell_override('dataset.path', str(path))}"
    )


def download(entry: DataFile, destination: Path) -> Path:
    """Fetch ``entry.url`` into ``destination`` atomically, checking the sha256."""
    with atomic_path(destination) as tmp:
        with open(tmp, "wb") as out, urllib.request.urlopen(entry.url, timeout=60) as src:
            for block in iter(lambda: src.read(1 << 20), b""):
                out.write(block)
        if entry.sha256 is not None:
            got = sha256_of(tmp)
            if got != entry.sha256:
                raise DataError(
                    f"{entry.filename} downloaded from {entry.url} has sha256 {got}, "
                    f"expected {entry.sha256}; the file was not kept -> download it by hand "
                    f"into a folder and set {DATA_DIR_ENV} to that folder"
                )
    return destination


def _missing_message(entry: DataFile, data_dir: str | None, why: str) -> str:
    where = f"{DATA_DIR_ENV}={data_dir}" if data_dir else f"{DATA_DIR_ENV} (not set)"
    return (
        f"{entry.filename} is not available: not in {where}, not in the cache "
        f"{cache_dir()}, and {why}. -> Download {entry.url} into a folder and set "
        f"{DATA_DIR_ENV} to that folder."
    )


def local_copies(entry: DataFile) -> list[tuple[Path, str]]:
    """Where :func:`resolve_file` looks for ``entry`` on disk, in its order, each with the
    words that name the place: ``$TSBENCH_DATA_DIR``, then the download cache."""
    data_dir = os.environ.get(DATA_DIR_ENV)
    return [*([(user_path(data_dir) / entry.filename, f"in ${DATA_DIR_ENV}")] if data_dir
              else []), (cache_dir() / entry.filename, "in the download cache")]


def dataset_file(ds_cfg: Any, known: Path | None = None) -> Path | None:
    """The file a dataset config reads (as ``load_series`` finds it, ``known`` as
    :func:`resolve_file` takes it), None for synthetic."""
    name = str(ds_cfg.name)
    if name == "synthetic":
        return None
    if name == "csv":
        return user_path(ds_cfg.path).resolve()
    return resolve_file(DataFile.of(ds_cfg), known).resolve()
