"""Resume rebuilds the search from the record: a resumed sweep proposes what the same sweep
would have proposed without the interruption, and a trial killed mid-run (``kill -9``)
leaves its job directory as it was, never reused and never overwritten. Both through the
public interface: Hydra multiruns with ``hydra.sweeper.resume=true`` on the same
``hydra.sweep.dir``."""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.search.conftest import APP, BASE, multirun, read_rows
from tsbench.search import faults
from tsbench.search import record as record_module
from tsbench.search import sweep as sweep_module
from tsbench.search.optimizer import make_optimizer
from tsbench.search.record import Record

SPACE = ["x=interval(-1.0, 1.0)", "n=range(1, 6)", "kind=a,b,c"]
INITIAL = 4


def points(rows: list[dict[str, str]]) -> list[tuple[str, ...]]:
    return [(r["x"], r["n"], r["kind"]) for r in rows]


@pytest.mark.parametrize(("mode", "generator"),
                         [("bayes", "lhs"), ("random", "lhs"), ("random", "random")])
def test_resumed_sweep_proposes_what_the_uninterrupted_one_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, generator: str
) -> None:
    """Stopped after its initial design, then resumed, a sweep's guided proposals equal
    those of the same sweep run in one go: the optimizer learned the recorded results.

    The stop falls where the uninterrupted sweep's optimizer has also been told every
    result of the design and fitted nothing yet (skopt's Latin-hypercube points are drawn
    up front), so both optimizers hold the same data and the same random state and every
    later point is determined by the recorded results alone. An optimizer that was not
    told them (or told other values) starts its design again or fits another surrogate.
    ``mode=random`` draws every point from one design of ``n_trials`` points: the resumed
    sweep's design must be that one, not one sized by the trials told.
    ``initial_point_generator=random`` (``search=random``) draws each point when asked, from
    the optimizer's random state: the resumed sweep asks again for the recorded trials, or
    it draws the first point again (replaced as seen) and every later one differs.
    """
    args = [*SPACE, "hydra.sweeper.n_trials=7", f"hydra.sweeper.n_initial_points={INITIAL}",
            f"hydra.sweeper.mode={mode}", f"hydra.sweeper.initial_point_generator={generator}"]
    multirun(tmp_path / "whole", *args)
    whole = read_rows(tmp_path / "whole")

    monkeypatch.setenv("QUAD_INTERRUPT_AT_JOB", str(INITIAL))
    with pytest.raises(KeyboardInterrupt):
        multirun(tmp_path / "cut", *args)
    assert points(read_rows(tmp_path / "cut")) == points(whole[:INITIAL])
    monkeypatch.delenv("QUAD_INTERRUPT_AT_JOB")
    multirun(tmp_path / "cut", *args, "hydra.sweeper.resume=true")
    resumed = read_rows(tmp_path / "cut")

    assert len(resumed) == len(whole) == 7
    assert points(resumed) == points(whole)  # the guided proposals 5-7 too, bit for bit
    assert [r["objective"] for r in resumed] == [r["objective"] for r in whole]


