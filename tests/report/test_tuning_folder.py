"""``tsbench-report`` pointed at a tsbench-tune folder prints the tuning run's own result
table (report.json: its choices, each scored once on the test split in stage (g)), with
its protocol and why it is not pooled into cells: the stages' runs scored no test split,
and those rows are choices scored once, not configurations over seeds. A hand-made tuning
folder: a real stage run (score_test=false) and the record tsbench-tune writes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import read_metrics
from tests.report.conftest import report, tiny_run
from tsbench.tune.report import render_report
from tsbench.tuning_files import REPORT_FILE, STATE_FILE, SUMMARY_FILE


def _tuning_folder(out: Path) -> dict:
    """A finished tuning folder: its baseline stage's run, tune.json, report.json/.md."""
    baseline = str(tiny_run(out / "a_baseline", "seed=1", "score_test=false"))
    scored = {"objective": 0.27, "val_mse": 0.21, "test_mse": 0.4321, "test_mae": 0.5432,
              "test_mse_orig": 43.21, "test_mae_orig": 5.432}
    refit = {"objective": 0.27, "test_mse": 0.4123, "test_mae": 0.5234,
             "test_mse_orig": 41.23, "test_mae_orig": 5.234}
    summary = {
        "command": f"tsbench-tune dataset=synthetic model=dlinear out={out}",
        "wall_seconds": 61.0, "lr": {"suggestion": 1e-3, "low": 1e-4, "high": 1e-2},
        "lookbacks": [48], "stages": {"d_random": {"trials": 1, "full_budget": 1}},
        "selection": "validation", "members": [baseline], "best_single": baseline,
        "results": {"baseline": scored, "best single": scored, "ensemble": scored,
                    "baseline refit": refit, "best single refit": refit, "ensemble refit": refit},
        "top_configs": [], "trial_overrides": [], "ensemble_weights": {baseline: 1.0},
        "refit_epochs": {baseline: 2}, "refit_seeds": {baseline: [1]},
        "scored": "every channel (features=M)"}
    (out / STATE_FILE).write_text(json.dumps({"settings": {}, "stages": {}}))
    (out / SUMMARY_FILE).write_text(json.dumps(summary))
    (out / REPORT_FILE).write_text(render_report(summary))
    return summary


def test_a_tuning_folder_reports_its_own_result_table(tmp_path: Path) -> None:
    tune = tmp_path / "outputs" / "tune"
    _tuning_folder(tune)
    for given in (tune, tmp_path / "outputs"):  # the folder, or a folder above it
        proc = report(given)
        assert proc.stderr == ""
        out = proc.stdout
        assert out.startswith(f"## tsbench-tune {tune}\n")
        assert "dlinear on synthetic, pred_len 12: the tuning run's choices" in out
        assert "| test MSE | test MAE | test MSE (original units) | test MAE (original units) |" \
            in out
        # in original units each column as the report writes one: the decimals that give
        # its smallest figure 5 significant digits (41.230, 5.2340), for all its rows
        assert "| baseline | 1 | 0.2700 | 0.2100 | 0.4321 | 0.5432 | 43.210 | 5.4320 |" in out
        assert ("| ensemble refit | 1 | 0.2700 | (trained on) | 0.4123 | 0.5234 | 41.230 | "
                "5.2340 |") in out
        assert "stages (a)-(f) never read the test split" in out
        assert "scored once on the test split in stage (g)" in out
    # beside other runs: their table as ever, without the stages' runs, then the tuning's
    mse = read_metrics(tiny_run(tmp_path / "outputs" / "preset", "seed=1"))["test_mse"]
    proc = report(tmp_path / "outputs", "--baseline", "dlinear")
    assert proc.stderr == ""
    table, section = proc.stdout.split(f"## tsbench-tune {tune}\n")
    assert [line.split(" | ")[3] for line in table.splitlines()
            if line.startswith("| synthetic")] == [f"**{mse:.4f} (1)**"]
    assert "Not tested against --baseline dlinear" in section
    # another format: the runs' table, and a line naming the tuning folder's command
    proc = report(tmp_path / "outputs", "--format", "csv")
    assert "tsbench-tune" not in proc.stdout
    assert proc.stderr == (f"tsbench-report: warning: left out of the csv report: the result "
                           f"table of the tsbench-tune run {tune} (Markdown only) -> "
                           f"tsbench-report {tune}\n")
    proc = report(tune, "--format", "csv", check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "a tsbench-tune folder's result table is Markdown only -> drop --format" in (
        proc.stderr)


def test_an_unfinished_tuning_folder_says_to_finish_it(tmp_path: Path) -> None:
    tune = tmp_path / "tune"
    _tuning_folder(tune)
    (tune / SUMMARY_FILE).unlink()
    proc = report(tune, check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        f"tsbench-report: error: {tune} (dlinear on synthetic, pred_len 12) is a tsbench-tune "
        "run that has not finished: its stages score no test split, and stage (g), which "
        "scores its choices once, has not run (no report.json) -> finish it with the same "
        f"tsbench-tune command (out={tune})\n")


def test_a_tuning_run_that_ended_with_the_baseline_says_so(tmp_path: Path) -> None:
    """No search trial ran its full budget: its best single run and ensemble are the
    baseline, as report.md says in bold; the report's table of it says so too."""
    tune = tmp_path / "tune"
    summary = _tuning_folder(tune)
    said = ("no search trial ran its full budget (recipe.max_epochs=40), so the run ends with "
            "the baseline: every result is the preset's -> raise recipe.budget_hours")
    (tune / SUMMARY_FILE).write_text(json.dumps({**summary, "short_budget": said}))
    assert f"\nShort budget: {said}\n" in report(tune).stdout


def test_a_tuning_folder_of_an_older_tsbench_reports_its_table(tmp_path: Path) -> None:
    """A report.json written before its rows held their objective and their test scores in
    original units (and before selection, refits and the scored channels were recorded):
    its table, not a KeyError."""
    tune = tmp_path / "tune"
    summary = _tuning_folder(tune)
    results = {name: {k: v for k, v in row.items()
                      if k != "objective" and not k.endswith("_orig")}
               for name, row in summary["results"].items() if not name.endswith(" refit")}
    older = {k: v for k, v in summary.items() if k not in (
        "selection", "refit_epochs", "refit_seeds", "scored", "trial_overrides")}
    (tune / SUMMARY_FILE).write_text(json.dumps({**older, "results": results}))
    out = report(tune).stdout
    assert ("| baseline | 1 | (not saved) | 0.2100 | 0.4321 | 0.5432 | (not saved) | "
            "(not saved) |") in out
