"""tsbench-report on a search's sweep folder: a validation-only table of its trials, read from
its own record, with the trial numbers of trials.csv, the values tried, val MSE and MAE, the
epochs run and how each trial ended; the trials that ran to their end (full budget, or early
stopping, which says so with its epoch) by val MSE with best.yaml's marked best, the pruned
ones apart and labelled with their shorter budget, no test figure; a killed and then resumed
search reads without error (README, The report)."""

from __future__ import annotations

import csv
import json
import re
import shutil
import signal
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, TINY, read_metrics, run_tsbench
from tests.report.conftest import report
from tsbench.report.cli import main
from tsbench.report.collect import collect
from tsbench.search.names import DEFINITION_FILE, TRIALS_FILE
from tsbench.search.rebuild import LOST
from tsbench.search.record import RECORD_DIR, Launch, Record
from tsbench.tuning_files import STATE_FILE, SUMMARY_FILE

#: A tiny real search: DLinear and the seasonal-naive baseline (which refuses seq_len=12,
#: shorter than its period 24: a failed trial), a learning rate of 1e-5 that ASHA prunes at
#: its first rung (3 epochs, rungs at 1 and 2), every point of the space but two, at random.
SEARCH = [
    "hydra/sweeper=skopt", "dataset=synthetic", "dataset.n_rows=600", "pred_len=12",
    "data.batch_size=32", "logger=none", "plots=false", "hydra.sweeper.plots=false",
    "trainer=debug", "trainer.max_epochs=3", "trainer.num_threads=1",
    "seq_len=choice(12, 48)", "model=dlinear,seasonal_naive", "optim.lr=choice(1e-05, 0.03)",
    "hydra.sweeper.n_trials=6", "hydra.sweeper.mode=random", "hydra.sweeper.random_state=0",
    "hydra.sweeper.pruner.kind=asha", "hydra.sweeper.pruner.min_epochs=1",
    "hydra.sweeper.pruner.eta=2", "hydra.sweeper.max_failure_rate=1.0",
]  # fmt: skip
SECTION = "## Search trials (validation only): "