def test_a_resumed_sweep_tells_its_optimizer_what_the_uninterrupted_one_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trials told together (a batch) are told together again by a resume, in the order
    they ended: a failed trial's penalty and a pruned trial's floor depend on the values
    told with and before them. Two at a time (batches of jobs 0-1, 2-3, 4-5), trial 3
    (job 2) fails; the sweep dies in job 4 and is resumed. Told one at a time in number
    order, trial 3's penalty left out trial 4's value, which its batch had told with it."""
    optimizers: list = []

    def keep(*args: object, **kwargs: object) -> object:
        optimizers.append(make_optimizer(*args, **kwargs))
        return optimizers[-1]

    monkeypatch.setattr(sweep_module, "make_optimizer", keep)
    args = [*SPACE, "hydra.sweeper.n_trials=6", "hydra.sweeper.n_initial_points=6",
            "hydra.sweeper.n_jobs=2", "hydra.sweeper.schedule=batch",
            "hydra.sweeper.max_failure_rate=1", "fail_job=2"]
    multirun(tmp_path / "whole", *args)
    monkeypatch.setenv("QUAD_INTERRUPT_AT_JOB", "4")
    with pytest.raises(KeyboardInterrupt):
        multirun(tmp_path / "cut", *args)
    monkeypatch.delenv("QUAD_INTERRUPT_AT_JOB")
    multirun(tmp_path / "cut", *args, "hydra.sweeper.resume=true")
    whole, _, resumed = optimizers

    assert [r["status"] for r in read_rows(tmp_path / "cut")][2] == "failed"
    told = {str(x): y for x, y in zip(whole.Xi, whole.yi, strict=True)}
    assert len(told) == 6
    assert {str(x): y for x, y in zip(resumed.Xi, resumed.yi, strict=True)} == told


#: Two at a time in batches, Bayesian after two initial points (8 trials uninterrupted).
BATCH = [*SPACE, "hydra.sweeper.n_initial_points=2", "hydra.sweeper.n_jobs=2",
         "hydra.sweeper.schedule=batch"]


@pytest.fixture(scope="session")
def batch_whole(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    """The rows of the uninterrupted 8-trial ``BATCH`` sweep, which two tests' resumed
    sweeps must reproduce: run once per test process (xdist worker), not once per test."""
    sweep = tmp_path_factory.mktemp("batch") / "whole"
    multirun(sweep, *BATCH, "hydra.sweeper.n_trials=8")
    return read_rows(sweep)


def test_a_resumed_batch_sweep_proposes_what_the_uninterrupted_one_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_whole: list[dict[str, str]]
) -> None:
    """Two at a time (batches: trials 1-2, 3-4, ...), stopped in the batch of trials 5-6 and
    resumed, a Bayesian sweep proposes the same 7th and 8th points as one run in one go.
    Each batch asked skopt for its points together (constant liar), which draws from the
    optimizer's random state unlike two single asks: a resume that asked again one point
    at a time left that state elsewhere, and every later batch differed."""
    args = [*BATCH, "hydra.sweeper.n_trials=8"]
    monkeypatch.setenv("QUAD_INTERRUPT_AT_JOB", "4")  # trial 5, first of its batch
    with pytest.raises(KeyboardInterrupt):
        multirun(tmp_path / "cut", *args)
    monkeypatch.delenv("QUAD_INTERRUPT_AT_JOB")
    assert len(read_rows(tmp_path / "cut")) == 4
    multirun(tmp_path / "cut", *args, "hydra.sweeper.resume=true")
    whole, resumed = batch_whole, read_rows(tmp_path / "cut")
    assert len(whole) == 8 and points(resumed) == points(whole)
    assert [r["objective"] for r in resumed] == [r["objective"] for r in whole]


def test_a_batch_whose_sweep_died_between_its_end_entries_is_told_together_again(
        tmp_path: Path, batch_whole: list[dict[str, str]]) -> None:
    """The sweep logs the end of a batch's launches one file after another, after their
    rows: killed between the two (job 3 logged no end, its row written), the resume told
    trial 4 apart from trial 3, last, and the surrogate's fits (each draws from the random
    state) and every later batch differed from the uninterrupted sweep's."""
    multirun(tmp_path / "cut", *BATCH, "hydra.sweeper.n_trials=4")
    job = tmp_path / "cut" / "record" / "jobs" / "3.json"
    logged = json.loads(job.read_text())
    job.write_text(json.dumps({**logged, "ended": None, "status": "running"}))
    multirun(tmp_path / "cut", *BATCH, "hydra.sweeper.n_trials=8", "hydra.sweeper.resume=true")
    whole, resumed = batch_whole, read_rows(tmp_path / "cut")
    assert len(whole) == 8 and points(resumed) == points(whole)
    assert json.loads(job.read_text())["ended"] == logged["ended"]


