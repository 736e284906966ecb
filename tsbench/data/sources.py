"""Find a registry dataset on disk, or download it once with its checksum verified."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from tsbench.data.registry import RegistryEntry
from tsbench.errors import DataError

DATA_DIR_ENV = "TSBENCH_DATA_DIR"
CACHE_DIR_ENV = "TSBENCH_CACHE_DIR"
OFFLINE_ENV = "TSBENCH_OFFLINE"


def cache_dir() -> Path:
    """Download cache: ``$TSBENCH_CACHE_DIR``, else ``datasets/`` of a source checkout,
    else ``~/.cache/tsbench``."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV])
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").exists() and (checkout / "datasets").is_dir():
        return checkout / "datasets"
    return Path.home() / ".cache" / "tsbench"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_file(entry: RegistryEntry) -> Path:
    """Return a local path for ``entry``: ``$TSBENCH_DATA_DIR`` -> cache -> download."""
    data_dir = os.environ.get(DATA_DIR_ENV)
    if data_dir:
        candidate = Path(data_dir) / entry.filename
        if candidate.is_file():
            return candidate
    cached = cache_dir() / entry.filename
    if cached.is_file():
        return cached
    if os.environ.get(OFFLINE_ENV, "").lower() in {"1", "true", "yes"}:
        raise DataError(_missing_message(entry, data_dir, f"{OFFLINE_ENV} is set"))
    try:
        return download(entry, cached)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DataError(_missing_message(entry, data_dir, f"download failed: {exc}")) from None


def download(entry: RegistryEntry, destination: Path) -> Path:
    """Fetch ``entry.url`` into ``destination`` atomically, checking the sha256."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(entry.url, timeout=60) as src:
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
        os.replace(tmp, destination)
    finally:
        tmp.unlink(missing_ok=True)
    return destination


def _missing_message(entry: RegistryEntry, data_dir: str | None, why: str) -> str:
    where = f"{DATA_DIR_ENV}={data_dir}" if data_dir else f"{DATA_DIR_ENV} (not set)"
    return (
        f"{entry.filename} is not available: not in {where}, not in the cache "
        f"{cache_dir()}, and {why}. -> Download {entry.url} into a folder and set "
        f"{DATA_DIR_ENV} to that folder."
    )
