"""Job folders under any ``hydra.sweep.subdir``: each job notes its folder as it starts, so
a resume records a trial that finished as its sweep died from that folder (not only under
the default ``${hydra.job.num}``), and a trial whose launch failed names its folder, which
holds its log, in trials.csv."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml

from tests.search.conftest import multirun, read_rows
from tests.search.test_adopted_trials import _finished_there, died_as_it_finished
from tests.search.test_sweeps import user_error
from tsbench.errors import ConfigError
from tsbench.search import job_folder
from tsbench.search.adopt import ADOPTED
from tsbench.search.job_folder import HYDRA_YAML, WRITTEN_BY, JobFolders
from tsbench.search.record import Record

ARGS = ["x=interval(-1.0, 1.0)", "hydra.sweeper.n_trials=2", "hydra.sweeper.n_initial_points=1"]


def _job_folders(sweep_dir: Path) -> list[Path]:
    return sorted(p for p in sweep_dir.iterdir() if p.is_dir() and p.name != "record")


@pytest.mark.parametrize("subdir", [
    "${hydra.job.num}_${hydra.job.override_dirname}",
    "${hydra.job.override_dirname}",
    "${hydra.job.num}",
])
def test_a_resume_records_a_finished_trial_under_any_subdir(
        sweep_dir: Path, monkeypatch: pytest.MonkeyPatch, subdir: str) -> None:
    """A sweep stopped as its first trial finished (metrics.json written, the result not
    yet back): the resume records the trial from its folder, named as the subdir says,
    rather than running it again."""
    monkeypatch.setenv("QUAD_INTERRUPT_AT_JOB", "0")
    with pytest.raises(KeyboardInterrupt):
        multirun(sweep_dir, *ARGS, f"hydra.sweep.subdir={subdir}")
    monkeypatch.delenv("QUAD_INTERRUPT_AT_JOB")
    (folder,) = _job_folders(sweep_dir)
    assert Record(sweep_dir / "record").subdir(0) == folder.name
    _finished_there(folder, 0.25, None, False)

    multirun(sweep_dir, *ARGS, f"hydra.sweep.subdir={subdir}", "hydra.sweeper.resume=true")
    rows = read_rows(sweep_dir)
    assert [(r["trial"], r["job"], r["error"]) for r in rows] == [
        ("1", "0", ADOPTED), ("2", "1", "")]
    assert (rows[0]["objective"], rows[0]["job_dir"]) == ("0.25", folder.name)
    assert len(_job_folders(sweep_dir)) == 2  # trial 1 was not run again


def test_a_failed_launch_names_its_job_folder(sweep_dir: Path) -> None:
    """A joblib worker killed in its trial (the launch raises, no result comes back, and
    loky ends the batch's other trial too): each failed trial's row names its folder, which
    holds its log, under a custom subdir; a trial killed before it started has none."""
    multirun(sweep_dir, *ARGS, "kill_job=1",
             "hydra.sweep.subdir=${hydra.job.num}_${hydra.job.override_dirname}",
             "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweeper.n_jobs=2",
             "hydra.sweeper.schedule=batch")
    rows = read_rows(sweep_dir)
    assert [(r["job"], r["status"]) for r in rows] == [("0", "failed"), ("1", "failed")]
    folders = {p.name.split("_")[0]: p.name for p in _job_folders(sweep_dir)}
    assert rows[1]["job_dir"] == folders["1"]  # the killed trial's, which ran to the kill
    # loky may end job 0 before it starts, or after Hydra made its folder but before it
    # saved the .hydra/hydra.yaml that names the job (then nothing tells whose folder it is)
    assert rows[0]["job_dir"] == (folders["0"] if _saved_by_hydra(sweep_dir, folders.get("0"))
                                  else "")


def _saved_by_hydra(sweep_dir: Path, folder: str | None) -> bool:
    """Whether job folder ``folder`` holds a whole ``.hydra/hydra.yaml``, naming its job."""
    if folder is None:
        return False
    try:
        saved = yaml.safe_load((sweep_dir / folder / HYDRA_YAML).read_text())
        return isinstance(saved["hydra"]["job"]["num"], int)
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return False


def test_a_launch_killed_before_its_job_noted_its_folder_names_the_folder_hydra_made(
        sweep_dir: Path) -> None:
    """A joblib worker killed as its job starts (Hydra made the folder and saved its
    ``.hydra`` files, the job had not yet noted its folder: a race the test above meets
    now and then): the failed trial's row names the folder Hydra made, found by the job
    number in its ``.hydra/hydra.yaml``, under a subdir not named by the job number alone."""
    multirun(sweep_dir, *ARGS,
             "+hydra.callbacks.kill._target_=tests.search.app.kill_at_start.KillAtJobStart",
             "+hydra.callbacks.kill.job=0",
             "hydra.sweep.subdir=${hydra.job.num}_${hydra.job.override_dirname}",
             "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweeper.n_jobs=2",
             "hydra.sweeper.schedule=batch")
    rows = read_rows(sweep_dir)
    assert (rows[0]["job"], rows[0]["status"]) == ("0", "failed")
    assert Record(sweep_dir / "record").subdir(0) is None  # killed before it noted one
    folders = {p.name.split("_")[0]: p.name for p in _job_folders(sweep_dir)}
    assert rows[0]["job_dir"] == folders["0"] != ""


def test_the_folder_of_a_job_that_noted_none_is_found_past_a_half_written_one(
        sweep_dir: Path) -> None:
    """Looking for the folder Hydra made for a job that noted none, the sweep passes over a
    ``.hydra/hydra.yaml`` another job is still writing (it does not read) instead of
    failing, and names no folder for a job none records."""
    for name, text in (("a", "hydra:\n  job:\n    num: ["), ("b", "hydra:\n  job:\n    num: 3\n")):
        (sweep_dir / name / ".hydra").mkdir(parents=True)
        (sweep_dir / name / ".hydra" / "hydra.yaml").write_text(text)
    folders = JobFolders(sweep_dir, Record(sweep_dir / "record"), "${hydra.job.override_dirname}")
    assert (folders.subdir(3), folders.subdir(4)) == ("b", None)


def test_the_folders_of_jobs_that_noted_none_are_found_reading_each_file_once(
        sweep_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A resume looks for the folder of each lost job that noted none: each folder's
    ``.hydra/hydra.yaml`` is read once while it stays unchanged (not once per such job:
    thousands of folders times the jobs), again where it did not read or was rewritten."""
    def save(name: str, text: str) -> None:
        (sweep_dir / name / ".hydra").mkdir(parents=True, exist_ok=True)
        (sweep_dir / name / ".hydra" / "hydra.yaml").write_text(text)

    save("a", "hydra:\n  job:\n    num: [")  # another job still writing it
    save("b", "hydra:\n  job:\n    num: 3\n")
    save("c", "hydra:\n  job:\n    num: 4\n")
    read: list[str] = []
    real = job_folder.job_number
    monkeypatch.setattr(job_folder, "job_number",
                        lambda path: read.append(path.parent.parent.name) or real(path))
    folders = JobFolders(sweep_dir, Record(sweep_dir / "record"), "${hydra.job.override_dirname}")
    assert (folders.subdir(3), folders.subdir(4), folders.subdir(5)) == ("b", "c", None)
    assert sorted(read) == ["a", "a", "a", "b", "c"]
    save("a", "hydra:\n  job:\n    num: 5\n")  # written whole since
    save("c", "hydra:\n  job:\n    num: 16\n")  # rewritten in place by a later job
    assert (folders.subdir(5), folders.subdir(16), folders.subdir(4)) == ("a", "c", None)


@pytest.mark.parametrize("subdir", ["${hydra.job.override_dirname}", "fixed"])
def test_a_relaunched_trial_runs_in_a_folder_of_its_own(
        sweep_dir: Path, monkeypatch: pytest.MonkeyPatch, subdir: str) -> None:
    """A trial that died with its sweep, launched again by the resume, under a subdir
    without the job number (its values, or one name for all): the relaunch ran in the dead
    job's folder, among the dead run's partial files. It runs in ``<subdir>_job<n>``, the
    dead folder left as it was."""
    args = ["x=interval(-1.0, 1.0)", "hydra.sweeper.n_trials=1",
            f"hydra.sweep.subdir={subdir}"]
    monkeypatch.setenv("QUAD_INTERRUPT_AT_JOB", "0")
    with pytest.raises(KeyboardInterrupt):
        multirun(sweep_dir, *args)
    monkeypatch.delenv("QUAD_INTERRUPT_AT_JOB")
    (dead,) = _job_folders(sweep_dir)
    (dead / "checkpoints").mkdir()
    (dead / "checkpoints" / "last.ckpt").write_text("the dead run's")
    left = sorted(p.relative_to(dead).as_posix() for p in dead.rglob("*"))

    multirun(sweep_dir, *args, "hydra.sweeper.resume=true")
    (row,) = read_rows(sweep_dir)
    assert (row["trial"], row["job"], row["status"], row["error"]) == (
        "1", "1", "ok", "relaunched: job 0 died with the sweep")
    assert row["job_dir"] == f"{dead.name}_job1"
    relaunched = sweep_dir / row["job_dir"]
    assert sorted(p.name for p in relaunched.iterdir()) == [".hydra", "result.json"]
    assert sorted(p.relative_to(dead).as_posix() for p in dead.rglob("*")) == left
    assert Record(sweep_dir / "record").subdir(1) == row["job_dir"]  # a resume finds it


def test_a_retried_trial_runs_in_a_folder_of_its_own(sweep_dir: Path) -> None:
    """``retry_failed``: the failed trial's new launch, at its point, ran in its folder
    (named by its values), where the failed run's files lay."""
    subdir = "hydra.sweep.subdir=${hydra.job.override_dirname}"
    multirun(sweep_dir, *ARGS, subdir, "fail_job=0")
    (failed,) = [r["job_dir"] for r in read_rows(sweep_dir) if r["status"] == "failed"]
    multirun(sweep_dir, *ARGS, subdir, "fail_job=0", "hydra.sweeper.resume=true",
             "hydra.sweeper.retry_failed=true")
    rows = read_rows(sweep_dir)
    assert [(r["trial"], r["job"], r["status"]) for r in rows] == [
        ("1", "2", "ok"), ("2", "1", "ok")]
    assert rows[0]["job_dir"] == f"{failed}_job2"
    assert not (sweep_dir / failed / "result.json").exists()


def test_a_resume_records_a_finished_trial_from_the_metrics_its_job_wrote(
        sweep_dir: Path) -> None:
    """The job number a run writes into metrics.json (as a tsbench run does) is the one
    the sweep's record gives its launch: a trial that finished as the sweep died is
    recorded from its folder."""
    args = [*ARGS, "write_metrics=true", "hydra.sweeper.n_trials=1"]
    multirun(sweep_dir, *args)
    died_as_it_finished(sweep_dir, 0)
    multirun(sweep_dir, *args, "hydra.sweeper.resume=true")
    (row,) = read_rows(sweep_dir)
    assert (row["trial"], row["job"], row["error"]) == ("1", "0", ADOPTED)
    assert json.loads((sweep_dir / "0" / "metrics.json").read_text())[WRITTEN_BY] == 0


def test_a_lost_trial_is_not_recorded_from_another_trials_metrics_in_its_folder(
        sweep_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A subdir that names one folder for two points (``kind_${kind}`` while ``x`` is
    searched): trial 1 finished there, trial 2 started there (its overrides.yaml over trial
    1's) and died with the sweep. The resume took trial 1's metrics.json for trial 2's
    result, with trial 1's objective; it runs trial 2 again."""
    args = [*ARGS, "write_metrics=true", "hydra.sweeper.n_initial_points=2",
            "hydra.sweep.subdir=kind_${kind}"]
    monkeypatch.setenv("QUAD_INTERRUPT_AT_JOB", "1")
    with pytest.raises(KeyboardInterrupt):
        multirun(sweep_dir, *args)
    monkeypatch.delenv("QUAD_INTERRUPT_AT_JOB")
    assert Record(sweep_dir / "record").subdir(1) == "kind_a"  # where job 0 finished

    multirun(sweep_dir, *args, "hydra.sweeper.resume=true")
    rows = read_rows(sweep_dir)
    assert [(r["trial"], r["job"], r["error"]) for r in rows] == [
        ("1", "0", ""), ("2", "2", "relaunched: job 1 died with the sweep")]
    relaunched = json.loads((sweep_dir / rows[1]["job_dir"] / "result.json").read_text())
    assert float(rows[1]["objective"]) == pytest.approx(relaunched["value"])
    assert rows[1]["objective"] != rows[0]["objective"]


def test_a_subdir_that_names_one_folder_for_every_trial_is_refused(sweep_dir: Path) -> None:
    """``hydra.sweep.subdir=fixed`` over two trials: each would write over the other's
    files. Refused before any trial, with the fix; one trial may keep the folder it names
    (test_a_relaunched_trial_runs_in_a_folder_of_its_own)."""
    with pytest.raises(SystemExit) as caught:
        multirun(sweep_dir, *ARGS, "hydra.sweep.subdir=fixed")
    error = user_error(caught)
    assert isinstance(error, ConfigError) and error.field == "hydra.sweep.subdir"
    assert "names one folder for all 2 trials" in str(error)
    assert "hydra.sweep.subdir='fixed_${hydra.job.num}'" in str(error)
    assert not sweep_dir.exists()


@pytest.mark.parametrize("subdir, warned", [
    ("kind_${kind}", True),  # x is searched too: two points of one kind share a folder
    ("x_${x}", False),
    ("${hydra.job.override_dirname}", False),
    ("kind_${hydra:job.num}", False),
])
def test_a_subdir_that_may_share_a_folder_between_points_is_warned_of_once(
        sweep_dir: Path, caplog: pytest.LogCaptureFixture, subdir: str, warned: bool) -> None:
    """A subdir naming neither the job number nor each searched parameter: one warning
    line, naming the fix, as the sweep starts (what it resolves to is known only in the
    jobs, so the sweep runs)."""
    caplog.set_level(logging.WARNING, logger="tsbench.search")
    multirun(sweep_dir, *ARGS, f"hydra.sweep.subdir={subdir}")
    said = [r.getMessage() for r in caplog.records if "hydra.sweep.subdir" in r.getMessage()]
    assert said == ([f"hydra.sweep.subdir={subdir} may name one folder for trials at "
                     "different points (it names neither the job number nor x): they would "
                     "write over each other's files; use "
                     f"hydra.sweep.subdir='{subdir}_${{hydra.job.num}}'"] if warned else [])
    assert len(read_rows(sweep_dir)) == 2
