"""Real Hydra multiruns of the quadratic app with pruning and refill-at-once.

The app's loss at epoch ``e`` is ``value * (1 + curve / e)`` (``quadratic.train``), so the
rule's verdicts can be replayed from the launch order and the known values.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import statistics
from pathlib import Path

import pytest
import yaml

from tests.search.conftest import multirun, read_rows
from tsbench.search.pruning import PrunerSettings
from tsbench.search.record import Record

PINNED = Path(__file__).parent / "data" / "pinned"
SPACE = ["x=interval(-1.0, 1.0)", "n=range(1, 6)", "kind=a,b,c"]
BAYES = [*SPACE, "hydra.sweeper.n_trials=8", "hydra.sweeper.n_initial_points=3"]
JOBLIB = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweeper.n_jobs=2"]
KIND_COST = {"a": 0.0, "b": 0.5, "c": 1.0}


@pytest.mark.parametrize(
    "name, overrides",
    [
        ("bayes_gp", BAYES),
        ("bayes_gp_batch2", [*BAYES, "hydra.sweeper.n_jobs=2"]),
        ("random", [*SPACE, "hydra.sweeper.mode=random", "hydra.sweeper.n_trials=6"]),
        ("failures", [*BAYES, "hydra.sweeper.max_failure_rate=1.0", "fail_above=0.6"]),
    ],
)
def test_without_pruning_the_trials_are_those_of_before(sweep_dir: Path, name, overrides) -> None:
    """Same points, objectives, statuses, jobs and errors as the sweeper before pruning
    existed (data/pinned/make_pinned.py, run on commit 41ea8f1)."""
    multirun(sweep_dir, *overrides, "hydra.sweeper.pruner.kind=none")
    with open(PINNED / f"{name}.csv", newline="") as handle:
        pinned = list(csv.DictReader(handle))
    rows = read_rows(sweep_dir)
    assert list(rows[0]) == list(pinned[0])  # the same columns too
    for row in [*rows, *pinned]:
        row.pop("seconds")
    assert rows == pinned


def value_of(x: float, kind: str) -> float:
    """The quadratic app's value at n=1 with the small model."""
    return (x - 0.3) ** 2 + 0.1 * (1 - 3) ** 2 + KIND_COST[kind]


