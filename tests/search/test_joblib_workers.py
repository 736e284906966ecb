"""A joblib sweep's workers are forks of a server that the sweep's process forked after
importing torch and Lightning, not fresh interpreters that each import them again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import TINY, run_tsbench
from tests.search.worker_probe import PROBE_DIR, PROBE_DLINEAR

pytestmark = pytest.mark.skipif(not Path("/proc/self/cmdline").is_file(),
                                reason="reads a process's command line from /proc")


def test_a_joblib_sweeps_trials_run_in_forked_workers(tmp_path: Path) -> None:
    """Both trials train, side by side, each in a worker of its own; neither worker is a
    fresh interpreter started by loky (``python -m ...popen_loky_posix``): they carry the
    command line of the process they were forked from."""
    probe = tmp_path / "probe"
    probe.mkdir()
    repo = str(Path(__file__).resolve().parents[2])
    run_tsbench(["hydra/launcher=joblib", "hydra.launcher.n_jobs=2", *TINY, *PROBE_DLINEAR,
                 "seed=1,2"], tmp_path / "sweep", multirun=True,
                env={PROBE_DIR: str(probe), "PYTHONPATH": repo})
    assert sorted(p.name for p in (tmp_path / "sweep").glob("*/metrics.json")) == [
        "metrics.json"] * 2
    workers = {p.stem: p.read_text() for p in probe.iterdir()}
    assert len(workers) == 2 and str(os.getpid()) not in workers
    for line in workers.values():
        assert "popen_loky_posix" not in line, line