def test_a_resume_reads_the_launch_log_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        batch_whole: list[dict[str, str]]) -> None:
    """A resume reads ``record/jobs`` (one file per job) once, where it read it six times
    over (its SLURM jobs, lost trials, split batch, replay, tell order, next numbers).
    Stopped in its third batch and resumed, the sweep proposes what the uninterrupted one
    did, and its log holds the two lost launches, ended so, and the new ones."""
    args = [*BATCH, "hydra.sweeper.n_trials=8"]
    monkeypatch.setenv("QUAD_INTERRUPT_AT_JOB", "4")
    with pytest.raises(KeyboardInterrupt):
        multirun(tmp_path / "cut", *args)
    monkeypatch.delenv("QUAD_INTERRUPT_AT_JOB")
    reads: list[Path] = []

    def read_all(directory: Path) -> Iterator[dict[str, Any]]:
        reads.append(directory)
        return read_every_file(directory)

    read_every_file = record_module._read_all
    monkeypatch.setattr(record_module, "_read_all", read_all)
    multirun(tmp_path / "cut", *args, "hydra.sweeper.resume=true")
    assert [p.name for p in reads].count("jobs") == 1
    assert points(read_rows(tmp_path / "cut")) == points(batch_whole)
    kept = [(la.job, la.ended, la.status) for la in Record(tmp_path / "cut/record").launches()]
    assert len(kept) == 10 and kept[4][2] == kept[5][2] == "lost"


def test_a_ctrl_c_while_the_optimizer_learns_keeps_the_trials_log_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """A trial's row in trials.csv and its line in the sweep's log come together, before
    the optimizer is told the trial (a surrogate's fit, seconds in a long sweep): a Ctrl-C
    during the tell left the row without its line. Python raises a Ctrl-C as a
    KeyboardInterrupt where the main thread is: here, in the first tell of an ended
    trial (the sweep's start tells the warm-start trials, none here)."""
    tell = faults.Teller.tell

    def interrupted(teller: faults.Teller, trials: list) -> None:
        tell(teller, trials)
        if trials:
            raise KeyboardInterrupt

    monkeypatch.setattr(faults.Teller, "tell", interrupted)
    caplog.set_level(logging.INFO, logger="tsbench.search.loop")
    with pytest.raises(KeyboardInterrupt):
        multirun(tmp_path / "sweep", *SPACE, "hydra.sweeper.n_trials=3")
    assert [r["trial"] for r in read_rows(tmp_path / "sweep")] == ["1"]
    assert "trial 1 (Hydra job #0): value=" in caplog.text