def replay_asha(values: list[float], rungs: list[int], eta: int) -> list[int | None]:
    """The rung where each trial, launched in this order one at a time, must stop."""
    recorded: dict[int, list[float]] = {r: [] for r in rungs}
    verdicts = []
    for value in values:
        stopped = None
        for rung in rungs:
            loss = value * (1 + 1 / rung)
            ranked = sorted([*recorded[rung], loss])
            recorded[rung].append(loss)
            if loss > ranked[max(1, len(ranked) // eta) - 1]:
                stopped = rung
                break
        verdicts.append(stopped)
    return verdicts


def test_asha_prunes_the_planted_bad_points_at_their_rungs(sweep_dir: Path) -> None:
    multirun(
        sweep_dir,
        "x=choice(0.3, -0.7)",
        "kind=a,b,c",
        "epochs=9",
        "hydra.sweeper.n_trials=6",
        "hydra.sweeper.n_initial_points=2",
        "hydra.sweeper.pruner.kind=asha",
        "hydra.sweeper.pruner.min_epochs=1",
        "hydra.sweeper.pruner.eta=2",
    )
    rows = read_rows(sweep_dir)
    assert [r["trial"] for r in rows] == ["1", "2", "3", "4", "5", "6"]  # the whole space
    values = [value_of(float(r["x"]), r["kind"]) for r in rows]
    rungs = PrunerSettings(kind="asha", min_epochs=1, eta=2).rungs(9)
    assert rungs == [1, 2, 4, 8]
    expected = replay_asha(values, rungs, eta=2)
    assert [int(r["pruned_at_epoch"]) if r["pruned_at_epoch"] else None for r in rows] == expected
    worst = values.index(max(values))
    assert worst == 0 or expected[worst] == 1  # the worst point stops at the first rung
    assert any(e is not None and e > 1 for e in expected)  # and a later rung stops one too

    for row, value, stopped in zip(rows, values, expected, strict=True):
        result = json.loads((sweep_dir / row["job_dir"] / "result.json").read_text())
        if stopped is None:
            assert row["status"] == "ok" and result["epochs"] == 9
            assert float(row["objective"]) == pytest.approx(value * (1 + 1 / 9))
            continue
        assert row["status"] == "pruned" and result["epochs"] == stopped  # stopped at once
        assert float(row["objective"]) == pytest.approx(value * (1 + 1 / stopped))
        assert row["error"].startswith(f"asha rung {stopped}: ")
        mark = Record(sweep_dir / "record").pruned(int(row["job"]))
        assert (mark.epoch, mark.objective) == (stopped, float(row["objective"]))

    best = yaml.safe_load((sweep_dir / "best.yaml").read_text())
    full = [r for r in rows if r["status"] == "ok"]
    assert best["objective"] == min(float(r["objective"]) for r in full)
    assert best["trials_pruned"] == len(rows) - len(full)
    assert best["trials_finished"] == len(full)


def test_median_rule_stops_worse_than_median_trials(sweep_dir: Path) -> None:
    multirun(
        sweep_dir, "x=choice(0.3, -0.7)", "kind=a,b,c", "epochs=5",
        "hydra.sweeper.n_trials=6", "hydra.sweeper.n_initial_points=2",
        "hydra.sweeper.pruner.kind=median", "hydra.sweeper.pruner.min_epochs=2",
    )  # fmt: skip
    rows = read_rows(sweep_dir)
    reached: dict[int, list[float]] = {epoch: [] for epoch in range(1, 6)}
    expected = []  # replayed in launch order; an epoch scales every value alike
    for row in rows:
        value, stopped = value_of(float(row["x"]), row["kind"]), ""
        for epoch in range(1, 6):
            others = list(reached[epoch])
            reached[epoch].append(value)
            if 2 <= epoch < 5 and others and value > statistics.median(others):
                stopped = str(epoch)
                break
        expected.append(stopped)
    assert [r["pruned_at_epoch"] for r in rows] == expected
    assert any(expected)


def job_times(sweep_dir: Path) -> dict[int, tuple[float, float]]:
    """trial -> (started, ended) from the record's launch log."""
    launches = Record(sweep_dir / "record").launches()
    return {launch.trial: (launch.started, launch.ended) for launch in launches}


def test_joblib_refills_a_free_slot_at_once(tmp_path: Path, caplog) -> None:
    """Refill starts trial 3 when trial 2 ends, batch waits for the slow trial 1; in random
    mode both propose the same points in the same order (a Latin hypercube's k-th point,
    so the running points must have been counted as pending). Each trial's log line
    counts the trials ended so far, whatever the trial's number."""
    points = {}
    for schedule in ("auto", "batch"):
        sweep_dir = tmp_path / schedule
        caplog.clear()
        caplog.set_level(logging.INFO, logger="tsbench.search.loop")
        multirun(
            sweep_dir, *SPACE, *JOBLIB, f"hydra.sweeper.schedule={schedule}",
            "hydra.sweeper.mode=random", "hydra.sweeper.initial_point_generator=lhs",
            "hydra.sweeper.n_trials=5", "epochs=4", "epoch_sleep=0.05", "slow_job=0",
            "slow_sleep=4", "hydra.sweeper.pruner.kind=median",
            "hydra.sweeper.pruner.min_epochs=3",
        )  # fmt: skip
        rows = read_rows(sweep_dir)
        assert len(rows) == 5
        points[schedule] = [(r["x"], r["n"], r["kind"]) for r in rows]
        times = job_times(sweep_dir)
        slower_end = max(times[1][1], times[2][1])
        if schedule == "auto":  # trial 3 takes the slot that trial 2 freed
            assert times[3][0] < slower_end
            lines = re.findall(r"trial (\d+) \(Hydra job #\d+\): .* ended=(\d+)/5 ", caplog.text)
            by_end = sorted(times, key=lambda trial: times[trial][1])
            assert lines == [(str(trial), str(k)) for k, trial in enumerate(by_end, start=1)]
            assert by_end[0] != 1  # the slow trial 1 ended after others
        else:  # the next batch waits for the slow trial
            assert times[3][0] >= slower_end

        # every report of the trials that ran side by side is in the record, as computed
        reports = {(r.trial, r.epoch): r.val_loss for r in Record(sweep_dir / "record").reports()}
        expected = {}
        for row in rows:
            result = json.loads((sweep_dir / row["job_dir"] / "result.json").read_text())
            for epoch in range(1, result["epochs"] + 1):
                expected[int(row["trial"]), epoch] = result["value"] * (1 + 1 / epoch)
        assert reports == expected
    assert points["auto"] == points["batch"]


def test_refill_never_launches_a_running_point_again(sweep_dir: Path) -> None:
    """A point proposed while others run is never one of those: on a two-point space the
    refilling sweep runs each point once and ends, though n_trials is larger."""
    multirun(sweep_dir, "kind=a,b", *JOBLIB, "hydra.sweeper.n_trials=4",
             "hydra.sweeper.n_initial_points=1")
    rows = read_rows(sweep_dir)
    assert sorted(r["kind"] for r in rows) == ["a", "b"]
    assert [la.job for la in Record(sweep_dir / "record").launches()] == [0, 1]


def test_submitit_refills_a_free_slot_at_once(sweep_dir: Path) -> None:
    multirun(
        sweep_dir, *SPACE, "hydra/launcher=submitit_local", "hydra.sweeper.n_jobs=2",
        "hydra.sweeper.n_trials=3", "hydra.sweeper.n_initial_points=2", "slow_job=0",
        "slow_sleep=6",
    )  # fmt: skip
    times = job_times(sweep_dir)
    assert times[3][0] < max(times[1][1], times[2][1])


def test_refill_is_refused_with_the_basic_launcher(sweep_dir: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        multirun(sweep_dir, *SPACE, "hydra.sweeper.schedule=refill", "hydra.sweeper.n_jobs=2")
    assert caught.value.code == 2
    assert "hydra.sweeper.schedule" in str(caught.value.__cause__)
    assert not sweep_dir.exists()


@pytest.mark.parametrize(
    "setting, message",
    [
        ("hydra.sweeper.pruner.kind=hyperband", "unknown value 'hyperband'"),
        ("hydra.sweeper.pruner.eta=1", "must be >= 2"),
        ("hydra.sweeper.pruner.max_epochs=1", "leaves no epoch to judge"),
    ],
)
def test_bad_pruner_settings_fail_before_any_trial(sweep_dir: Path, setting, message) -> None:
    with pytest.raises(SystemExit) as caught:
        multirun(sweep_dir, *SPACE, "hydra.sweeper.pruner.kind=asha", setting)
    assert message in str(caught.value.__cause__)
    assert not sweep_dir.exists()


@pytest.mark.parametrize("last, top, warned", [(2, [], True), (3, [], False),
                                                (2, ["hydra.sweeper.pruner.max_epochs=9"], True)])
def test_a_pruner_that_can_judge_no_epoch_of_the_trials_is_a_warning(
        sweep_dir: Path, caplog: pytest.LogCaptureFixture, last: int, top: list[str],
        warned: bool) -> None:
    """Rungs from min_epochs=2 under trainer.max_epochs=2: no trial can be stopped (one at
    its last epoch ran its full budget, whatever the top of the ladder above it), which the
    sweep's start says, with the fix."""
    with caplog.at_level(logging.WARNING, logger="tsbench.search.sweep"):
        multirun(sweep_dir, *SPACE, "hydra.sweeper.n_trials=2", f"epochs={last}",
                 f"+trainer.max_epochs={last}", "hydra.sweeper.pruner.kind=asha",
                 "hydra.sweeper.pruner.min_epochs=2", *top)
    message = ("pruner asha stops no trial: its first epoch judged, min_epochs=2, is not below "
               "the trials' last, trainer.max_epochs=2")
    assert (message in caplog.text) is warned
    assert ("lower hydra.sweeper.pruner.min_epochs or raise trainer.max_epochs"
            in caplog.text) is warned


def test_joblib_with_one_worker_runs_a_sweeps_trials_one_at_a_time_in_their_own_folders(
        sweep_dir: Path) -> None:
    """joblib with one worker runs each job inside the calling thread of the sweep's process
    (no worker process), as the basic launcher does; refilled from several threads at
    once, trials ran side by side in one process and took each other's Hydra config: two
    trials wrote into one job folder. Such a sweep runs in batches, one trial at a time."""
    multirun(sweep_dir, *SPACE, "hydra/launcher=joblib", "hydra.launcher.n_jobs=1",
             "hydra.sweeper.n_jobs=2", "hydra.sweeper.n_trials=4", "sleep=0.3")
    rows = read_rows(sweep_dir)
    assert sorted(r["job_dir"] for r in rows) == ["0", "1", "2", "3"]
    spans = []
    for row in rows:  # each trial's own result, in its own folder
        result = json.loads((sweep_dir / row["job_dir"] / "result.json").read_text())
        assert float(row["objective"]) == pytest.approx(result["value"])
        spans.append((result["start"], result["end"]))
    spans.sort()  # as they ran: none began before the one before it had ended
    assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:], strict=False))


def test_refill_is_refused_with_joblib_on_one_worker(sweep_dir: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        multirun(sweep_dir, *SPACE, "hydra/launcher=joblib", "hydra.launcher.n_jobs=1",
                 "hydra.sweeper.schedule=refill", "hydra.sweeper.n_jobs=2")
    assert caught.value.code == 2
    assert "hydra.launcher.n_jobs=1" in str(caught.value.__cause__)
    assert not sweep_dir.exists()
