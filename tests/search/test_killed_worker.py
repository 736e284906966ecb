"""A joblib worker killed mid-trial (SIGKILL, as the kernel's out-of-memory killer sends it)
in a sweep that runs batches: the launch of the batch raises (loky's TerminatedWorkerError),
and the sweep records the killed trial as failed, with a line that says so, records the
batch's trial that had finished from its job folder, and goes on to ``n_trials`` (exit 0)
instead of ending in a traceback.

The tsbench sweep runs one batch: each batch after a kill starts two fresh loky workers,
each importing torch and Lightning (about 5 s of CPU apiece). That the sweep goes on with
the next batch, on fresh workers, is the quadratic app's sweep's to show, whose workers
import neither."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_tsbench
from tests.search.conftest import multirun, read_rows
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
        "hydra.sweeper.n_trials=2", "hydra.sweeper.n_initial_points=2",
        "hydra.sweeper.n_jobs=2", "hydra.sweeper.schedule=batch",
        "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
    ], sweep, env=ENV, multirun=True)  # fmt: skip
    assert "Traceback" not in proc.stderr and "ended=2/2 " in proc.stdout + proc.stderr
    with open(sweep / "trials.csv", newline="") as handle:
        rows = {int(r["job"]): r for r in csv.DictReader(handle)}
    assert sorted(rows) == [0, 1]
    killed = rows.pop(KILLED_JOB)
    assert (killed["status"], killed["objective"], killed["error"]) == ("failed", "", MESSAGE)
    assert not (sweep / str(KILLED_JOB) / METRICS).exists()
    finished = rows.pop(FINISHED_FIRST)  # its result lost with the launch: read from its folder
    assert (finished["status"], finished["error"]) == ("ok", FROM_FOLDER)
    metrics = json.loads((sweep / str(FINISHED_FIRST) / METRICS).read_text())
    assert float(finished["objective"]) == metrics["objective"]
    assert finished["job_dir"] == str(FINISHED_FIRST)


def test_the_batch_sweep_goes_on_to_n_trials_on_fresh_workers(sweep_dir: Path) -> None:
    """The quadratic app's batch sweep whose worker of job 0 is killed (and loky ends job 1,
    asleep, with it): both trials are failed with the line that says so, and the next
    batch runs on fresh workers to ``n_trials``, its trials ok. Two failures of four stay
    within the default failure rate."""
    multirun(sweep_dir, "x=interval(-1.0, 1.0)", "kill_job=0", "slow_job=1",
             "slow_sleep=60", "hydra.sweeper.n_trials=4", "hydra.sweeper.n_initial_points=2",
             "hydra.sweeper.n_jobs=2", "hydra.sweeper.schedule=batch",
             "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    rows = read_rows(sweep_dir)
    assert [(r["job"], r["status"], r["error"]) for r in rows] == [
        ("0", "failed", MESSAGE), ("1", "failed", MESSAGE), ("2", "ok", ""), ("3", "ok", "")]