def file_states(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: its bytes and modification time."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.heavy
def test_trial_killed_mid_run_leaves_its_job_directory_alone(tmp_path: Path) -> None:
    """``kill -9`` while trial 3 (job 2) sleeps: after the resume its half-written job
    directory is exactly as the kill left it, and no recorded trial uses it."""
    sweep = tmp_path / "sweep"
    args = [*BASE, *SPACE, "hydra.sweeper.n_trials=5", "hydra.sweeper.n_initial_points=2"]
    command = [sys.executable, str(APP), "-m", *args, "sleep=2.0", f"hydra.sweep.dir={sweep}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    killed = sweep / "2"
    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL) as proc:
        deadline = time.monotonic() + 120
        while not (killed / ".hydra" / "overrides.yaml").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "sweep ended early"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    before = read_rows(sweep)
    assert [r["job"] for r in before] == ["0", "1"]  # job 2 was running, not recorded
    half_written = file_states(killed)
    assert ".hydra/config.yaml" in half_written and "result.json" not in half_written

    # without the 2 s sleep (a changed fixed override: resume=force accepts it)
    multirun(sweep, *SPACE, "hydra.sweeper.n_trials=5", "hydra.sweeper.n_initial_points=2",
             "hydra.sweeper.resume=force")
    rows = read_rows(sweep)
    assert rows[:2] == before and len(rows) == 5
    assert file_states(killed) == half_written  # neither reused nor overwritten
    assert "2" not in {r["job"] for r in rows} | {r["job_dir"] for r in rows}
    assert len({r["job_dir"] for r in rows}) == 5
    for row in rows:  # each recorded trial ran in its own directory and wrote its value
        result = json.loads((sweep / row["job_dir"] / "result.json").read_text())
        assert float(row["objective"]) == result["value"]


def test_a_job_directory_the_record_does_not_know_is_left_alone(tmp_path: Path) -> None:
    """Job numbers continue after the highest existing job directory too: a numbered
    folder that neither trials.csv nor the launch log knows (an earlier run in the same
    folder, a damaged record) is neither reused nor overwritten by a resumed sweep."""
    sweep = tmp_path / "sweep"
    args = [*SPACE, "hydra.sweeper.n_initial_points=2"]
    multirun(sweep, *args, "hydra.sweeper.n_trials=2")
    stray = sweep / "2"
    (stray / ".hydra").mkdir(parents=True)
    (stray / ".hydra" / "overrides.yaml").write_text("- x=0.5\n")
    (stray / "result.json").write_text('{"value": 0.25}')
    before = file_states(stray)
    multirun(sweep, *args, "hydra.sweeper.n_trials=3", "hydra.sweeper.resume=true")
    rows = read_rows(sweep)
    assert [(r["job"], r["job_dir"]) for r in rows] == [("0", "0"), ("1", "1"), ("3", "3")]
    assert file_states(stray) == before


JOBLIB_BATCH = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweeper.n_jobs=2",
                "hydra.sweeper.schedule=batch"]
JOBLIB_ARGS = [*SPACE, *JOBLIB_BATCH, "hydra.sweeper.n_initial_points=2"]


def kept_optimizers(monkeypatch: pytest.MonkeyPatch) -> list:
    """The optimizer of every sweep run from now on, in order."""
    optimizers: list = []

    def keep(*args: object, **kwargs: object) -> object:
        optimizers.append(make_optimizer(*args, **kwargs))
        return optimizers[-1]

    monkeypatch.setattr(sweep_module, "make_optimizer", keep)
    return optimizers


def told(optimizer: object) -> list[tuple[list[str], float]]:
    """What ``optimizer`` was told, in order."""
    return [(list(map(str, x)), y) for x, y in zip(optimizer.Xi, optimizer.yi, strict=True)]


