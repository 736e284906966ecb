"""A non-editable install ships the config tree and works from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_wheel_ships_configs_and_runs_from_elsewhere(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(ROOT)], check=True, capture_output=True)
    wheel = next(wheels.glob("tsbench-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("tsbench/conf/config.yaml", "tsbench/conf/model/patchtst.yaml",
                     "tsbench/conf/dataset/etth1.yaml", "tsbench/report/published.yaml",
                     "tsbench/conf/experiment/dlinear_etth1.yaml",
                     "hydra_plugins/tsbench_skopt_sweeper/skopt_sweeper.py",
                     "hydra_plugins/tsbench_basic_sweeper/basic_sweeper.py",
                     "tsbench/conf/sweeper.yaml",
                     "tsbench/conf/hydra/job_logging/tsbench.yaml",
                     "tsbench/conf/hydra/hydra_logging/tsbench.yaml"):
        assert required in names, required
    assert not any(n.startswith("hydra_plugins/__init__") for n in names)

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    proc = subprocess.run([sys.executable, "-m", "tsbench", "--cfg", "job", "model=dlinear"],
                          cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    assert "_target_: tsbench.models.dlinear.DLinear" in proc.stdout
    where = subprocess.run([sys.executable, "-c", "import tsbench; print(tsbench.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(target))
