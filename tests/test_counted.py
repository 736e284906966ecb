"""A count in a message takes its noun's singular for one, its plural for any other count
(zero too), in counted.py and in every message that counts with it."""

from __future__ import annotations

from pathlib import Path

from tsbench.counted import counted, noun_for
from tsbench.report.collect import _chosen_rerun
from tsbench.report.table import unscored_text
from tsbench.search.loop import cut_note, relaunch_note, retry_note
from tsbench.search.names import BEST_FILE


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert counted(1, "trial") == "1 trial"
    assert counted(1, "random trial") == "1 random trial"
    assert [counted(n, "trial") for n in (0, 2, 12)] == ["0 trials", "2 trials", "12 trials"]
    assert [noun_for(n, "job") for n in (0, 1, 2)] == ["jobs", "job", "jobs"]


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
