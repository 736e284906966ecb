"""The tracking tests' MLflow stores."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow SQLite store with its tables and no run: made once, since making the
    tables (MLflow's migrations) costs about a second of CPU a store. (A store the runs
    make themselves: test_loggers.py's two runs started at once in a fresh folder.)"""
    from mlflow.tracking import MlflowClient

    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()  # makes the tables
    return path


@pytest.fixture
def uri(tmp_path: Path, empty_store: Path) -> str:
    """The tracking URI of this test's own store, ``tmp_path/mlflow.db``: a copy of
    :func:`empty_store`."""
    shutil.copyfile(empty_store, tmp_path / "mlflow.db")
    return f"sqlite:///{tmp_path / 'mlflow.db'}"