def died_in_batch(sweep: Path, jobs: tuple[int, ...], finished: int | None) -> None:
    """Leave ``sweep`` as a sweep killed while ``jobs`` ran leaves it, job ``finished``
    having written its metrics.json: their trials have no row and their launches no end."""
    if finished is not None:
        ran = json.loads((sweep / str(finished) / "result.json").read_text())
        (sweep / str(finished) / "metrics.json").write_text(json.dumps(
            {"objective": ran["returned"], "run_seconds": ran["end"] - ran["start"],
             "hydra_job": finished}))  # written by its own job, as a run notes it
    numbers = set()
    for job in jobs:
        path = sweep / "record" / "jobs" / f"{job}.json"
        launch = json.loads(path.read_text())
        numbers.add(str(launch["trial"]))
        path.write_text(json.dumps({**launch, "ended": None, "status": "running"}))
    rows = read_rows(sweep)
    with open(sweep / "trials.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["trial"] not in numbers)


@dataclass(frozen=True)
class JoblibSweeps:
    """The ``JOBLIB_ARGS`` sweep run in one go to 6 trials (its rows, and what its optimizer
    was told), and the same sweep ended at 4 trials (its folder: copy it to change it)."""

    whole: list[dict[str, str]]
    whole_told: list[tuple[list[str], float]]
    cut: Path


@pytest.fixture(scope="session")
def joblib_sweeps(tmp_path_factory: pytest.TempPathFactory) -> JoblibSweeps:
    """Three split-batch tests start from the same two joblib sweeps: run once per test
    process (xdist worker), not once per test."""
    folder = tmp_path_factory.mktemp("joblib")
    with pytest.MonkeyPatch.context() as monkeypatch:
        optimizers = kept_optimizers(monkeypatch)
        multirun(folder / "whole", *JOBLIB_ARGS, "hydra.sweeper.n_trials=6")
    multirun(folder / "cut", *JOBLIB_ARGS, "hydra.sweeper.n_trials=4")
    return JoblibSweeps(read_rows(folder / "whole"), told(optimizers[0]), folder / "cut")


def copy_of_cut(sweeps: JoblibSweeps, tmp_path: Path) -> Path:
    """A copy of the shared 4-trial sweep that a test may kill and resume."""
    return Path(shutil.copytree(sweeps.cut, tmp_path / "cut"))


@pytest.mark.parametrize("finished", [2, 3])
def test_a_batch_split_by_a_resume_is_replayed_as_it_ran(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        joblib_sweeps: JoblibSweeps, finished: int) -> None:
    """Two at a time on joblib, the sweep dies in the batch of jobs 2-3 (trials 3-4) as job
    ``finished`` had written its metrics.json and the other still ran. The resume records
    the finished trial from its folder and runs the other again alone (its free slot
    idle), tells the two together in their batch's order, then asks for trials 5-6 as the
    uninterrupted sweep did; a later resume tells them so again. Told at once, the
    finished trial left the relaunch to run beside a new point, and every later point
    differed."""
    optimizers = kept_optimizers(monkeypatch)
    args = [*JOBLIB_ARGS, "hydra.sweeper.n_trials=6"]
    cut = copy_of_cut(joblib_sweeps, tmp_path)
    died_in_batch(cut, (2, 3), finished)

    with caplog.at_level(logging.INFO):
        multirun(cut, *args, "hydra.sweeper.resume=true")
    multirun(cut, *args, "hydra.sweeper.resume=true")  # nothing left to run: a replay
    whole, resumed = joblib_sweeps.whole, read_rows(cut)
    assert len(whole) == 6 and points(resumed) == points(whole)
    assert [r["objective"] for r in resumed] == [r["objective"] for r in whole]
    assert told(optimizers[0]) == joblib_sweeps.whole_told == told(optimizers[1])
    launches = {la.job: la for la in Record(cut / "record").launches()}
    lost = 5 - finished  # the other job of the batch: its trial ran again as job 4, alone
    assert (launches[4].trial, launches[4].batch) == (lost + 1, 4)
    assert [launches[job].batch for job in (5, 6)] == [5, 5]
    assert launches[finished].ended == launches[4].ended  # told together
    assert ("the batch of Hydra job #2 is replayed as it ran: 1 trial again alone, then "
            f"recorded and told with trial {finished + 1} (Hydra job #{finished}), which "
            f"finished as the sweep died (read from {cut / str(finished)})") in caplog.text


def test_a_split_batch_killed_again_in_its_replay_is_replayed_again(
        tmp_path: Path, joblib_sweeps: JoblibSweeps) -> None:
    """Killed again while the split batch's lost trial ran alone (job 4), the next resume
    still knows that relaunch for one of batch 2-3's: it runs it alone once more and tells
    it with the finished trial 3, so trials 5-6 are still the uninterrupted sweep's."""
    args = JOBLIB_ARGS
    cut = copy_of_cut(joblib_sweeps, tmp_path)
    died_in_batch(cut, (2, 3), 2)
    multirun(cut, *args, "hydra.sweeper.n_trials=4", "hydra.sweeper.resume=true")
    died_in_batch(cut, (2, 4), None)  # trial 3 held back, trial 4 running again as job 4
    multirun(cut, *args, "hydra.sweeper.n_trials=6", "hydra.sweeper.resume=true")
    whole, resumed = joblib_sweeps.whole, read_rows(cut)
    assert points(resumed) == points(whole)
    assert [(r["trial"], r["job"]) for r in resumed] == [
        ("1", "0"), ("2", "1"), ("3", "2"), ("4", "5"), ("5", "6"), ("6", "7")]
