"""A count in a message takes its noun's singular for one, its plural for any other count
(zero too), in counted.py and in every message that counts with it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from tsbench.counted import counted, noun_for, word_for
from tsbench.data.splits import Borders
from tsbench.forecast.intervals import check_levels
from tsbench.report.collect import _chosen_rerun
from tsbench.report.table import unscored_text
from tsbench.search.loop import cut_note, relaunch_note, retry_note
from tsbench.search.names import BEST_FILE
from tsbench.training.evaluate import mase_undefined_warning
from tsbench.training.flat_channels import flat_warning
from tsbench.training.run import _warn_few_val_windows


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert counted(1, "trial") == "1 trial"
    assert counted(1, "random trial") == "1 random trial"
    assert [counted(n, "trial") for n in (0, 2, 12)] == ["0 trials", "2 trials", "12 trials"]
    assert [noun_for(n, "job") for n in (0, 1, 2)] == ["jobs", "job", "jobs"]
    assert [word_for(n, "is", "are") for n in (0, 1, 2)] == ["are", "is", "are"]


def test_a_run_warning_names_one_channel_or_several() -> None:
    mase = mase_undefined_warning([{"channels": ["OT"], "where": "", "key": "test_mase"},
                                   {"channels": ["a", "b"], "where": "fold_0 ",
                                    "key": "val_mase"}])
    assert "exact on a scored channel's training rows (constant?), so MASE would divide by 0: " \
           "test_mase (channel OT); fold_0 val_mase (channels a, b) -> " in mase
    entry = {"channel": "peg", "train_rows": [0, 80], "train_std": 0.0, "val_rows": [80, 100],
             "val_std": 1.0, "spread_ratio": None, "share_of_val_mse": 0.9}
    holdout = OmegaConf.create({"cv": {"name": "holdout"}, "dataset": {"split": "ratio"}})
    assert flat_warning(holdout, [entry]).startswith(
        "scaled scores distorted by a channel (near-)constant over the scaler's training rows")
    assert flat_warning(holdout, [entry, {**entry, "channel": "pin"}]).startswith(
        "scaled scores distorted by channels (near-)constant over the scaler's training rows")


def test_coverage_levels_out_of_range_are_named_as_one_or_several() -> None:
    with pytest.raises(ValueError, match=r"^intervals: level \[1.0\] is not in \(0, 1\)"):
        check_levels([0.5, 1.0])
    with pytest.raises(ValueError, match=r"^intervals: levels \[0, 1.5\] are not in \(0, 1\)"):
        check_levels([0, 0.5, 1.5])


def test_a_published_number_counts_the_windows_it_left_unscored() -> None:
    assert [unscored_text(n) for n in (0, 1, 10)] == [
        "0 windows unscored", "1 window unscored", "10 windows unscored"]


def test_a_trials_csv_note_names_its_job_or_jobs() -> None:
    assert retry_note([3]) == "retried: job 3 failed"
    assert retry_note([1, 2]) == "retried: jobs 1, 2 failed"
    assert cut_note([4, 7]) == "resumed: jobs 4, 7 stopped at max_seconds"
    assert relaunch_note([0, 5]) == "relaunched: jobs 0, 5 died with the sweep"


def test_the_search_trials_left_out_name_each_sweeps_best_yaml(tmp_path: Path) -> None:
    """Trials of three searches, left out for score_test=false: the first search's
    best.yaml, then how many more searches have one."""
    trials = []
    for search in ("a", "b", "c"):
        (tmp_path / search).mkdir()
        (tmp_path / search / BEST_FILE).write_text("")
        trials.append(tmp_path / search / "0")
    two = _chosen_rerun("score_test=false", trials[:2])
    assert f"run the command in {tmp_path / 'a' / BEST_FILE} (and the best.yaml of 1 more " \
           "sweep), which" in two
    assert "(and the best.yaml of 2 more sweeps)" in _chosen_rerun("score_test=false", trials)


def test_a_validation_split_of_one_window_or_more_says_how_many(
        caplog: pytest.LogCaptureFixture) -> None:
    cfg = OmegaConf.create({"cv": {"name": "holdout"}, "seq_len": 8, "pred_len": 4,
                            "model": {"_target_": "tsbench.models.dlinear.DLinear"}})
    for windows, said, them in ((1, "1 window", "it"), (3, "3 windows", "them")):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="tsbench.training.run"):
            _warn_few_val_windows(cfg, Borders(train=(0, 100), val=(88, 99 + windows),
                                               test=(100, 200)))
        assert [r.getMessage() for r in caplog.records] == [
            f"the validation split holds {said} of seq_len 8 + pred_len 4: early stopping, "
            "the best epoch and a search's objective rest on "
            f"{them} -> a shorter pred_len, or cv=tscv "
            "(validation blocks of the training rows)"]