def trials_csv(sweep: Path) -> list[dict[str, str]]:
    with open(sweep / "trials.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def section(text: str) -> str:
    """The report's section of the search's trials (up to the next section)."""
    assert text.count(SECTION) == 1, text
    return text.split(SECTION, 1)[1].split("\n## ", 1)[0]


def table(text: str) -> list[dict[str, str]]:
    """The rows of the trials' Markdown table, by column name."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    names = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(names, (c.strip() for c in line.strip("|").split("|")), strict=True))
            for line in lines[2:]]


@pytest.mark.heavy(30)
def test_a_search_reports_its_trials_on_validation_only(tmp_path: Path) -> None:
    sweep = tmp_path / "search"
    run_tsbench(SEARCH, sweep, multirun=True)
    recorded = trials_csv(sweep)
    by_status = {s: [r for r in recorded if r["status"] == s] for s in ("ok", "pruned", "failed")}
    assert len(by_status["ok"]) >= 2 and by_status["pruned"] and by_status["failed"], recorded
    tested = tmp_path / "tested"  # a run that scored the test split, reported beside it
    run_tsbench([*TINY, "trainer.max_epochs=1"], tested)
    test_figures = {f"{v:.4f}" for k, v in read_metrics(tested).items()
                    if k.startswith("test_") and isinstance(v, float)}

    text = report(sweep, tested).stdout
    assert "| test MSE" in text  # the test report of the run that scored it stands above
    trials = section(text)
    rows = table(trials)
    assert list(rows[0]) == ["trial", "seq_len", "model", "optim.lr", "val MSE", "val MAE",
                             "epochs", "state"]  # no test column
    assert not [f for f in test_figures if f in trials]
    assert not re.search(r"\btest (MSE|MAE)|95 %|Holm|p=|rank", trials)
    assert "validation only" in trials and "never read the test split" in trials

    # full-budget trials first, by val MSE, then the pruned, then the failed: trials.csv's
    # numbers, each once
    full = sorted(by_status["ok"], key=lambda r: (float(r["objective"]), int(r["trial"])))
    pruned = sorted(by_status["pruned"], key=lambda r: float(r["objective"]))
    expected = [r["trial"] for r in [*full, *pruned, *by_status["failed"]]]
    assert [r["trial"] for r in rows] == expected
    shown = {r["trial"]: r for r in rows}
    for row in recorded:
        assert [shown[row["trial"]][k] for k in ("seq_len", "model")] == [row["seq_len"],
                                                                         row["model"]]
        assert float(shown[row["trial"]]["optim.lr"]) == float(row["optim.lr"])

    best = yaml.safe_load((sweep / "best.yaml").read_text())
    marked = [r for r in rows if "best" in r["state"]]
    assert [r["trial"] for r in marked] == [str(best["trial"])] == [rows[0]["trial"]]
    assert marked[0]["val MSE"] == f"**{best['objective']:.6g}**"
    assert str(sweep / "best.yaml") in trials
    first = read_metrics(sweep / best["job_dir"])
    assert float(marked[0]["val MAE"]) == pytest.approx(first["val_mae"], rel=1e-5)
    assert marked[0]["epochs"] == f"{first['epochs']} of 3"

    for row in by_status["pruned"]:
        epoch = row["pruned_at_epoch"]
        cells = shown[row["trial"]]
        assert cells["val MSE"] == f"{float(row['objective']):.6g} (after {epoch} of 3 epochs)"
        assert cells["epochs"] == f"{epoch} of 3" and cells["state"] == f"pruned at epoch {epoch}"
        assert cells["val MAE"] == "–"  # a pruned trial scored no full validation
    assert "not a full budget's" in trials
    for row in by_status["failed"]:
        cells = shown[row["trial"]]
        assert cells["state"].startswith("failed: model.period") and cells["val MSE"] == "–"
    untrained = [r["trial"] for r in by_status["ok"] if r["model"] == "seasonal_naive"]
    assert untrained and all(shown[t]["state"] == "untrained model: no epochs"  # no weights
                             for t in untrained)  # to train: no budget ran, none cut short

    page = report(sweep, "-o", tmp_path / "report.html").stdout  # the HTML page alone
    html = (tmp_path / "report.html").read_text()
    assert page == "" and "Search trials (validation only)" in html
    assert html.count('<tr class="best main">') == 1
    best_row = html.split('<tr class="best main">', 1)[1].split("</tr>", 1)[0]
    assert f'data-label="trial">{best["trial"]}<' in best_row
    assert "after 1 of 3 epochs" in html and "test MSE" not in html

    # a form the trials' table has none in: refused where it is all, else left out, said
    alone = report(sweep, "--format", "csv", check=False)
    assert (alone.returncode, alone.stdout) == (2, "")
    assert alone.stderr.splitlines()[-1] == (
        f"tsbench-report: error: {sweep}: a search's table of trials is Markdown and HTML "
        "only -> drop --format (or give -o a .md or .html file)")
    beside = report(sweep, tested, "--units", "original")
    assert SECTION not in beside.stdout and "| test MSE" in beside.stdout
    assert (f"tsbench-report: warning: left out of the original-unit report: the validation "
            f"table of the search {sweep} (scaled scores only) -> tsbench-report {sweep}"
            ) in beside.stderr.splitlines()


@pytest.mark.heavy(30)
def test_a_killed_then_resumed_search_reads_without_error(tmp_path: Path) -> None:
    """Killed as its third trial starts (tests/search/app/kill_at_start.py), the search's
    table shows its two ended trials and the third as launched without a result, and a
    warning names the killed job's folder; resumed, the relaunched trial with its note, and
    no warning of the folder that the record says the relaunch replaced. With early stopping
    (patience 1) and a learning rate that grows 4x per epoch
    (tests/training/test_best_weights.py's), lr 0.03 overshoots after its first epoch: early
    stopping ends it at epoch 2 of 3, which its state says, ranked among the full-budget
    trials by its val MSE (as the sweep ranks it)."""
    sweep = tmp_path / "search"
    args = [*TINY, "hydra/sweeper=skopt", "hydra.sweeper.plots=false",
            "optim.lr=choice(0.001, 0.01, 0.03)", "hydra.sweeper.n_trials=3",
            "hydra.sweeper.random_state=0", "trainer.max_epochs=3", "trainer.patience=1",
            "optim=adamw_step", "optim.step_size=1", "optim.gamma=4"]
    killed = run_tsbench([*args, "+hydra.callbacks.kill._target_="
                          "tests.search.app.kill_at_start.KillAtJobStart",
                          "+hydra.callbacks.kill.job=2"], sweep, env={"PYTHONPATH": str(ROOT)},
                         multirun=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert [r["trial"] for r in trials_csv(sweep)] == ["1", "2"]

    before = report(sweep)  # the killed job's folder, not launched again yet: said
    assert before.stderr.splitlines() == [
        "tsbench-report: warning: left out 1 job folder without metrics.json (killed, failed "
        f"or still running), e.g. {(sweep / '2').resolve()}"]
    trials = section(before.stdout)
    rows = table(trials)
    assert sorted(r["trial"] for r in rows[:2]) == ["1", "2"]
    assert rows[2]["trial"] == "3" and rows[2]["state"].startswith("no result")
    assert rows[2]["val MSE"] == "–" and "hydra.sweeper.resume=true" in trials
    launched = json.loads((sweep / "record" / "jobs" / "2.json").read_text())
    assert float(rows[2]["optim.lr"]) == float(launched["point"]["optim.lr"])

    run_tsbench([*args, "hydra.sweeper.resume=true"], sweep, multirun=True)
    # no line on the missing results table (the trials' table says they scored no test),
    # none on the killed job's folder: the record relaunched its job, as the table says
    alone = report(sweep)
    assert alone.stderr == ""
    trials = section(alone.stdout)
    rows = table(trials)
    recorded = sorted(trials_csv(sweep), key=lambda r: float(r["objective"]))
    assert [r["trial"] for r in rows] == [r["trial"] for r in recorded]  # by val MSE
    ran = {r["trial"]: read_metrics(sweep / r["job_dir"]) for r in recorded}
    stopped = {t: m for t, m in ran.items() if m["epochs"] < 3}
    # the construction holds: one trial stopped a patience after its best epoch
    assert [(m["best_epoch"], m["epochs"]) for m in stopped.values()] == [(1, 2)], ran
    for row in rows:
        state = ("early stopping at epoch 2 (patience 1)" if row["trial"] in stopped
                 else "full budget")
        assert row["state"].startswith(state), rows
        assert row["epochs"] == f"{ran[row['trial']]['epochs']} of 3"
    assert "Early stopping: trainer.patience epochs without a better val loss" in trials
    relaunched = [r for r in rows if "relaunched: job 2 died with the sweep" in r["state"]]
    assert [r["trial"] for r in relaunched] == ["3"]
    # a trial's run copied out of its search is none of its trials: a line says why no
    # results table stands above the search's
    shutil.copytree(sweep / recorded[0]["job_dir"], tmp_path / "copied")
    beside = report(sweep, tmp_path / "copied")
    assert beside.stderr.splitlines()[-1].startswith(
        "tsbench-report: warning: no results table: none of the 4 finished runs under "
    ), beside.stderr
    assert SECTION in beside.stdout


def test_only_a_lost_launch_launched_again_leaves_its_folder_out_silently(tmp_path: Path
                                                                           ) -> None:
    """Of two launches a resume marked lost (a hand-made record and job folders, in
    process), the one it launched again (its relaunch lists it in ``lost_jobs``) is left out
    without a word; the one it did not (outside the space a resume=force narrowed) is warned
    of, as a killed job is."""
    sweep = tmp_path.resolve() / "sweep"
    record = Record(sweep / RECORD_DIR)
    for job in (0, 1):
        (sweep / str(job) / ".hydra").mkdir(parents=True)
        (sweep / str(job) / ".hydra" / "config.yaml").write_text("seed: 1\n")
        (sweep / str(job) / ".hydra" / "hydra.yaml").write_text(f"hydra: {{job: {{num: {job}}}}}")
        record.ended(Launch(job + 1, job, {"optim.lr": "0.01"}, 0.0), LOST)
    record.ended(Launch(1, 2, {"optim.lr": "0.01"}, 1.0, lost_jobs=(0,)), "ok")
    warnings: list[str] = []
    collect([sweep], "test_mse", warnings.append)
    assert warnings == [f"left out 1 job folder without metrics.json (killed, failed or still "
                        f"running), e.g. {sweep / '1'}"]


@pytest.mark.heavy(20)
def test_a_cross_validated_searchs_epochs_count_every_fold(tmp_path: Path) -> None:
    """A cv=tscv trial trains every fold on the budget: a full one's epochs are out of
    budget x folds; a pruned one (judged in its first fold) names that fold. With early
    stopping (patience 1) and a learning rate that grows 4x per epoch, the full trial's
    first fold is best at epoch 1 and stops at 2, its second runs its 3: its state names the
    fold and epoch that early stopping ended, from each fold's best epoch."""
    sweep = tmp_path / "search"
    run_tsbench([*TINY, "hydra/sweeper=skopt", "hydra.sweeper.plots=false",
                 "trainer.max_epochs=3", "trainer.patience=1", "optim=adamw_step",
                 "optim.step_size=1", "optim.gamma=4", "cv=tscv", "cv.n_splits=2",
                 "optim.lr=choice(1e-05, 0.03, 0.01)", "hydra.sweeper.n_trials=3",
                 "hydra.sweeper.mode=random", "hydra.sweeper.random_state=0",
                 "hydra.sweeper.pruner.kind=asha", "hydra.sweeper.pruner.min_epochs=1",
                 "hydra.sweeper.pruner.eta=2"], sweep, multirun=True)
    recorded = trials_csv(sweep)
    assert {r["status"] for r in recorded} == {"ok", "pruned"}, recorded
    trials = section(report(sweep).stdout)
    assert "mean over its cv=tscv folds' validation blocks (cv_val_mse_mean)" in trials
    shown = {r["trial"]: r for r in table(trials)}
    for row in recorded:
        cells = shown[row["trial"]]
        metrics = read_metrics(sweep / row["job_dir"])
        if row["status"] == "ok":
            assert [metrics["fold_0_best_epoch"], metrics["fold_1_best_epoch"]] == [1, 2]
            assert cells["epochs"] == f"{metrics['epochs']} of 6 (2 folds)" == "5 of 6 (2 folds)"
            assert cells["state"] == ("early stopping in fold 1 at epoch 2 (patience 1), best "
                                      "(best.yaml)")
            assert float(cells["val MAE"]) == pytest.approx(metrics["cv_val_mae_mean"],
                                                            rel=1e-5)
        else:
            epoch = row["pruned_at_epoch"]
            assert cells["epochs"] == f"{epoch} of 3 in fold 1"
            assert cells["val MSE"].endswith(f"(after {epoch} of 3 epochs in fold 1)")


def test_a_damaged_search_or_tuning_folder_is_skipped_with_a_warning(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A search whose search.yaml is damaged and a tsbench-tune folder whose report.json is
    are each left out with one warning naming the file (hand-made folders, in process);
    nothing else here, so the report ends in its error."""
    search, tune = tmp_path / "search", tmp_path / "tune"
    search.mkdir()
    tune.mkdir()
    (search / TRIALS_FILE).write_text("trial,job,status,objective\n")
    (search / DEFINITION_FILE).write_text("params: {optim.lr: [unclosed\n")
    (tune / STATE_FILE).write_text("{}")
    (tune / SUMMARY_FILE).write_text("{cut")
    assert main([str(tmp_path)]) == 2
    said = capsys.readouterr().err.splitlines()
    assert said[:2] == [
        f"tsbench-report: warning: skipped the tsbench-tune folder {tune.resolve()}: "
        f"{tune.resolve() / SUMMARY_FILE} is unreadable: Expecting property name enclosed in "
        "double quotes: line 1 column 2 (char 1)",
        f"tsbench-report: warning: skipped the trials of the search in {search}: "
        f"{search / DEFINITION_FILE} is damaged (ParserError)"], said
    assert said[2].startswith("tsbench-report: error: no finished run") and len(said) == 3
