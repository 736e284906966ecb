"""A trial that finished as its sweep died (its metrics.json written, its result not yet
back): a resume records it from its job folder and tells the optimizer, and launches it
again only where the folder holds no finished run of its point."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import read_metrics, run_tsbench
from tests.search.conftest import multirun, read_rows
from tests.search.test_tsbench_sweeps import FAST
from tsbench.search.adopt import ADOPTED
from tsbench.search.job_folder import WRITTEN_BY
from tsbench.search.record import RUNNING, Record
from tsbench.search.trials import OK

ARGS = ["hydra/sweeper=skopt", *FAST, "model=dlinear", "seq_len=48",
        "optim.lr=tag(log, interval(1e-4, 1e-2))", "hydra.sweeper.n_initial_points=2"]


def died_as_it_finished(sweep: Path, job: int) -> None:
    """Leave ``sweep`` as a sweep stopped the moment job ``job`` wrote its metrics.json
    leaves it: the job's trial has no row in trials.csv and its launch no end."""
    with open(sweep / "trials.csv", newline="") as handle:
        lines = list(csv.reader(handle))
    with open(sweep / "trials.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([lines[0], *(r for r in lines[1:] if r[1] != str(job))])
    path = sweep / "record" / "jobs" / f"{job}.json"
    launch = json.loads(path.read_text())
    path.write_text(json.dumps({**launch, "ended": None, "status": RUNNING}))


@pytest.mark.heavy
def test_a_trial_that_finished_as_its_sweep_died_is_recorded_not_run_again(
        tmp_path: Path) -> None:
    """A stopped sweep's worker that had just written metrics.json (its full budget
    trained): the resume ran it again into a new folder, two finished folders for one
    trial. Recorded from its folder, it is told the optimizer as the sweep would have told
    it: the next point is the one the sweep that was never stopped proposed."""
    whole, died = tmp_path / "whole", tmp_path / "died"
    run_tsbench([*ARGS, "hydra.sweeper.n_trials=3"], whole, multirun=True)
    run_tsbench([*ARGS, "hydra.sweeper.n_trials=2"], died, multirun=True)
    died_as_it_finished(died, 1)
    written = (died / "1" / "metrics.json").stat().st_mtime

    resumed = run_tsbench([*ARGS, "hydra.sweeper.n_trials=3", "hydra.sweeper.resume=true"],
                          died, multirun=True)
    record = read_rows(died)
    assert [(r["trial"], r["job"], r["status"]) for r in record] == [
        ("1", "0", OK), ("2", "1", OK), ("3", "2", OK)]
    adopted = record[1]
    assert float(adopted["objective"]) == read_metrics(died / "1")["objective"]
    assert float(adopted["seconds"]) == read_metrics(died / "1")["run_seconds"]
    assert (adopted["job_dir"], adopted["error"]) == ("1", ADOPTED)
    assert "resume: trial 2 (Hydra job #1) finished as the sweep died: recorded from " \
           f"{died / '1'}, not launched again" in resumed.stdout + resumed.stderr
    assert (died / "1" / "metrics.json").stat().st_mtime == written  # not run again
    assert sorted(p.parent.name for p in died.glob("*/metrics.json")) == ["0", "1", "2"]
    assert [la.status for la in Record(died / "record").launches()] == [OK, OK, OK]
    assert record[2]["optim.lr"] == read_rows(whole)[2]["optim.lr"]  # trial 2 was told


def _finished_there(folder: Path, objective: float | None, ran: str | None,
                    pruned: bool, job: int | None = 0) -> None:
    """A metrics.json in ``folder`` (a killed job's; a pruned run's where ``pruned``),
    written by Hydra job ``job`` (None: a run that named none), and the job's point said
    ``ran``."""
    metrics = {"objective": objective, **({"pruned": True} if pruned else {}),
               **({WRITTEN_BY: job} if job is not None else {})}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    if ran is not None:
        path = folder / ".hydra" / "overrides.yaml"
        lines = yaml.safe_load(path.read_text())
        path.write_text(yaml.safe_dump([ran if line.startswith("x=") else line
                                        for line in lines]))


@pytest.mark.parametrize("objective, ran, pruned, job, recorded", [
    (0.25, None, False, 0, True),  # its own point, finished
    (None, None, False, 0, False),  # no finite objective: not a finished trial (the job fails)
    (0.25, "x=0.123456", False, 0, False),  # another point's run
    (0.25, None, True, 0, False),  # pruned, and no pruning rule here to mark it: not a full run
    (0.25, None, False, 1, False),  # another job's metrics.json, in a folder they shared
    (0.25, None, False, None, False),  # a run that named no job (an older tsbench's)
])
def test_a_lost_trial_is_recorded_only_from_a_finished_run_of_its_point(
        sweep_dir: Path, monkeypatch: pytest.MonkeyPatch, objective: float | None,
        ran: str | None, pruned: bool, job: int | None, recorded: bool) -> None:
    """A lost launch's folder holding metrics.json is taken for its trial's finished run
    only where the launch's job wrote it, with a finite objective and the launch's point,
    and a pruned run only with its pruning mark (a resume=force may turn the pruner off);
    else the trial runs again (a folder without one, a run broken off, is
    tests/search/test_resume.py's)."""
    args = ["x=interval(-1.0, 1.0)", "hydra.sweeper.n_trials=2",
            "hydra.sweeper.n_initial_points=1"]
    monkeypatch.setenv("QUAD_INTERRUPT_AT_JOB", "0")
    with pytest.raises(KeyboardInterrupt):
        multirun(sweep_dir, *args)
    monkeypatch.delenv("QUAD_INTERRUPT_AT_JOB")
    _finished_there(sweep_dir / "0", objective, ran, pruned, job)
    multirun(sweep_dir, *args, "hydra.sweeper.resume=true")
    rows = [(r["trial"], r["job"], r["error"]) for r in read_rows(sweep_dir)]
    if recorded:
        assert rows == [("1", "0", ADOPTED), ("2", "1", "")]
        assert read_rows(sweep_dir)[0]["objective"] == "0.25"
    else:
        assert rows == [("1", "1", "relaunched: job 0 died with the sweep"), ("2", "2", "")]
