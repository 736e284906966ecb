"""Every run's reference: the seasonal naive forecast's MSE on its validation windows, and
the warning where a trained model scores worse (it has not learnt the series)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import read_metrics, run_tsbench
from tests.spiked import VAL_SPIKE, spiked_csv
from tsbench.rundir import significant

#: A tiny hourly synthetic series (one sine of period 24, the frequency's season).
SERIES = ["dataset=synthetic", "dataset.n_rows=600", "pred_len=12", "trainer=debug",
          "data.batch_size=32", "logger=none", "plots=false"]
#: Noise enough that a model averaging several seasons beats repeating the last one.
NOISY = [*SERIES, "dataset.noise=0.5", "seq_len=96", "model=dlinear"]
NOT_LEARNT = "it has not learnt the series"


def not_learnt_lines(said: str) -> list[str]:
    return [line for line in said.splitlines() if NOT_LEARNT in line]


@pytest.mark.parametrize("extra", [
    ["seq_len=12"],  # a look-back shorter than the season of 24: rows before it are read
    ["seq_len=48", "dataset.freq=D", "features=MS"],  # season 7, the target alone
])
def test_the_reference_is_what_a_seasonal_naive_run_scores_on_validation(
        tmp_path: Path, extra: list[str]) -> None:
    run_tsbench([*SERIES, "model=dlinear", "trainer.max_epochs=1", *extra], tmp_path / "dlinear")
    naive_look_back = [o if not o.startswith("seq_len=") else "seq_len=48" for o in extra]
    run_tsbench([*SERIES, "model=seasonal_naive", *naive_look_back], tmp_path / "naive")
    reference = read_metrics(tmp_path / "dlinear")["val_mse_seasonal_naive"]
    naive = read_metrics(tmp_path / "naive")
    assert reference == pytest.approx(naive["val_mse"], rel=1e-12, abs=0)
    assert naive["val_mse_seasonal_naive"] == pytest.approx(naive["val_mse"], rel=1e-12, abs=0)


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


def test_a_model_worse_than_the_seasonal_naive_forecast_is_warned_once(tmp_path: Path) -> None:
    """An untrained DLinear (a tiny rate, one epoch) is warned with both numbers and the
    fix; a fitted one is not, nor naive, which is worse still but trains nothing."""
    said = run_tsbench([*NOISY, "optim.lr=1e-6", "trainer.max_epochs=1"], tmp_path / "bad")
    metrics = read_metrics(tmp_path / "bad")
    assert metrics["val_mse"] > metrics["val_mse_seasonal_naive"]
    assert [line.split(" - ", 1)[-1] for line in not_learnt_lines(said.stdout + said.stderr)] == [
        f"dlinear's val MSE {significant(metrics['val_mse'], 4)} is worse than the seasonal "
        f"naive forecast's {significant(metrics['val_mse_seasonal_naive'], 4)} on the same "
        "windows (season 24) -> it has not learnt the series: raise optim.lr or "
        "trainer.max_epochs (see README \"Your own CSV\"), or tune it with tsbench-tune"]
    said = run_tsbench([*NOISY, "optim.lr=0.01", "trainer.max_epochs=3"], tmp_path / "good")
    metrics = read_metrics(tmp_path / "good")
    assert metrics["val_mse"] < metrics["val_mse_seasonal_naive"]
    assert not_learnt_lines(said.stdout + said.stderr) == []
    said = run_tsbench([*NOISY, "model=naive"], tmp_path / "naive")
    metrics = read_metrics(tmp_path / "naive")
    assert metrics["val_mse"] > metrics["val_mse_seasonal_naive"]
    assert not_learnt_lines(said.stdout + said.stderr) == []


def test_cross_validation_is_warned_on_the_folds_mean(tmp_path: Path) -> None:
    said = run_tsbench([*NOISY, "optim.lr=1e-6", "trainer.max_epochs=1", "cv=tscv",
                        "cv.n_splits=2"], tmp_path / "cv")
    metrics = read_metrics(tmp_path / "cv")
    (line,) = not_learnt_lines(said.stdout + said.stderr)
    assert (f"dlinear's mean val MSE over 2 folds {significant(metrics['cv_val_mse_mean'], 4)} "
            "is worse than the seasonal naive forecast's "
            f"{significant(metrics['cv_val_mse_seasonal_naive_mean'], 4)} on the same windows "
            "(season 24)") in line


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
