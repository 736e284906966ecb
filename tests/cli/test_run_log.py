"""A run folder holds one log file, ``tsbench.log``, with the run's log lines (its
warnings, each the line the terminal shows, its time in front), or none where the run logs
nothing: Hydra's file handler made an empty ``cli.log`` (its job named after the module) in
every run folder, even with nothing to log."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import TINY, run_tsbench

#: TINY's model as one that logs nothing (a naive forecast trains nothing to warn about),
#: then as one that logs a warning (DLinear in two epochs of the debug trainer has not
#: learnt the series, and says so).
MODELS = "model=naive,dlinear"


#: A line of a job's log file: the line the terminal shows, its time in front.
STAMPED = re.compile(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] (tsbench: .*)")


def test_a_run_that_logs_nothing_has_no_log_file(tmp_path: Path) -> None:
    args = [a for a in TINY if not a.startswith("model")] + ["model=naive"]
    proc = run_tsbench(args, tmp_path / "run")
    assert "tsbench: warning:" not in proc.stderr
    assert (tmp_path / "run" / "metrics.json").is_file()
    assert sorted(p.name for p in (tmp_path / "run").glob("*.log")) == []


def test_each_job_folder_holds_its_log_lines_in_tsbench_log_or_no_log_file(
        tmp_path: Path) -> None:
    """A plain multirun's job that logs a warning has it in its folder's tsbench.log (the
    sweep's terminal names the job once at its end); the job that logs nothing has no log
    file."""
    args = [a for a in TINY if not a.startswith("model")] + [MODELS]
    proc = run_tsbench(args, tmp_path / "sweep", multirun=True)
    quiet, warned = tmp_path / "sweep" / "0", tmp_path / "sweep" / "1"
    assert (quiet / "metrics.json").is_file() and (warned / "metrics.json").is_file()
    assert sorted(p.name for p in quiet.glob("*.log")) == []
    assert sorted(p.name for p in warned.glob("*.log")) == ["tsbench.log"]
    logged = [STAMPED.fullmatch(line) for line in
              (warned / "tsbench.log").read_text().splitlines()]
    assert logged and all(logged), logged
    assert any("dlinear's val MSE" in line[1] for line in logged)  # the job's own warning
    # ... said on the terminal once for the sweep (naming the job), not as the job's line
    assert ("tsbench: warning: job 1 (1 of the 2 finished jobs) scores a val MSE worse than the "
            "better naive forecast's") in proc.stderr
