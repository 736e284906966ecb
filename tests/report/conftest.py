"""Real runs for the report tests (built once per session), and the report's real CLI."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_module

from tests.conftest import ROOT, TINY, run_tsbench
from tests.preloaded import run_module
from tsbench.training.run import run

#: Tiny runs on the real ILI file (966 weekly rows): 170 test windows at pred_len 24.
ILI = ["dataset=ili", "seq_len=36", "trainer=debug", "logger=none", "plots=false"]


@dataclass(frozen=True)
class Zoo:
    """``sweep``: a Hydra multirun of DLinear and naive x pred_len 24, 36 x seeds 1, 2, alone
    in ``multirun``; ``seq_sweep``: a skopt search of DLinear's seq_len (24 or 36);
    ``features_s``: naive with features=S; ``csv``: naive on ``sales.csv``;
    ``no_test``: naive with score_test=false (as tsbench-tune's stages run)."""

    root: Path
    multirun: Path
    sweep: Path
    seq_sweep: Path
    features_s: Path
    csv: Path
    no_test: Path


def _run_in_process(overrides: list[str], run_dir: Path) -> None:
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    run(cfg, run_dir)


def tiny_run(run_dir: Path, *overrides: str) -> Path:
    """A tiny real run (``TINY`` and ``overrides``) into ``run_dir``, in process."""
    _run_in_process([*TINY, *overrides], run_dir)
    return run_dir


def results(report: str) -> str:
    """A Markdown report up to the tables of a search's trials, which follow its results."""
    return report.split("## Search trials (validation only): ", 1)[0]


def row_labels(table: str) -> list[str]:
    """The row labels (the model column) of a Markdown report's results tables."""
    return [line.split("|")[3].strip() for line in results(table).splitlines()
            if line.startswith("| ") and not line.startswith(("| dataset", "| ---"))]


def _sales_csv(path: Path) -> Path:
    rows = 300
    t = np.arange(rows)
    pd.DataFrame({
        "date": pd.date_range("2024-01-01", periods=rows, freq="h"),
        "price": np.sin(2 * np.pi * t / 24) + 0.01 * t,
        "OT": np.cos(2 * np.pi * t / 24) + 0.1 * np.sin(t / 7.0),
    }).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> Zoo:
    root = tmp_path_factory.mktemp("zoo")
    multirun = root / "multirun"
    sweep = multirun / "sweep"
    run_tsbench([*ILI, "model=dlinear,naive", "pred_len=24,36", "seed=1,2", "plots=true"],
                sweep, multirun=True)  # its forecasts are the HTML report's pictures
    seq_sweep = root / "seq_sweep"
    run_tsbench([*ILI, "hydra/sweeper=skopt", "model=dlinear", "pred_len=24", "seed=1",
                 "seq_len=choice(24,36)", "hydra.sweeper.n_trials=2", "score_test=true",
                 "hydra.sweeper.n_initial_points=2", "hydra.sweeper.random_state=0"],
                seq_sweep, multirun=True)
    features_s = root / "features_s"
    _run_in_process([*ILI, "model=naive", "pred_len=24", "seed=1", "features=S"], features_s)
    csv = root / "csv"
    sales = _sales_csv(root / "sales.csv")
    _run_in_process(["dataset=csv", f"dataset.path={sales}", "model=naive", "seq_len=24",
                     "pred_len=12", "trainer=debug", "logger=none", "plots=false"], csv)
    no_test = root / "no_test"
    _run_in_process([*ILI, "model=naive", "pred_len=24", "score_test=false"], no_test)
    return Zoo(root, multirun, sweep, seq_sweep, features_s, csv, no_test)


def report(*args: object, check: bool = True) -> subprocess.CompletedProcess:
    """``python -m tsbench.report ARGS`` (the tsbench-report command) in a new process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = run_module("tsbench.report", [str(a) for a in args], env, cwd=ROOT, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc
