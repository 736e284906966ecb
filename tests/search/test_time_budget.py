"""``hydra.sweeper.max_seconds``: no trial starts once the sweep has run that long; the
running ones end normally and the record stays complete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.search.conftest import multirun, read_rows
from tsbench.search.record import RECORD_DIR, Record

#: Seconds the sweep may start trials for: several 0.5 s trials, even on a busy worker where
#: the sweep's start-up and each job's bookkeeping take a good part of a second.
LIMIT = 5.0


def test_no_trial_starts_after_max_seconds(sweep_dir: Path) -> None:
    multirun(sweep_dir, "x=interval(0, 1)", "n=range(1, 6)", "sleep=0.5",
             "hydra.sweeper.n_trials=30", "hydra.sweeper.mode=random",
             f"hydra.sweeper.max_seconds={LIMIT}")
    rows = read_rows(sweep_dir)
    assert 2 <= len(rows) < 30  # stopped by time, not by the trial count (30 take 15 s)
    assert all(r["status"] == "ok" for r in rows)
    runs = [json.loads((sweep_dir / r["job_dir"] / "result.json").read_text()) for r in rows]
    # When the sweeper handed each job to the launcher, on its own clock: a trial's own start
    # comes later by Hydra's per-job set-up, which a busy worker can stretch past a second.
    launches = {launch.job: launch.started for launch in Record(sweep_dir / RECORD_DIR).launches()}
    assert sorted(launches) == sorted(int(r["job"]) for r in rows)
    assert all(run["start"] >= launches[int(r["job"])] for r, run in zip(rows, runs, strict=True))
    first = min(launches.values())
    # the last launch came before the limit (plus one proposal and its validation)
    assert max(launches.values()) - first < LIMIT + 0.5
    assert max(run["end"] for run in runs) - first >= LIMIT - 1.0  # it really used the time


def test_max_seconds_must_be_positive(sweep_dir: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        multirun(sweep_dir, "x=interval(0, 1)", "hydra.sweeper.max_seconds=0")
    assert exit_info.value.code == 2
    assert "hydra.sweeper.max_seconds: must be > 0" in capsys.readouterr().err
