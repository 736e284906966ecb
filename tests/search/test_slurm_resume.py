"""A resume waits while a trial of the dead sweep still runs as a SLURM job of its own
(submitit_slurm trials train on without their sweep), then records it from its folder or
launches it again; so too for a trial whose job was still pending (it noted nothing: its
id is read from submitit's folders). No SLURM here, so a fake ``squeue`` first on PATH
answers from a file the test writes, and logs every call."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from tests.search.conftest import APP, BASE, multirun, read_rows
from tsbench.search.adopt import ADOPTED
from tsbench.search.job_folder import WRITTEN_BY
from tsbench.search.record import Record
from tsbench.search.slurm_jobs import still_running, submitted_jobs, wait_while_running

ARGS = ["x=interval(-1.0, 1.0)", "hydra.sweeper.n_trials=2",
        "hydra.sweeper.n_initial_points=1"]
#: Each trial runs as SLURM job 70<n> (as submitit's jobs do; the sweep runs outside SLURM).
OWN_JOBS = ["+hydra.job.env_set.SLURM_JOB_ID='70${hydra.job.num}'"]
#: Each trial runs as task <n> of SLURM array 80 (submitit's batches).
ARRAY_TASKS = ["+hydra.job.env_set.SLURM_JOB_ID='90${hydra.job.num}'",
               "+hydra.job.env_set.SLURM_ARRAY_JOB_ID=80",
               "+hydra.job.env_set.SLURM_ARRAY_TASK_ID='${hydra.job.num}'"]
RELAUNCHED = [("1", "1", "relaunched: job 0 died with the sweep"), ("2", "2", "")]
#: A resume that launches nothing once trial 1 is recorded (no sbatch here to launch with).
ONE_TRIAL = ["x=interval(-1.0, 1.0)", "hydra.sweeper.n_trials=1",
             "hydra.sweeper.n_initial_points=1", "hydra.sweeper.resume=true"]
SUBMITIT_SLURM = "hydra/launcher=submitit_slurm"
#: The one squeue call a poll makes: all of this user's jobs, each array task on a line.
LISTING = f"--noheader --format=%i %t --array --states=all --user={os.getuid()}"

FAKE_SQUEUE = f"""#!{sys.executable}
# SLURM's squeue for the tests: logs its arguments, then prints the "<id> <state>" lines
# of $FAKE_SQUEUE_JOBS: all of them (the user's jobs), or those --jobs= asks for, a list
# naming an id the file lacks refused as SLURM refuses an ended job's id. Answers separated
# by "---" lines are given one a call (the last one stays); an answer "DOWN" is a
# controller that does not answer.
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
asked = next((a for a in sys.argv if a.startswith("--jobs=")), "=" + ",".join(listed))
asked = [job for job in asked.split("=", 1)[1].split(",") if job]
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


