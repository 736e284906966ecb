"""Every run's references: the seasonal naive and naive forecasts' MSE on its validation
windows, and the warning where a trained model scores worse than the better of them (it has
not learnt the series, or is near a forecast hard to beat)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, read_metrics, run_tsbench
from tests.spiked import VAL_SPIKE, spiked_csv
from tests.tracking.stopped_model import STOPPED_MODEL
from tsbench.rundir import load_run, significant
from tsbench.training.naive_reference import (
    PRESET_FIX,
    Gap,
    advice,
    preset_fix,
    sweep_summary,
)
from tsbench.training.sweep_summary import unusual_summary

#: A tiny hourly synthetic series (one sine of period 24, the frequency's season).
SERIES = ["dataset=synthetic", "dataset.n_rows=600", "pred_len=12", "trainer=debug",
          "data.batch_size=32", "logger=none", "plots=false"]
#: Noise enough that a model averaging several seasons beats repeating the last one.
NOISY = [*SERIES, "dataset.noise=0.5", "seq_len=96", "model=dlinear"]
NOT_LEARNT = "it has not learnt the series"


def not_learnt_lines(said: str) -> list[str]:
    return [line for line in said.splitlines() if NOT_LEARNT in line]


def reference_lines(said: str) -> list[str]:
    """Lines that compare with a naive forecast, whatever their advice."""
    return [line for line in said.splitlines() if "naive forecast's" in line
            and "on the same windows (" in line]


@pytest.mark.parametrize("extra", [
    ["seq_len=12"],  # a look-back shorter than the season of 24: rows before it are read
    ["seq_len=48", "dataset.freq=D", "features=MS"],  # season 7, the target alone
])
def test_the_reference_is_what_a_seasonal_naive_run_scores_on_validation(
        tmp_path: Path, extra: list[str]) -> None:
    run_tsbench([*SERIES, "model=dlinear", "trainer.max_epochs=1", *extra], tmp_path / "dlinear")
    naive_look_back = [o if not o.startswith("seq_len=") else "seq_len=48" for o in extra]
    run_tsbench([*SERIES, "model=seasonal_naive", *naive_look_back], tmp_path / "naive")
    run_tsbench([*SERIES, "model=naive", *naive_look_back], tmp_path / "last")
    reference = read_metrics(tmp_path / "dlinear")
    naive, last = read_metrics(tmp_path / "naive"), read_metrics(tmp_path / "last")
    assert reference["val_mse_seasonal_naive"] == pytest.approx(naive["val_mse"], rel=1e-12,
                                                                abs=0)
    assert naive["val_mse_seasonal_naive"] == pytest.approx(naive["val_mse"], rel=1e-12, abs=0)
    assert reference["val_mse_naive"] == pytest.approx(last["val_mse"], rel=1e-12, abs=0)


def test_each_fold_has_its_reference_and_the_folds_their_mean(tmp_path: Path) -> None:
    cv = ["cv=tscv", "cv.n_splits=2", "seq_len=48"]
    run_tsbench([*SERIES, *cv, "model=dlinear", "trainer.max_epochs=1"], tmp_path / "dlinear")
    run_tsbench([*SERIES, *cv, "model=seasonal_naive"], tmp_path / "naive")
    trained, naive = read_metrics(tmp_path / "dlinear"), read_metrics(tmp_path / "naive")
    for k in (0, 1):
        assert trained[f"fold_{k}_val_mse_seasonal_naive"] == pytest.approx(
            naive[f"fold_{k}_val_mse"], rel=1e-12, abs=0)
    assert trained["cv_val_mse_seasonal_naive_mean"] == pytest.approx(
        naive["cv_val_mse_mean"], rel=1e-12, abs=0)
    assert trained["cv_val_mse_naive_mean"] == pytest.approx(
        (trained["fold_0_val_mse_naive"] + trained["fold_1_val_mse_naive"]) / 2, rel=1e-12)


def test_a_model_worse_than_the_seasonal_naive_forecast_is_warned_once(tmp_path: Path) -> None:
    """An untrained DLinear (a tiny rate, one epoch) is warned with both numbers and the
    fix; a fitted one is not, nor naive, which is worse still but trains nothing."""
    said = run_tsbench([*NOISY, "optim.lr=1e-6", "trainer.max_epochs=1"], tmp_path / "bad")
    metrics = read_metrics(tmp_path / "bad")
    assert metrics["val_mse"] > metrics["val_mse_seasonal_naive"]
    assert not_learnt_lines(said.stdout + said.stderr) == [
        f"tsbench: warning: dlinear's val MSE {significant(metrics['val_mse'], 4)} is worse "
        "than the seasonal naive forecast's "
        f"{significant(metrics['val_mse_seasonal_naive'], 4)} on the same windows (season 24; "
        f"naive, the last value: {significant(metrics['val_mse_naive'], 4)}) -> it has not "
        "learnt the series: raise optim.lr or trainer.max_epochs (see README \"Your own "
        "CSV\"), or tune it with tsbench-tune"]
    said = run_tsbench([*NOISY, "optim.lr=0.01", "trainer.max_epochs=3"], tmp_path / "good")
    metrics = read_metrics(tmp_path / "good")
    assert metrics["val_mse"] < metrics["val_mse_seasonal_naive"]
    assert not_learnt_lines(said.stdout + said.stderr) == []
    said = run_tsbench([*NOISY, "model=naive"], tmp_path / "naive")
    metrics = read_metrics(tmp_path / "naive")
    assert metrics["val_mse"] > metrics["val_mse_seasonal_naive"]
    assert not_learnt_lines(said.stdout + said.stderr) == []


def random_walk_csv(path: Path) -> Path:
    """A daily random walk (an exchange rate's kind of series, column ``rate``): repeating
    its last value beats repeating its last week, and is hard to beat at all."""
    steps = np.random.default_rng(3).normal(0, 1, 400)
    pd.DataFrame({"date": pd.date_range("2020-01-01", periods=400, freq="D"),
                  "rate": 100 + np.cumsum(steps)}).to_csv(path, index=False)
    return path


def test_a_model_near_the_naive_forecast_of_a_random_walk_is_not_told_it_has_not_learnt(
        tmp_path: Path) -> None:
    """DLinear trained on a random walk scores a few percent above its last value repeated,
    below its last week repeated: the line compares it with the better (naive), says how
    near, and asks for a comparison, not a higher rate; an ``experiment=`` preset's run is
    told its settings are a paper's, to keep, and those its command line changed, to drop."""
    walk = ["dataset=csv", f"dataset.path={random_walk_csv(tmp_path / 'rate.csv')}",
            "dataset.target=rate", "features=S", "seq_len=28", "pred_len=7", "model=dlinear",
            "trainer=debug", "trainer.max_epochs=8", "optim.lr=0.05", "data.batch_size=16",
            "logger=none", "plots=false"]
    for name, preset in (("plain", []), ("preset", ["experiment=dlinear_exchange"])):
        said = run_tsbench([*preset, *walk], tmp_path / name)
        metrics = read_metrics(tmp_path / name)
        naive, seasonal = metrics["val_mse_naive"], metrics["val_mse_seasonal_naive"]
        assert naive < metrics["val_mse"] < 1.25 * naive and metrics["val_mse"] < seasonal
        percent = round(100 * (metrics["val_mse"] / naive - 1))
        fix = ("compare its test scores with model=naive's before raising optim.lr or "
               "trainer.max_epochs") if not preset else (
            "experiment=dlinear_exchange is a paper's preset, but seq_len=28 "
            "trainer.max_epochs=8 optim.lr=0.05 data.batch_size=16 changed its settings: drop "
            "them to reproduce the paper, and compare its test scores with the published ones "
            "(tsbench-report prints them) and model=naive's")
        assert reference_lines(said.stderr) == [
            f"tsbench: warning: dlinear's val MSE {significant(metrics['val_mse'], 4)} is worse "
            f"than the naive forecast's {significant(naive, 4)} on the same windows (the last "
            f"value; seasonal naive, season 7: {significant(seasonal, 4)}) -> it scores within "
            f"{percent}% of a forecast that learns nothing, hard to beat where the series "
            f"wanders like a random walk (exchange rates): {fix}"]
    # a multirun's one line per advice, as if both were its jobs: near, and a paper's preset
    runs = {job: load_run(tmp_path / name, warn_code=False)
            for job, name in enumerate(("plain", "preset"))}
    said_for = "a val MSE worse than the better naive forecast's (the last value or the last "
    assert sweep_summary(runs, "tsbench.log") == [
        f"job 0 (1 of the 2 finished jobs) scores {said_for}season repeated) on the same "
        "windows (each job's tsbench.log gives both) -> within 25% of a forecast that learns "
        "nothing, hard to beat where the series wanders like a random walk (exchange rates) or "
        "repeats its last season closely: "
        "compare their test scores with model=naive's before raising optim.lr or "
        "trainer.max_epochs",
        f"job 1 (1 of the 2 finished jobs) scores {said_for}season repeated) on the same "
        "windows (each job's tsbench.log gives both) -> experiment=dlinear_exchange is a "
        "paper's preset, but seq_len=28 trainer.max_epochs=8 optim.lr=0.05 data.batch_size=16 "
        "changed its settings: drop them to reproduce the paper, and compare its test scores "
        "with the published ones (tsbench-report prints them) and model=naive's"]


def test_cross_validation_is_warned_on_the_folds_mean(tmp_path: Path) -> None:
    said = run_tsbench([*NOISY, "optim.lr=1e-6", "trainer.max_epochs=1", "cv=tscv",
                        "cv.n_splits=2"], tmp_path / "cv")
    metrics = read_metrics(tmp_path / "cv")
    (line,) = not_learnt_lines(said.stdout + said.stderr)
    assert (f"dlinear's mean val MSE over 2 folds {significant(metrics['cv_val_mse_mean'], 4)} "
            "is worse than the seasonal naive forecast's "
            f"{significant(metrics['cv_val_mse_seasonal_naive_mean'], 4)} on the same windows "
            "(season 24; naive, the last value: "
            f"{significant(metrics['cv_val_mse_naive_mean'], 4)})") in line


def test_a_search_trial_and_a_refit_are_not_warned(tmp_path: Path) -> None:
    """A search tries poor configurations on purpose; a refit scores no validation."""
    said = run_tsbench(["hydra/sweeper=skopt", *NOISY, "trainer.max_epochs=1",
                        "optim.lr=choice(1e-6, 2e-6)", "hydra.sweeper.n_trials=2"],
                       tmp_path / "search", multirun=True)
    assert said.stdout.count("val_mse=") == 2  # both trials ran, unwarned
    for job in (0, 1):
        metrics = read_metrics(tmp_path / "search" / str(job))
        assert metrics["val_mse"] > metrics["val_mse_seasonal_naive"]
    assert not_learnt_lines(said.stdout + said.stderr) == []
    said = run_tsbench([*NOISY, "optim.lr=1e-6", "trainer.max_epochs=1", "cv=refit"],
                       tmp_path / "refit")
    assert "val_mse_seasonal_naive" not in read_metrics(tmp_path / "refit")
    assert not_learnt_lines(said.stdout + said.stderr) == []


def test_a_multirun_names_its_jobs_worse_than_the_reference_in_one_line(
        tmp_path: Path) -> None:
    """Two of three jobs untrained: one line at the sweep's end names both, where each job
    said its own on the terminal; each job's log keeps its line with its numbers."""
    said = run_tsbench([*NOISY, "trainer.max_epochs=1", "optim.lr=1e-6,2e-6,0.01"],
                       tmp_path / "sweep", multirun=True)
    assert not_learnt_lines(said.stdout + said.stderr) == []  # no job's own line
    (line,) = reference_lines(said.stderr)
    assert line == (
        "tsbench: warning: jobs 0, 1 (2 of the 3 finished jobs) score a val MSE worse than the "
        "better naive forecast's (the last value or the last season repeated) on the same "
        "windows (each job's tsbench.log gives both) -> "
        "not learnt: raise optim.lr or trainer.max_epochs (see README \"Your own CSV\"), or tune "
        "the model with tsbench-tune")
    for job, warned in (("0", True), ("1", True), ("2", False)):
        metrics = read_metrics(tmp_path / "sweep" / job)
        log_file = tmp_path / "sweep" / job / "tsbench.log"  # none where the job logged nothing
        logged = not_learnt_lines(log_file.read_text() if log_file.exists() else "")
        assert len(logged) == warned, job
        if warned:
            assert f"dlinear's val MSE {significant(metrics['val_mse'], 4)} is worse" in logged[0]


def test_a_resumed_multirun_counts_the_jobs_its_earlier_run_finished(tmp_path: Path) -> None:
    """Job 2 (the one that learns) run again by a resume: the line still names jobs 0
    and 1, finished by the first command, and counts all three."""
    sweep = [*NOISY, "trainer.max_epochs=1", "optim.lr=1e-6,2e-6,0.01"]
    run_tsbench(sweep, tmp_path / "sweep", multirun=True)
    (tmp_path / "sweep" / "2" / "metrics.json").unlink()  # as if stopped before it ended
    said = run_tsbench([*sweep, "hydra.sweeper.resume=true"], tmp_path / "sweep",
                       multirun=True)
    assert "resume: 2 of 3 jobs finished before, 1 to run" in said.stdout
    (line,) = reference_lines(said.stderr)
    assert line.startswith("tsbench: warning: jobs 0, 1 (2 of the 3 finished jobs) score a "
                           "val MSE worse than the better naive forecast's")


def test_a_multirun_with_a_failed_job_names_the_finished_jobs_worse_than_the_reference(
        tmp_path: Path) -> None:
    """Job 1 diverges and fails the sweep: jobs 0 and 2, untrained, are still named, before
    Hydra's error block for job 1, which ends the output."""
    said = run_tsbench([*NOISY, "trainer.max_epochs=1", "optim=sgd",
                        "trainer.gradient_clip_val=null", "optim.lr=1e-6,1e6,2e-6"],
                       tmp_path / "sweep", multirun=True, check=False)
    assert said.returncode != 0 and not (tmp_path / "sweep" / "1" / "metrics.json").exists()
    (line,) = reference_lines(said.stderr)
    assert line.startswith("tsbench: warning: jobs 0, 2 (2 of the 2 finished jobs) score a "
                           "val MSE worse than the better naive forecast's")
    assert said.stderr.index(line) < said.stderr.index("Error executing job")


def test_a_tune_stage_gives_advice_for_tuning_or_none(tmp_path: Path) -> None:
    """tsbench-tune's stages tune the model already: its baseline is told the searches come
    next, not to tune it; its range test (one batch) is not warned."""
    from tsbench.tune.commands import run_stage, tsbench

    bad = [*NOISY, "optim.lr=1e-6", "trainer.max_epochs=1", "score_test=false"]
    run_stage("a_baseline", tsbench(*bad, f"hydra.run.dir={tmp_path / 'a'}"), tmp_path)
    (line,) = reference_lines((tmp_path / "a_baseline.log").read_text())
    assert line.endswith("-> the baseline has not learnt the series at the preset's settings: "
                         "the searches that follow try other rates and look-backs")
    assert "tsbench-tune" not in line
    run_stage("b_lr_find", tsbench(*bad, f"hydra.run.dir={tmp_path / 'b'}"), tmp_path)
    assert reference_lines((tmp_path / "b_lr_find.log").read_text()) == []
    run_stage("f_retrain_1_1", tsbench(*bad, f"hydra.run.dir={tmp_path / 'f'}"), tmp_path)
    (line,) = reference_lines((tmp_path / "f_retrain_1_1.log").read_text())
    assert line.endswith("-> the searches found no configuration that learns the series "
                         "within recipe.max_epochs: raise recipe.max_epochs or "
                         "recipe.budget_hours")


def test_a_classical_model_worse_than_the_reference_is_told_to_check_its_season(
        tmp_path: Path) -> None:
    """Theta without its season on a seasonal series: warned, with a classical model's
    advice (its period, its settings); with its season it beats the reference, unwarned."""
    theta = [*SERIES, "seq_len=48", "model=theta"]
    said = run_tsbench([*theta, "model.deseasonalize=false"], tmp_path / "flat")
    metrics = read_metrics(tmp_path / "flat")
    (line,) = reference_lines(said.stderr)
    assert line == (
        f"tsbench: warning: theta's val MSE {significant(metrics['val_mse'], 4)} is worse "
        f"than the seasonal naive forecast's {significant(metrics['val_mse_seasonal_naive'], 4)}"
        " on the same windows (season 24; naive, the last value: "
        f"{significant(metrics['val_mse_naive'], 4)}) -> it fits the series worse than "
        "repeating its last season: check model.period against the series' season "
        "(tsbench-analyze prints the training rows' dominant periods), or its settings "
        "(model.deseasonalize, model.period)")
    said = run_tsbench(theta, tmp_path / "seasonal")
    metrics = read_metrics(tmp_path / "seasonal")
    assert metrics["val_mse"] < metrics["val_mse_seasonal_naive"]
    assert reference_lines(said.stderr) == []


@pytest.mark.parametrize(("spike_at", "extra", "warned"), [
    (VAL_SPIKE, [], True), (None, [], False),
    (VAL_SPIKE, ["cv=tscv", "cv.n_splits=2"], False),  # chosen on folds: the fix applied
])
def test_a_run_whose_validation_rows_are_unusual_is_warned_once(
        tmp_path: Path, spike_at: int | None, extra: list[str], warned: bool) -> None:
    """A week's spike in the validation rows: its early stopping fits that period."""
    path = spiked_csv(tmp_path / "demand.csv", spike_at)
    said = run_tsbench(["dataset=csv", f"dataset.path={path}", "dataset.target=east",
                        "features=S", "seq_len=28", "pred_len=14", "model=dlinear",
                        "trainer=debug", "trainer.max_epochs=1", "logger=none", "plots=false",
                        *extra], tmp_path / "run")
    lines = [line for line in (said.stdout + said.stderr).splitlines()
             if "the validation rows are unusual" in line]
    assert len(lines) == int(warned)


def test_a_search_trial_is_not_warned_of_unusual_validation_rows(tmp_path: Path) -> None:
    """A search's trials share its command: not said once per trial."""
    path = spiked_csv(tmp_path / "demand.csv", VAL_SPIKE)
    said = run_tsbench(["hydra/sweeper=skopt", "dataset=csv", f"dataset.path={path}",
                        "dataset.target=east", "features=S", "seq_len=28", "pred_len=14",
                        "model=dlinear", "trainer=debug", "trainer.max_epochs=1",
                        "logger=none", "plots=false", "optim.lr=choice(1e-3, 2e-3)",
                        "hydra.sweeper.n_trials=2"], tmp_path / "search", multirun=True)
    assert said.stdout.count("val_mse=") == 2  # both trials ran, unwarned
    assert "the validation rows are unusual" not in said.stdout + said.stderr


def unusual_lines(said: str) -> list[str]:
    return [line for line in said.splitlines() if "the validation rows are unusual" in line]


def test_a_multirun_says_each_distinct_unusual_validation_warning_once_naming_its_jobs(
        tmp_path: Path) -> None:
    """Two horizons x two seeds on a series with a week's spike in its validation rows: one
    line per horizon (its ratio differs) naming its two jobs, where each job said its own;
    each job's log keeps its line. Stopped by Ctrl-C in job 3, the multirun says the lines
    of jobs 0 to 2, which finished, then the stop's line (how to resume): it said none.
    Resumed, the lines count jobs 0 to 2, finished by the first command, with job 3. A job
    whose card broke since is left out."""
    path = spiked_csv(tmp_path / "demand.csv", VAL_SPIKE)
    sweep = ["dataset=csv", f"dataset.path={path}", "dataset.target=east", "features=S",
             "seq_len=28", "pred_len=7,14", "seed=1,2", "model=dlinear",
             "model._target_=tests.tracking.stopped_model.StoppedDLinear", "trainer=debug",
             "trainer.max_epochs=1", "logger=none", "plots=false"]
    # each job trains 2 steps (one epoch of 169 or 176 windows in batches of 128)
    stopped = run_tsbench(sweep, tmp_path / "sweep", multirun=True, check=False,
                          env={STOPPED_MODEL: "SIGINT@7", "PYTHONPATH": str(ROOT)})
    assert stopped.returncode == 130, stopped.stderr[-3000:]
    assert not (tmp_path / "sweep" / "3" / "metrics.json").exists()
    assert stopped.stderr.strip().splitlines()[-1].startswith(
        "tsbench: stopped by SIGINT: the jobs that ended kept their outputs -> resume it")
    said = run_tsbench([*sweep, "hydra.sweeper.resume=true"], tmp_path / "sweep",
                       multirun=True, env={"PYTHONPATH": str(ROOT)})
    assert "resume: 3 of 4 jobs finished before, 1 to run" in said.stdout
    logged = {}
    for job in range(4):
        (line,) = unusual_lines((tmp_path / "sweep" / str(job) / "tsbench.log").read_text())
        logged[job] = line.split("tsbench: warning: ", 1)[1]
    assert logged[0] == logged[1] != logged[2] == logged[3]  # by horizon, not by seed
    assert unusual_lines(stopped.stdout + stopped.stderr) == [
        f"tsbench: warning: jobs 0, 1 (2 of the 3 finished jobs): {logged[0]}",
        f"tsbench: warning: job 2 (1 of the 3 finished jobs): {logged[2]}"]
    assert unusual_lines(said.stdout + said.stderr) == [
        f"tsbench: warning: jobs 0, 1 (2 of the 4 finished jobs): {logged[0]}",
        f"tsbench: warning: jobs 2, 3 (2 of the 4 finished jobs): {logged[2]}"]
    (tmp_path / "sweep" / "0" / "protocol.json").write_text("{broken")  # lost since it ended
    runs = {job: load_run(tmp_path / "sweep" / str(job), warn_code=False) for job in range(4)}
    assert unusual_summary(runs) == [f"job 1 (1 of the 4 finished jobs): {logged[0]}",
                                     f"jobs 2, 3 (2 of the 4 finished jobs): {logged[2]}"]


def test_a_preset_run_is_told_to_drop_the_paper_settings_its_command_line_changed() -> None:
    """Only the settings a paper trains with (a budget cut among them) count as changed; a
    preset run's horizon, seed and logger do not, and leave the paper's settings to keep."""
    kept = ["experiment=dlinear_etth1", "pred_len=96", "seed=1", "logger=none"]
    assert preset_fix("dlinear_etth1", kept, near=False) == PRESET_FIX.format(
        preset="dlinear_etth1", naive="")
    assert preset_fix("dlinear_etth1", [*kept, "trainer.max_epochs=1"], near=False) == (
        "experiment=dlinear_etth1 is a paper's preset, but trainer.max_epochs=1 changed its "
        "settings: drop it to reproduce the paper, and compare its test scores with the "
        "published ones (tsbench-report prints them)")


def test_a_model_near_the_seasonal_naive_forecast_is_told_the_season_is_hard_to_beat() -> None:
    """Where the reference repeats the last season (ETTh1's day), a model near it was told
    the series wanders like a random walk, the last value's case."""
    dlinear = {"_target_": "tsbench.models.dlinear.DLinear"}
    seasonal = advice("trained", dlinear, gap=Gap("trained", 0.8616, 0.8266, None))
    assert seasonal == (
        "it scores within 4% of a forecast that learns nothing, hard to beat where the series "
        "repeats its last season closely: compare its test scores with model=naive's before "
        "raising optim.lr or trainer.max_epochs")
    last = advice("trained", dlinear, gap=Gap("trained", 0.1466, 0.1282, None, last_value=True))
    assert last is not None and "hard to beat where the series wanders like a random walk " \
        "(exchange rates): " in last
