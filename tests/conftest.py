"""Shared fixtures: one torch thread, the offline dataset folder, a tsbench subprocess."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import torch

from tests.preloaded import run_module

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "datasets"

torch.set_num_threads(1)
if "TSBENCH_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["TSBENCH_DATA_DIR"] = str(SHARED_DATA)
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

#: Overrides for a tiny, fast run on the synthetic series.
TINY = [
    "dataset=synthetic", "dataset.n_rows=600", "model=dlinear", "seq_len=48", "pred_len=12",
    "trainer=debug", "data.batch_size=32", "logger=none",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Heavy tests first (the longest, by the seconds their marker gives, before the others),
    then the notebooks, then the rest: with xdist handing out one test at a time
    (``--maxschedchunk=1``), longest-first keeps the two workers ending together instead
    of one of them starting a long test when the other is nearly done."""
    def rank(item: pytest.Item) -> tuple[int, float]:
        heavy = item.get_closest_marker("heavy")
        if heavy:
            return 0, -float(heavy.args[0] if heavy.args else 15)
        return (1 if item.path.suffix == ".ipynb" else 2), 0.0

    items.sort(key=rank)  # stable: file order within each rank


def data_dir() -> Path:
    """The folder with the real benchmark CSVs (CI points at ../shared/datasets)."""
    path = Path(os.environ.get("TSBENCH_DATA_DIR", SHARED_DATA))
    if not (path / "ETTh1.csv").is_file():
        pytest.fail(f"ETTh1.csv not found in {path}: set TSBENCH_DATA_DIR to the dataset folder")
    return path


def run_tsbench(
    args: list[str], run_dir: Path, env: dict[str, str] | None = None, multirun: bool = False,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run ``python -m tsbench`` with ``args`` writing into ``run_dir`` (forked from a
    process that has imported torch and Lightning, see ``tests/preloaded.py``)."""
    where = f"hydra.sweep.dir={run_dir}" if multirun else f"hydra.run.dir={run_dir}"
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    proc = run_module("tsbench", [*(["-m"] if multirun else []), *args, where], full_env)
    if check and proc.returncode != 0:
        raise AssertionError(f"tsbench failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


def read_metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())
