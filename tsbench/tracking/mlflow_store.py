"""Where MLflow writes: ``MLFLOW_TRACKING_URI``, or a SQLite file in the output folder."""

from __future__ import annotations

import os
from pathlib import Path

PARENT_RUN_FILE = "mlflow_parent_run_id"


def tracking_uri(configured: str | None, output_root: Path) -> str:
    """``configured`` (logger.tracking_uri) > ``$MLFLOW_TRACKING_URI`` > SQLite under
    ``output_root`` (no server needed)."""
    if configured:
        return str(configured)
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
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
