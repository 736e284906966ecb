"""Real Hydra multiruns of the quadratic app with the skopt sweeper (in-process)."""

from __future__ import annotations

import csv
import errno
import json
import logging
import math
from pathlib import Path

import pytest
import yaml

from tests.search.conftest import multirun, read_rows
from tsbench.errors import ConfigError, each
from tsbench.search import report
from tsbench.search.faults import SweepAbortedError
from tsbench.search.sweep import SkoptSweep
from tsbench.search.trials import Trial

SPACE = ["x=interval(-1.0, 1.0)", "n=range(1, 6)", "kind=a,b,c"]


def points(rows: list[dict[str, str]]) -> list[tuple[str, ...]]:
    return [(r["x"], r["n"], r["kind"]) for r in rows]


def test_bayes_sweep_writes_the_record(sweep_dir: Path) -> None:
    multirun(sweep_dir, *SPACE, "hydra.sweeper.n_trials=6", "hydra.sweeper.n_initial_points=3",
             "hydra.sweeper.plots=true")
    rows = read_rows(sweep_dir)
    assert [r["trial"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert [r["job_dir"] for r in rows] == ["0", "1", "2", "3", "4", "5"]
    assert {r["status"] for r in rows} == {"ok"} and len(set(points(rows))) == 6
    for row in rows:  # the recorded objective is what the job computed
        result = json.loads((sweep_dir / row["job_dir"] / "result.json").read_text())
        assert float(row["objective"]) == result["value"]
        assert result["types"] == {"x": "float", "n": "int", "kind": "str"}
        assert float(row["seconds"]) >= 0
    best = yaml.safe_load((sweep_dir / "best.yaml").read_text())
    assert best["objective"] == min(float(r["objective"]) for r in rows)
    assert set(best["params"]) == {"x", "n", "kind"}
    assert best["command"].endswith("hydra.mode=RUN")
    for name in ("convergence.png", "objective.png", "evaluations.png", "multirun.yaml"):
        assert (sweep_dir / name).stat().st_size > 0
    assert not list(sweep_dir.glob(".*"))  # no temporary files left


def test_params_from_config_and_maximize(sweep_dir: Path) -> None:
    multirun(
        sweep_dir,
        "+hydra.sweeper.params.x='interval(-1.0, 1.0)'",
        "+hydra.sweeper.params.kind='choice(a, b)'",
        "hydra.sweeper.n_trials=4",
        "hydra.sweeper.n_jobs=2",
        "hydra.sweeper.direction=maximize",
    )
    rows = read_rows(sweep_dir)
    best = yaml.safe_load((sweep_dir / "best.yaml").read_text())
    assert len(rows) == 4
    assert best["objective"] == max(float(r["objective"]) for r in rows)


def test_maximizing_proposes_as_minimizing_the_negated_objective(tmp_path: Path) -> None:
    """A maximize sweep proposes, and records, what minimizing the negated objective does:
    with ``log_objective=false``, and on the defaults too, where ``log_objective`` (on by
    default) is for minimized losses and must not make it a search for the lowest
    log(objective). Both compare with one minimizing sweep. Five trials: after the 3
    initial points, two proposals of the surrogate, which learned the signed values."""
    common = [*SPACE, "hydra.sweeper.n_trials=5", "hydra.sweeper.n_initial_points=3"]
    multirun(tmp_path / "min", *common, "negate=true", "hydra.sweeper.log_objective=false")
    minimized = read_rows(tmp_path / "min")
    for name, settings in (("max", ["hydra.sweeper.log_objective=false"]), ("max_default", [])):
        multirun(tmp_path / name, *common, *settings, "hydra.sweeper.direction=maximize")
        maximized = read_rows(tmp_path / name)
        assert points(maximized) == points(minimized), name  # the surrogate's proposals too
        assert [float(r["objective"]) for r in maximized] == [
            -float(r["objective"]) for r in minimized], name
        best = yaml.safe_load((tmp_path / name / "best.yaml").read_text())
        assert best["objective"] == max(float(r["objective"]) for r in maximized), name


def test_a_result_the_optimizer_refuses_is_recorded_before_the_sweep_stops(
        sweep_dir: Path) -> None:
    """A negative objective under ``log_objective`` (the default) stops the sweep with its
    fix; the trial that returned it stays in trials.csv, and the resume the fix says to run
    tells it, instead of running it again (job 0 was rerun as job 1: "relaunched")."""
    common = [*SPACE, "hydra.sweeper.n_trials=3", "hydra.sweeper.n_initial_points=2",
              "negate=true"]
    with pytest.raises(SystemExit):
        multirun(sweep_dir, *common)
    assert [r["job"] for r in read_rows(sweep_dir)] == ["0"]
    multirun(sweep_dir, *common, "hydra.sweeper.resume=true", "hydra.sweeper.log_objective=false")
    rows = read_rows(sweep_dir)
    assert [(r["trial"], r["job"], r["error"]) for r in rows] == [
        ("1", "0", ""), ("2", "1", ""), ("3", "2", "")]


@pytest.mark.parametrize("fail_mode", ["raise", "return_nan", "return_none"])
def test_failed_trials_are_recorded_and_the_sweep_goes_on(sweep_dir: Path, fail_mode) -> None:
    multirun(
        sweep_dir,
        *SPACE,
        "hydra.sweeper.n_trials=6",
        "hydra.sweeper.n_initial_points=2",
        "hydra.sweeper.n_jobs=2",
        "hydra.sweeper.max_failure_rate=1.0",
        "fail_above=1.0",
        f"fail_mode={fail_mode}",
    )
    rows = read_rows(sweep_dir)
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(rows) == 6 and 0 < len(failed) < 6
    for row in failed:
        assert row["objective"] == "" and row["error"]
        value = json.loads((sweep_dir / row["job_dir"] / "result.json").read_text())["value"]
        assert value > 1.0
    message = {
        "raise": "ValueError: value",
        "return_nan": "returned nan",
        "return_none": "returned None",
    }
    assert message[fail_mode] in failed[0]["error"]
    best = yaml.safe_load((sweep_dir / "best.yaml").read_text())
    assert best["trials_failed"] == len(failed) and not math.isnan(best["objective"])


def user_error(caught: pytest.ExceptionInfo[SystemExit]) -> Exception:
    """The error behind a sweep that ended with status 2 (and one message on stderr)."""
    assert caught.value.code == 2
    return caught.value.__cause__


def test_sweep_that_keeps_failing_aborts(sweep_dir: Path, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        multirun(
            sweep_dir,
            *SPACE,
            "hydra.sweeper.n_trials=10",
            "hydra.sweeper.n_initial_points=4",
            "fail_above=-1.0",
        )
    assert isinstance(user_error(caught), SweepAbortedError)
    assert ("max_failure_rate: 3 of 3 trials failed since the sweep (re)started, more than "
            "0.5 x 4 (the trials ended, or where more the grace window: n_initial_points=4, "
            "at least 4)"
            ) in capsys.readouterr().err
    assert [r["status"] for r in read_rows(sweep_dir)] == ["failed"] * 3


def test_a_resume_after_the_cause_is_fixed_counts_failures_anew(sweep_dir: Path,
                                                                 monkeypatch, capsys) -> None:
    """The abort's advice holds: fix the cause, resume, and the sweep runs to the end (the
    failures before the resume do not stop it again; new ones get the grace window)."""
    args = [*SPACE, "hydra.sweeper.n_trials=8", "hydra.sweeper.n_initial_points=4"]
    monkeypatch.setenv("QUAD_BROKEN", "1")
    with pytest.raises(SystemExit) as caught:
        multirun(sweep_dir, *args)
    assert isinstance(user_error(caught), SweepAbortedError)
    assert "then rerun with hydra.sweeper.resume=true" in capsys.readouterr().err
    monkeypatch.delenv("QUAD_BROKEN")
    multirun(sweep_dir, *args, "hydra.sweeper.resume=true")
    assert [r["status"] for r in read_rows(sweep_dir)] == ["failed"] * 3 + ["ok"] * 5
    monkeypatch.setenv("QUAD_BROKEN", "1")  # not fixed: the grace window, then the abort
    with pytest.raises(SystemExit) as caught:
        multirun(sweep_dir, *args[:-2], "hydra.sweeper.n_trials=16",
                 "hydra.sweeper.n_initial_points=4", "hydra.sweeper.resume=force")
    assert "max_failure_rate: 3 of 3 trials failed since the sweep (re)started" in \
        capsys.readouterr().err


def test_retry_failed_launches_the_failed_points_again_once(sweep_dir: Path, monkeypatch,
                                                              caplog) -> None:
    args = [*SPACE, "hydra.sweeper.n_trials=5", "hydra.sweeper.n_initial_points=2",
            "hydra.sweeper.max_failure_rate=1.0"]
    monkeypatch.setenv("QUAD_BROKEN", "1")
    multirun(sweep_dir, *args)  # every trial failed; the last ones end the sweep normally
    failed = read_rows(sweep_dir)
    assert [r["status"] for r in failed] == ["failed"] * 5
    monkeypatch.delenv("QUAD_BROKEN")
    caplog.set_level(logging.INFO, logger="tsbench.search")
    multirun(sweep_dir, *args, "hydra.sweeper.resume=true", "hydra.sweeper.retry_failed=true")
    # not "none recorded" beside "resume: 5 trials recorded": they run again
    assert [r.message.split("), ")[-1] for r in caplog.records
            if r.message.startswith("skopt sweep")] == [
        f"0 recorded kept, 5 launched again in {sweep_dir}"]
    rows = read_rows(sweep_dir)
    assert [r["status"] for r in rows] == ["ok"] * 5  # no new point: n_trials were recorded
    assert points(rows) == points(failed) and [r["trial"] for r in rows] == ["1", "2", "3",
                                                                            "4", "5"]
    for old, new in zip(failed, rows, strict=True):
        assert int(new["job_dir"]) >= 5 and new["error"] == f"retried: job {old['job_dir']} failed"
        result = json.loads((sweep_dir / new["job_dir"] / "result.json").read_text())
        assert float(new["objective"]) == result["value"]
    multirun(sweep_dir, *args, "hydra.sweeper.resume=true", "hydra.sweeper.retry_failed=true")
    assert read_rows(sweep_dir) == rows  # nothing failed: nothing to retry


def test_retry_failed_leaves_a_failed_point_outside_a_narrowed_space_alone(
        sweep_dir: Path, monkeypatch) -> None:
    """retry_failed retries the failed trials of the current space: after a resume=force
    that narrowed it, a failed point outside stays in the record as it failed, and is
    neither launched again nor told to the optimizer."""
    args = ["hydra.sweeper.n_trials=3", "hydra.sweeper.n_initial_points=2",
            "hydra.sweeper.max_failure_rate=1.0"]
    monkeypatch.setenv("QUAD_BROKEN", "1")
    multirun(sweep_dir, "kind=a,b,c", *args)
    failed = {r["kind"]: r for r in read_rows(sweep_dir)}
    assert sorted(failed) == ["a", "b", "c"]
    assert {r["status"] for r in failed.values()} == {"failed"}
    monkeypatch.delenv("QUAD_BROKEN")
    multirun(sweep_dir, "kind=a,b", *args, "hydra.sweeper.resume=force",
             "hydra.sweeper.retry_failed=true")
    rows = {r["kind"]: r for r in read_rows(sweep_dir)}
    assert len(read_rows(sweep_dir)) == 3 and rows["c"] == failed["c"]
    for kind in "ab":
        assert rows[kind]["status"] == "ok" and int(rows[kind]["job"]) >= 3
        assert rows[kind]["error"] == f"retried: job {failed[kind]['job_dir']} failed"
    assert sorted(p.name for p in sweep_dir.iterdir() if p.name.isdigit()) == [
        "0", "1", "2", "3", "4"]


def test_retries_that_fail_again_count_as_failures_since_the_resume(sweep_dir: Path,
                                                                     monkeypatch,
                                                                     capsys) -> None:
    # trial 2 failed once; resumed with everything broken, its retry (trial 2, job 6) and
    # trial 7 fail: 2 of the 2 trials since the resume (more than 0.25 x the grace window
    # of 4), though recorded trials sort after the retry
    args = [*SPACE, "hydra.sweeper.n_initial_points=2", "hydra.sweeper.max_failure_rate=1.0"]
    multirun(sweep_dir, *args, "hydra.sweeper.n_trials=6", "fail_job=1")
    assert [r["status"] for r in read_rows(sweep_dir)] == ["ok", "failed", *["ok"] * 4]
    monkeypatch.setenv("QUAD_BROKEN", "1")
    with pytest.raises(SystemExit) as caught:
        multirun(sweep_dir, *args[:-1], "hydra.sweeper.max_failure_rate=0.25",
                 "hydra.sweeper.n_trials=8", "fail_job=1", "hydra.sweeper.resume=true",
                 "hydra.sweeper.retry_failed=true")
    assert isinstance(user_error(caught), SweepAbortedError)
    assert "max_failure_rate: 2 of 2 trials failed since the sweep (re)started" in \
        capsys.readouterr().err
    rows = read_rows(sweep_dir)
    assert [(r["trial"], r["status"]) for r in rows] == [
        ("1", "ok"), ("2", "failed"), *[(str(n), "ok") for n in range(3, 7)], ("7", "failed")]
    assert rows[1]["error"].endswith("retried: job 1 failed")


def test_a_row_deleted_from_a_damaged_record_is_run_again(sweep_dir: Path) -> None:
    # the error about a damaged trials.csv says: delete that line, its trial is run again
    args = [*SPACE, "hydra.sweeper.n_trials=4", "hydra.sweeper.n_initial_points=2"]
    multirun(sweep_dir, *args)
    first = read_rows(sweep_dir)
    lines = (sweep_dir / "trials.csv").read_text().splitlines(keepends=True)
    (sweep_dir / "trials.csv").write_text("".join(lines[:2] + lines[3:]))  # trial 2's row
    multirun(sweep_dir, *args, "hydra.sweeper.resume=true")
    rows = read_rows(sweep_dir)
    assert points(rows) == points(first) and [r["trial"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[1]["job_dir"] == "4" and rows[1]["error"] == ""  # a new job, no note
    assert [r for i, r in enumerate(rows) if i != 1] == [r for i, r in enumerate(first)
                                                         if i != 1]


def test_retry_failed_without_resume_is_refused(sweep_dir: Path, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        multirun(sweep_dir, *SPACE, "hydra.sweeper.n_trials=2", "hydra.sweeper.retry_failed=true")
    assert isinstance(user_error(caught), ConfigError)
    assert ("hydra.sweeper.retry_failed: retries the failed trials of a resumed sweep -> add "
            "hydra.sweeper.resume=true") in capsys.readouterr().err


def test_sweep_whose_last_trial_fails_ends_normally(sweep_dir: Path, caplog) -> None:
    """Nothing is left to save by aborting: exit 0 and a summary naming the failure."""
    caplog.set_level(logging.INFO, logger="tsbench.search")
    multirun(
        sweep_dir, *SPACE, "hydra.sweeper.n_trials=4", "hydra.sweeper.n_initial_points=1",
        "hydra.sweeper.max_failure_rate=0.2", "fail_job=3",
    )  # fmt: skip
    rows = read_rows(sweep_dir)
    assert [r["status"] for r in rows] == ["ok", "ok", "ok", "failed"]
    best = min(rows[:3], key=lambda r: float(r["objective"]))
    summary = [r.message for r in caplog.records if r.message.startswith("sweep done")]
    assert summary == [
        "sweep done: 4 trials, 3 ran their full budget, 0 pruned, 1 failed (trials 4 (Hydra job "
        "#3, in 3/): see their logs); "
        f"best {float(best['objective']):.6g} (trial {best['trial']})"
    ]
    assert "resume" not in caplog.text


def test_interrupted_sweep_resumes_to_exactly_n_trials(sweep_dir: Path, monkeypatch) -> None:
    args = [*SPACE, "hydra.sweeper.n_trials=7", "hydra.sweeper.n_initial_points=3"]
    monkeypatch.setenv("QUAD_INTERRUPT_AT_JOB", "3")
    with pytest.raises(KeyboardInterrupt):
        multirun(sweep_dir, *args)
    first = read_rows(sweep_dir)
    assert len(first) == 3 and (sweep_dir / "3").is_dir()
    with pytest.raises(SystemExit) as caught:
        multirun(sweep_dir, *args)  # never overwrite a sweep by accident
    assert "hydra.sweeper.resume=true" in str(user_error(caught))
    monkeypatch.delenv("QUAD_INTERRUPT_AT_JOB")
    multirun(sweep_dir, *args, "hydra.sweeper.resume=true")
    rows = read_rows(sweep_dir)
    assert rows[:3] == first
    assert len(rows) == 7 and len(set(points(rows))) == 7
    assert [r["job"] for r in rows] == ["0", "1", "2", "4", "5", "6", "7"]  # 3 left alone
    multirun(sweep_dir, *args, "hydra.sweeper.resume=true")  # already complete: no new trial
    assert read_rows(sweep_dir) == rows


@pytest.mark.parametrize("mode", ["bayes", "random"])
def test_warm_start_seeds_without_relaunching(tmp_path: Path, mode: str) -> None:
    space = ["x=choice(-0.5, 0.0, 0.5)", "kind=a,b"]
    multirun(tmp_path / "rs", *space, "hydra.sweeper.mode=random", "hydra.sweeper.n_trials=3")
    seeded = points_of(tmp_path / "rs")
    multirun(
        tmp_path / "bo",
        *space,
        f"hydra.sweeper.mode={mode}",
        "hydra.sweeper.n_trials=3",
        "hydra.sweeper.n_initial_points=0",
        f"hydra.sweeper.warm_start={tmp_path / 'rs' / 'trials.csv'}",
    )
    every = {(x, kind) for x in ("-0.5", "0.0", "0.5") for kind in "ab"}
    assert len(seeded) == 3 and len(read_rows(tmp_path / "bo")) == 3
    assert points_of(tmp_path / "bo") == every - seeded  # the three points not yet run


def test_warm_start_trials_count_towards_the_initial_points(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """skopt counts every point it is told, warm-start ones too, among the random initial
    ones: 3 initial points with 3 warm-start trials leave the sweep's single trial to the GP;
    4 would make it an initial point too, a Bayesian sweep the GP never proposes for: refused."""
    space = ["x=choice(-0.5, 0.0, 0.5)", "kind=a,b"]
    multirun(tmp_path / "rs", *space, "hydra.sweeper.mode=random", "hydra.sweeper.n_trials=3")
    warm = f"hydra.sweeper.warm_start={tmp_path / 'rs' / 'trials.csv'}"
    multirun(tmp_path / "bo", *space, "hydra.sweeper.n_trials=1",
             "hydra.sweeper.n_initial_points=3", warm)
    assert len(read_rows(tmp_path / "bo")) == 1
    for initial, line in (
        (4, "hydra.sweeper.n_initial_points: 4 initial points take the 3 warm-start trials "
            "and all n_trials=1, so the GP proposes no trial -> set "
            "hydra.sweeper.n_initial_points=<k> with k <= 3 or raise hydra.sweeper.n_trials "
            "above 1"),
        (5, "hydra.sweeper.n_initial_points: 5 initial points take the 3 warm-start trials "
            "and all n_trials=1"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            multirun(tmp_path / f"bo{initial}", *space, "hydra.sweeper.n_trials=1",
                     f"hydra.sweeper.n_initial_points={initial}", warm)
        assert exit_info.value.code == 2
        assert line in capsys.readouterr().err
        assert not (tmp_path / f"bo{initial}").exists()


def test_a_better_warm_start_trial_is_named(tmp_path: Path, caplog) -> None:
    """A warm-start trial better than every trial of the sweep is named by the per-trial
    best=, the closing line and best.yaml's warm_start_best (with its command); the main
    block stays this sweep's best trial."""
    caplog.set_level(logging.INFO, logger="tsbench.search")
    multirun(tmp_path / "rs", "x=choice(0.3, -0.9)", "kind=a,b", "hydra.sweeper.mode=random",
             "hydra.sweeper.n_trials=4")  # every point, the best (0.3, a) among them
    warm = tmp_path / "rs" / "trials.csv"
    best_rs = min(read_rows(tmp_path / "rs"), key=lambda r: float(r["objective"]))
    caplog.clear()
    multirun(tmp_path / "bo", "x=choice(0.3, -0.9, -0.8)", "kind=a,b", "hydra.sweeper.n_trials=2",
             "hydra.sweeper.n_initial_points=0", f"hydra.sweeper.warm_start={warm}")
    assert {r["x"] for r in read_rows(tmp_path / "bo")} == {"-0.8"}  # only worse points left
    best = yaml.safe_load((tmp_path / "bo" / "best.yaml").read_text())
    ahead = best["warm_start_best"]
    assert list(best)[0] == "warm_start_best" and best["params"]["x"] == -0.8
    assert ahead["objective"] == float(best_rs["objective"]) < best["objective"]
    assert (ahead["params"], ahead["file"], ahead["trial"]) == (
        {"x": 0.3, "kind": "a"}, str(warm), int(best_rs["trial"]))
    assert "x=0.3" in ahead["command"] and "kind=a" in ahead["command"]
    lines = [r.message for r in caplog.records if r.message.startswith("trial ")]
    assert len(lines) == 2 and all(f"best={ahead['objective']:.6g} (warm start)" in line
                                   for line in lines)
    done = next(r.message for r in caplog.records if r.message.startswith("sweep done"))
    assert (f"the warm-start file's best, {ahead['objective']:.6g} (trial {ahead['trial']} of "
            f"{warm}: x=0.3, kind=a), is better than this sweep's") in done


def test_a_warm_start_trial_is_named_by_its_own_number_and_folder(
        tmp_path: Path, caplog) -> None:
    """A warm-start file whose rows are not its trials in order (tsbench-tune's: the
    baseline, then the best random trials, their folders absolute): the better trial is
    named by the number and folder its row records, not its row's place; where the folder
    is not found (named relative to another sweep), best.yaml names none."""
    caplog.set_level(logging.INFO, logger="tsbench.search")
    multirun(tmp_path / "rs", "x=choice(0.3, -0.9)", "kind=a,b", "hydra.sweeper.mode=random",
             "hydra.sweeper.n_trials=4")
    rows = sorted(read_rows(tmp_path / "rs"), key=lambda r: -float(r["objective"]))  # worst 1st
    best_rs, number = rows[-1], int(rows[-1]["trial"]) + 10
    for row in rows:
        row["trial"] = str(int(row["trial"]) + 10)  # no row's place is its number
    for folder, job_dir in (("moved", lambda r: str(tmp_path / "rs" / r["job_dir"])),
                            ("lost", lambda r: r["job_dir"])):
        (tmp_path / folder).mkdir()
        with open(tmp_path / folder / "trials.csv", "w", newline="") as handle:
            out = csv.DictWriter(handle, fieldnames=list(rows[0]))
            out.writeheader()
            out.writerows({**r, "job_dir": job_dir(r)} for r in rows)
        caplog.clear()
        multirun(tmp_path / f"bo_{folder}", "x=choice(0.3, -0.9, -0.8)", "kind=a,b",
                 "hydra.sweeper.n_trials=2", "hydra.sweeper.n_initial_points=0",
                 f"hydra.sweeper.warm_start={tmp_path / folder / 'trials.csv'}")
        ahead = yaml.safe_load((tmp_path / f"bo_{folder}" / "best.yaml").read_text())[
            "warm_start_best"]
        assert ahead["trial"] == number
        found = tmp_path / "rs" / best_rs["job_dir"]
        assert ahead["job_dir"] == (str(found.resolve()) if folder == "moved" else None)
        done = next(r.message for r in caplog.records if r.message.startswith("sweep done"))
        assert f"(trial {number} of {tmp_path / folder / 'trials.csv'}: x=0.3" in done


def test_a_warm_start_better_than_a_sweep_without_a_best_says_where_its_command_is() -> None:
    """A sweep whose every trial failed, or that ran none (the warm start had tried every
    point), has its best.yaml name the warm-start file's best: its closing line points
    there, and says that it ran no trial, not "better than this sweep's"."""
    failed = [Trial(1, 0, [1.0], None, 0.5, "0", "ValueError: boom")]
    assert report.summary(failed, None, "0.1 (trial 3 of f: x=1)").endswith(
        "the warm-start file's best, 0.1 (trial 3 of f: x=1), is better than this sweep's "
        "-> best.yaml's warm_start_best gives its command")
    assert report.summary(failed, None).startswith("sweep done: 1 trial, 0 ran their")
    assert report.summary([], None, "0.1 (trial 3 of f: x=1)").endswith(
        "the warm-start file's best, 0.1 (trial 3 of f: x=1), stands: this sweep ran no "
        "trial -> best.yaml's warm_start_best gives its command")


def test_a_space_the_warm_start_tried_whole_says_so(tmp_path: Path, caplog) -> None:
    """Every point in the warm-start file: the sweep runs none, says the file tried them,
    that the file's best stands (no trial of its own to be better than), and writes a
    best.yaml that names that trial as the warm start's, with its counts: no main block
    (no trial of this sweep), no trials.csv."""
    space = ["x=choice(0.3, -0.9)", "kind=a,b"]
    multirun(tmp_path / "rs", *space, "hydra.sweeper.mode=random", "hydra.sweeper.n_trials=4")
    best_rs = min(read_rows(tmp_path / "rs"), key=lambda r: float(r["objective"]))
    caplog.set_level(logging.INFO, logger="tsbench.search")
    caplog.clear()
    warm = tmp_path / "rs" / "trials.csv"
    multirun(tmp_path / "bo", *space, "hydra.sweeper.n_trials=2",
             "hydra.sweeper.n_initial_points=0", f"hydra.sweeper.warm_start={warm}")
    said = [r.message for r in caplog.records]
    assert ("search space exhausted after 0 trials: every point tried, 4 of them by the "
            "warm-start file") in said
    done = next(m for m in said if m.startswith("sweep done"))
    assert done.endswith("stands: this sweep ran no trial -> best.yaml's warm_start_best "
                         "gives its command") and "better than" not in done
    best = yaml.safe_load((tmp_path / "bo" / "best.yaml").read_text())
    assert list(best) == ["warm_start_best", "direction", "trials_finished", "trials_pruned",
                          "trials_failed"]
    assert [best[k] for k in list(best)[1:]] == ["minimize", 0, 0, 0]
    ahead = best["warm_start_best"]
    assert (ahead["objective"], ahead["params"], ahead["file"], ahead["trial"]) == (
        float(best_rs["objective"]), {"x": 0.3, "kind": "a"}, str(warm), int(best_rs["trial"]))
    assert ahead["note"].startswith("this sweep has no trial that ran its full budget")
    assert ahead["job_dir"] == str((tmp_path / "rs" / best_rs["job_dir"]).resolve())
    assert not (tmp_path / "bo" / "trials.csv").exists()


def test_a_worse_warm_start_is_not_named(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="tsbench.search")
    multirun(tmp_path / "rs", "x=choice(-0.9, -0.8)", "kind=b,c", "hydra.sweeper.mode=random",
             "hydra.sweeper.n_trials=2")
    multirun(tmp_path / "bo", "x=choice(0.3, -0.9, -0.8)", "kind=a,b,c",
             "hydra.sweeper.n_trials=4",
             "hydra.sweeper.n_initial_points=0",
             f"hydra.sweeper.warm_start={tmp_path / 'rs' / 'trials.csv'}")
    assert "warm_start_best" not in yaml.safe_load((tmp_path / "bo" / "best.yaml").read_text())
    assert "warm start)" not in caplog.text and "warm-start file's best" not in caplog.text


def points_of(sweep_dir: Path) -> set[tuple[str, str]]:
    return {(r["x"], r["kind"]) for r in read_rows(sweep_dir)}


def test_constraints_hold_and_small_space_is_never_repeated(sweep_dir: Path) -> None:
    multirun(
        sweep_dir,
        "model.patch_len=choice(4, 8, 16, 32, 64)",
        "model=small,big",
        "hydra.sweeper.n_trials=30",
        "hydra.sweeper.n_initial_points=2",
        "hydra.sweeper.n_jobs=3",
        "+hydra.sweeper.constraints=['model.patch_len <= seq_len']",
    )
    rows = read_rows(sweep_dir)
    assert len(rows) == 8  # 4 feasible patch lengths x 2 models, each once, then stop
    assert len({(r["model.patch_len"], r["model"]) for r in rows}) == 8
    assert all(int(r["model.patch_len"]) <= 32 for r in rows)


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        (["nope=choice(1, 2)"], "nope", "unknown key"),
        (["model.widht=choice(1, 2)"], "model.widht", "unknown key"),
        (["+hydra.sweeper.params.x='choice()'"], "x", "empty choice"),
        (["x=interval(1.0, 0.0)"], "x", "low must be < high"),
        (["x=1.0"], "hydra.sweeper.params", "no parameter to search"),
        (
            ["x=interval(0.0, 1.0)", "hydra.sweeper.n_trials=0"],
            "hydra.sweeper.n_trials",
            "hydra.sweeper.n_trials: must be >= 1, got 0 -> give the trials to run, e.g. "
            "hydra.sweeper.n_trials=20",
        ),
        (
            ["x=interval(0.0, 1.0)", "hydra.sweeper.n_jobs=0"],
            "hydra.sweeper.n_jobs",
            "hydra.sweeper.n_jobs: must be >= 1, got 0 -> give the trials to run at once, "
            "e.g. hydra.sweeper.n_jobs=1",
        ),
        (
            ["x=interval(0.0, 1.0)", "+hydra.sweeper.constraints=['model.n_head > 1']"],
            "hydra.sweeper.constraints",
            "'model.n_head'",
        ),
        (
            ["model=small,big", "+hydra.sweeper.constraints=['model.n_heads > 1']"],
            "hydra.sweeper.constraints",
            "searched config group",
        ),
        (
            ["x=interval(0.0, 1.0)", "+hydra.sweeper.constraints=['x > 2']"],
            "hydra.sweeper.constraints",
            "none of 2000 random points",
        ),
        (
            [
                "x=interval(0.0, 1.0)",
                "hydra.sweeper.n_trials=4",
                "hydra.sweeper.n_initial_points=5",
            ],
            "hydra.sweeper.n_initial_points",
            "more than n_trials=4",
        ),
        (["x=interval(0.0, 1.0)", "hydra.sweeper.acq_func=XI"], "hydra.sweeper.acq_func", "XI"),
        (  # a misspelt option of a searched config group, whichever trial would draw it
            ["x=interval(0.0, 1.0)", "model=small,huge"],
            "model",
            "the option 'huge' does not compose: In 'config': Could not find 'model/huge' "
            "(Available options in 'model': big, small) -> check its spelling, or add the "
            "config model/huge.yaml",
        ),
    ],
)
def test_bad_search_fails_before_any_trial(sweep_dir: Path, overrides, field, message) -> None:
    with pytest.raises(SystemExit) as caught:
        multirun(sweep_dir, *overrides)
    error = user_error(caught)
    assert isinstance(error, ConfigError) and error.field == field
    assert message in str(error)
    assert not sweep_dir.exists()


def test_a_searchs_impossible_settings_are_refused_at_once(sweep_dir: Path, capsys) -> None:
    """Each impossible setting of the sweeper its own line with its fix, in one refusal
    (the user fixes them in one go), before any trial and folder."""
    with pytest.raises(SystemExit) as caught:
        multirun(sweep_dir, "x=interval(0.0, 1.0)", "hydra.sweeper.acq_func=XI",
                 "hydra.sweeper.n_jobs=0", "hydra.sweeper.n_trials=4",
                 "hydra.sweeper.n_initial_points=5")
    refusals = each(user_error(caught))  # type: ignore[arg-type]
    assert [e.field for e in refusals] == [  # type: ignore[attr-defined]
        "hydra.sweeper.acq_func", "hydra.sweeper.n_jobs", "hydra.sweeper.n_initial_points"]
    assert capsys.readouterr().err.splitlines()[-3:] == [
        f"tsbench: error: {e}" for e in refusals]
    assert not sweep_dir.exists()


def test_a_sweep_with_plots_false_draws_none(sweep_dir: Path) -> None:
    """``hydra.sweeper.plots=false`` (the tests' default here): no redraw after a trial, and
    none at the end, whose partial-dependence plot costs seconds."""
    multirun(sweep_dir, *SPACE, "hydra.sweeper.n_trials=4", "hydra.sweeper.n_initial_points=2",
             "hydra.sweeper.plot_share=1.0")
    assert len(read_rows(sweep_dir)) == 4
    assert list(sweep_dir.glob("*.png")) == []


@pytest.mark.parametrize(
    "settings",
    [
        ["hydra.sweeper.base_estimator=GBRT", "hydra.sweeper.acq_func=gp_hedge"],
        ["hydra.sweeper.base_estimator=ET", "hydra.sweeper.initial_point_generator=sobol"],
        ["hydra.sweeper.mode=random", "hydra.sweeper.initial_point_generator=halton"],
    ],
)
def test_other_surrogates_and_modes(sweep_dir: Path, settings: list[str]) -> None:
    multirun(
        sweep_dir, *SPACE, "hydra.sweeper.n_trials=4", "hydra.sweeper.n_initial_points=2",
        "hydra.sweeper.plots=true", *settings
    )
    assert len(set(points(read_rows(sweep_dir)))) == 4
    random = "hydra.sweeper.mode=random" in settings
    assert (sweep_dir / "objective.png").exists() is not random


def test_each_shape_of_point_is_composed_once_before_launch(
    sweep_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Hydra's check that a trial's overrides compose repeats the launcher's composition;
    # numbers cannot change whether a config composes, a group's option can
    composed: list[list[str]] = []
    check = SkoptSweep.validate_batch_is_legal

    def counted(self: SkoptSweep, batch: list[list[str]]) -> None:
        composed.extend(batch)
        check(self, batch)

    monkeypatch.setattr(SkoptSweep, "validate_batch_is_legal", counted)
    multirun(sweep_dir, "x=interval(-1.0, 1.0)", "model=small,big", "hydra.sweeper.n_trials=6",
             "hydra.sweeper.n_initial_points=3", "hydra.sweeper.random_state=3")
    rows = read_rows(sweep_dir)
    assert len(rows) == 6 and {r["model"] for r in rows} == {"small", "big"}
    options = [next(o for o in lines if o.startswith("model=")) for lines in composed]
    # each option at the start (before any trial), then each again before its first launch
    assert options == ["model=small", "model=big", f"model={rows[0]['model']}",
                       f"model={({'small', 'big'} - {rows[0]['model']}).pop()}"]


def test_a_full_disk_stops_the_sweep_in_one_line_with_its_records_whole(
        sweep_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """The third trial's record cannot be written (the disk is full): one line naming the
    file and the resume, exit 1, not a traceback; trials.csv keeps the two before it."""
    from tsbench.atomic import atomic_path
    from tsbench.search import trials as trials_module

    real = trials_module.write_with
    calls = []

    def fills_up(path: Path, write) -> None:
        calls.append(path)
        if len(calls) == 3:
            with atomic_path(path) as tmp:
                tmp.write_text("half")
                raise OSError(errno.ENOSPC, "No space left on device")
        real(path, write)

    monkeypatch.setattr(trials_module, "write_with", fills_up)
    with pytest.raises(SystemExit) as caught:
        multirun(sweep_dir, *SPACE, "hydra.sweeper.n_trials=4", "hydra.sweeper.n_initial_points=4")
    assert caught.value.code == 1
    assert capsys.readouterr().err == (
        f"tsbench: error: No space left on device writing {sweep_dir / 'trials.csv'}: the "
        "sweep stopped, its records whole -> free space (or raise the quota), then resume "
        "with the same command and hydra.sweeper.resume=true hydra.sweeper.retry_failed=true "
        "(trials the full disk failed run again)\n")
    assert len(read_rows(sweep_dir)) == 2 and not list(sweep_dir.glob(".trials.csv.*"))
