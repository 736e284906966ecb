"""What ``-o`` of tsbench-forecast and tsbench-report must not write over: tsbench's own
records, by folder kind and name (the CLIs' refusals: tests/forecast/test_forecast.py and
tests/report/test_report.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tsbench.errors import ConfigError
from tsbench.output_guard import check_output, owner


def _folders(root: Path) -> Path:
    """A sweep holding a finished run (0/), beside a tuning folder holding a search."""
    run = root / "sweep" / "0"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text("{}")
    (root / "sweep" / "multirun.yaml").write_text("{}\n")
    (root / "tune" / "d_random").mkdir(parents=True)
    (root / "tune" / "tune.json").write_text("{}")
    (root / "tune" / "d_random" / "trials.csv").write_text("trial\n")
    return root


@pytest.mark.parametrize("inside, kind", [
    ("sweep/0/metrics.json", "finished run"), ("sweep/0/config.yaml", "finished run"),
    ("sweep/0/tsbench.log", "finished run"), ("sweep/0/test_window_mse.npy", "finished run"),
    ("sweep/0/.hydra/overrides.yaml", "finished run"),
    ("sweep/0/checkpoints/best.ckpt", "finished run"),
    ("sweep/0/fold_2/checkpoints/best.ckpt", "finished run"),
    ("sweep/0/fold_2/val_window_mse.npy", "finished run"),
    ("sweep/multirun.yaml", "sweep"), ("sweep/best.yaml", "sweep"),
    ("sweep/record/jobs", "sweep"), ("tune/d_random/trials.csv", "sweep"),
    ("tune/tune.json", "tuning run"), ("tune/report.md", "tuning run"),
    ("tune/d_random.log", "tuning run"),
    ("sweep/0/fold_2/forecast.csv", None), ("sweep/0/forecast.csv", None),
    ("sweep/report.md", None), ("tune/forecast.csv", None), ("sweep/0/mine/metrics.json", None),
    ("elsewhere/metrics.json", None)])
def test_a_folders_own_records_are_told_from_files_of_ones_own(
        inside: str, kind: str | None, tmp_path: Path) -> None:
    root = _folders(tmp_path)
    spelt = root / "sweep" / "." / ".." / inside  # however the path is spelt
    found = owner(spelt)
    assert (found and found[0]) == kind
    if kind is None:
        check_output(spelt, "-o", "forecast.csv")
    else:
        with pytest.raises(ConfigError, match=f"is the {kind} .*'s own"):
            check_output(spelt, "-o", "forecast.csv")


def test_the_file_suggested_instead_is_not_itself_refused(tmp_path: Path) -> None:
    root = _folders(tmp_path)
    with pytest.raises(ConfigError, match=r"e\.g\. .*/tune/my_report\.md$"):
        check_output(root / "tune" / "report.md", "-o", "report.md")
