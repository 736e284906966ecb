"""tsbench-tune's progress line: stage, trials done / planned, best validation, time left;
the planned count follows the rate trials actually end at."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tsbench.search.names import TRIALS_FILE
from tsbench.search.record import RECORD_DIR, Launch, Record
from tsbench.tune.progress import Progress, epoch_time, sweep_summary


def write_trials(sweep_dir: Path, rows: list[tuple[str, str]]) -> None:
    """A trials.csv with one row per (status, objective)."""
    with open(sweep_dir / TRIALS_FILE, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["trial", "job", "status", "objective", "seconds"])
        writer.writerows([i + 1, i, status, objective, 1.0]
                         for i, (status, objective) in enumerate(rows))


def launched(sweep_dir: Path, job: int, at: float) -> None:
    """The sweep's record of job ``job`` launched at ``at`` (seconds since the epoch)."""
    Record(sweep_dir / RECORD_DIR).launched(Launch(job + 1, job, {}, at))


def clocks(monkeypatch: pytest.MonkeyPatch, start: float) -> list[float]:
    """Both of the progress line's clocks at ``now[0]``, which the test moves."""
    now = [start]
    monkeypatch.setattr("tsbench.tune.progress.time.monotonic", lambda: now[0])
    monkeypatch.setattr("tsbench.tune.progress.time.time", lambda: now[0])
    return now


def test_the_planned_trials_follow_the_rate_trials_end_at(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = clocks(monkeypatch, 1000.0)
    write_trials(tmp_path, [("ok", "0.5")])  # a resumed sweep: one trial ended before
    launched(tmp_path, 0, 900.0)  # in its earlier session
    progress = Progress("(d) random search", tmp_path, planned=385, time_left=lambda: 610.0,
                        seconds=100.0, cap=40)
    launched(tmp_path, 1, 1000.0)  # this session's first launch, at once
    # nothing ended in this session yet: the first estimate
    assert progress.line() == ("(d) random search: 1/~385 trials, best val MSE (scaled) "
                               "0.5000, 0:10:10 of the budget left")
    now[0] += 20.0  # four more ended in 20 s: the 80 s left buy 16 more
    write_trials(tmp_path, [("ok", "0.5"), ("pruned", "0.9"), ("ok", "0.3"), ("failed", ""),
                            ("ok", "0.4")])
    assert progress.line() == ("(d) random search: 5/~21 trials (1 pruned, 1 failed), "
                               "best val MSE (scaled) 0.3000, 0:10:10 of the budget left")
    now[0] -= 15.0  # the same four in 5 s: 95 s left would buy 76 more, the cap is 40
    assert progress.line().startswith("(d) random search: 5/~40 trials")
    now[0] += 65.0  # 70 s for the four: the 30 s left buy 1.7, and one starts at least
    assert progress.line().startswith("(d) random search: 5/~6 trials")
    now[0] += 29.0
    assert progress.line().startswith("(d) random search: 5/~6 trials")
    now[0] += 200.0  # the stage's time is spent: what ended is what ran
    assert progress.line().startswith("(d) random search: 5/~5 trials")


def test_the_sweeps_start_is_no_trials_time(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweep that took 18 s to launch its first trial (its process's start, the space
    composed: a loaded machine), then ended one in 2 s: 80 s left buy 40 more at 2 s each,
    not 4 at the 20 s since the stage began (a tiny model's first revision said 16 trials
    where 58 ran)."""
    now = clocks(monkeypatch, 1000.0)
    progress = Progress("(d) random search", tmp_path, planned=137, time_left=lambda: 80.0,
                        seconds=100.0, cap=500)
    assert progress.line().startswith("(d) random search: 0/~137 trials")
    launched(tmp_path, 0, 1018.0)
    now[0] += 20.0
    write_trials(tmp_path, [("ok", "0.5")])
    assert progress.line().startswith("(d) random search: 1/~41 trials")



def test_one_planned_trial_is_one_trial(tmp_path: Path) -> None:
    """A search with no time left plans the one trial it starts: not "1/~1 trials"."""
    write_trials(tmp_path, [("pruned", "0.9")])
    progress = Progress("(e) Bayesian search", tmp_path, planned=1, time_left=lambda: 0.0,
                        seconds=0.0, cap=1)
    assert progress.line().startswith("(e) Bayesian search: 1/~1 trial (1 pruned), best")
def test_a_search_shows_the_best_so_far_beside_its_own(tmp_path: Path) -> None:
    """(e) after (d): the tuning run's best, then the Bayesian search's own."""
    progress = Progress("(e) Bayesian search", tmp_path, planned=4, time_left=lambda: 60.0,
                        seconds=60.0, cap=4, best_before=0.0769)
    assert progress.line() == ("(e) Bayesian search: 0/~4 trials, best val MSE (scaled) 0.0769 "
                               "(this search: none yet), 0:01:00 of the budget left")
    # its last line, every trial pruned: none, not none yet, and why
    write_trials(tmp_path, [("pruned", "0.05")] * 3)
    assert progress.line(ended=True) == (
        "(e) Bayesian search: 3/~4 trials (3 pruned), best val MSE (scaled) 0.0769 (this "
        "search: none at full budget: all 3 trials pruned), 0:01:00 of the budget left")
    assert "(this search: none yet)" in progress.line()  # while it runs
    write_trials(tmp_path, [("pruned", "0.05")])
    assert "(this search: none at full budget: its one trial pruned)" in progress.line(
        ended=True)
    write_trials(tmp_path, [("pruned", "0.05"), ("failed", ""), ("pruned", "0.06")])
    assert "(this search: none at full budget: 2 pruned, 1 failed)" in progress.line(
        ended=True)
    write_trials(tmp_path, [("ok", "0.0889")])
    assert "best val MSE (scaled) 0.0769 (this search: 0.0889)" in progress.line()
    write_trials(tmp_path, [("ok", "0.0889"), ("ok", "0.0701")])
    assert "best val MSE (scaled) 0.0701 (this search: 0.0701)" in progress.line()


def test_a_search_whose_every_trial_was_pruned_ends_saying_so(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The stage's last line (logged as its sweep ends) says what happened, not none yet."""
    with caplog.at_level("INFO", logger="tsbench.tune"):
        with Progress("(d) random search", tmp_path, planned=4, time_left=lambda: 0.0,
                      seconds=60.0, cap=4, interval=600.0):
            write_trials(tmp_path, [("pruned", "0.05")] * 4)  # the sweep's trials end
    assert caplog.records[-1].getMessage() == (
        "(d) random search: 4/~4 trials (4 pruned), best val MSE (scaled) none at full "
        "budget: all 4 trials pruned, 0:00:00 of the budget left")


def test_an_interrupted_search_does_not_word_its_last_line_as_ended(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Ctrl-C before any trial ended: the last line says none yet, not the verdict of a
    search that ended (none at full budget)."""
    with caplog.at_level("INFO", logger="tsbench.tune"), pytest.raises(KeyboardInterrupt):
        with Progress("(e) Bayesian search", tmp_path, planned=4, time_left=lambda: 60.0,
                      seconds=60.0, cap=4, interval=600.0, best_before=0.0769):
            raise KeyboardInterrupt
    assert caplog.records[-1].getMessage() == (
        "(e) Bayesian search: 0/~4 trials, best val MSE (scaled) 0.0769 (this search: none "
        "yet), 0:01:00 of the budget left")


def test_the_best_shown_is_a_full_budget_trials(tmp_path: Path) -> None:
    """A pruned trial's objective (its best loss at the epoch it stopped, often low early
    on) is no full-budget result: the progress line's best is the finished trials'."""
    with open(tmp_path / TRIALS_FILE, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerows([["trial", "status", "objective"], [1, "pruned", 0.1],
                          [2, "ok", 0.5], [3, "failed", ""], [4, "ok", 0.4]])
    statuses, best = sweep_summary(tmp_path)
    assert best == 0.4 and statuses == {"ok": 2, "pruned": 1, "failed": 1}


def test_an_epoch_time_keeps_its_figures_for_a_tiny_model_and_a_slow_one() -> None:
    # a tiny model's baseline said "(0.0 s an epoch)"
    assert epoch_time(0.0434) == "0.043 s an epoch"
    assert epoch_time(123.44) == "123.4 s an epoch"