@contextlib.contextmanager
def waiting_resume(calls: Path, *overrides: str) -> Iterator[subprocess.Popen]:
    """The quadratic app's resume with ``overrides`` (squeue every 0.1 s, its log lines on
    stdout), started and found waiting: squeue asked three times, the resume still running."""
    logging_on = [o for o in BASE if o != "hydra/hydra_logging=none"]
    command = [sys.executable, str(APP), "-m", *logging_on, *overrides,
               "hydra.sweeper.slurm_poll_seconds=0.1"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as resume:
        deadline = time.monotonic() + 60
        while len(calls_of(calls)) < 3:
            assert resume.poll() is None, "the resume did not wait:\n" + resume.stdout.read()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield resume


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
    with waiting_resume(calls, *ARGS, *OWN_JOBS, "hydra.sweeper.resume=true",
                        f"hydra.sweep.dir={sweep_dir}") as resume:
        assert [la.job for la in Record(sweep_dir / "record").launches()] == [0]
        assert not (sweep_dir / "1").exists()
        finished_in_job_0(sweep_dir)
        jobs.write_text("")  # the job has left squeue
        output, _ = resume.communicate(timeout=120)
    assert resume.returncode == 0, output
    assert [(r["trial"], r["job"], r["error"]) for r in read_rows(sweep_dir)] == [
        ("1", "0", ADOPTED), ("2", "1", "")]
    assert set(calls_of(calls)) == {LISTING}
    assert ("waiting for the SLURM jobs of the dead sweep's trials that still run: trial 1 "
            "(Hydra job #0) as SLURM job 700;") in output
    assert output.count("waiting for the SLURM jobs") == 1  # one line, not one per poll
    assert "SLURM job 700 has ended" in output


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
    assert calls_of(calls) == [LISTING]


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


def test_one_squeue_call_answers_for_hundreds_of_ended_jobs(
        squeue: tuple[Path, Path]) -> None:
    """An ended sweep leaves hundreds of submitted jobs that SLURM no longer knows: one
    call for all of them (asking ``--jobs=`` for each where SLURM refused the list cost
    one call per id, every poll); only those listed and not ended run, with their states."""
    jobs, calls = squeue
    jobs.write_text("701 R\n702 CD\n703 PD\n80_3 PD\n999 R\n")  # 999: another sweep's
    ids = ["700", "701", "702", "703", "80_3", *map(str, range(1000, 1300))]
    assert still_running(ids) == {"701": "R", "703": "PD", "80_3": "PD"}
    assert calls_of(calls) == [LISTING]


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
    assert any("SLURM job 700 has ended" in line for line in said) == waited_out
    assert sum("is launched again, twice side by side" in line for line in said) == (
        not waited_out)


def submitted(folder: Path, *ids: str) -> None:
    """``folder`` holding, for each of ``ids``, the files submitit leaves for a job it
    submitted (empty: nothing reads them)."""
    folder.mkdir(parents=True, exist_ok=True)
    for job in ids:
        for name in ("submitted.pkl", "0_log.out", "0_result.pkl"):
            (folder / f"{job}_{name}").touch()
        (folder / f"{job.split('_')[0]}_submission.sh").touch()


def never_started(sweep_dir: Path, aside: Path) -> None:
    """Job 0 as a trial whose SLURM job was still pending when the sweep died: no folder,
    no note (moved to ``aside``, to be put back as the job starts)."""
    aside.mkdir()
    (sweep_dir / "0").rename(aside / "0")
    (sweep_dir / "record" / "folders" / "0.json").rename(aside / "0.json")


@pytest.mark.parametrize("pattern", ["${hydra.sweep.dir}/.submitit/%j",  # Hydra's default
                                     "${hydra.sweep.dir}/slurm/%A/%a", "/logs [1]"])
def test_submitted_jobs_are_read_from_the_composed_submitit_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pattern: str) -> None:
    """The ids of hydra/launcher=submitit_slurm's jobs, composed by Hydra (no SLURM needed),
    from the names of its ``<id>_submitted.pkl`` files: one folder per job, per array task
    (``%A``/``%a``), or one folder for all; glob's own characters in a path are no
    pattern; the sweep's own job is left out."""
    sweep_dir = tmp_path / "sweep [1]"
    with initialize_config_dir(config_dir=str(APP.parent / "conf"), version_base="1.3"):
        config = compose("config", return_hydra_config=True, overrides=[
            SUBMITIT_SLURM, f"hydra.sweep.dir='{sweep_dir}'",
            f"hydra.launcher.submitit_folder='{pattern.replace('/logs', str(tmp_path))}'"])
    folder = str(config.hydra.launcher.submitit_folder)
    assert submitted_jobs(folder) == set()  # no folder yet
    for job in ("123_0", "123_1", "124", "555"):
        array, _, task = job.partition("_")
        submitted(Path(folder.replace("%j", job).replace("%A", array).replace("%a", task)),
                  job)
    (tmp_path / "logs 1").mkdir()  # matched by "logs [1]" as a glob pattern
    submitted(tmp_path / "logs 1", "777")
    monkeypatch.setenv("SLURM_JOB_ID", "555")  # the resume runs in job 555
    # under %A/%a, a job of no array has no folder the pattern names (submitit refuses it)
    expected = {"123_0", "123_1", "124"} if "%a" not in pattern else {"123_0", "123_1"}
    assert submitted_jobs(folder) == expected


