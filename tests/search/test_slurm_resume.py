"""A resume waits while a trial of the dead sweep still runs as a SLURM job of its own
(submitit_slurm trials train on without their sweep), then records it from its folder or
launches it again; no SLURM here, so a fake ``squeue`` first on PATH answers from a file
the test writes, and logs every call."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.search.conftest import APP, BASE, multirun, read_rows
from tsbench.search.adopt import ADOPTED
from tsbench.search.job_folder import WRITTEN_BY
from tsbench.search.record import Record
from tsbench.search.slurm_jobs import still_running, wait_while_running

ARGS = ["x=interval(-1.0, 1.0)", "hydra.sweeper.n_trials=2",
        "hydra.sweeper.n_initial_points=1"]
#: Each trial runs as SLURM job 70<n> (as submitit's jobs do; the sweep runs outside SLURM).
OWN_JOBS = ["+hydra.job.env_set.SLURM_JOB_ID='70${hydra.job.num}'"]
#: Each trial runs as task <n> of SLURM array 80 (submitit's batches).
ARRAY_TASKS = ["+hydra.job.env_set.SLURM_JOB_ID='90${hydra.job.num}'",
               "+hydra.job.env_set.SLURM_ARRAY_JOB_ID=80",
               "+hydra.job.env_set.SLURM_ARRAY_TASK_ID='${hydra.job.num}'"]
RELAUNCHED = [("1", "1", "relaunched: job 0 died with the sweep"), ("2", "2", "")]

FAKE_SQUEUE = f"""#!{sys.executable}
# SLURM's squeue for the tests: logs its arguments, then prints the "<id> <state>" lines
# of $FAKE_SQUEUE_JOBS that --jobs= asks for; a list naming an id the file lacks is
# refused as SLURM refuses an ended job's id. Answers separated by "---" lines are given one
# a call (the last one stays); an answer "DOWN" is a controller that does not answer.
import os, sys
with open(os.environ["FAKE_SQUEUE_LOG"], "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
path = os.environ["FAKE_SQUEUE_JOBS"]
answer, *later = (open(path).read() if os.path.exists(path) else "").split("---\\n")
if later:
    open(path, "w").write("---\\n".join(later))
if answer.strip() == "DOWN":
    sys.exit("squeue: error: Unable to contact slurm controller (connect failure)")
listed = dict(line.split() for line in answer.splitlines())
asked = next(a for a in sys.argv if a.startswith("--jobs=")).split("=", 1)[1].split(",")
if any(job not in listed for job in asked):
    sys.exit("slurm_load_jobs error: Invalid job id specified")
print("\\n".join(f"{{job}} {{listed[job]}}" for job in asked))
"""


@pytest.fixture
def squeue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A fake squeue first on PATH, and outside SLURM: (its jobs file, its call log)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "squeue").write_text(FAKE_SQUEUE)
    (bin_dir / "squeue").chmod(0o755)
    jobs, calls = tmp_path / "squeue_jobs", tmp_path / "squeue_calls"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SQUEUE_JOBS", str(jobs))
    monkeypatch.setenv("FAKE_SQUEUE_LOG", str(calls))
    for name in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"):
        monkeypatch.delenv(name, raising=False)
    return jobs, calls


def calls_of(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def died_in_job_0(sweep_dir: Path, monkeypatch: pytest.MonkeyPatch, *slurm: str) -> None:
    """A sweep of two trials stopped while job 0 ran (Ctrl-C in it): no metrics.json."""
    monkeypatch.setenv("QUAD_INTERRUPT_AT_JOB", "0")
    with pytest.raises(KeyboardInterrupt):
        multirun(sweep_dir, *ARGS, *slurm)
    monkeypatch.delenv("QUAD_INTERRUPT_AT_JOB")


def finished_in_job_0(sweep_dir: Path) -> None:
    """Job 0's metrics.json, as its run writes it last once trained (on SLURM, after its
    sweep died)."""
    metrics = {"objective": 0.25, "run_seconds": 1.0, WRITTEN_BY: 0}
    (sweep_dir / "0" / "metrics.json").write_text(json.dumps(metrics))


def test_a_resume_waits_for_a_trial_still_on_slurm_then_records_it(
        sweep_dir: Path, squeue: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """While squeue lists the trial's job the resume launches nothing; once the job has
    left squeue, its metrics.json written, the trial is recorded from its folder, not run
    again (before: launched again at once, twice side by side)."""
    jobs, calls = squeue
    died_in_job_0(sweep_dir, monkeypatch, *OWN_JOBS)
    assert Record(sweep_dir / "record").slurm_job(0) == "700"
    jobs.write_text("700 R\n")
    logging_on = [o for o in BASE if o != "hydra/hydra_logging=none"]  # its lines on stdout
    command = [sys.executable, str(APP), "-m", *logging_on, *ARGS, *OWN_JOBS,
               "hydra.sweeper.resume=true", "hydra.sweeper.slurm_poll_seconds=0.1",
               f"hydra.sweep.dir={sweep_dir}"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as resume:
        deadline = time.monotonic() + 60
        while len(calls_of(calls)) < 3:  # asked three times: it waits
            assert resume.poll() is None, "the resume did not wait:\n" + resume.stdout.read()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert [la.job for la in Record(sweep_dir / "record").launches()] == [0]
        assert not (sweep_dir / "1").exists()
        finished_in_job_0(sweep_dir)
        jobs.write_text("")  # the job has left squeue
        output, _ = resume.communicate(timeout=120)
    assert resume.returncode == 0, output
    assert [(r["trial"], r["job"], r["error"]) for r in read_rows(sweep_dir)] == [
        ("1", "0", ADOPTED), ("2", "1", "")]
    assert set(calls_of(calls)) == {"--noheader --format=%i %t --jobs=700"}
    assert ("waiting for the SLURM jobs of the dead sweep's trials that still run: trial 1 "
            "(Hydra job #0) as SLURM job 700;") in output
    assert output.count("waiting for the SLURM jobs") == 1  # one line, not one per poll
    assert "SLURM jobs 700 have ended" in output


@pytest.mark.parametrize("listed", ["", "80_0 CD\n"])  # forgotten by SLURM, or just ended
def test_a_trial_whose_slurm_job_ended_without_metrics_is_launched_again_once(
        sweep_dir: Path, squeue: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
        listed: str) -> None:
    """A job of an array task, noted as squeue names it (``80_0``), that SLURM lists no
    more or lists as ended, and that wrote no metrics.json: launched again, once."""
    jobs, calls = squeue
    died_in_job_0(sweep_dir, monkeypatch, *ARRAY_TASKS)
    assert Record(sweep_dir / "record").slurm_job(0) == "80_0"
    jobs.write_text(listed)
    multirun(sweep_dir, *ARGS, *ARRAY_TASKS, "hydra.sweeper.resume=true")
    assert [(r["trial"], r["job"], r["error"]) for r in read_rows(sweep_dir)] == RELAUNCHED
    assert calls_of(calls) == ["--noheader --format=%i %t --jobs=80_0"]


@pytest.mark.parametrize("sweep_in_slurm", [False, True])
def test_no_squeue_call_for_trials_that_noted_no_slurm_job(
        sweep_dir: Path, squeue: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
        sweep_in_slurm: bool) -> None:
    """Outside SLURM, and for trials inside the sweep's own SLURM job (joblib, the basic
    launcher: they end with the sweep), nothing is noted and squeue is never asked."""
    jobs, calls = squeue
    if sweep_in_slurm:
        monkeypatch.setenv("SLURM_JOB_ID", "555")
        jobs.write_text("555 R\n")  # the sweep's own job (requeued with its id) runs
    died_in_job_0(sweep_dir, monkeypatch)
    assert Record(sweep_dir / "record").slurm_job(0) is None
    assert "slurm_job" not in (sweep_dir / "record" / "folders" / "0.json").read_text()
    multirun(sweep_dir, *ARGS, "hydra.sweeper.resume=true")
    assert [(r["trial"], r["job"], r["error"]) for r in read_rows(sweep_dir)] == RELAUNCHED
    assert calls_of(calls) == []


@pytest.mark.parametrize("squeue_answers", ["missing", "down"])
def test_a_resume_that_cannot_ask_slurm_warns_once_and_launches_again(
        sweep_dir: Path, squeue: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, tmp_path: Path, squeue_answers: str) -> None:
    """No squeue on PATH (a resume on a laptop) or a failing one: one warning naming the
    jobs and the risk, and the resume goes on as without SLURM ids."""
    jobs, _ = squeue
    died_in_job_0(sweep_dir, monkeypatch, *OWN_JOBS)
    jobs.write_text("700 R\n")
    if squeue_answers == "missing":
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    else:
        jobs.write_text("DOWN\n")
    with caplog.at_level(logging.WARNING, logger="tsbench.search"):
        multirun(sweep_dir, *ARGS, *OWN_JOBS, "hydra.sweeper.resume=true")
    assert [(r["trial"], r["job"], r["error"]) for r in read_rows(sweep_dir)] == RELAUNCHED
    warnings = [r.getMessage() for r in caplog.records if "SLURM jobs" in r.getMessage()]
    reason = ("squeue is not on PATH" if squeue_answers == "missing" else
              "squeue failed: squeue: error: Unable to contact slurm controller")
    assert len(warnings) == 1 and warnings[0].startswith(f"resume: {reason}")
    assert "(trial 1 (Hydra job #0) as SLURM job 700): a trial without its metrics.json " \
           "is launched again" in warnings[0]


def test_squeue_is_asked_per_job_where_it_refuses_a_list_with_an_ended_one(
        squeue: tuple[Path, Path]) -> None:
    """An ended job's id makes some SLURM versions refuse the whole list: each id is then
    asked alone, and only the one still listed, not ended, runs."""
    jobs, calls = squeue
    jobs.write_text("701 R\n702 CD\n703 PD\n")
    assert still_running(["700", "701", "702", "703"]) == {"701", "703"}
    assert [c.rsplit("=", 1)[1] for c in calls_of(calls)] == [
        "700,701,702,703", "700", "701", "702", "703"]


def test_slurm_poll_seconds_must_be_positive(sweep_dir: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        multirun(sweep_dir, "x=interval(0, 1)", "hydra.sweeper.slurm_poll_seconds=0")
    assert exit_info.value.code == 2
    assert "hydra.sweeper.slurm_poll_seconds: must be > 0" in capsys.readouterr().err


@pytest.mark.parametrize("failures, waited_out", [(2, True), (3, False)])
def test_a_wait_outlasts_two_failed_squeue_calls_in_a_row_not_three(
        squeue: tuple[Path, Path], caplog: pytest.LogCaptureFixture, failures: int,
        waited_out: bool) -> None:
    """Once squeue has answered, a controller that times out now and then does not end
    the wait (trials would run twice): two failures in a row are asked again; the third
    ends the wait with the warning."""
    jobs, calls = squeue
    jobs.write_text("---\n".join(["700 R\n", *["DOWN\n"] * failures, ""]))
    with caplog.at_level(logging.INFO, logger="tsbench.search"):
        wait_while_running({"700": "trial 1 (Hydra job #0)"}, 0.01)
    said = [r.getMessage() for r in caplog.records]
    assert len(calls_of(calls)) == 1 + failures + waited_out
    assert any("SLURM jobs 700 have ended" in line for line in said) == waited_out
    assert sum("is launched again, twice side by side" in line for line in said) == (
        not waited_out)
