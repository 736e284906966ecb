"""The resume contract: running trials relaunched once, n_trials counts ended trials,
nothing overwritten, the rung record kept, a changed search refused by name."""

from __future__ import annotations

import logging
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.search.conftest import APP, BASE, multirun, read_rows
from tsbench.errors import ConfigError, TsbenchError
from tsbench.folder_lock import held
from tsbench.search.record import Record

SPACE = ["x=interval(-1.0, 1.0)", "n=range(1, 6)", "kind=a,b,c"]


def snapshot(directory: Path) -> dict[str, float]:
    """Every file under ``directory`` with its modification time."""
    return {str(p.relative_to(directory)): p.stat().st_mtime
            for p in directory.rglob("*") if p.is_file()}


@pytest.mark.heavy
def test_killed_pruning_sweep_relaunches_its_running_trials_once(sweep_dir: Path) -> None:
    args = [
        *SPACE, "hydra.sweeper.mode=random", "hydra.sweeper.n_trials=10",
        "epochs=6", "epoch_sleep=0.3", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
        "hydra.sweeper.n_jobs=2", "hydra.sweeper.pruner.kind=asha",
        "hydra.sweeper.pruner.min_epochs=1", "hydra.sweeper.pruner.eta=2",
    ]  # fmt: skip
    command = [sys.executable, str(APP), "-m", *BASE, *args, f"hydra.sweep.dir={sweep_dir}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    record = Record(sweep_dir / "record")
    with subprocess.Popen(command, env=env, start_new_session=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        deadline = time.monotonic() + 300
        while not (
            (sweep_dir / "trials.csv").exists()
            and any(la.ended is None and record.has_reports(la.trial) for la in record.launches())
        ):
            assert proc.poll() is None and time.monotonic() < deadline, "sweep ended early"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its joblib workers, at once
    before = read_rows(sweep_dir)
    ended = {int(r["trial"]) for r in before}
    dead = {la.job: la.trial for la in record.launches()
            if la.ended is None and la.trial not in ended}
    assert dead and len(before) < 10
    files = {job: snapshot(sweep_dir / str(job)) for job in dead if (sweep_dir / str(job)).is_dir()}
    reports = snapshot(sweep_dir / "record" / "epochs")
    highest_job = max(int(p.name) for p in sweep_dir.iterdir() if p.name.isdigit())

    multirun(sweep_dir, *args, "hydra.sweeper.resume=true")
    rows = read_rows(sweep_dir)
    assert len(rows) == 10 and {r["status"] for r in rows} <= {"ok", "pruned"}
    assert [r["trial"] for r in rows] == [str(i) for i in range(1, 11)]
    for row in before:  # what had ended stays as it was
        assert {k: v for k, v in rows[int(row["trial"]) - 1].items() if k in row} == row
    for job, trial in dead.items():  # each killed trial ran again once, in a new job
        again = [r for r in rows if int(r["trial"]) == trial]
        assert len(again) == 1 and int(again[0]["job"]) > highest_job
        assert again[0]["error"].endswith(f"relaunched: job {job} died with the sweep")
    new_jobs = [int(r["job"]) for r in rows if int(r["trial"]) not in ended]
    assert len(set(new_jobs)) == len(new_jobs) and min(new_jobs) > highest_job
    for job, before_files in files.items():  # dead job directories left as they were
        assert snapshot(sweep_dir / str(job)) == before_files
    assert {la.job: la.status for la in record.launches() if la.job in dead} == {
        job: "lost" for job in dead}

    # the rung record survived, and the resumed sweep judged against it
    after = snapshot(sweep_dir / "record" / "epochs")
    assert all(after.get(name) == mtime for name, mtime in reports.items()
               if not name.endswith(tuple(f"/trial{t}.json" for t in dead.values())))
    pruned_after = [r for r in rows if r["status"] == "pruned" and int(r["trial"]) not in ended]
    assert pruned_after
    for row in pruned_after:  # each counted every report made before the kill at its rung
        rung, total = map(int, re.search(r"rung (\d+): .* of (\d+) ", row["error"]).groups())
        earlier = sum(name.startswith(f"fold0/epoch{rung}/") for name in reports)
        relaunched = int(row["trial"]) in dead.values()  # its own dead report was one of them
        assert total >= earlier + (0 if relaunched else 1)


def test_sweep_stopped_in_its_first_trial_relaunches_it(sweep_dir: Path, monkeypatch) -> None:
    args = [*SPACE, "hydra.sweeper.n_trials=2", "hydra.sweeper.n_initial_points=1"]
    monkeypatch.setenv("QUAD_INTERRUPT_AT_JOB", "0")
    with pytest.raises(KeyboardInterrupt):
        multirun(sweep_dir, *args)
    assert not (sweep_dir / "trials.csv").exists()
    with pytest.raises(SystemExit):  # a launch log is a sweep too: no silent restart
        multirun(sweep_dir, *args)
    monkeypatch.delenv("QUAD_INTERRUPT_AT_JOB")
    multirun(sweep_dir, *args, "hydra.sweeper.resume=true")
    rows = read_rows(sweep_dir)
    assert [(r["trial"], r["job"], r["error"]) for r in rows] == [
        ("1", "1", "relaunched: job 0 died with the sweep"), ("2", "2", "")]


def test_a_trial_that_died_breaking_new_constraints_is_not_launched_again(
        sweep_dir: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """Proposals meet the constraints, and so must a resume's relaunch of a trial that died
    with the sweep: one that the constraints resume=force changed leave out is said, and
    never launched."""
    args = [*SPACE, "hydra.sweeper.n_trials=2", "hydra.sweeper.n_initial_points=1"]
    monkeypatch.setenv("QUAD_INTERRUPT_AT_JOB", "0")
    with pytest.raises(KeyboardInterrupt):
        multirun(sweep_dir, *args)
    monkeypatch.delenv("QUAD_INTERRUPT_AT_JOB")
    [died] = Record(sweep_dir / "record").launches()
    kind = died.point["kind"]
    with caplog.at_level(logging.WARNING, logger="tsbench.search"):
        multirun(sweep_dir, *args, f"hydra.sweeper.constraints=[\"kind != '{kind}'\"]",
                 "hydra.sweeper.resume=force")
    assert (f"trial 1 (Hydra job #0) breaks the constraints changed by resume=force (kind != "
            f"'{kind}'): not launched again") in [r.getMessage() for r in caplog.records]
    assert [r["kind"] != kind for r in read_rows(sweep_dir)] == [True, True]


def test_a_resume_force_says_how_many_recorded_trials_it_leaves_out_and_why(
        sweep_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Recorded trials that a narrowed space or a new constraint leaves out stay in the
    record, untold: one warning counts them all, by reason (the constraint's were not
    counted)."""
    args = ["hydra.sweeper.n_trials=6", "hydra.sweeper.n_initial_points=6"]
    multirun(sweep_dir, *SPACE, *args)
    rows = read_rows(sweep_dir)
    outside = sum(r["kind"] == "c" for r in rows)
    broken = sum(r["kind"] != "c" and int(r["n"]) <= 2 for r in rows)
    assert outside and broken
    with caplog.at_level(logging.WARNING, logger="tsbench.search"):
        multirun(sweep_dir, *SPACE[:2], "kind=a,b", *args, "hydra.sweeper.constraints=['n > 2']",
                 "hydra.sweeper.resume=force")
    assert (f"resume: {outside + broken} of 6 recorded trials lie outside the search changed "
            f"by a resume=force ({outside} outside the space, {broken} breaking n > 2); they "
            "stay in the record but are not told to the optimizer") in [
        r.getMessage() for r in caplog.records]
    assert read_rows(sweep_dir) == rows


def resume_error(sweep_dir: Path, *overrides: str) -> str:
    with pytest.raises(SystemExit) as caught:
        multirun(sweep_dir, *overrides)
    assert caught.value.code == 2
    error = caught.value.__cause__
    assert isinstance(error, ConfigError) and error.field == "hydra.sweeper.resume"
    return str(error)


def test_changed_search_is_refused_naming_each_change(sweep_dir: Path) -> None:
    first = [*SPACE, "hydra.sweeper.n_trials=3", "hydra.sweeper.n_initial_points=2",
             "sleep=0.0", "hydra.sweeper.pruner.kind=median"]
    multirun(sweep_dir, *first)
    before = read_rows(sweep_dir)
    jobs = sorted(p.name for p in sweep_dir.iterdir() if p.name.isdigit())
    resumed = ["hydra.sweeper.n_trials=5", "hydra.sweeper.resume=true"]
    changed = [
        "x=interval(-2.0, 1.0)", "n=range(1, 6)", "kind=a,b", "hydra.sweeper.n_initial_points=2",
        "sleep=0.001", "hydra.sweeper.pruner.kind=asha", "+hydra.sweeper.constraints=['n > 1']",
    ]  # fmt: skip
    message = resume_error(sweep_dir, *changed, *resumed)
    for change in (
        "x: interval(-1.0, 1.0) -> interval(-2.0, 1.0)",
        "kind: choice(a, b, c) -> choice(a, b)",
        "fixed override removed: sleep=0.0",
        "fixed override added: sleep=0.001",
        "pruner.kind: median -> asha",
        "constraint added: n > 1",
        "resume=force",
    ):
        assert change in message
    assert sorted(p.name for p in sweep_dir.iterdir() if p.name.isdigit()) == jobs  # no trial
    assert "parameter n removed" in resume_error(sweep_dir, *SPACE[::2], *resumed)

    # force accepts the change; a recorded point outside the new space stays in the record
    multirun(sweep_dir, *changed[:-1], "hydra.sweeper.n_trials=5",
             "hydra.sweeper.resume=force")
    rows = read_rows(sweep_dir)
    assert len(rows) == 5 and rows[:3] == before
    assert all(r["kind"] in ("a", "b") for r in rows[3:])
    # and from then on the same command resumes plainly: search.yaml holds the new space,
    # and the recorded point outside it (kind=c) predates the force
    assert any(r["kind"] == "c" for r in before)
    multirun(sweep_dir, *changed[:-1], "hydra.sweeper.n_trials=6", "hydra.sweeper.resume=true")
    assert read_rows(sweep_dir)[:5] == rows and len(read_rows(sweep_dir)) == 6


def test_a_resume_that_forgets_the_direction_is_refused(sweep_dir: Path) -> None:
    """A maximize sweep resumed without ``direction=maximize`` would tell the recorded
    trials with the other sign and pick best.yaml from the wrong end: refused, by name."""
    args = [*SPACE, "hydra.sweeper.n_initial_points=2"]
    multirun(sweep_dir, *args, "hydra.sweeper.n_trials=2", "hydra.sweeper.direction=maximize")
    before = read_rows(sweep_dir)
    message = resume_error(sweep_dir, *args, "hydra.sweeper.n_trials=3",
                           "hydra.sweeper.resume=true")
    assert "was started with a different search: direction: maximize -> minimize" in message
    assert read_rows(sweep_dir) == before


def test_a_resumed_batch_never_repeats_a_point_it_relaunches(sweep_dir: Path,
                                                             monkeypatch) -> None:
    """The first batch after a resume holds the relaunched trials and new points: a new
    point is never one being relaunched (a two-point space: only the lost one is left)."""
    args = ["kind=a,b", "hydra.sweeper.n_initial_points=1"]
    monkeypatch.setenv("QUAD_INTERRUPT_AT_JOB", "1")
    with pytest.raises(KeyboardInterrupt):
        multirun(sweep_dir, *args, "hydra.sweeper.n_trials=2")
    monkeypatch.delenv("QUAD_INTERRUPT_AT_JOB")
    multirun(sweep_dir, *args, "hydra.sweeper.n_trials=3", "hydra.sweeper.n_jobs=2",
             "hydra.sweeper.resume=true")
    rows = read_rows(sweep_dir)
    assert [(r["trial"], r["job"], r["error"]) for r in rows] == [
        ("1", "0", ""), ("2", "2", "relaunched: job 1 died with the sweep")]
    assert sorted(r["kind"] for r in rows) == ["a", "b"]


def test_a_sweep_without_search_yaml_refuses_a_record_of_other_parameters(
        sweep_dir: Path) -> None:
    """A sweep with no search.yaml (started by an older tsbench, or the file deleted) is
    not checked against it, and still a different set of parameters cannot share its
    trials.csv, even with force."""
    multirun(sweep_dir, *SPACE, "hydra.sweeper.n_trials=2", "hydra.sweeper.n_initial_points=2")
    (sweep_dir / "search.yaml").unlink()
    before = read_rows(sweep_dir)
    message = resume_error(sweep_dir, *SPACE[::2], "hydra.sweeper.n_trials=3",
                           "hydra.sweeper.n_initial_points=2", "hydra.sweeper.resume=force")
    assert f"{sweep_dir / 'trials.csv'} records parameters ['n'] not searched now" in message
    assert read_rows(sweep_dir) == before


def test_a_sweep_running_in_the_folder_refuses_a_second(sweep_dir: Path) -> None:
    """The resume command run while the sweep still runs (a second terminal, a cluster
    requeue) would relaunch the first's running trials and write its job folders: refused,
    naming the running sweep's pid, before anything is read or written."""
    multirun(sweep_dir, *SPACE, "hydra.sweeper.n_trials=2", "hydra.sweeper.n_initial_points=2")
    assert (sweep_dir / "sweep.lock").read_text() == f"{os.getpid()}\n"  # held while it ran
    before = snapshot(sweep_dir)
    with held(sweep_dir / "sweep.lock", str):  # as a sweep in another process holds it
        with pytest.raises(SystemExit) as caught:
            multirun(sweep_dir, *SPACE, "hydra.sweeper.n_trials=4",
                     "hydra.sweeper.n_initial_points=2", "hydra.sweeper.resume=true")
    assert caught.value.code == 2 and isinstance(caught.value.__cause__, TsbenchError)
    assert str(caught.value.__cause__) == (
        f"hydra.sweeper: another sweep (pid {os.getpid()}) is running in {sweep_dir} -> wait "
        f"for it to end, or stop it (kill -INT {os.getpid()}), then resume with the same "
        "command and hydra.sweeper.resume=true")
    before.pop("sweep.lock")  # written by this test's own hold
    assert {k: v for k, v in snapshot(sweep_dir).items() if k != "sweep.lock"} == before
    multirun(sweep_dir, *SPACE, "hydra.sweeper.n_trials=4", "hydra.sweeper.n_initial_points=2",
             "hydra.sweeper.resume=true")  # once it has ended
    assert len(read_rows(sweep_dir)) == 4


def test_a_start_that_could_not_rewrite_multirun_yaml_leaves_the_sweep_resumable(
        sweep_dir: Path) -> None:
    """Every start of a sweep rewrites multirun.yaml, and a resume reads it back (where the
    recorded fixed overrides ran). Written in place, a start killed or out of disk space while
    writing it left it cut short, and every later resume stopped at once, blaming search.yaml
    ("damaged ... delete it"). Here the disk fills halfway through the file: the old one must
    stay whole."""
    args = [*SPACE, "hydra.sweeper.n_initial_points=2", "sleep=0.0"]  # sleep: a fixed override
    multirun(sweep_dir, *args, "hydra.sweeper.n_trials=2")
    whole = (sweep_dir / "multirun.yaml").read_text()
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (len(whole) // 2, hard))  # Python ignores SIGXFSZ
    try:
        with pytest.raises(OSError, match="File too large"):
            multirun(sweep_dir, *args, "hydra.sweeper.n_trials=3", "hydra.sweeper.resume=true")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert (sweep_dir / "multirun.yaml").read_text() == whole
    multirun(sweep_dir, *args, "hydra.sweeper.n_trials=3", "hydra.sweeper.resume=true")
    assert len(read_rows(sweep_dir)) == 3


def test_a_resumed_sweep_proposes_what_the_uninterrupted_one_did(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Resume exactly: stopped after its 6th trial (past the 4 initial points) and resumed, a
    Bayesian sweep proposes the same 7th to 10th points, to the last digit, as one that ran
    10 trials at once (each told trial moves the optimizer's random state, so the recorded
    trials are told again one by one).

    Unseeded, a resumed sweep drew a new random state and proposed other points than the
    uninterrupted one would have. The one it draws is logged and kept in search.yaml: its
    resume takes it back, and given again it repeats the whole sweep. (One test: both
    promises compare a sweep stopped after 6 trials and resumed to 10 with one that ran
    the 10 at once, with one random state.)"""
    space = [*SPACE, "hydra.sweeper.n_initial_points=4"]
    unseeded = [*space, "hydra.sweeper.random_state=null"]
    with caplog.at_level("INFO", logger="tsbench.search.sweep"):
        multirun(tmp_path / "resumed", *unseeded, "hydra.sweeper.n_trials=6")
    drawn = yaml.safe_load((tmp_path / "resumed" / "search.yaml").read_text())["random_state"]
    assert (f"random state {drawn} (drawn: hydra.sweeper.random_state={drawn} repeats this "
            "sweep)") in caplog.text
    multirun(tmp_path / "resumed", *unseeded, "hydra.sweeper.n_trials=10",
             "hydra.sweeper.resume=true")
    multirun(tmp_path / "whole", *space, f"hydra.sweeper.random_state={drawn}",
             "hydra.sweeper.n_trials=10")
    points = [[(r["x"], r["n"], r["kind"]) for r in read_rows(tmp_path / name)]
              for name in ("whole", "resumed")]
    assert len(points[0]) == 10 and points[0] == points[1]


def test_a_resume_that_launches_nothing_says_how_to_go_on(
        sweep_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    multirun(sweep_dir, *SPACE, "hydra.sweeper.n_trials=2", "hydra.sweeper.n_initial_points=2")
    with caplog.at_level("INFO", logger="tsbench.search.sweep"):
        multirun(sweep_dir, *SPACE, "hydra.sweeper.n_trials=2",
                 "hydra.sweeper.n_initial_points=2", "hydra.sweeper.resume=true")
    assert ("resume: the sweep is complete (2 of 2 trials ended), so none is launched -> to "
            "run more trials, raise hydra.sweeper.n_trials") in caplog.text
    assert len(read_rows(sweep_dir)) == 2


def test_a_resume_removes_the_temporary_files_a_killed_sweep_left_at_its_top(
        sweep_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A sweep killed while writing its plots or trials.csv leaves their hidden temporary
    files (``.convergence.png.<random>.tmp``) in its folder, more with every kill. The
    next sweep there removes those at the folder's top, and only the temporary files of
    the sweep's own files: other files, and any under record/ or a job folder (written by
    trials, which may run elsewhere), stay."""
    args = [*SPACE, "hydra.sweeper.n_initial_points=2"]
    multirun(sweep_dir, *args, "hydra.sweeper.n_trials=2")
    left = [".convergence.png.k3j_x1.tmp", ".objective.png.a8.tmp", ".trials.csv.q0.tmp",
            ".best.yaml.zz.tmp"]
    kept = [".notes.txt.ab.tmp", ".convergence.png.ab.part", "record/jobs/.0.json.ab.tmp",
            "0/.convergence.png.ab.tmp"]
    for name in [*left, *kept]:
        (sweep_dir / name).write_bytes(b"half a file")
    with caplog.at_level(logging.INFO):
        multirun(sweep_dir, *args, "hydra.sweeper.n_trials=3", "hydra.sweeper.resume=true")
    assert len(read_rows(sweep_dir)) == 3
    assert [name for name in [*left, *kept] if (sweep_dir / name).exists()] == kept
    assert f"removed 4 temporary files left by a killed sweep in {sweep_dir}" in caplog.text
