"""Pruning rules and the record they read: ASHA rungs and cut-offs, the median rule, and
reports from many processes at once."""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from pathlib import Path

import pytest

from tsbench.search.pruning import PrunerSettings, Reporter, trial_overrides
from tsbench.search.record import Launch, Record, Report

ASHA = PrunerSettings(kind="asha", min_epochs=2, eta=3)


def test_asha_rungs() -> None:
    assert ASHA.rungs(max_epochs=27) == [2, 6, 18]
    assert PrunerSettings(kind="asha", min_epochs=1, eta=2, max_epochs=9).rungs(100) == [1, 2, 4, 8]


@pytest.mark.parametrize(
    "epoch, value, others, stops",
    [
        (1, 9.0, [0.1], False),  # before min_epochs
        (3, 9.0, [0.1], False),  # not a rung
        (2, 0.5, [], False),  # the first at a rung goes on
        (2, 0.6, [0.5], True),  # best 1 of 2 continues: 0.6 is not it
        (2, 0.5, [0.6, 0.7], False),
        (2, 0.6, [0.5, 0.7, 0.8], True),  # best 1 of 4: floor(4 / 3), not ceil
        (2, 0.6, [0.5, 0.7, 0.8, 0.9, 1.0], False),  # best 2 of 6
        (2, 0.7, [0.5, 0.6, 0.8, 0.9, 1.0], True),
        (2, 0.5, [0.5], False),  # a tie is not worse
        (6, math.nan, [0.5], True),  # a non-finite loss is the worst
        (27, 9.0, [0.1], False),  # the last epoch: it ran its full budget
    ],
)
def test_asha_judges_top_1_over_eta_of_the_rung(epoch, value, others, stops) -> None:
    assert (ASHA.judge(epoch, value, others, max_epochs=27) is not None) is stops


def test_no_rule_stops_a_trial_at_its_own_last_epoch_below_the_ladders_top() -> None:
    """``pruner.max_epochs=18`` above a trial's ``trainer.max_epochs=6``: at epoch 6 the
    trial ran its full budget (it was pruned there, and left out of the best)."""
    for kind in ("asha", "median"):
        rule = PrunerSettings(kind=kind, min_epochs=2, eta=3, max_epochs=18)
        assert rule.judge(6, 9.0, [0.1], max_epochs=6) is None
        assert rule.judge(6, 9.0, [0.1], max_epochs=18) is not None


def test_max_seconds_stops_a_trial_before_its_own_last_epoch_only(tmp_path: Path) -> None:
    """Once ``max_seconds`` is spent a trial stops at its next epoch, above the ladder's top
    too (it trained on to its end), and not at its own last epoch below the top (it was cut,
    and launched again by a resume, after its full budget)."""
    spent = time.time() - 1.0
    top9 = PrunerSettings(kind="asha", min_epochs=1, eta=3, max_epochs=9)
    assert Reporter(Record(tmp_path / "a"), top9, trial=1, job=0, max_epochs=27,
                    deadline=spent).report(12, 0.5)
    top27 = PrunerSettings(kind="asha", min_epochs=1, eta=3, max_epochs=27)
    assert not Reporter(Record(tmp_path / "b"), top27, trial=1, job=0, max_epochs=9,
                        deadline=spent).report(9, 0.5)


def test_median_rule() -> None:
    median = PrunerSettings(kind="median", min_epochs=2)
    assert median.judge(1, 9.0, [0.1, 0.2], max_epochs=5) is None
    assert median.judge(2, 0.5, [], max_epochs=5) is None
    cutoff, reason = median.judge(3, 0.5, [0.1, 0.4, 0.9], max_epochs=5)
    assert cutoff == 0.4 and "median" in reason
    assert median.judge(3, 0.4, [0.1, 0.4, 0.9], max_epochs=5) is None
    assert median.judge(5, 9.0, [0.1], max_epochs=5) is None


def test_reporter_compares_best_so_far_and_marks_the_pruned_job(tmp_path: Path) -> None:
    record = Record(tmp_path)
    first = Reporter(record, ASHA, trial=1, job=0, max_epochs=9)
    assert not first.report(1, 0.9) and not first.report(2, 0.4)
    second = Reporter(record, ASHA, trial=2, job=1, max_epochs=9)
    assert not second.report(1, 0.3)
    # epoch 2 is worse than epoch 1: the best so far (0.3) is what the rung compares
    assert not second.report(2, 0.8)
    third = Reporter(record, ASHA, trial=3, job=2, max_epochs=9)
    third.report(1, 1.0)
    assert third.report(2, 0.5)
    mark = record.pruned(2)
    assert mark == third.stopped and (mark.epoch, mark.objective, mark.cutoff) == (2, 0.5, 0.3)
    assert record.pruned(0) is None and record.pruned(1) is None
    assert record.rung(0, 2) == {1: 0.4, 2: 0.3, 3: 0.5}
    assert record.has_reports(3) and not record.has_reports(4)


