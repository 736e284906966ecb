"""Real ``tsbench`` multiruns with the skopt sweeper: tiny models on the synthetic series."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, read_metrics, run_tsbench
from tests.preloaded import run_module
from tsbench.search.names import is_search

#: Every preset of conf/search/.
SEARCH_PRESETS = sorted(p.stem for p in (ROOT / "tsbench" / "conf" / "search").glob("*.yaml"))
FAST = [
    "dataset=synthetic", "dataset.n_rows=600", "trainer=debug", "pred_len=12",
    "data.batch_size=32", "logger=none", "hydra.sweeper.random_state=0", "plots=false",
    "hydra.sweeper.plots=false",
]  # fmt: skip
#: search/patchtst_bo with a tiny PatchTST and a space where the constraints bite.
PATCHTST = [
    "search=patchtst_bo", *FAST, "model.e_layers=1", "model.d_ff=16",
    "seq_len=choice(16, 32, 48)", "model.patch_len=choice(8, 16, 24)",
    "model.d_model=choice(8, 16)",
]  # fmt: skip
#: DLinear and the seasonal-naive baseline, which refuses seq_len=12 < its period 24.
BASELINES = [
    "hydra/sweeper=skopt", *FAST, "seq_len=choice(12, 48)", "model=dlinear,seasonal_naive",
]  # fmt: skip


def rows(sweep_dir: Path) -> list[dict[str, str]]:
    with open(sweep_dir / "trials.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.heavy
def test_bayes_preset_records_reproduces_and_respects_constraints(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    proc = run_tsbench(  # score_test=false given, as tsbench-tune's searches give it
        [*PATCHTST, "hydra.sweeper.n_trials=6", "hydra.sweeper.n_initial_points=3",
         "score_test=false", "hydra.sweeper.plots=true"],
        sweep,
        multirun=True,
    )
    record = rows(sweep)
    assert len(record) == 6 and {r["status"] for r in record} == {"ok"}
    assert "ended=6/6 " in proc.stdout + proc.stderr
    assert "test_mse=" not in proc.stdout and proc.stdout.count("val_mse=") == 6
    for name in ("best.yaml", "convergence.png", "objective.png", "evaluations.png"):
        assert (sweep / name).stat().st_size > 0
    for row in record:  # the launched config itself obeys every constraint
        cfg = yaml.safe_load((sweep / row["job_dir"] / ".hydra" / "config.yaml").read_text())
        # a search's trial never reads the test split (score_test=null), says so in its saved
        # config, and its closing line has no test score
        assert yaml.safe_load((sweep / row["job_dir"] / "config.yaml").read_text())[
            "score_test"] is False
        assert not [k for k in read_metrics(sweep / row["job_dir"]) if "test" in k]
        model = cfg["model"]
        assert model["patch_len"] <= cfg["seq_len"] and model["stride"] <= model["patch_len"]
        assert model["d_model"] % model["n_heads"] == 0
        assert str(cfg["seq_len"]) == row["seq_len"]

    best = yaml.safe_load((sweep / "best.yaml").read_text())
    assert best["objective"] == min(float(r["objective"]) for r in record)
    program, *args = [a for a in shlex.split(best["command"]) if not a.startswith("PYTHONPATH=")]
    assert (program, args[:2]) == ("python", ["-m", "tsbench"])
    assert not [a for a in args if a.startswith("score_test")]  # the rerun scores test
    run_tsbench(args[2:], tmp_path / "again")
    again = read_metrics(tmp_path / "again")
    assert again["objective"] == pytest.approx(best["objective"])
    assert again["n_test_windows"] > 0 and "test_mse" in again  # the choice, scored once


def test_best_command_of_a_sweep_over_a_model_outside_the_package_reruns_it(
        toy_dir: Path, tmp_path: Path) -> None:
    """best.yaml's command carries the sweep's ``hydra.searchpath`` (the user's own model
    config), not its sweeper or sweep-folder settings, and reruns the best trial as it is."""
    env = {**os.environ, "PYTHONPATH": str(toy_dir)}
    sweep = tmp_path / "sweep"
    searchpath = f"hydra.searchpath=[file://{toy_dir / 'conf'}]"
    run_tsbench(["hydra/sweeper=skopt", "hydra.sweeper.n_trials=2", "hydra.sweeper.mode=random",
                 *FAST, "model=toy", "model.hidden=choice(4,8)",
                 searchpath], sweep, env=env, multirun=True)
    best = yaml.safe_load((sweep / "best.yaml").read_text())
    path, program, *args = shlex.split(best["command"])
    assert path == f"PYTHONPATH={toy_dir}" and program == "python"
    assert searchpath in args and not [a for a in args if a.startswith(("hydra.sweep", "hydra/"))]
    # the command as a user pastes it, in a shell without the sweep's PYTHONPATH
    shell_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    shell_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    again = tmp_path / "again"
    proc = subprocess.run(["bash", "-c", f"{best['command']} hydra.run.dir={again}"],
                          env={**shell_env, "OMP_NUM_THREADS": "1"}, cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert read_metrics(again)["objective"] == pytest.approx(best["objective"])


@pytest.mark.heavy
def test_failing_trials_are_marked_and_the_sweep_completes(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    proc = run_tsbench(
        [*BASELINES, "hydra.sweeper.n_trials=4", "hydra.sweeper.n_initial_points=2"],
        sweep,
        multirun=True,
    )
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output and "Error executing job" not in output
    bad = [line for line in output.splitlines() if "failed:" in line]
    assert len(bad) == 1 and "model.period" in bad[0]  # one line for the bad job
    by_point = {(r["seq_len"], r["model"]): r for r in rows(sweep)}
    assert len(by_point) == 4  # the whole space, each point once
    failed = by_point["12", "seasonal_naive"]
    assert failed["status"] == "failed" and "model.period" in failed["error"]
    assert (sweep / failed["job"] / ".hydra").is_dir()  # a failed trial's folder stays
    assert all(r["status"] == "ok" for k, r in by_point.items() if r is not failed)


@pytest.mark.heavy
def test_a_trial_whose_step_cannot_fit_in_memory_fails_and_the_sweep_goes_on(
        tmp_path: Path) -> None:
    """seq_len=6000 in one-step patches with 16 heads (a step needs about 2,500 GiB) is
    refused before it trains: its trial is recorded failed with the line that says so, and
    the sweep runs its other trial."""
    sweep = tmp_path / "sweep"
    proc = run_tsbench(
        ["hydra/sweeper=skopt", *[a for a in FAST if not a.startswith("dataset.n_rows")],
         "dataset.n_rows=9000", "model=patchtst", "model.patch_len=1", "model.stride=1",
         "model.d_model=64", "model.n_heads=16", "model.e_layers=1", "model.d_ff=16",
         "trainer.max_epochs=1", "trainer.limit_train_batches=2", "seq_len=choice(48, 6000)",
         "hydra.sweeper.n_trials=2", "hydra.sweeper.n_initial_points=2"], sweep, multirun=True)
    assert "Traceback" not in proc.stdout + proc.stderr
    by_seq_len = {r["seq_len"]: r for r in rows(sweep)}
    assert by_seq_len["48"]["status"] == "ok"
    failed = by_seq_len["6000"]
    assert failed["status"] == "failed"
    assert failed["error"].startswith("model: one training step of patchtst needs about ")


@pytest.mark.heavy
def test_killed_sweep_resumes_to_exactly_n_trials(tmp_path: Path) -> None:
    """A tsbench sweep killed (SIGKILL) after its first trials ended resumes to exactly
    ``n_trials``, each at a point of its own, the ended trials neither run again nor
    overwritten. Four trials: the kill comes as the third starts, after the two initial
    points, so that the resume has both ended trials to keep, the killed one to launch
    again and a Bayesian proposal to make. The basic launcher runs the jobs in the sweep's
    process, which a Hydra callback kills as job 2 starts (tests/search/app/kill_at_start.py):
    killed from outside once trials.csv held two rows, the kill came whenever the test got
    to look, and on a busy machine the sweep had not ended two trials in the 120 s the test
    waited."""
    sweep = tmp_path / "sweep"
    args = [
        "hydra/sweeper=skopt", *FAST, "model=dlinear", "seq_len=choice(24, 48, 96)",
        "optim.lr=tag(log, interval(1e-4, 1e-2))", "hydra.sweeper.n_trials=4",
        "hydra.sweeper.n_initial_points=2",
    ]  # fmt: skip
    kill_at_job_2 = [
        "+hydra.callbacks.kill._target_=tests.search.app.kill_at_start.KillAtJobStart",
        "+hydra.callbacks.kill.job=2"]
    killed = run_tsbench([*args, *kill_at_job_2], sweep, env={"PYTHONPATH": str(ROOT)},
                         multirun=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    done = rows(sweep)
    assert [r["job"] for r in done] == ["0", "1"]
    assert (sweep / "2" / ".hydra" / "config.yaml").is_file()  # job 2 had started
    kept = {r["job_dir"]: (sweep / r["job_dir"] / "metrics.json").stat().st_mtime for r in done}

    run_tsbench([*args, "hydra.sweeper.resume=true"], sweep, multirun=True)
    record = rows(sweep)
    assert record[: len(done)] == done
    assert len(record) == 4
    assert len({(r["seq_len"], r["optim.lr"]) for r in record}) == 4
    assert len({r["job"] for r in record}) == 4 and "2" not in {r["job"] for r in record}
    for job_dir, mtime in kept.items():  # finished trials were neither rerun nor overwritten
        assert (sweep / job_dir / "metrics.json").stat().st_mtime == mtime


def job_span(job_dir: Path) -> tuple[float, float]:
    """When a job started (Hydra wrote its config) and ended (tsbench wrote metrics)."""
    start = (job_dir / ".hydra" / "config.yaml").stat().st_mtime
    return start, (job_dir / "metrics.json").stat().st_mtime


#: Messages of dependencies that a run's output and logs must not carry.
NOISE = ("GPU available", "litlogger", "LeafSpec")


def assert_no_noise(run: subprocess.CompletedProcess, sweep: Path) -> None:
    """Neither ``run``'s output nor the log of either of its two jobs (where it logged a
    line: a job that logs none has no log file) carries ``NOISE``."""
    jobs = [p for p in sweep.iterdir() if (p / "metrics.json").is_file()]
    assert len(jobs) == 2
    logs = [(job / "tsbench.log").read_text() for job in jobs if (job / "tsbench.log").exists()]
    for text in (run.stderr + run.stdout, *logs):
        assert not [noise for noise in NOISE if noise in text], (sweep, text)


@pytest.mark.parametrize("launcher", ["joblib", "submitit_local"])
@pytest.mark.heavy
def test_parallel_launchers_run_each_batch_together(tmp_path: Path, launcher: str) -> None:
    """The two trials of a batch overlap in time. On joblib they also train without progress
    bars, though asked for one: two workers' bars would interleave on one terminal (their
    config says so, and the output has no dependency noise); the serial half of this
    promise is test_one_trial_at_a_time_shows_its_progress_bar."""
    sweep = tmp_path / "sweep"
    extra = (["hydra.launcher.n_jobs=2", "trainer.progress_bar=true"] if launcher == "joblib"
             else [])
    proc = run_tsbench(
        [
            "hydra/sweeper=skopt",
            f"hydra/launcher={launcher}",
            *extra,
            *FAST,
            "model=dlinear",
            "seq_len=choice(24, 48, 96)",
            "hydra.sweeper.n_jobs=2",
            "hydra.sweeper.n_trials=2",
            "hydra.sweeper.n_initial_points=2",
        ],  # fmt: skip
        sweep,
        multirun=True,
    )
    record = rows(sweep)
    assert [r["status"] for r in record] == ["ok", "ok"]
    (start0, end0), (start1, end1) = (job_span(sweep / r["job_dir"]) for r in record)
    assert start0 < end1 and start1 < end0  # the two trials of the batch overlapped
    if launcher == "joblib":
        assert "Epoch 0" not in proc.stderr + proc.stdout
        for row in record:
            cfg = yaml.safe_load((sweep / row["job_dir"] / "config.yaml").read_text())
            assert cfg["trainer"]["progress_bar"] is False
        assert_no_noise(proc, sweep)


def test_one_trial_at_a_time_shows_its_progress_bar(tmp_path: Path) -> None:
    """Trials run one at a time keep the progress bar they ask for, without dependency
    noise; trials side by side train without it (test_parallel_launchers_run_each_batch_
    together[joblib])."""
    from tests.conftest import TINY

    serial = run_tsbench([*TINY, "trainer.progress_bar=true", "trainer.max_epochs=1",
                          "seed=1,2"], tmp_path / "serial", multirun=True)
    assert "Epoch 0" in serial.stderr + serial.stdout
    assert_no_noise(serial, tmp_path / "serial")


def test_every_search_preset_leaves_the_test_split_unseen() -> None:
    """The skopt presets leave score_test null (a search's trial: false); the grid preset,
    Hydra's basic sweeper, which chooses nothing itself, sets it false."""
    from tsbench.settings_check import check_settings
    from tsbench.training.search_trial import scores_test

    for preset in SEARCH_PRESETS:
        cfg = check_settings([f"search={preset}"])
        searching = is_search(True, cfg.hydra.sweeper)
        assert cfg.score_test is (None if searching else False), preset
        assert not scores_test(cfg) or searching, preset  # null resolves in the trial


def test_a_search_resumed_on_a_changed_csv_file_is_refused(tmp_path: Path) -> None:
    """Its trials ran on the file as it was: new scores beside them would share one
    surrogate, and best.yaml could name a trial of the old file. force goes on, warned."""
    data = tmp_path / "sales.csv"
    lines = ["date,price,OT"] + [f"2024-01-{1 + i // 24:02d} {i % 24:02d}:00:00,{i % 7},"
                                 f"{(i * 5) % 11}" for i in range(400)]
    data.write_text("\n".join(lines) + "\n")
    sweep_dir = tmp_path / "sweep"
    args = ["hydra/sweeper=skopt", "dataset=csv", f"dataset.path={data}", "model=dlinear",
            "seq_len=24", "pred_len=12", "trainer=debug", "logger=none", "plots=false",
            "optim.lr=choice(0.001,0.003,0.01)", "hydra.sweeper.n_initial_points=1",
            "hydra.sweeper.random_state=0"]
    run_tsbench([*args, "hydra.sweeper.n_trials=1"], sweep_dir, multirun=True)
    resumed = [*args, "hydra.sweeper.n_trials=2", "hydra.sweeper.resume=true"]
    data.write_text("\n".join([*lines, "2024-01-17 16:00:00,1,2"]) + "\n")  # a row appended
    refused = run_tsbench(resumed, sweep_dir, multirun=True, check=False)
    assert refused.returncode == 2, refused.stderr[-2000:]
    card = json.loads((sweep_dir / "0" / "protocol.json").read_text())
    old, new = card["dataset"]["sha256"][:12], hashlib.sha256(data.read_bytes()).hexdigest()[:12]
    assert refused.stderr == (
        f"tsbench: error: hydra.sweeper.resume: the sweep in {sweep_dir} ran its trials on "
        f"{data} with sha256 {old}; the file now has sha256 {new} -> restore the file to "
        "resume, or search the new file in a new hydra.sweep.dir (hydra.sweeper.resume=force "
        "goes on mixing them)\n")
    assert len(rows(sweep_dir)) == 1
    forced = run_tsbench([*resumed[:-1], "hydra.sweeper.resume=force"], sweep_dir,
                         multirun=True)
    assert f"resume=force: the sweep in {sweep_dir} ran its trials on {data} with sha256 " \
           f"{old}; the file now has sha256 {new}: old and new scores share one search" \
        in forced.stderr + forced.stdout
    assert len(rows(sweep_dir)) == 2
    data.write_text("\n".join(lines) + "\n")  # the first file again: a trial read it
    run_tsbench([*args, "hydra.sweeper.n_trials=3", "hydra.sweeper.resume=true"], sweep_dir,
                multirun=True)
    assert len(rows(sweep_dir)) == 3


def test_a_search_file_written_relative_then_absolute_is_one_search(tmp_path: Path) -> None:
    """search.yaml's fixed overrides were compared as written: ``dataset.path=data/x.csv``
    and the same file's absolute path, given in another folder, were two searches. Each
    command's relative path is read from the folder it ran in, a record of an older tsbench
    (relative) from the folder of the command that wrote it."""
    data = tmp_path / "data" / "sales.csv"
    data.parent.mkdir()
    lines = ["date,price,OT"] + [f"2024-01-{1 + i // 24:02d} {i % 24:02d}:00:00,{i % 7},"
                                 f"{(i * 5) % 11}" for i in range(400)]
    data.write_text("\n".join(lines) + "\n")
    sweep_dir = tmp_path / "sweep"
    args = ["-m", "hydra/sweeper=skopt", "dataset=csv", "model=dlinear", "seq_len=24",
            "pred_len=12", "trainer=debug", "trainer.max_epochs=1", "logger=none", "plots=false",
            "optim.lr=choice(0.001,0.003,0.01)", "hydra.sweeper.n_initial_points=1",
            "hydra.sweeper.random_state=0", f"hydra.sweep.dir={sweep_dir}",
            "hydra.sweeper.resume=true"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for n_trials, path, cwd in ((1, "data/sales.csv", tmp_path), (2, str(data), data.parent),
                                (3, "data/sales.csv", tmp_path)):
        done = run_module("tsbench", [*args, f"dataset.path={path}",
                                      f"hydra.sweeper.n_trials={n_trials}"], env, cwd=cwd)
        assert done.returncode == 0, done.stderr[-3000:]
        assert len(rows(sweep_dir)) == n_trials
        definition = sweep_dir / "search.yaml"
        written = definition.read_text()
        assert f"dataset.path={data}\n" in written  # as an older tsbench wrote it: relative,
        definition.write_text(written.replace(  # from the folder of the command that wrote it
            f"dataset.path={data}\n", f"dataset.path={os.path.relpath(data, cwd)}\n"))


def test_a_search_over_files_written_relative_then_absolute_is_one_search(
        tmp_path: Path) -> None:
    """Each path of a searched choice (``dataset.path=choice(data/a.csv,data/b.csv)``) was
    recorded as written: the same files spelled absolute, from another folder, were another
    search (resume refused) and their trials points outside it."""
    lines = ["date,price,OT"] + [f"2024-01-{1 + i // 24:02d} {i % 24:02d}:00:00,{i % 7},"
                                 f"{(i * 5) % 11}" for i in range(400)]
    files = [tmp_path / "data" / name for name in ("a.csv", "b.csv")]
    files[0].parent.mkdir()
    for file in files:
        file.write_text("\n".join(lines) + "\n")
    sweep_dir = tmp_path / "sweep"
    args = ["-m", "hydra/sweeper=skopt", "dataset=csv", "model=naive", "seq_len=24",
            "pred_len=12", "trainer=debug", "logger=none", "plots=false",
            "hydra.sweeper.n_initial_points=1", "hydra.sweeper.mode=random",
            "hydra.sweeper.random_state=0", f"hydra.sweep.dir={sweep_dir}",
            "hydra.sweeper.resume=true"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for n_trials, paths, cwd in ((1, "data/a.csv,data/b.csv", tmp_path),
                                 (2, f"choice({files[0]},{files[1]})", files[0].parent)):
        done = run_module("tsbench", [*args, f"dataset.path={paths}",
                                      f"hydra.sweeper.n_trials={n_trials}"], env, cwd=cwd)
        assert done.returncode == 0, done.stderr[-3000:]
        assert len(rows(sweep_dir)) == n_trials
        assert {r["dataset.path"] for r in rows(sweep_dir)} <= {str(f) for f in files}
        searched = yaml.safe_load((sweep_dir / "search.yaml").read_text())["params"]
        assert searched == {"dataset.path": f"choice({files[0]}, {files[1]})"}


def test_a_warm_start_from_another_problem_is_refused_before_any_trial(tmp_path: Path) -> None:
    """Trials of other data or another horizon, or of another fixed setting (a look-back, a
    model setting, an epoch budget), measured another objective: refused in one line
    naming each difference; the same problem searched over other values is taken (its
    logs and threads aside), and a file with no sweep beside it is taken unchecked, with a
    warning."""
    args = ["hydra/sweeper=skopt", "dataset=synthetic", "dataset.n_rows=400", "model=dlinear",
            "seq_len=24", "trainer=debug", "logger=none", "plots=false",
            "hydra.sweeper.random_state=0", "hydra.sweeper.n_trials=1",
            "hydra.sweeper.n_initial_points=1"]
    run_tsbench([*args, "pred_len=12", "optim.lr=choice(0.001,0.01)",
                 "hydra.sweeper.mode=random"], tmp_path / "rs", multirun=True)
    warm = tmp_path / "rs" / "trials.csv"
    bo = [*args, "optim.lr=choice(0.001,0.003,0.01)", f"hydra.sweeper.warm_start={warm}"]
    refused = run_tsbench([*bo, "dataset.noise=1.0", "pred_len=24"], tmp_path / "bo",
                          multirun=True, check=False)
    assert refused.returncode == 2 and refused.stderr == (
        f"tsbench: error: hydra.sweeper.warm_start: {warm} holds trials of another problem "
        "(dataset.noise 0.1 -> 1.0; pred_len 12 -> 24, there -> here): their objectives "
        "measure something else -> warm-start from a sweep run on the same data and "
        "settings, or drop hydra.sweeper.warm_start\n")
    assert not (tmp_path / "bo").exists()
    fixed = run_tsbench([*bo, "pred_len=12", "seq_len=36", "model.individual=true",
                         "trainer.max_epochs=3"], tmp_path / "bo", multirun=True, check=False)
    assert fixed.returncode == 2 and (
        "holds trials of another problem (model.individual False -> True; seq_len 24 -> 36; "
        "trainer.max_epochs 2 -> 3, there -> here)") in fixed.stderr
    assert not (tmp_path / "bo").exists()
    taken = run_tsbench([*bo, "pred_len=12", "trainer.num_threads=1"],  # changes no score
                        tmp_path / "bo", multirun=True)
    assert "warm start: 1 trial from" in taken.stderr + taken.stdout
    assert len(rows(tmp_path / "bo")) == 1
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "trials.csv").write_text(warm.read_text())
    mine = f"hydra.sweeper.warm_start={tmp_path / 'mine' / 'trials.csv'}"
    unchecked = run_tsbench([*bo[:-1], mine, "pred_len=24"], tmp_path / "bo2", multirun=True)
    assert ("has no multirun.yaml beside it (not a sweep's own trials.csv): its trials are "
            "taken as run on this sweep's data and settings, unchecked") in (
        unchecked.stderr + unchecked.stdout)


def refused_line(stderr: str) -> str:
    """A refused command's one error line, its last, after its warnings alone (the tiny
    series is too short for a preset's longest look-backs: a warning said before the
    sweep's own checks run)."""
    *warned, refused = stderr.splitlines()
    assert all(line.startswith("tsbench: warning: ") for line in warned), stderr
    return refused


def test_a_preset_searching_another_models_key_names_the_presets_for_this_one(
        tmp_path: Path) -> None:
    """search=random searches PatchTST's keys: with model=dlinear its model.patch_len is no
    misspelling but another model's key, and the error names the preset made for DLinear
    (a model with none is told to give the space itself); nothing is written."""
    for preset, model, refusal in (
            ("random", "dlinear", "model.patch_len: searched by search=random, but "
             "model=dlinear has no such key (patchtst has) -> use a search preset for dlinear "
             "(search=dlinear_tune) or give the space yourself: hydra/sweeper=skopt with "
             "model.<key>=choice(...) on the command line"),
            ("itransformer_bo", "naive", "model.d_model: searched by search=itransformer_bo, "
             "but model=naive has no such key (itransformer, patchtst have) -> no search "
             "preset is for naive: give its space yourself: hydra/sweeper=skopt with "
             "model.<key>=choice(...) on the command line")):
        refused = run_tsbench([f"search={preset}", f"model={model}", *FAST], tmp_path / "rs",
                              multirun=True, check=False)
        assert refused.returncode == 2
        assert refused_line(refused.stderr) == f"tsbench: error: {refusal}"
        assert not (tmp_path / "rs").exists()