def test_a_resume_waits_for_a_job_still_pending_that_no_trial_noted(
        sweep_dir: Path, squeue: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    """submitit_slurm: a trial whose job was pending when the sweep died noted nothing;
    its id, read from submitit's folder, is waited for while squeue lists it, and the trial
    it then ran is recorded from its folder (before: launched again at once, beside it)."""
    jobs, calls = squeue
    died_in_job_0(sweep_dir, monkeypatch)
    never_started(sweep_dir, tmp_path / "aside")
    submitted(sweep_dir / ".submitit" / "123_0", "123_0")
    submitted(sweep_dir / ".submitit" / "99", "99")  # an earlier job, ended
    jobs.write_text("123_0 PD\n99 CD\n")
    with waiting_resume(calls, SUBMITIT_SLURM, *ONE_TRIAL,
                        f"hydra.sweep.dir={sweep_dir}") as resume:
        assert [la.job for la in Record(sweep_dir / "record").launches()] == [0]
        assert not (sweep_dir / "0").exists()
        (tmp_path / "aside" / "0").rename(sweep_dir / "0")  # the job starts, notes, ends
        Record(sweep_dir / "record").started_in(0, "0", "123_0")
        finished_in_job_0(sweep_dir)
        jobs.write_text("123_0 CD\n99 CD\n")
        output, _ = resume.communicate(timeout=120)
    assert resume.returncode == 0, output
    assert [(r["trial"], r["job"], r["error"]) for r in read_rows(sweep_dir)] == [
        ("1", "0", ADOPTED)]
    assert set(calls_of(calls)) == {LISTING}
    assert ("waiting for the SLURM jobs of the dead sweep's trials that still run: SLURM "
            "job 123_0 (pending, not started);") in output
    assert "SLURM job 123_0 has ended" in output


@pytest.mark.parametrize("launcher", ["basic", "submitit_slurm"])
def test_no_squeue_call_without_submitit_slurm_or_its_folders(
        sweep_dir: Path, squeue: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
        launcher: str) -> None:
    """Another launcher's sweep does not read submitit's folders (left there by an earlier
    sweep), and submitit_slurm's without any asks squeue nothing either."""
    jobs, calls = squeue
    died_in_job_0(sweep_dir, monkeypatch)
    jobs.write_text("123_0 PD\n---\n")  # listed once (a wait asked for it ends, and fails)
    if launcher == "basic":
        submitted(sweep_dir / ".submitit" / "123_0", "123_0")
        multirun(sweep_dir, *ARGS, "hydra.sweeper.resume=true",
                 "hydra.sweeper.slurm_poll_seconds=0.1")
        assert [(r["trial"], r["job"], r["error"]) for r in read_rows(sweep_dir)] == (
            RELAUNCHED)
    else:
        finished_in_job_0(sweep_dir)
        multirun(sweep_dir, SUBMITIT_SLURM, *ONE_TRIAL)
        assert [(r["trial"], r["job"], r["error"]) for r in read_rows(sweep_dir)] == [
            ("1", "0", ADOPTED)]
    assert calls_of(calls) == []


def test_hundreds_of_ended_submitted_jobs_cost_one_squeue_call(
        sweep_dir: Path, squeue: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A resume of a long submitit_slurm sweep, its 300 submitted jobs ended (SLURM has
    forgotten all but one): one squeue call, no wait."""
    jobs, calls = squeue
    died_in_job_0(sweep_dir, monkeypatch)
    finished_in_job_0(sweep_dir)
    for job in range(1000, 1300):
        submitted(sweep_dir / ".submitit" / str(job), str(job))
    jobs.write_text("1299 CD\n")
    multirun(sweep_dir, SUBMITIT_SLURM, *ONE_TRIAL)
    assert [(r["trial"], r["job"], r["error"]) for r in read_rows(sweep_dir)] == [
        ("1", "0", ADOPTED)]
    assert calls_of(calls) == [LISTING]


def test_the_wait_names_array_tasks_in_their_numbers_order(
        squeue: tuple[Path, Path], caplog: pytest.LogCaptureFixture) -> None:
    """Task 2 of an array before its task 10 (as SLURM numbers them, not as text sorts)."""
    jobs, _ = squeue
    jobs.write_text("123_10 R\n123_2 R\n---\n")
    with caplog.at_level(logging.INFO, logger="tsbench.search"):
        wait_while_running({"123_10": "trial 2 (Hydra job #1)",
                            "123_2": "trial 1 (Hydra job #0)"}, 0.01)
    said = [r.getMessage() for r in caplog.records]
    assert ("trial 1 (Hydra job #0) as SLURM job 123_2, trial 2 (Hydra job #1) as SLURM job "
            "123_10;") in said[0]
    assert said[-1].startswith("resume: SLURM jobs 123_2, 123_10 have ended")
