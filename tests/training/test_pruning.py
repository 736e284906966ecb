"""Pruning from inside Lightning: real tsbench runs (tiny DLinear on the synthetic series)
report every validation epoch to the sweep's record and stop when the rule says so."""

from __future__ import annotations

import csv
import json
import re
import shutil
import time
from pathlib import Path

import pytest
import torch
import yaml
from hydra import compose, initialize_config_module

from tests.conftest import TINY, read_metrics, run_tsbench
from tests.report.conftest import report, results
from tsbench.search.pruning import PrunerSettings, Reporter
from tsbench.search.record import Record, Report
from tsbench.training.pruning import TrialPruning, trial_pruning
from tsbench.training.run import run

GOOD_LR = "0.01"  # learns within an epoch; the others cannot learn at all
SWEEP = [
    "hydra/sweeper=skopt", *TINY, "logger=csv", "trainer.max_epochs=3",
    "optim.lr=choice(0.01, 1e-7, 2e-7, 3e-7)", "hydra.sweeper.mode=random",
    "hydra.sweeper.n_trials=4", "hydra.sweeper.random_state=0",
    "hydra.sweeper.pruner.kind=asha", "hydra.sweeper.pruner.min_epochs=2",
    "score_test=true",  # a finished trial scores the test split, a pruned one never
]  # fmt: skip


