"""Where MLflow writes: ``MLFLOW_TRACKING_URI``, or a SQLite file in the output folder."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

from tsbench.errors import ConfigError

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
