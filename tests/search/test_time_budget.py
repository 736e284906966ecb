"""``hydra.sweeper.max_seconds``: no trial starts once the sweep has run that long; the
running ones end normally and the record stays complete."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.search.conftest import multirun, read_rows
from tsbench.counted import counted
from tsbench.search.record import RECORD_DIR, Record

#: Seconds the sweep may start trials for: several 0.5 s trials on an idle machine; on a busy
#: one, where Hydra's per-job set-up takes seconds, one or two.
LIMIT = 5.0


def test_no_trial_starts_after_max_seconds(sweep_dir: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    """Measured on the sweep's clock, which starts before its first launch (after its
    start line): the first launch's time stood in for that start, and on a busy machine,
    whose set-up before the first launch took over a second, the sweep seemed to stop
    early. Each trial after the first was launched because the one before ended inside
    the limit, and the sweep stopped launching only once the limit had passed."""
    with caplog.at_level(logging.INFO, logger="tsbench.search"):
        multirun(sweep_dir, "x=interval(0, 1)", "n=range(1, 6)", "sleep=0.5",
                 "hydra.sweeper.n_trials=30", "hydra.sweeper.mode=random",
                 f"hydra.sweeper.max_seconds={LIMIT}")
    rows = read_rows(sweep_dir)
    assert 1 <= len(rows) < 30  # stopped by time, not by the trial count (30 take 15 s)
    assert all(r["status"] == "ok" for r in rows)
    runs = [json.loads((sweep_dir / r["job_dir"] / "result.json").read_text()) for r in rows]
    # When the sweeper handed each job to the launcher, on its own clock: a trial's own start
    # comes later by Hydra's per-job set-up, which a busy worker can stretch past a second.
    launches = sorted(Record(sweep_dir / RECORD_DIR).launches(), key=lambda la: la.job)
    assert [la.job for la in launches] == [int(r["job"]) for r in rows]
    assert all(run["start"] >= launches[i].started for i, run in enumerate(runs))
    # each launch after the first: the sweep's clock, started before the first launch, read
    # less than LIMIT after the trial before it ended (its end is recorded before the check)
    ended = [la.ended for la in launches]
    assert None not in ended
    assert all(end - launches[0].started < LIMIT for end in ended[:-1])
    # the stop: said once, after the last trial ended, and only once LIMIT had passed since
    # the sweep's start line (logged just before its clock starts)
    start = next(r.created for r in caplog.records if r.getMessage().startswith("skopt sweep ("))
    [stop] = [r.created for r in caplog.records if r.getMessage() == (
        f"max_seconds={LIMIT:g} spent after {counted(len(rows), 'ended trial')}: "
        "no new trial is launched")]
    assert stop >= ended[-1] and stop - start >= LIMIT  # it really used the time


def test_max_seconds_must_be_positive(sweep_dir: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        multirun(sweep_dir, "x=interval(0, 1)", "hydra.sweeper.max_seconds=0")
    assert exit_info.value.code == 2
    assert "hydra.sweeper.max_seconds: must be > 0" in capsys.readouterr().err


CUT = ["epochs=200", "epoch_sleep=0.01", "hydra.sweeper.n_trials=1",
       "hydra.sweeper.pruner.kind=asha", "hydra.sweeper.pruner.min_epochs=500",
       "hydra.sweeper.pruner.stop_at_max_seconds=true", "hydra.sweeper.max_seconds=0.3"]


def test_a_trial_cut_at_max_seconds_outside_a_narrowed_space_is_said_not_relaunched(
        sweep_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The resume that would train it again cannot (resume=force left its point out of the
    space): one warning names it, and the sweep, whose trials then end pruned too, says it
    has no best trial."""
    multirun(sweep_dir, "kind=a,b", *CUT)
    [cut] = read_rows(sweep_dir)
    assert cut["status"] == "pruned" and cut["error"].startswith("max_seconds spent")
    other = "b" if cut["kind"] == "a" else "a"
    with caplog.at_level(logging.WARNING, logger="tsbench.search"):
        multirun(sweep_dir, f"kind={other},c", *CUT, "hydra.sweeper.n_trials=2",
                 "hydra.sweeper.resume=force")
    said = [r.getMessage() for r in caplog.records]
    assert (f"trial 1 (Hydra job #{cut['job']}) was stopped at max_seconds but lies outside "
            "the space changed by resume=force: not launched again") in said
    rows = read_rows(sweep_dir)
    assert rows[0] == cut and [r["status"] for r in rows] == ["pruned", "pruned"]
    assert any(m.startswith("none of the 2 trials ran its full budget (2 pruned)") for m in said)


def test_a_trial_cut_at_max_seconds_that_breaks_new_constraints_is_not_relaunched(
        sweep_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Proposals meet the constraints, and so must a resume's relaunches: a point that the
    constraints resume=force changed leave out is said once, never launched."""
    multirun(sweep_dir, "kind=a,b", *CUT)
    [cut] = read_rows(sweep_dir)
    with caplog.at_level(logging.WARNING, logger="tsbench.search"):
        multirun(sweep_dir, "kind=a,b", *CUT, "hydra.sweeper.n_trials=2",
                 f"hydra.sweeper.constraints=[\"kind != '{cut['kind']}'\"]",
                 "hydra.sweeper.resume=force")
    assert (f"trial 1 (Hydra job #{cut['job']}) was stopped at max_seconds but lies outside "
            "the space changed by resume=force: not launched again") in [
        r.getMessage() for r in caplog.records]
    rows = read_rows(sweep_dir)
    assert rows[0] == cut and len(rows) == 2 and rows[1]["kind"] != cut["kind"]


def test_a_relaunch_of_a_cut_trial_that_dies_is_lost_and_launched_again(
        sweep_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Trial 1 stopped by max_seconds (job 0) is launched again by a resume (job 1), whose
    sweep is killed before it ends: job 1 is lost, not taken as the end of trial 1's old
    row, and the next resume trains trial 1 once more (job 2) to its full budget, its row
    saying both."""
    multirun(sweep_dir, "kind=a,b", *CUT)
    [cut] = read_rows(sweep_dir)
    monkeypatch.setenv("QUAD_INTERRUPT_AT_JOB", "1")
    with pytest.raises(KeyboardInterrupt):
        multirun(sweep_dir, "kind=a,b", *CUT, "hydra.sweeper.resume=true")
    monkeypatch.delenv("QUAD_INTERRUPT_AT_JOB")
    multirun(sweep_dir, "kind=a,b", *CUT, "hydra.sweeper.max_seconds=60",
             "hydra.sweeper.resume=true")
    [row] = read_rows(sweep_dir)
    assert (row["trial"], row["job"], row["kind"], row["status"]) == ("1", "2", cut["kind"], "ok")
    assert row["error"] == ("resumed: job 0 stopped at max_seconds; relaunched: job 1 died "
                            "with the sweep")
    statuses = {la.job: la.status for la in Record(sweep_dir / RECORD_DIR).launches()}
    assert statuses == {0: "pruned", 1: "lost", 2: "ok"}