def rows(sweep_dir: Path) -> list[dict[str, str]]:
    with open(sweep_dir / "trials.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def val_epochs(run_dir: Path) -> int:
    """Validation epochs that Lightning's CSV logger recorded."""
    with open(run_dir / "logs" / "metrics.csv", newline="") as handle:
        return sum(1 for r in csv.DictReader(handle) if r.get("val_loss"))


@pytest.fixture(scope="module")
def asha_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ASHA sweep of ``SWEEP``: one good learning rate, the others pruned at epoch 2."""
    sweep = tmp_path_factory.mktemp("asha") / "sweep"
    run_tsbench(SWEEP, sweep, multirun=True)
    return sweep


def card(run_dir: Path) -> dict:
    return json.loads((run_dir / "protocol.json").read_text())


def test_asha_sweep_stops_learning_rates_that_cannot_learn(asha_sweep: Path) -> None:
    sweep = asha_sweep
    record = Record(sweep / "record")
    trials = rows(sweep)
    assert len(trials) == 4 and [r["trial"] for r in trials] == ["1", "2", "3", "4"]
    good = next(i for i, r in enumerate(trials) if r["optim.lr"] == GOOD_LR)
    assert good < 3, "the setup needs a hopeless learning rate launched after the good one"

    rung = record.rung(0, 2)  # trial -> best validation loss up to epoch 2
    for i, row in enumerate(trials):
        metrics = read_metrics(sweep / row["job_dir"])
        earlier = [rung[int(r["trial"])] for r in trials[:i]]
        # with fewer than 6 reports at the rung only the best so far goes on (eta = 3)
        expect_pruned = bool(earlier) and rung[int(row["trial"])] > min(earlier)
        if i > good:
            assert expect_pruned  # every hopeless rate after the good one is stopped
        if not expect_pruned:
            assert row["status"] == "ok" and row["pruned_at_epoch"] == ""
            assert metrics["epochs"] == 3 == val_epochs(sweep / row["job_dir"])
            assert "test_mse" in metrics and "pruned" not in metrics
            # the run's own time: its training and the rest, inside the sweep's trial time
            assert 0 < metrics["train_seconds"] < metrics["run_seconds"] < float(row["seconds"])
            assert (sweep / row["job_dir"] / "checkpoints" / "best.ckpt").is_file()
            continue
        assert (row["status"], row["pruned_at_epoch"]) == ("pruned", "2")
        assert row["error"].startswith("asha rung 2: ")
        assert metrics["pruned"] is True and metrics["pruned_at_epoch"] == 2
        assert metrics["epochs"] == 2 == val_epochs(sweep / row["job_dir"])  # stopped at once
        # its own time too (a resume that records it from its folder reads it)
        assert 0 < metrics["train_seconds"] < metrics["run_seconds"] < float(row["seconds"])
        assert not (sweep / row["job_dir"] / "checkpoints").exists()  # nothing uses it
        assert not [k for k in metrics if k.startswith(("test_", "n_test"))]  # never scored
        own = [r.val_loss for r in record.reports() if r.trial == int(row["trial"])]
        assert len(own) == 2
        assert metrics["objective"] == float(row["objective"]) == min(own)

    best = yaml.safe_load((sweep / "best.yaml").read_text())
    assert best["params"]["optim.lr"] == float(GOOD_LR) and best["trial"] == good + 1
    assert best["trials_pruned"] == sum(r["status"] == "pruned" for r in trials) >= 1


def test_a_pruned_trial_writes_its_protocol_card(asha_sweep: Path) -> None:
    """Every number carries the protocol that produced it: a pruned trial's card is a
    finished trial's of the rows it read (no test split) and the epochs it trained, with a
    ``pruned`` block saying where it stopped and that nothing scored it at its budget."""
    trials = rows(asha_sweep)
    finished = card(asha_sweep / next(r for r in trials if r["status"] == "ok")["job_dir"])
    assert "pruned" not in finished and "test" in finished["split"]["splits_read"]
    pruned = [r for r in trials if r["status"] == "pruned"]
    assert pruned
    for row in pruned:
        run_dir = asha_sweep / row["job_dir"]
        metrics, found = read_metrics(run_dir), card(run_dir)
        assert found.keys() - {"pruned"} == finished.keys()
        assert found["pruned"]["at_epoch"] == metrics["pruned_at_epoch"] == 2
        assert found["pruned"]["at_fold"] is None
        assert found["pruned"]["reason"] == metrics["pruning_reason"] == row["error"]
        assert "not a full-budget score" in found["pruned"]["objective"]
        assert found["pruned"]["scored"].startswith("nothing after training: no test split")
        # the test rows were never read: the card names the train and val splits alone
        assert found["split"]["splits_read"] == ["train", "val"]
        assert {k: v for k, v in found["split"].items() if k != "splits_read"} == {
            k: v for k, v in finished["split"].items() if k != "splits_read"}
        assert found["dataset"]["rows_used"] == [0, found["split"]["val"][1]]
        assert "test" not in found["windows"] and found["windows"]["val"] == {
            **finished["windows"]["val"], "all": True}
        assert found["scaler"] == {**finished["scaler"],  # nothing scored: nothing checked
                                   "flat_channels": None}
        training = found["training"]
        assert (training["epochs"], training["best_epoch"], training["max_epochs"]) == (
            2, None, 3)
        assert found["seed"] == metrics["seed"] and found["source"] == finished["source"]


def test_a_report_leaves_pruned_trials_out_though_they_carry_cards(
        asha_sweep: Path, tmp_path: Path) -> None:
    """A pruned trial's card makes it no finished run: tsbench-report counts the full-budget
    trials alone, on the test split and on validation, with one line for the pruned ones;
    a pruned job folder apart from its sweep's trials.csv is left out by its metrics.json."""
    trials = rows(asha_sweep)
    ok = sum(r["status"] == "ok" for r in trials)
    pruned = len(trials) - ok
    for split in ("test", "val"):
        proc = report(asha_sweep, "--split", split)
        assert sum(_count(r) for r in _cells(proc.stdout)) == ok  # one row per rate
        assert f"left out {pruned} pruned runs" in proc.stderr and pruned > 1
    alone = tmp_path / "alone"
    shutil.copytree(asha_sweep / next(r for r in trials if r["status"] == "pruned")["job_dir"],
                    alone / "job")
    proc = report(alone, check=False)
    assert proc.returncode != 0 and "left out 1 pruned run " in proc.stderr
    assert not _cells(proc.stdout)


def _cells(table: str) -> list[str]:
    """The first score cell of each body row of a Markdown report's results tables."""
    return [line.split("|")[4].strip() for line in results(table).splitlines()
            if line.startswith("| ") and not line.startswith(("| dataset", "| ---"))]


def _count(cell: str) -> int:
    """The n of a ``mean ± std (n)`` cell, bold or not."""
    return int(cell.strip("*").rstrip(")").rsplit("(", 1)[-1])


@pytest.mark.parametrize("better_fold", [0, 1])
def test_tscv_reports_each_fold_and_is_judged_in_the_first(tmp_path: Path,
                                                           better_fold: int) -> None:
    """A single run given a pruning block, against a planted better trial: every fold
    reports; a better first fold stops the run at its first rung, a better second fold
    does not (the run trains both folds whole)."""
    record = Record(tmp_path / "record")
    record.report(Report(trial=9, job=9, fold=better_fold, epoch=1, val_loss=1e-6,
                         objective=1e-6))
    run_dir = tmp_path / "run"
    block = [f"++pruning.record={record.directory}", "++pruning.kind=asha",
             "++pruning.min_epochs=1", "++pruning.eta=3", "++pruning.trial=1", "++pruning.job=0"]
    run_tsbench([*TINY, "cv=tscv", "cv.n_splits=2", "trainer.max_epochs=3", *block], run_dir)
    metrics = read_metrics(run_dir)
    reported = sorted((r.fold, r.epoch) for r in record.reports() if r.trial == 1)
    if better_fold == 0:
        assert (metrics["pruned"], metrics["pruned_at_fold"], metrics["pruned_at_epoch"]) == (
            True, 0, 1)
        assert metrics["epochs"] == 1 and reported == [(0, 1)]
        assert record.pruned(0).fold == 0
        assert metrics["train_seconds"] > 0 and not list(run_dir.rglob("*.ckpt"))
        found = card(run_dir)  # fold 0 stopped: its block alone, its windows unscored
        assert found["pruned"]["at_fold"] == 0 and "of fold_0" in found["pruned"]["objective"]
        assert len(found["split"]["tscv"]["folds"]) == 1 == len(found["scaler"][
            "fold_fitted_rows"]) and found["split"]["tscv"]["n_splits"] == 2
        assert [f["scored"] for f in found["windows"]["cv_val_folds"]] == [None]
    else:
        assert "pruned" not in metrics and metrics["epochs"] == 3 + 3
        assert reported == [(0, 1), (0, 2), (0, 3), (1, 1), (1, 2), (1, 3)]
        assert record.pruned(0) is None


def test_only_a_run_with_a_pruning_block_reports() -> None:
    block = ["++pruning.record=/r", "++pruning.min_epochs=1", "++pruning.eta=3",
             "++pruning.trial=1", "++pruning.job=0"]
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        plain = compose("config")
        off = compose("config", overrides=[*block, "++pruning.kind=none"])
        on = compose("config", overrides=[*block, "++pruning.kind=median"])
    assert trial_pruning(plain) is None and trial_pruning(off) is None
    pruning = trial_pruning(on)
    assert pruning is not None and pruning.reporter.max_epochs == on.trainer.max_epochs
    assert pruning.callbacks(has_val=False) == [] and len(pruning.callbacks(has_val=True)) == 1


def test_a_passed_deadline_stops_a_trial_at_its_next_epoch_but_never_its_last(
        tmp_path: Path) -> None:
    record = Record(tmp_path / "record")
    asha = PrunerSettings(kind="asha", min_epochs=2, eta=3, stop_at_max_seconds=True)
    late = Reporter(record, asha, trial=1, job=0, max_epochs=9, deadline=time.time() - 1)
    assert not late.report(9, 0.5)  # its last epoch: the trial ran its full budget
    assert late.report(1, 0.5)  # epoch 1 is no rung: only the deadline stops it
    assert late.stopped.reason == "max_seconds spent: stopped at epoch 1"
    assert record.pruned(0) == late.stopped
    early = Reporter(record, asha, trial=2, job=1, max_epochs=9, deadline=time.time() + 600)
    assert not early.report(1, 0.5)


def test_a_sweep_stops_its_running_trial_when_max_seconds_is_spent(tmp_path: Path) -> None:
    """One long trial (up to 2000 epochs) in a sweep of 3 s: it stops at the first epoch
    after the limit, recorded as pruned with its objective there, and no other starts."""
    sweep = tmp_path / "sweep"
    run_tsbench(["hydra/sweeper=skopt", *TINY, "trainer.max_epochs=2000", "trainer.patience=2000",
                 "optim.lr=choice(0.01, 0.02)", "hydra.sweeper.mode=random",
                 "hydra.sweeper.n_trials=2", "hydra.sweeper.max_seconds=3",
                 "hydra.sweeper.pruner.kind=asha", "hydra.sweeper.pruner.min_epochs=500",
                 "hydra.sweeper.pruner.stop_at_max_seconds=true"], sweep, multirun=True)
    [row] = rows(sweep)
    metrics = read_metrics(sweep / row["job_dir"])
    assert row["status"] == "pruned" and metrics["pruning_reason"].startswith(
        "max_seconds spent: stopped at epoch ")
    assert 1 <= metrics["epochs"] < 2000 and int(row["pruned_at_epoch"]) == metrics["epochs"]
    assert float(row["objective"]) == metrics["objective"]


def test_stop_at_max_seconds_needs_a_pruner(tmp_path: Path) -> None:
    proc = run_tsbench(["hydra/sweeper=skopt", *TINY, "optim.lr=choice(0.01, 0.02)",
                        "hydra.sweeper.n_trials=2",
                        "hydra.sweeper.pruner.stop_at_max_seconds=true"], tmp_path / "sweep",
                       multirun=True, check=False)
    assert proc.returncode != 0
    assert "hydra.sweeper.pruner.stop_at_max_seconds" in proc.stderr
    assert "set pruner.kind=asha or median" in proc.stderr


def test_a_resume_trains_again_a_trial_max_seconds_stopped(tmp_path: Path) -> None:
    """A trial stopped because max_seconds was spent was judged by no rule: a resume with
    time to spare launches it again, before any new point, and it trains its full budget
    (its earlier stop is said in its row, and told to the optimizer no more)."""
    sweep = tmp_path / "sweep"
    search = ["hydra/sweeper=skopt", *TINY, "trainer.max_epochs=6", "trainer.patience=100",
              "optim.lr=choice(0.01, 0.02)", "hydra.sweeper.mode=random",
              "hydra.sweeper.n_trials=1", "hydra.sweeper.pruner.kind=asha",
              "hydra.sweeper.pruner.min_epochs=500",
              "hydra.sweeper.pruner.stop_at_max_seconds=true"]
    run_tsbench([*search, "hydra.sweeper.max_seconds=0.2"], sweep, multirun=True)
    [cut] = rows(sweep)
    assert cut["status"] == "pruned" and cut["error"].startswith("max_seconds spent")
    assert int(cut["pruned_at_epoch"]) < 6
    proc = run_tsbench([*search, "hydra.sweeper.resume=true"], sweep, multirun=True)
    [again] = rows(sweep)
    assert (again["trial"], again["optim.lr"]) == (cut["trial"], cut["optim.lr"])
    assert again["job"] != cut["job"] and again["status"] == "ok"
    assert again["error"] == f"resumed: job {cut['job']} stopped at max_seconds"
    assert read_metrics(sweep / again["job_dir"])["epochs"] == 6
    assert (f"trial 1 (Hydra job #{cut['job']}) was stopped at max_seconds: launched again"
            in proc.stdout)


def test_a_tscv_trial_stopped_in_its_second_fold_counts_every_fold(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A trial stopped (its max_seconds spent) in epoch 1 of fold 1 reports the epochs and
    seconds of every fold it trained: fold 0's 3 epochs and fold 1's one; and says once
    that the warmup outlasts both folds' trainings, the stopped one's too."""
    report, seconds = Reporter.report, []

    def late_in_fold_1(self: Reporter, epoch: int, val_loss: float, fold: int = 0) -> bool:
        if fold == 1:
            self.deadline = 0.0  # the sweep's time is spent from now on
        return report(self, epoch, val_loss, fold)

    raise_if_pruned = TrialPruning.raise_if_pruned

    def timed(self: TrialPruning, train_seconds: float, warmup: dict | None,
              device: torch.device) -> None:
        seconds.append(train_seconds)
        raise_if_pruned(self, train_seconds, warmup, device)

    monkeypatch.setattr(Reporter, "report", late_in_fold_1)
    monkeypatch.setattr(TrialPruning, "raise_if_pruned", timed)
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            *TINY, "cv=tscv", "cv.n_splits=2", "trainer.max_epochs=3",
            "optim.schedule=warmup_cosine", "optim.warmup=1000",
            f"++pruning.record={tmp_path / 'record'}", "++pruning.kind=asha",
            "++pruning.min_epochs=1", "++pruning.eta=3", "++pruning.trial=1",
            "++pruning.job=0"])
    with caplog.at_level("WARNING", logger="tsbench.training.run"):
        run(cfg, tmp_path / "run")
    said = [r.getMessage() for r in caplog.records if "steps, longer than" in r.getMessage()]
    assert len(said) == 1 and re.match(
        r"optim.warmup=1000 is 1000 steps, longer than fold_0's \d+ \(3 epochs of \d+ "
        r"batches\): .*; fold_1's \d+ \(3 epochs of", said[0]), said
    metrics = read_metrics(tmp_path / "run")
    assert (metrics["pruned"], metrics["pruned_at_fold"], metrics["pruned_at_epoch"]) == (
        True, 1, 1)
    assert metrics["epochs"] == 3 + 1
    found = card(tmp_path / "run")  # fold 0 was scored after training, fold 1 not
    assert (found["pruned"]["at_fold"], found["training"]["epochs"]) == (1, 3 + 1)
    assert found["training"]["epochs_counts"] == "fold_0 to fold_1 together, up to the stop"
    folds = found["windows"]["cv_val_folds"]
    assert [f["scored"] for f in folds] == [folds[0]["available"], None]
    assert len(seconds) == 2 and min(seconds) > 0
    assert metrics["train_seconds"] == round(sum(seconds), 3)
