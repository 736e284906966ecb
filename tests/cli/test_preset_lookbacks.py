"""A search preset's look-backs are the hourly benchmarks' (96 to 720): on a series they do
not suit, the sweep says so once before its first trial, with the look-backs that
``tsbench-analyze`` suggests for the same series as the override to paste; look-backs
swept on the command line, where too long for half of the training rows, too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.preloaded import run_module
from tsbench.cli import check_command_line

#: A daily series of 1000 rows with a weekly cycle: 700 training rows, of which half less
#: pred_len=14 leave look-backs up to 336 half of them a window.
DAILY = ["dataset=synthetic", "dataset.n_rows=1000", "dataset.freq=D", "dataset.periods=[7]",
         "features=S", "pred_len=14", "trainer=debug", "logger=none", "plots=false"]
#: The fix for DAILY: tsbench-analyze's line for it (its 33 candidates' ladder, 28 to 224).
PASTE = ("-> paste 'seq_len=choice(28,56,112,224)' on the command line, in place of the "
         "preset's (multiples of synthetic's period 7 that leave half of its training rows a "
         "window, as tsbench-analyze suggests)")
#: The same fix for look-backs swept on the command line.
PASTE_HERE = PASTE.replace("on the command line, in place of the preset's", "in its place")
#: An hourly series with a weekly cycle alone: 96 and 192 hold less than two of them.
WEEKLY = ["dataset=synthetic", "dataset.n_rows=4000", "dataset.periods=[168]", "pred_len=96",
          "trainer=debug", "logger=none", "plots=false"]


def _warnings(argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The warnings the command line ``argv`` gets before Hydra runs (in-process, as the
    CLI checks it); nothing written."""
    monkeypatch.chdir(tmp_path)
    check_command_line(argv)
    assert list(tmp_path.iterdir()) == []
    return [line for line in capsys.readouterr().err.splitlines() if "warning" in line]


@pytest.mark.parametrize("args, said", [
    (["search=patchtst_bo", *DAILY], "hydra.sweeper.params seq_len: choice(96, 192, 336, 512) "
     "does not suit synthetic: seq_len=512 leaves fewer than half of its 700 training rows a "
     f"window (at most 336 does, at pred_len=14) {PASTE}"),
    (["search=random", *DAILY], "hydra.sweeper.params seq_len: choice(96, 192, 336, 512) "
     "does not suit synthetic: seq_len=512 leaves fewer than half of its 700 training rows a "
     f"window (at most 336 does, at pred_len=14) {PASTE}"),
    (["search=grid", *DAILY], "hydra.sweeper.params seq_len: 96,336,512 does not suit "
     "synthetic: seq_len=512 leaves fewer than half of its 700 training rows a window (at "
     f"most 336 does, at pred_len=14) {PASTE}"),
    # long enough for every look-back, but a weekly cycle the shortest do not hold twice
    (["search=patchtst_bo", *WEEKLY], "hydra.sweeper.params seq_len: choice(96, 192, 336, "
     "512) does not suit synthetic: seq_len=96,192 hold fewer than two cycles of its period "
     "168 -> paste 'seq_len=choice(336,672)' on the command line, in place of the preset's "
     "(multiples of synthetic's period 168 that leave half of its training rows a window, as "
     "tsbench-analyze suggests)"),
    # no period: the preset's look-backs that leave half of the training rows a window
    (["search=patchtst_bo", *DAILY, "dataset.periods=[]"], "hydra.sweeper.params seq_len: "
     "choice(96, 192, 336, 512) does not suit synthetic: seq_len=512 leaves fewer than half "
     "of its 700 training rows a window (at most 336 does, at pred_len=14) -> sweep "
     "look-backs of at most 336 on the command line, in place of the preset's, e.g. "
     "seq_len=choice(96,192,336) (tsbench-analyze finds no period in synthetic's training "
     "rows)"),
    # the user's own look-backs, a search's or a plain multirun's: the half rule alone (12
    # holds one weekly cycle: the user's choice)
    (["search=patchtst_bo", *DAILY, "seq_len=choice(12,512)"], "the sweep "
     "seq_len=choice(12,512) does not suit synthetic: seq_len=512 leaves fewer than half of "
     f"its 700 training rows a window (at most 336 does, at pred_len=14) {PASTE_HERE}"),
    (["-m", *DAILY, "seq_len=14,512"], "the sweep seq_len=14,512 does not suit synthetic: "
     "seq_len=512 leaves fewer than half of its 700 training rows a window (at most 336 "
     f"does, at pred_len=14) {PASTE_HERE}"),
])  # fmt: skip
def test_a_presets_look_backs_the_series_does_not_suit_are_one_warning(
        args: list[str], said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert _warnings(args, tmp_path, monkeypatch, capsys) == [f"tsbench: warning: {said}"]


@pytest.mark.parametrize("args", [
    # the suggested look-backs, pasted
    ["search=patchtst_bo", *DAILY, "seq_len=choice(28,56,112,224)"],
    ["search=grid", *DAILY, "seq_len=choice(28,56,112,224)"],
    # the user's own look-backs, shorter than two cycles: their choice
    ["search=patchtst_bo", *WEEKLY, "seq_len=choice(96,336)"],
    # a series the preset suits: 2100 training rows, a daily cycle
    ["search=patchtst_bo", *WEEKLY, "dataset.periods=[24]", "dataset.n_rows=3000"],
    # no one horizon, or folds, to judge by
    ["search=patchtst_bo", *DAILY, "pred_len=choice(14,28)"],
    ["search=patchtst_bo", *DAILY, "cv=tscv", "cv.n_splits=2", "cv.test_size=50"],
])  # fmt: skip
def test_look_backs_that_suit_the_series_or_are_the_users_own_are_not_warned_of(
        args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert _warnings(args, tmp_path, monkeypatch, capsys) == []


@pytest.mark.heavy
def test_the_warning_comes_once_before_the_first_trial_and_goes_into_its_log(
        tmp_path: Path) -> None:
    """Through the real CLI and sweeper: on stderr once (said before Hydra runs), and in
    the trial's log file, as a run's own warnings are; the sweep runs."""
    sweep = tmp_path / "sweep"
    proc = run_module("tsbench", [
        "search=patchtst_bo", *DAILY, "hydra.sweeper.n_trials=1",
        "hydra.sweeper.n_initial_points=1", "trainer.max_epochs=1",
        f"hydra.sweep.dir={sweep}"], {**os.environ, "OMP_NUM_THREADS": "1"}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    said = "tsbench: warning: hydra.sweeper.params seq_len: choice(96, 192, 336, 512)"
    assert proc.stderr.count(said) == 1
    assert (sweep / "trials.csv").read_text().count("\n") == 2  # its one trial ran
    logs = list((sweep / "0").glob("*.log"))
    assert len(logs) == 1 and PASTE in logs[0].read_text()
