"""Run real Hydra multiruns of the quadratic test app in this process."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.search.app import quadratic
from tsbench.hydra_private import multirun_in_process

APP = Path(quadratic.__file__)
#: The sweeper's defaults, seeded; Hydra does not reconfigure logging in-process.
BASE = [
    "hydra/sweeper=skopt",
    "hydra/job_logging=none",
    "hydra/hydra_logging=none",
    "hydra.sweeper.random_state=0",
    "hydra.sweeper.plots=false",  # the tests of the plots add hydra.sweeper.plots=true
]


def multirun(sweep_dir: Path, *overrides: str) -> None:
    """``quadratic.py -m <overrides>`` with the sweep directory ``sweep_dir``."""
    multirun_in_process(str(APP), "conf", "config", "quadratic", quadratic.objective,
                        [*BASE, *overrides, f"hydra.sweep.dir={sweep_dir}"])


def read_rows(sweep_dir: Path) -> list[dict[str, str]]:
    with open(sweep_dir / "trials.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def sweep_dir(tmp_path: Path) -> Path:
    return tmp_path / "sweep"
