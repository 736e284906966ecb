"""Where MLflow writes: ``MLFLOW_TRACKING_URI``, or a SQLite file in the output folder."""

from __future__ import annotations

import contextlib
import os
import urllib.error
import urllib.request
from pathlib import Path

from tsbench.errors import ConfigError
from tsbench.folder_lock import waited

PARENT_RUN_FILE = "mlflow_parent_run_id"


def chosen_uri(configured: str | None) -> str | None:
    """``configured`` (logger.tracking_uri), else ``$MLFLOW_TRACKING_URI``, else None."""
    return str(configured) if configured else os.environ.get("MLFLOW_TRACKING_URI") or None


def tracking_uri(configured: str | None, output_root: Path) -> str:
    """:func:`chosen_uri`, else SQLite under ``output_root`` (no server needed)."""
    chosen = chosen_uri(configured)
    if chosen:
        return chosen
    output_root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(output_root / 'mlflow.db').resolve()}"


def parent_run_id(sweep_dir: Path) -> str | None:
    """The sweep's parent run, recorded by :class:`MlflowSweepCallback`, if any."""
    path = sweep_dir / PARENT_RUN_FILE
    return path.read_text().strip() if path.is_file() else None


def artifact_location(uri: str) -> str | None:
    """Beside a SQLite store, artifacts go to ``mlartifacts/`` next to the database file
    (MLflow would otherwise write ``./mlruns`` in the working directory)."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix):
        return None
    return (Path(uri[len(prefix):]).parent / "mlartifacts").resolve().as_uri()


def sqlite_file(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` tracking URI (None for another store, or an
    in-memory one)."""
    prefix = "sqlite:///"
    name = uri[len(prefix):].split("?")[0] if uri.startswith(prefix) else ""
    return Path(name) if name and name != ":memory:" else None


def store_opened_alone(uri: str) -> contextlib.AbstractContextManager[None]:
    """Hold while opening a local SQLite store for the first time in this process: the first
    open of a new file creates its tables (MLflow's migrations) and then the experiment, and
    two runs doing that at once break one of them (alembic: "expected to match one row ...
    in 'alembic_version'; 0 found") and lose its run. So each waits for the other on a lock
    file beside the database (``mlflow.db.lock``). Other stores (servers) lock nothing."""
    path = sqlite_file(uri)
    if path is None or not path.parent.is_dir():  # no folder: MLflow names the problem
        return contextlib.nullcontext()
    return waited(path.with_name(f"{path.name}.lock"))


def refused(uri: str, error: Exception) -> ConfigError:
    """The one line for a store that MLflow refused with ``error``: its first sentence and
    the fix for a server's address or for a local store."""
    said = " ".join(str(error).split(". ")[0].split())
    fix = ("check that it is an MLflow tracking server's address (mlflow server), or "
           "unset MLFLOW_TRACKING_URI and logger.tracking_uri for the SQLite store under "
           "outputs/") if uri.startswith(("http://", "https://")) else (
        "unset MLFLOW_TRACKING_URI and logger.tracking_uri for the SQLite store under "
        "outputs/, give a server's or sqlite:/// URI, or for a file store set "
        "MLFLOW_ALLOW_FILE_STORE=true")
    return ConfigError("logger", f"the MLflow store {uri} refused the run: {said}", fix)


def check_store(uri: str) -> None:
    """Before a multirun's first job: :func:`check_server`, and a store that is neither a
    server nor SQLite (a ``file:`` one or a plain folder, which MLflow 3 refuses unless
    ``MLFLOW_ALLOW_FILE_STORE=true``) opened once, so that it is refused in one line
    (:func:`refused`) rather than by every job after its start; a database URI whose
    driver is not installed (``postgresql://`` without psycopg) is named so too."""
    check_server(uri)
    if not uri or uri.startswith(("http://", "https://", "sqlite:")):
        return
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        MlflowClient(uri)
    except MlflowException as error:
        raise refused(uri, error) from None
    except ImportError as error:  # SQLAlchemy's driver for the URI's database
        raise ConfigError("logger", f"the MLflow store {uri} needs the Python module "
                          f"{error.name or error}, which is not installed",
                          "install the database's driver in this environment, or unset "
                          "MLFLOW_TRACKING_URI and logger.tracking_uri for the SQLite store "
                          "under outputs/") from None


def check_server(uri: str, timeout: float = 5.0) -> None:
    """Refuse an http(s) tracking URI where no server answers (any HTTP reply counts as an
    answer), in ``timeout`` seconds: MLflow's client would retry it for minutes first."""
    if not uri.startswith(("http://", "https://")):
        return
    try:
        urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout).close()
    except urllib.error.HTTPError:
        return
    except OSError as error:  # URLError and timeouts
        why = getattr(error, "reason", None) or error
        raise ConfigError(
            "logger", f"no MLflow server answers at {uri} ({why})",
            "start it (mlflow server --host HOST --port PORT), correct logger.tracking_uri or "
            "MLFLOW_TRACKING_URI, or unset both for the SQLite store under outputs/"
        ) from None