def test_a_rung_compares_only_trials_of_the_same_epoch_budget(tmp_path: Path) -> None:
    # Epoch 2 of a 300-epoch trial (a resume=force that changed trainer.max_epochs, or a
    # searched budget) sits early in its schedule: no measure for a 9-epoch trial.
    record = Record(tmp_path)
    long = Reporter(record, ASHA, trial=1, job=0, max_epochs=300)
    assert not long.report(2, 0.01)
    short = Reporter(record, ASHA, trial=2, job=1, max_epochs=9)
    assert not short.report(2, 0.5)  # alone in its budget's rung
    assert record.rung(0, 2, max_epochs=9) == {2: 0.5}
    assert record.rung(0, 2) == {1: 0.01, 2: 0.5}
    # the same budget is judged against it, and a report without a budget (an old
    # record) still counts
    assert Reporter(record, ASHA, trial=3, job=2, max_epochs=9).report(2, 0.6)
    record.report(Report(trial=4, job=3, fold=0, epoch=2, val_loss=0.02, objective=0.02))
    assert record.rung(0, 2, max_epochs=300) == {1: 0.01, 4: 0.02}
    assert Reporter(record, ASHA, trial=5, job=4, max_epochs=9).report(2, 0.4)


def test_only_the_first_fold_is_judged_against_the_first_folds(tmp_path: Path) -> None:
    record = Record(tmp_path)
    record.report(Report(trial=9, job=9, fold=1, epoch=2, val_loss=0.01, objective=0.01))
    reporter = Reporter(record, ASHA, trial=1, job=0, max_epochs=9)
    assert not reporter.report(2, 0.5, fold=0)  # fold 0's rung holds only this trial
    assert not reporter.report(2, 0.5, fold=1)  # a better fold 1 is recorded, never judged
    assert record.rung(1, 2) == {9: 0.01, 1: 0.5}
    record.report(Report(trial=8, job=8, fold=0, epoch=2, val_loss=0.01, objective=0.01))
    second = Reporter(record, ASHA, trial=2, job=1, max_epochs=9)
    assert second.report(2, 0.5, fold=0)  # the better fold 0 stops it
    assert (second.stopped.fold, second.epochs) == (0, 1)


def test_trial_overrides_quote_the_record_path() -> None:
    lines = trial_overrides(ASHA, Path("/sweeps/my run,1"), trial=4, job=7)
    assert "++pruning.record='/sweeps/my run,1'" in lines
    assert {"++pruning.trial=4", "++pruning.job=7", "++pruning.kind=asha"} <= set(lines)
    assert not any("max_epochs" in line for line in lines)


def test_reporter_from_config() -> None:
    block = {"record": "/r", "kind": "median", "min_epochs": 3, "eta": 3, "trial": 2, "job": 5}
    reporter = Reporter.from_config(block, max_epochs=10)
    assert (reporter.trial, reporter.job, reporter.settings.kind) == (2, 5, "median")
    assert Reporter.from_config(None, 10) is None
    assert Reporter.from_config({**block, "kind": "none"}, 10) is None


def _write_reports(directory: str, writer: int, count: int) -> None:
    record = Record(Path(directory))
    for i in range(count):
        trial = writer * 1000 + i
        record.report(Report(trial, trial, 0, 1, float(i), float(i)))


def test_concurrent_writers_lose_no_report(tmp_path: Path) -> None:
    writers, count = 4, 60
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_write_reports, args=(str(tmp_path), w, count))
        for w in range(writers)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
        assert p.exitcode == 0
    rung = Record(tmp_path).rung(0, 1)
    assert len(rung) == writers * count
    assert all(rung[w * 1000 + i] == i for w in range(writers) for i in range(count))


def test_torn_writes_are_skipped(tmp_path: Path) -> None:
    """A kill -9 during a write leaves a hidden temporary file; readers skip it."""
    record = Record(tmp_path)
    record.report(Report(1, 1, 0, 1, 0.5, 0.5))
    folder = tmp_path / "epochs" / "fold0" / "epoch1"
    (folder / ".trial2.json.abc.tmp").write_text('{"trial": 2, "objec')
    record.launched(Launch(1, 0, {"x": "0.5"}, 1.0))
    (tmp_path / "jobs" / ".1.json.xyz.tmp").write_text("")
    assert record.rung(0, 1) == {1: 0.5}
    assert [launch.job for launch in record.launches()] == [0]
    assert sorted(os.listdir(folder)) == [".trial2.json.abc.tmp", "trial1.json"]
