"""Shared fixtures: one torch thread, the offline dataset folder, a tsbench subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
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

#: Overrides for a tiny, fast run on the synthetic series; without pictures, half a tiny
#: run's time (the tests of what a run draws add ``plots=true``).
TINY = [
    "dataset=synthetic", "dataset.n_rows=600", "model=dlinear", "seq_len=48", "pred_len=12",
    "trainer=debug", "data.batch_size=32", "logger=none", "plots=false",
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


#: A model added from outside the package: one module and one YAML (README, Add a model).
TOY_MODULE = '''
"""A toy model: one linear map over time, shared by all channels."""
import torch
from torch import nn

from tsbench.models.base import ForecastModel


class LastLinear(ForecastModel):
    def __init__(self, seq_len: int, pred_len: int, n_vars: int, hidden: int = 8,
                 revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.net = nn.Sequential(nn.Linear(seq_len, hidden), nn.ReLU(),
                                 nn.Linear(hidden, pred_len))

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x.transpose(1, 2)).transpose(1, 2)
'''
TOY_YAML = """
_target_: toy_models.LastLinear
name: toy
hidden: 8       # hidden width
revin: false    # unused by this toy
compile: false  # torch.compile the model
"""


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding ``toy_models.py`` and ``conf/model/toy.yaml``, importable."""
    root = tmp_path_factory.mktemp("toy")
    (root / "toy_models.py").write_text(textwrap.dedent(TOY_MODULE))
    (root / "conf" / "model").mkdir(parents=True)
    (root / "conf" / "model" / "toy.yaml").write_text(TOY_YAML)
    sys.path.insert(0, str(root))
    return root
