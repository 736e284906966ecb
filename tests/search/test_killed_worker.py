"""A joblib worker killed mid-trial (SIGKILL, as the kernel's out-of-memory killer sends it)
in a sweep that runs batches: the launch of the batch raises (loky's TerminatedWorkerError),
and the sweep records the killed trial as failed, with a line that says so, records the
batch's trial that had finished from its job folder, and goes on to ``n_trials`` (exit 0)
instead of ending in a traceback."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_tsbench
from tests.search.test_tsbench_sweeps import FAST
from tests.training.killed_model import FINISHED_FIRST, KILLED_JOB
from tsbench.rundir import METRICS
from tsbench.search.loop import FROM_FOLDER

#: The test-only model is imported by the joblib workers of tsbench's subprocess.
ENV = {"PYTHONPATH": str(ROOT)}
MESSAGE = ("launcher: worker killed (SIGKILL: out of memory?) -> if so, run fewer trials at "
           "once (hydra.launcher.n_jobs) or smaller ones")


@pytest.mark.heavy(25)
def test_a_killed_worker_fails_its_trial_and_the_batch_sweep_goes_on(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    proc = run_tsbench([
        *FAST, "hydra/sweeper=skopt", "model=dlinear",
        "model._target_=tests.training.killed_model.KilledDLinear",
        "seq_len=choice(24, 48)", "model.kernel_size=choice(5, 7)",
        "hydra.sweeper.n_trials=4", "hydra.sweeper.n_initial_points=2",
        "hydra.sweeper.n_jobs=2", "hydra.sweeper.schedule=batch",
        "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
    ], sweep, env=ENV, multirun=True)  # fmt: skip
    assert "Traceback" not in proc.stderr and "ended=4/4 " in proc.stdout + proc.stderr
    with open(sweep / "trials.csv", newline="") as handle:
        rows = {int(r["job"]): r for r in csv.DictReader(handle)}
    assert sorted(rows) == [0, 1, 2, 3]  # the next batch ran: n_trials ended
    killed = rows.pop(KILLED_JOB)
    assert (killed["status"], killed["objective"], killed["error"]) == ("failed", "", MESSAGE)
    assert not (sweep / str(KILLED_JOB) / METRICS).exists()
    finished = rows.pop(FINISHED_FIRST)  # its result lost with the launch: read from its folder
    assert (finished["status"], finished["error"]) == ("ok", FROM_FOLDER)
    metrics = json.loads((sweep / str(FINISHED_FIRST) / METRICS).read_text())
    assert float(finished["objective"]) == metrics["objective"]
    assert finished["job_dir"] == str(FINISHED_FIRST)
    for row in rows.values():
        assert (row["status"], row["error"]) == ("ok", "") and float(row["objective"]) > 0
