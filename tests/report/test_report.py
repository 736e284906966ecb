"""tsbench-report through its real CLI: on real tiny runs (cells, protocol flags, paired
tests, ranks, what is left out and why) and on run directories saved before protocol cards
and per-window errors existed."""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from omegaconf import OmegaConf

from tests.conftest import ROOT, TINY, TOY_YAML, run_tsbench
from tests.report.conftest import ILI, Zoo, report, results
from tsbench.report.stats import diebold_mariano, dm_bandwidth, holm, with_seed_variance
from tsbench.rundir import read_config


def _rows(out: str) -> list[list[str]]:
    """The cells of the results tables' body rows (not those of a search's trials after
    them: tests/report/test_search_trials.py)."""
    return [[c.strip() for c in line.strip("|").split("|")] for line in results(out).splitlines()
            if line.startswith("| ") and not line.startswith(("| dataset", "| ---"))]


def _row(out: str, pred_len: int, label: str) -> list[str]:
    return next(r for r in _rows(out) if r[1] == str(pred_len) and r[2] == label)


def _n(value: str) -> int:
    """The n of a ``mean ± std (n)`` cell, bold or not."""
    return int(value.strip("*").rstrip(")").rsplit("(", 1)[-1].split()[0])


def _csv(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out)))


@pytest.mark.heavy
def test_a_folder_its_parent_and_twice_give_one_table(zoo: Zoo) -> None:
    alone = report(zoo.sweep).stdout
    for dirs in ([zoo.sweep, zoo.multirun], [zoo.multirun], [zoo.sweep, zoo.sweep]):
        proc = report(*dirs)
        assert proc.stdout == alone and proc.stderr == ""  # found once, not left out twice
    rows = _rows(alone)
    assert len(rows) == 4 and all(_n(r[3]) == 2 for r in rows)  # 2 seeds, never 4


def test_means_intervals_and_bold_from_the_runs(zoo: Zoo) -> None:
    out = report(zoo.sweep).stdout
    for pred_len in (24, 36):
        values = {}
        for model in ("dlinear", "naive"):
            runs = _runs(zoo.sweep, model, pred_len)
            values[model] = np.array([json.loads((r / "metrics.json").read_text())["test_mse"]
                                      for r in runs])
            assert len(values[model]) == 2
            row = _row(out, pred_len, model)
            mean, std = values[model].mean(), values[model].std(ddof=1)
            half = 12.706204736174707 * std / np.sqrt(2)  # t_{0.975, 1}
            if model == "naive":  # trains nothing: its seeds agree exactly, no interval
                assert std == 0 and row[3].strip("*") == f"{mean:.4f} (2 seeds, identical)"
                assert row[4] == "–"
            else:
                assert f"{mean:.4f} ± {std:.4f} (2)" in row[3]
                assert row[4] == f"[{mean - half:.4f}, {mean + half:.4f}]"
            assert row[-1] == "same"  # every run has a matching protocol card
        best = min(values, key=lambda m: values[m].mean())
        assert _row(out, pred_len, best)[3].startswith("**")
        worst = max(values, key=lambda m: values[m].mean())
        assert "**" not in _row(out, pred_len, worst)[3]


def _runs(sweep: Path, model: str, pred_len: int) -> list[Path]:
    """The job directories of ``sweep`` that ran ``model`` at ``pred_len``."""
    def matches(run_dir: Path) -> bool:
        text = (run_dir / "config.yaml").read_text()
        return f"  name: {model}\n" in text and f"\npred_len: {pred_len}\n" in text

    return [p.parent for p in sweep.glob("*/metrics.json") if matches(p.parent)]


def test_paired_tests_holm_and_ranks_match_the_saved_window_errors(zoo: Zoo, tmp_path: Path
                                                                   ) -> None:
    diagram = tmp_path / "cd.png"
    out = report(zoo.sweep, "--baseline", "dlinear", "--format", "csv", "--cd-diagram",
                 diagram).stdout
    rows = {(r["pred_len"], r["model"]): r for r in _csv(out)}
    p_values, widened = [], []
    for pred_len in (24, 36):
        def per_seed(model: str, pred_len: int = pred_len) -> np.ndarray:
            runs = _runs(zoo.sweep, model, pred_len)
            return np.stack([np.load(r / "test_window_mse.npy").astype(np.float64)
                             for r in runs])

        naive, dlinear = per_seed("naive"), per_seed("dlinear")
        assert len(dlinear) == 2 and np.ptp(dlinear.mean(axis=1)) > 0  # two seeds differ
        windows = diebold_mariano(naive.mean(axis=0), dlinear.mean(axis=0), pred_len)
        assert windows.df == 2 * dm_bandwidth(naive.shape[1], pred_len)
        # the cells' spread over seeds joins the windows' variance (test_stats pins how)
        expected = with_seed_variance(windows, naive, dlinear, pred_len)
        statistic, p_value, df = expected.statistic, expected.p_value, expected.df
        widened.append(expected.variance > windows.variance)
        row = rows[(str(pred_len), "naive")]
        assert float(row["p_value"]) == pytest.approx(p_value, rel=1e-9)
        assert float(row["dm_statistic"]) == pytest.approx(statistic, rel=1e-9)
        assert int(row["df"]) == df
        assert rows[(str(pred_len), "dlinear")]["vs_baseline"] == "baseline"
        p_values.append(p_value)
    assert any(widened)  # DLinear's seeds differ as wholes in one horizon at least
    adjusted = holm(np.array(p_values))
    for pred_len, p in zip((24, 36), adjusted, strict=True):
        row = rows[(str(pred_len), "naive")]
        assert float(row["p_holm"]) == pytest.approx(p, rel=1e-9)
        assert row["vs_baseline"] in ("better", "worse", "indistinguishable")
        assert (row["vs_baseline"] == "indistinguishable") == (p >= 0.05)
    text = report(zoo.sweep, "--baseline", "dlinear").stdout
    for pred_len, p in zip((24, 36), adjusted, strict=True):
        df = rows[(str(pred_len), "naive")]["df"]
        shown = "p<0.001" if p < 0.001 else f"p={p:.3f}"
        assert _row(text, pred_len, "naive")[7].endswith(f"({shown}, df {df})")
    assert "Holm-adjusted over the 2 tests of this report" in text and "Diebold-Mariano" in text
    assert "One seed of a trained model" not in text  # naive trains nothing: no spread
    assert ("Average ranks (1 = best test MSE) over 2 tables (ili/24, ili/36), all of 1 "
            "dataset (ili)") in text
    assert "No significance can be claimed across these tables" in text  # one dataset
    assert diagram.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_cd_diagram_without_ranks_is_not_written_and_says_why_in_one_line(
        zoo: Zoo, tmp_path: Path) -> None:
    """One model in one table has no average ranks: ``--cd-diagram`` writes no file, says so
    naming the file, why and what ranks need, and the report is still made (exit 0). (A
    copy of one of the zoo's naive runs: a run of its own would be the same run.)"""
    run_dir = tmp_path / "naive"
    shutil.copytree(_runs(zoo.sweep, "naive", 24)[0], run_dir)
    diagram = tmp_path / "cd.png"
    proc = report(run_dir, "--cd-diagram", diagram)
    assert proc.returncode == 0 and "| ili " in proc.stdout
    assert not diagram.exists()
    assert proc.stderr == (
        f"tsbench-report: warning: --cd-diagram {diagram}: not written, the report has no "
        "average ranks: ranks need the same 2 or more models in 2 or more (dataset, pred_len) "
        "tables with one configuration per model; this report has one such table -> report "
        "runs that make such tables, or drop --cd-diagram\n")


def test_a_trained_cell_of_one_seed_is_said_to_leave_its_seed_spread_untested(
        zoo: Zoo, tmp_path: Path) -> None:
    """DLinear's one seed beside naive: the test compares that run, not the model."""
    for run in [*_runs(zoo.sweep, "naive", 24), _runs(zoo.sweep, "dlinear", 24)[0]]:
        shutil.copytree(run, tmp_path / f"{run.parent.name}_{run.name}")
    text = report(tmp_path, "--baseline", "naive").stdout
    assert ("One seed of a trained model, so its spread over seeds is not in the test (it "
            "compares that run): ili/24 dlinear -> run more seeds") in text
    assert "(p" in _row(text, 24, "dlinear")[7]  # still tested, on its windows


def test_different_features_are_another_cell_and_flagged(zoo: Zoo) -> None:
    out = report(zoo.sweep, zoo.features_s, "--baseline", "dlinear").stdout
    s_row = _row(out, 24, "naive (features=S)")
    m_row = _row(out, 24, "naive (features=M)")
    assert _n(s_row[3]) == 1 and _n(m_row[3]) == 2
    assert "⚠" in s_row[8] and "features S (table: M)" in s_row[8]
    assert "not compared" in s_row[7] and "**" not in s_row[3]
    assert m_row[8] == "same" and "(p" in m_row[7]
    without_baseline = report(zoo.sweep, zoo.features_s).stdout  # the majority is M
    assert "features S (table: M)" in _row(without_baseline, 24, "naive (features=S)")[-1]


def test_sweep_trials_are_cells_of_their_own_and_searched(zoo: Zoo) -> None:
    """A look-back chosen on validation is how a model forecasts, not what is scored: such a
    cell is tested against a fixed one (the search never saw the test split)."""
    out = report(zoo.sweep, zoo.seq_sweep, "--baseline", "naive").stdout
    for seq_len in (24, 36):
        row = _row(out, 24, f"dlinear (seq_len: searched on val, seq_len={seq_len})")
        assert _n(row[3]) == 1  # one trial is not a seed of another
        assert row[8] == "same" and "(p" in row[7]
    fixed = _row(out, 24, "dlinear (seq_len: fixed, seq_len=36)")
    assert _n(fixed[3]) == 2 and "(p" in fixed[7]
    assert _row(out, 24, "naive")[8] == "same"


@pytest.mark.parametrize(("split", "on_test"), [("test", True), ("val+Test", True),
                                               ("val", False)])
def test_a_look_back_searched_on_test_is_never_compared(zoo: Zoo, tmp_path: Path, split: str,
                                                       on_test: bool) -> None:
    """A split named test in any spelling (free text: latest rows may be the test's too)."""
    sweep = tmp_path / "sweep"
    shutil.copytree(zoo.sweep, sweep)
    for run_dir in (p.parent for p in sweep.glob("*/metrics.json")):
        config = yaml.safe_load((run_dir / "config.yaml").read_text())
        if config["model"]["name"] == "dlinear":  # as if an earlier search chose it on test
            config["seq_len_searched_on"] = split
            (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
            card = json.loads((run_dir / "protocol.json").read_text())
            card["seq_len"].update(policy="searched", searched_on=split)
            (run_dir / "protocol.json").write_text(json.dumps(card))
    out = report(sweep, "--baseline", "naive").stdout
    flag = _row(out, 24, "dlinear")[8]
    assert (f"seq_len searched on {split} (selection on test)" in flag) is on_test
    assert ("(p" not in _row(out, 24, "dlinear")[7]) is on_test  # not tested
    # said once under the table, what that flag means
    assert ("\n\n⚠ seq_len searched on ... (selection on test): its look-back was chosen on a "
            "split named test, so its test score is optimistic" in out) is on_test


def test_a_look_back_chosen_earlier_is_named_once_in_a_label(zoo: Zoo, tmp_path: Path) -> None:
    # its config key and the card's fact said it twice: "seq_len: searched on val, ...,
    # seq_len_searched_on=val"
    sweep = tmp_path / "sweep"
    shutil.copytree(zoo.sweep, sweep)
    for run_dir in (p.parent for p in sweep.glob("*/metrics.json")):
        config = yaml.safe_load((run_dir / "config.yaml").read_text())
        if config["model"]["name"] == "dlinear" and config["seed"] == 1:
            config["seq_len_searched_on"] = "val"
            (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
            card = json.loads((run_dir / "protocol.json").read_text())
            card["seq_len"].update(policy="searched", searched_on="val")
            (run_dir / "protocol.json").write_text(json.dumps(card))
    labels = {row[2] for row in _rows(report(sweep).stdout) if row[1] == "24"}
    assert labels == {"dlinear (seq_len: fixed)", "dlinear (seq_len: searched on val)", "naive"}


def test_the_trials_of_a_pruning_sweep_pool_with_a_plain_run_as_seeds(tmp_path: Path) -> None:
    """The ``pruning`` block a pruning sweep hands each trial (its job and trial numbers,
    where it reports) does not change what a trial that ran its budget computed."""
    tiny = [*ILI, "model=dlinear", "pred_len=24", "optim.lr=0.01"]
    run_tsbench([*tiny[:-1], "hydra/sweeper=skopt", "optim.lr=choice(0.01)", "seed=1",
                 "hydra.sweeper.n_trials=1", "hydra.sweeper.random_state=0",
                 "hydra.sweeper.pruner.kind=asha", "hydra.sweeper.pruner.min_epochs=100",
                 "score_test=true"], tmp_path / "pruned", multirun=True)  # (a search's seed
    run_tsbench([*tiny, "seed=3"], tmp_path / "plain")  # is refused: one point searched)
    proc = report(tmp_path / "pruned", tmp_path / "plain")
    [row] = _rows(proc.stdout)
    assert row[2] == "dlinear" and _n(row[3]) == 2 and proc.stderr == ""


def test_a_published_number_names_its_look_back_and_epochs_beside_a_cell_of_others(
        zoo: Zoo, tmp_path: Path) -> None:
    """DLinear's ILI numbers were got at L=104 in up to 10 epochs; the zoo's DLinear runs use
    36 and trainer=debug's 2 epochs."""
    run_tsbench([*[o for o in ILI if not o.startswith("seq_len=")], "seq_len=104",
                 "model=dlinear", "pred_len=24", "seed=1", "trainer.max_epochs=10",
                 "trainer.limit_train_batches=1"], tmp_path / "l104")
    out = report(zoo.sweep, tmp_path / "l104").stdout
    assert _row(out, 24, "dlinear (seq_len=36, trainer.limit_train_batches=null, "
                "trainer.max_epochs=2)")[5] == (
        "2.215 (L=104, 10 epochs, other settings, 10 windows unscored)")
    assert _row(out, 24, "dlinear (seq_len=104, trainer.limit_train_batches=1, "
                "trainer.max_epochs=10)")[5] == "2.215 (other settings, 10 windows unscored)"
    assert out.count("Published (N epochs): that number was trained for up to N epochs") == 1
    rows = _csv(report(zoo.sweep, tmp_path / "l104", "--format", "csv").stdout)
    assert {r["published_seq_len"] for r in rows if r["model"] == "dlinear"} == {"104"}
    assert {r["published_epochs"] for r in rows if r["model"] == "dlinear"} == {"10"}
    assert {r["published_seq_len"] for r in rows if r["model"] == "naive"} == {""}
    assert all(r["published_other_settings"].startswith(
        "trained unlike experiment=dlinear_ili: ") for r in rows if r["model"] == "dlinear")
    # the paper's preset, its epochs cut (their own mark), run otherwise with the same math
    # (the data's own frequency checked, plain kernels), or its training changed
    for name, changed in (("preset", []), ("lr", ["optim.lr=0.02"]),
                          ("same", ["dataset.freq=W-TUE", "trainer.fast_kernels=false"])):
        run_tsbench(["experiment=dlinear_ili", "trainer.max_epochs=1", "logger=none",
                     "plots=false", *changed], tmp_path / "presets" / name)
    presets = _csv(report(tmp_path / "presets", "--format", "csv").stdout)
    assert sorted((r["published_other_settings"], r["published"]) for r in presets) == [
        ("", "2.215"), ("", "2.215"),
        ("trained unlike experiment=dlinear_ili: optim.lr=0.02 (preset 0.01)", "2.215")]
    # the paper scored the first 160 of ILI-24's 170 windows: Δ is on those, like for like
    run = tmp_path / "l104"
    windows = np.load(run / "test_window_mse.npy").astype(np.float64)
    first = (windows[:160].mean() - 2.215) / 2.215
    assert windows.size == 170 and abs(first - (windows.mean() - 2.215) / 2.215) > 1e-4
    [l104] = [r for r in rows if r["label"].startswith("dlinear (seq_len=104")]
    assert float(l104["delta"]) == pytest.approx(first, rel=1e-9)
    assert l104["delta_windows"] == "160"
    assert _row(out, 24, "dlinear (seq_len=104, trainer.limit_train_batches=1, "
                "trainer.max_epochs=10)")[6] == (
        f"{100 * first:+.1f} % ({windows[:160].mean():.4g} on the first 160)")
    alone = report(tmp_path / "l104").stdout  # a full budget: no epochs mark
    assert "(N epochs)" not in alone and "10 epochs" not in alone


def test_the_trained_unlike_note_writes_a_preset_null_as_the_command_line_does(
        tmp_path: Path) -> None:
    """DLinear's ILI preset clips no gradients (null): a run clipping at 1.0 is told the
    preset's value as ``null``, the spelling the command line takes, not Python's None."""
    run_tsbench(["experiment=dlinear_ili", "trainer.max_epochs=1", "logger=none",
                 "plots=false", "trainer.gradient_clip_val=1.0"], tmp_path / "clipped")
    [row] = _csv(report(tmp_path / "clipped", "--format", "csv").stdout)
    assert row["published_other_settings"] == (
        "trained unlike experiment=dlinear_ili: trainer.gradient_clip_val=1.0 (preset null)")


def test_a_config_group_chosen_differently_names_the_row_by_its_choice(
        tmp_path: Path) -> None:
    """cv=holdout has none of cv=tscv's fields: the rows say cv=holdout and cv=tscv, not
    cv.gap=unknown, ...; a tscv field shows where it differs among the tscv cells."""
    tiny = [*ILI, "model=naive", "pred_len=24", "seed=1"]
    run_tsbench(tiny, tmp_path / "holdout")
    for folds in (3, 5):
        run_tsbench([*tiny, "cv=tscv", "cv.refit=true", f"cv.n_splits={folds}"],
                    tmp_path / f"tscv{folds}")
    run_tsbench([*tiny[:-3], "model=seasonal_naive", "model.period=12", "pred_len=24", "seed=1"],
                tmp_path / "seasonal")
    text = report(tmp_path).stdout
    labels = sorted(r[2] for r in _rows(text))
    # a refit's test scores came from a model trained on train+val: its label and protocol
    # say so (they read "cv=tscv" and "same", as a holdout run's test scores)
    assert labels == ["naive (cv=holdout)", "naive (cv=tscv refit on train+val, cv.n_splits=3)",
                      "naive (cv=tscv refit on train+val, cv.n_splits=5)", "seasonal_naive"]
    assert [r[-1] for r in _rows(text)] == ["same", "same, refit on train+val",
                                            "same, refit on train+val", "same"]
    assert "| test MSE, scaled (mean ± std, n) |" in text
    page = tmp_path / "report.html"
    report(tmp_path, "-o", page)
    assert "<dt>cross-validation</dt><dd>tscv, refit on train+val</dd>" in page.read_text()
    # a model of several configurations is a baseline by its row's label
    rows = {r["label"]: r for r in _csv(report(tmp_path, "--baseline", "naive", "--format",
                                               "csv").stdout)}
    assert rows["seasonal_naive"]["vs_baseline"] == (
        "3 naive configurations in this table: none is the baseline")
    rows = {r["label"]: r for r in _csv(report(tmp_path, "--baseline", "naive (cv=holdout)",
                                               "--format", "csv").stdout)}
    assert rows["naive (cv=holdout)"]["vs_baseline"] == "baseline"
    # the labelled baseline's run is the one the paired test reads (the only test here)
    expected = diebold_mariano(*(np.load(tmp_path / run / "test_window_mse.npy")
                                 .astype(np.float64) for run in ("seasonal", "holdout")), 24)
    assert float(rows["seasonal_naive"]["p_value"]) == pytest.approx(expected.p_value, rel=1e-9)
    # a refit on train+val scores the same windows on the same scaler: tested, not flagged
    refits = [rows[f"naive (cv=tscv refit on train+val, cv.n_splits={folds})"]
              for folds in (3, 5)]
    assert all(r["protocol_flags"] == "" and r["p_value"] != "" for r in refits)
    # the protocol in a column of its own, the metric and its scale too
    assert {(r["dataset"], r["cv"], r["validation"], r["metric"], r["scale"])
            for r in rows.values()} == {
        ("ili", cv, "", "mse", "scaled") for cv in ("holdout", "tscv, refit on train+val")}
    p_holm = holm([float(r["p_value"]) for r in (rows["seasonal_naive"], *refits)])
    assert float(rows["seasonal_naive"]["p_holm"]) == pytest.approx(p_holm[0], rel=1e-9)
    verdict = ("indistinguishable" if p_holm[0] >= 0.05
               else "better" if expected.mean_diff < 0 else "worse")
    assert rows["seasonal_naive"]["vs_baseline"] == verdict


def test_the_best_trials_command_reruns_with_its_look_back_marked_searched(
        zoo: Zoo, tmp_path: Path) -> None:
    """best.yaml's command of a search over seq_len: its rerun's card says the look-back was
    searched on val, as the trial's does (a fixed look-back would hide the selection)."""
    best = yaml.safe_load((zoo.seq_sweep / "best.yaml").read_text())
    args = [a for a in shlex.split(best["command"])  # less the program and PYTHONPATH
            if "=" in a and not a.startswith("PYTHONPATH=")]
    assert args[-2:] == ["seq_len_searched_on=val", "hydra.mode=RUN"]
    run_tsbench(args[:-1], tmp_path / "rerun")
    card = json.loads((tmp_path / "rerun" / "protocol.json").read_text())["seq_len"]
    trial = json.loads((zoo.seq_sweep / best["job_dir"] / "protocol.json").read_text())["seq_len"]
    assert card["policy"] == trial["policy"] == "searched"
    assert card["searched_on"] == trial["searched_on"] == "val"


def test_a_sweeps_trials_csv_marks_seq_len_searched(zoo: Zoo, tmp_path: Path) -> None:
    """What a run saved before protocol cards cannot say, its sweep's record can."""
    sweep = tmp_path / "sweep"
    shutil.copytree(zoo.sweep, sweep)
    jobs = sorted(p.parent.name for p in sweep.glob("*/metrics.json"))
    (sweep / "trials.csv").write_text(
        "trial,job,status,objective,seconds,seq_len,job_dir,error\n"
        + "".join(f"{i},{job},ok,0.5,1.0,36,{job},\n" for i, job in enumerate(jobs, 1)))
    from tsbench.report.collect import collect
    from tsbench.report.compare import facts

    policies = {(r.model, r.seed, r.pred_len): facts(r)["seq_len"]
                for r in collect([sweep], "test_mse", lambda message: None).runs}
    assert len(policies) == 8
    for (model, _, _), policy in policies.items():  # naive reads no look-back: no policy
        assert policy == ("searched on val" if model == "dlinear" else None), model
    without = {(r.model, r.seed, r.pred_len): facts(r)["seq_len"]
               for r in collect([zoo.sweep], "test_mse", lambda message: None).runs}
    assert {p for (m, _, _), p in without.items() if m == "dlinear"} == {"fixed"}


def test_trials_of_one_search_are_not_to_be_picked_by_test(zoo: Zoo) -> None:
    # the seq_len search's two trials are two rows of one table: the report says to take
    # the search's own choice (on validation), once; a plain multirun gets no such line
    out = report(zoo.seq_sweep).stdout
    assert len(_rows(out)) == 2
    said = [line for line in out.splitlines() if "rows are trials of the search" in line]
    assert said == [f"2 rows are trials of the search in {zoo.seq_sweep} (it searched seq_len): "
                    "choosing among them by these test scores is selection on test -> take the "
                    "configuration the search chose on validation "
                    f"({zoo.seq_sweep / 'best.yaml'}) and report that run"]
    assert "trials of the search" not in report(zoo.sweep).stdout


def test_jobs_of_a_plain_multirun_grid_are_not_to_be_picked_by_test(
        zoo: Zoo, tmp_path: Path) -> None:
    # a grid over one model's learning rate: its rows are configurations, and the one with
    # the best test score is a choice on test; a multirun over models, horizons and seeds
    # (zoo.sweep) compares, and gets no such line
    # (naive trains nothing: its learning rates are one configuration, its second job a
    # repeat of the first)
    grid = tmp_path / "grid"
    run_tsbench([*ILI, "model=dlinear,naive", "pred_len=24", "optim.lr=0.001,0.01"], grid,
                multirun=True)
    out = report(grid).stdout
    assert sorted(row[2] for row in _rows(out)) == [
        "dlinear (optim.lr=0.001)", "dlinear (optim.lr=0.01)", "naive"]
    said = [line for line in out.splitlines() if "rows are jobs of the multirun" in line]
    assert said == [f"2 rows are jobs of the multirun in {grid} (it swept optim.lr): choosing "
                    "among them by these test scores is selection on test -> choose by their "
                    "val_mse (metrics.json), or search with hydra/sweeper=skopt, which chooses "
                    "on validation, and report the chosen configuration alone"]
    assert "rows are jobs of the multirun" not in report(zoo.sweep).stdout
    # a grid in hydra.sweeper.params: search=grid's own, here with test scores
    params = tmp_path / "params"
    run_tsbench(["search=grid", *ILI, "pred_len=24", "score_test=true",
                 "hydra.sweeper.params.seq_len='36'",
                 "hydra.sweeper.params={model.patch_len: '8', optim.lr: '0.001,0.01'}"],
                params, multirun=True)
    said = [line for line in report(params).stdout.splitlines()
            if "rows are jobs of the multirun" in line]
    assert said == [f"2 rows are jobs of the multirun in {params} (it swept optim.lr): "
                    "choosing among them by these test scores is selection on test -> choose "
                    "by their val_mse (metrics.json), or search with hydra/sweeper=skopt, "
                    "which chooses on validation, and report the chosen configuration alone"]
    # a multirun over series: each job a table of its own, nothing chosen among them
    sales = zoo.root / "sales.csv"
    files = tmp_path / "files"
    shutil.copy(sales, tmp_path / "other.csv")
    run_tsbench(["dataset=csv", f"dataset.path={sales},{tmp_path / 'other.csv'}",
                 "model=naive", "seq_len=24", "pred_len=12", "trainer=debug", "logger=none",
                 "plots=false"], files, multirun=True)
    out = report(files).stdout
    assert len(_rows(out)) == 2 and "rows are jobs of the multirun" not in out


def test_csv_runs_are_named_by_their_file(zoo: Zoo) -> None:
    rows = _rows(report(zoo.csv).stdout)
    assert [r[:3] for r in rows] == [["sales.csv", "12", "naive"]]


def test_one_file_written_relative_and_absolute_is_one_cell(zoo: Zoo, tmp_path: Path) -> None:
    """best.yaml's command writes the CSV's path absolute: its runs and those of the path
    as typed read one file (one sha256), so they are one configuration, one cell."""
    relative = os.path.relpath(zoo.root / "sales.csv")
    assert not os.path.isabs(relative)
    run_tsbench(["dataset=csv", f"dataset.path={relative}", "model=naive", "seq_len=24",
                 "pred_len=12", "trainer=debug", "logger=none", "plots=false", "seed=7"],
                tmp_path / "run")
    rows = _rows(report(zoo.csv, tmp_path / "run").stdout)
    assert [r[:3] for r in rows] == [["sales.csv", "12", "naive"]]
    assert _n(rows[0][3]) == 2  # both seeds in the one cell


def test_a_frequency_given_or_inferred_is_one_cell(zoo: Zoo, tmp_path: Path) -> None:
    """dataset.freq only checks the file: hourly rows read with dataset.freq=60min are the
    zoo's run of the inferred frequency (null) again, another seed of one cell, not a row of
    its own that splits the model's cells."""
    run_tsbench(["dataset=csv", f"dataset.path={zoo.root / 'sales.csv'}", "model=naive",
                 "seq_len=24", "pred_len=12", "trainer=debug", "logger=none", "plots=false",
                 "seed=7", "dataset.freq=60min"], tmp_path / "run")
    rows = _rows(report(zoo.csv, tmp_path / "run").stdout)
    assert [r[:3] for r in rows] == [["sales.csv", "12", "naive"]]
    assert _n(rows[0][3]) == 2


def test_a_precision_by_its_short_or_full_name_is_one_cell(tmp_path: Path) -> None:
    """trainer.precision=bf16 trains as bf16-mixed (the card records the full name): runs
    of either spelling are seeds of one cell, not two configurations of one model."""
    for seed, precision in ((1, "bf16"), (2, "bf16-mixed")):
        run_tsbench([*TINY, f"trainer.precision={precision}", f"seed={seed}"],
                    tmp_path / precision)
    rows = _rows(report(tmp_path).stdout)
    assert [r[:3] for r in rows] == [["synthetic", "12", "dlinear"]]
    assert rows[0][3].strip("*").endswith("(2)")


def test_two_files_of_one_name_are_two_tables(zoo: Zoo, tmp_path: Path) -> None:
    """Another folder's sales.csv holds other data: its runs are never ranked against the
    runs of zoo's sales.csv, each file a table named by its digest."""
    other = tmp_path / "b" / "sales.csv"
    other.parent.mkdir()
    data = pd.read_csv(zoo.root / "sales.csv")
    data["price"] *= 2
    data.to_csv(other, index=False)
    run_tsbench(["dataset=csv", f"dataset.path={other}", "model=dlinear", "seq_len=24",
                 "pred_len=12", "trainer=debug", "logger=none", "plots=false"], tmp_path / "run")
    out = report(zoo.csv, tmp_path / "run").stdout
    digests = {str(path): json.loads((run / "protocol.json").read_text())["dataset"]["sha256"]
               for path, run in ((zoo.root / "sales.csv", zoo.csv), (other, tmp_path / "run"))}
    assert len(set(digests.values())) == 2
    assert sorted(r[:3] for r in _rows(out)) == sorted([
        [f"sales.csv (sha256 {digests[str(zoo.root / 'sales.csv')][:12]})", "12", "naive"],
        [f"sales.csv (sha256 {digests[str(other)]:.12})", "12", "dlinear"]])


def test_a_rerun_of_a_seed_on_changed_code_replaces_the_earlier_run(zoo: Zoo, tmp_path: Path
                                                                     ) -> None:
    """The same configuration and seed run again after a fix of the code: the run of the
    code installed now is kept, whichever folder comes first (not whichever finished later:
    a copy resets that), and the warning says why."""
    current = next(p.parent for p in zoo.csv.glob("metrics.json"))
    for old_first in (True, False):
        shutil.rmtree(tmp_path / "runs", ignore_errors=True)
        fixed = tmp_path / "runs" / ("b" if old_first else "a")
        before_fix = tmp_path / "runs" / ("a" if old_first else "b")
        shutil.copytree(current, fixed)
        shutil.copytree(current, before_fix)
        card = json.loads((before_fix / "protocol.json").read_text())
        card["source"]["sources_sha256"] = "0" * 64  # the code before the fix
        (before_fix / "protocol.json").write_text(json.dumps(card))
        metrics = json.loads((before_fix / "metrics.json").read_text())
        (before_fix / "metrics.json").write_text(json.dumps({**metrics, "test_mse": 0.123456}))
        proc = report(tmp_path / "runs")
        assert _rows(proc.stdout)[0][3].strip("*") == f"{metrics['test_mse']:.4f} (1)"
        assert (f"left out {before_fix}: same configuration and seed 2021 as {fixed}, which "
                "ran the code installed now (their protocol.json source digests differ: a "
                "rerun after a fix is kept)") in proc.stderr


def test_runs_that_cannot_count_are_left_out_with_one_warning_each(zoo: Zoo, tmp_path: Path
                                                                   ) -> None:
    """One line each, but one for all the pruned runs (a search prunes dozens)."""
    sweep = tmp_path / "sweep"
    shutil.copytree(zoo.sweep, sweep)
    jobs = sorted((p.parent for p in sweep.glob("*/metrics.json")), key=lambda p: int(p.name))
    truncated, broken, diverged, pruned, failed, stopped, *kept = jobs
    twin = sweep / "twin"  # a second run of a kept run's cell and seed
    shutil.copytree(kept[0], twin)
    text = (truncated / "metrics.json").read_text()
    (truncated / "metrics.json").write_text(text[: len(text) // 2])
    (broken / "config.yaml").write_text("model: [dlinear,\n")
    for run_dir, change in ((diverged, {"test_mse": float("nan")}), (pruned, {"pruned": True})):
        metrics = json.loads((run_dir / "metrics.json").read_text())
        (run_dir / "metrics.json").write_text(json.dumps({**metrics, **change}))
    (sweep / "trials.csv").write_text(
        "trial,job,status,objective,seconds,seq_len,job_dir,error\n"
        f"1,{failed.name},failed,,1.0,36,{failed.name},val_mse is nan\n"
        f"2,{kept[0].name},ok,0.5,1.0,36,{kept[0].name},\n"
        f"3,{stopped.name},pruned,0.9,1.0,36,{stopped.name},pruned at epoch 1\n")
    proc = report(sweep)
    warnings = proc.stderr.strip().splitlines()
    assert len(warnings) == 6 and all(w.startswith("tsbench-report: warning:") for w in warnings)
    expect = {truncated: "metrics.json is unreadable", broken: "config is unreadable",
              diverged: "test_mse is nan",
              failed: "trials.csv marks it failed (val_mse is nan)",
              twin: f"same configuration and seed {read_config(kept[0]).seed} as {kept[0]}"}
    for run_dir, words in expect.items():
        assert any(str(run_dir) in w and words in w for w in warnings), (words, warnings)
    # its pruned: true and a row trials.csv marks pruned
    assert [w for w in warnings if "left out 2 pruned runs " in w
            and ("e.g. " + str(pruned) in w or "e.g. " + str(stopped) in w)]
    assert sum(_n(r[3]) for r in _rows(proc.stdout)) == len(kept)
    assert "nan" not in proc.stdout


def test_runs_without_test_scores_say_why(zoo: Zoo) -> None:
    proc = report(zoo.no_test, check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "tsbench-report: error: the only finished run under" in proc.stderr
    assert "has no test_mse: 1 run: score_test=false (a search's trials" in proc.stderr
    mixed = report(zoo.no_test, zoo.csv)
    assert "left out 1 run without test_mse (score_test=false)" in mixed.stderr


def test_a_searchs_unscored_trials_beside_scored_runs_name_its_best_yaml(
        zoo: Zoo, tmp_path: Path) -> None:
    """A search's trials beside a baseline: the warning that leaves them out names the
    best.yaml whose command scores the search's choice on test (a user's report showed the
    baseline alone and no way to the search's result)."""
    search = tmp_path / "search"
    run_tsbench([*ILI, "hydra/sweeper=skopt", "model=dlinear", "pred_len=24",
                 "seq_len=choice(24,36)", "hydra.sweeper.n_trials=1",
                 "hydra.sweeper.n_initial_points=1", "hydra.sweeper.random_state=0"],
                search, multirun=True)
    said = [line for line in report(search, zoo.csv).stderr.splitlines()
            if "without test_mse" in line]
    assert said == [f"tsbench-report: warning: left out 1 run without test_mse "
                    f"(score_test=false), e.g. {search / '0'} -> a search's trials score "
                    f"validation only: run the command in {search / 'best.yaml'}, which "
                    "scores the configuration it chose on test, and report that run's folder"]
    assert "best.yaml" not in report(zoo.no_test, zoo.csv).stderr  # a run of no search


def test_a_cross_validated_run_without_test_scores_says_so(zoo: Zoo, tmp_path: Path) -> None:
    """Not "score_test=false": its config scores test, its folds do not (as cv=tscv writes
    it without cv.refit; the config and metrics are edited from a holdout run's)."""
    folds = tmp_path / "folds"
    shutil.copytree(zoo.csv, folds)
    config = OmegaConf.load(folds / "config.yaml")
    config.cv = {"name": "tscv", "n_splits": 3, "refit": False}
    OmegaConf.save(config, folds / "config.yaml")
    metrics = json.loads((folds / "metrics.json").read_text())
    (folds / "metrics.json").write_text(json.dumps(
        {k: v for k, v in metrics.items() if not k.startswith("test_")}))
    proc = report(folds, zoo.csv)
    assert (f"left out 1 run without test_mse (cv=tscv scores the folds' validation blocks; "
            f"cv.refit=true adds the test split; --split val reports their cross-validation "
            f"score), e.g. {folds}") in proc.stderr
    assert "score_test=false" not in proc.stderr


def test_user_errors_are_one_line_and_exit_2(zoo: Zoo, tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("date,OT\n")
    for sweep in ("bayes_etth1", "random_ili"):
        (tmp_path / "sweeps" / sweep).mkdir(parents=True)
    cases = [([tmp_path], "no finished run (metrics.json + config.yaml) under"),
             ([tmp_path / "nope"], "not a folder: " + str(tmp_path / "nope") + " (not found)"),
             # a misspelt sweep's folder: the one beside it with the closest name
             ([tmp_path / "sweeps" / "bayes_etth"], "not a folder: "
              + str(tmp_path / "sweeps" / "bayes_etth") + " (not found) -> did you mean "
              + str(tmp_path / "sweeps" / "bayes_etth1") + "? Else give the folders"),
             ([tmp_path / "data.csv"], "not a folder: " + str(tmp_path / "data.csv")
              + " (a file)"),
             ([zoo.sweep, "--baseline", "patchtst"],
              "--baseline patchtst: no patchtst run under"),
             ([zoo.sweep, "--baseline", "DLinear"],  # the model's name as its paper spells it
              f"no DLinear run under {zoo.sweep} -> did you mean --baseline dlinear? Else use "
              "one of dlinear, naive\n"),
             # a label of other folders' rows: the labels these folders' rows have now
             ([zoo.sweep, zoo.seq_sweep, "--baseline", "naive (seq_len=24)"],
              "-> use one of dlinear, naive, or a row's label: 'dlinear (seq_len: fixed, "
              "seq_len=36)', 'dlinear (seq_len: searched on val, seq_len=24)', 'dlinear "
              "(seq_len: searched on val, seq_len=36)'"),
             # argparse's refusals too, without its usage block
             ([zoo.sweep, "--alpha", "2"], "argument --alpha: must lie between 0 and 1, got 2 "
              "-> e.g. 0.05"),
             ([zoo.sweep, "--alpha", "x"], "must lie between 0 and 1, got x -> e.g. 0.05"),
             ([zoo.sweep, "--metric", "rmse"], "argument --metric: invalid choice: 'rmse'")]
    for args, words in cases:
        proc = report(*args, check=False)
        assert proc.returncode == 2 and words in proc.stderr, proc.stderr
        [said] = proc.stderr.splitlines()
        assert said.startswith("tsbench-report: error: ") and " -> " in said, said


# Run directories as tsbench wrote them before protocol.json and the window-error files.
LEGACY = {  # (model, pred_len): test_mse per seed
    ("patchtst", 96): [0.380, 0.390, 0.386],
    ("dlinear", 96): [0.372, 0.377, 0.371],
    ("patchtst", 192): [0.420],
    ("dlinear", 192): [0.450, 0.440],
}


def _write_legacy(sweep: Path, table: dict[tuple[str, int], list[float]],
                  own_datasets: bool = False) -> Path:
    """Legacy run directories in ``sweep``: ETTh1, one per (model, pred_len) and test MSE;
    ``own_datasets``: each pred_len's runs on a dataset of its own (``d96``), so that each
    table is one dataset's, as the rank test counts them."""
    for i, ((model, pred_len), seed, mse) in enumerate(
            (cell, seed, mse) for cell, values in table.items()
            for seed, mse in enumerate(values, start=1)):
        run = sweep / str(i)
        (run / ".hydra").mkdir(parents=True)
        (run / ".hydra" / "config.yaml").write_text(
            f"dataset:\n  name: {f'd{pred_len}' if own_datasets else 'etth1'}\nmodel:\n"
            f"  name: {model}\npred_len: {pred_len}\n"
            f"seed: {seed}\nfeatures: M\n")
        (run / "metrics.json").write_text(json.dumps(
            {"test_mse": mse, "test_mae": mse / 2, "n_test_windows": 2785}))
    return sweep


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    _write_legacy(tmp_path / "sweep", LEGACY)
    (tmp_path / "sweep" / "99" / ".hydra").mkdir(parents=True)  # unfinished: no metrics.json
    return tmp_path / "sweep"


def test_runs_saved_before_protocol_cards_still_report(legacy: Path) -> None:
    proc = report(legacy, "--baseline", "dlinear")
    assert proc.stderr == ""
    out = proc.stdout
    values = LEGACY[("patchtst", 96)]
    mean, std = np.mean(values), np.std(values, ddof=1)
    line = _row(out, 96, "patchtst")
    assert line[3] == f"{mean:.4f} ± {std:.4f} (3)"
    assert line[5] == "0.385" and line[6] == f"{100 * (mean - 0.385) / 0.385:+.1f} %"
    assert _row(out, 96, "dlinear")[3].startswith("**")
    assert _row(out, 192, "patchtst")[3] == f"**{LEGACY[('patchtst', 192)][0]:.4f} (1)**"
    assert _row(out, 192, "patchtst")[4] == "–"  # one seed: no interval
    assert "no readable per-window errors" in line[7]
    assert line[8] == "no card (saved before protocol.json)"
    # no run has per-window errors: no test was made, none is said to be Holm-adjusted
    assert "Paired tests against dlinear: none made (each row says why)." in out
    assert "Holm-adjusted over the" not in out
    assert ("over 2 tables (etth1/96, etth1/192), all of 1 dataset (etth1): dlinear 1.50, "
            "patchtst 1.50. No significance can be claimed") in out


def test_csv_and_latex(legacy: Path) -> None:
    rows = _csv(report(legacy, "--format", "csv").stdout)
    assert len(rows) == len(LEGACY)
    first = next(r for r in rows if (r["model"], r["pred_len"]) == ("patchtst", "96"))
    assert float(first["mean"]) == pytest.approx(np.mean(LEGACY[("patchtst", 96)]))
    assert float(first["n"]) == 3 and first["best"] == "False"
    assert first["ci_clipped"] == "False" and "clipped" not in report(legacy).stdout
    latex = report(legacy, "--format", "latex", "--metric", "mae").stdout
    assert "\\textbf{" in latex and "\\begin{tabular}" in latex and "MAE" in latex
    assert "$\\pm$" in latex


#: Four models, two seeds each, ranked alike in two tables; each cell's seeds 0.3 apart.
SPREAD = {(model, pred_len): [mse + pred_len / 1000, mse + 0.3 + pred_len / 1000]
          for model, mse in (("dlinear", 0.37), ("patchtst", 0.38), ("itransformer", 0.39),
                             ("naive", 0.5)) for pred_len in (96, 192)}


def test_an_interval_below_zero_is_cut_at_zero_and_said(tmp_path: Path) -> None:
    """Two seeds 0.3 apart: the t-interval (± 12.7 standard errors) reaches below 0, where
    no MSE lies: it is printed from 0, marked, and said once under the table; the CSV
    has the 0 and the mark."""
    sweep = _write_legacy(tmp_path / "sweep", SPREAD)
    out = report(sweep).stdout
    values = np.array(SPREAD[("naive", 96)])
    half = 12.706204736174707 * values.std(ddof=1) / np.sqrt(2)
    assert values.mean() - half < 0
    assert _row(out, 96, "naive")[4] == f"[0 (clipped), {values.mean() + half:.4f}]"
    assert out.count("95 % CI [0 (clipped), ...]: the t-interval over the seeds reached "
                     "below 0, which an error cannot") == 1
    row = next(r for r in _csv(report(sweep, "--format", "csv").stdout)
               if (r["model"], r["pred_len"]) == ("naive", "96"))
    assert float(row["ci_low"]) == 0.0 and row["ci_clipped"] == "True"
    assert float(row["ci_high"]) == pytest.approx(values.mean() + half)


def test_the_output_files_extension_chooses_the_format(legacy: Path, tmp_path: Path) -> None:
    """Without --format, ``-o report.html`` writes the HTML page (it wrote Markdown)."""
    written = {}
    for name in ("r.html", "r.tex", "r.csv", "r.md", "r.txt"):
        report(legacy, "-o", tmp_path / name)
        written[name] = (tmp_path / name).read_text()
    assert written["r.html"] == report(legacy, "--format", "html").stdout
    assert written["r.html"].lstrip().lower().startswith("<!doctype html>")
    assert written["r.tex"] == report(legacy, "--format", "latex").stdout
    assert written["r.csv"] == report(legacy, "--format", "csv").stdout
    assert written["r.md"] == written["r.txt"] == report(legacy).stdout
    # a --format that contradicts the extension is refused before anything is written
    proc = report(legacy, "--format", "markdown", "-o", tmp_path / "forced.csv", check=False)
    assert proc.returncode != 0 and not (tmp_path / "forced.csv").exists()
    assert "names a csv file, but --format is markdown" in proc.stderr
    report(legacy, "--format", "csv", "-o", tmp_path / "forced.txt")  # no contradiction
    assert (tmp_path / "forced.txt").read_text() == written["r.csv"]


def test_paths_under_home_written_with_a_tilde_are_the_users(legacy: Path, tmp_path: Path,
                                                             monkeypatch) -> None:
    """``--output=~/r.md`` (the shell leaves a ``~`` after ``--output=``) writes the
    report in the home directory, not in a folder named ``~``; a run folder given quoted
    (``'~/runs'``) is read from there too."""
    monkeypatch.setenv("HOME", str(tmp_path))
    shutil.copytree(legacy, tmp_path / "runs")
    report("~/runs", "--output=~/r.md")
    assert (tmp_path / "r.md").read_text() == report(legacy).stdout
    assert not (ROOT / "~").exists()


def test_a_report_over_a_runs_own_file_is_refused(legacy: Path, tmp_path: Path) -> None:
    """``-o RUN/config.yaml`` wrote Markdown over the run's config: a finished run's own
    files (its config, Hydra's copy, its pictures) are refused before anything is written."""
    run = legacy / "0"
    before = {p: p.read_bytes() for p in legacy.rglob("*") if p.is_file()}
    for option, own, example in (("-o", "config.yaml", "report.md"),
                                 ("-o", ".hydra/config.yaml", "report.md"),
                                 ("--cd-diagram", "forecast.png", "cd_diagram.png")):
        proc = report(legacy, option, run / own, check=False)
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr == (
            f"tsbench-report: error: {option} {run / own}: is the finished run "
            f"{run.resolve()}'s own {own}: writing there would replace it -> give a file of "
            f"your own, e.g. {run.resolve() / example}\n")
    assert {p: p.read_bytes() for p in legacy.rglob("*") if p.is_file()} == before
    report(legacy, "-o", legacy / "report.md")  # a sweep's folder is no run
    assert (legacy / "report.md").read_text() == report(legacy).stdout


def test_a_users_model_named_like_a_published_one_gets_no_published_number(
        zoo: Zoo, toy_dir: Path, tmp_path: Path) -> None:
    """A model of one's own whose config says ``name: dlinear`` is not DLinear: the paper's
    number is not shown beside it, and the flag names the class."""
    conf = tmp_path / "conf" / "model"
    conf.mkdir(parents=True)
    (conf / "my_dlinear.yaml").write_text(TOY_YAML.replace("name: toy", "name: dlinear"))
    run_tsbench([*ILI, "model=my_dlinear", "pred_len=24", "seed=1",
                 f"hydra.searchpath=[file://{tmp_path / 'conf'}]"], tmp_path / "mine",
                env={"PYTHONPATH": f"{toy_dir}{os.pathsep}{ROOT}"})
    rows = {r["label"]: r for r in _csv(report(zoo.sweep, tmp_path / "mine", "--format",
                                               "csv").stdout) if r["pred_len"] == "24"}
    mine = next(r for label, r in rows.items() if "toy_models.LastLinear" in label)
    assert mine["published"] == "" and mine["published_withheld"] == (
        "model._target_ toy_models.LastLinear (published: tsbench.models.dlinear.DLinear)")
    tsbenchs = next(r for label, r in rows.items() if label.startswith("dlinear (model._target_"
                                                                        "=tsbench"))
    assert tsbenchs["published"] == "2.215" and tsbenchs["published_withheld"] == ""


def test_a_published_number_only_beside_a_cell_of_its_protocol(zoo: Zoo, tmp_path: Path
                                                               ) -> None:
    """DLinear's ILI numbers are multivariate: a features=S DLinear cell gets none (said
    once, below the table), the features=M cells keep theirs."""
    run_tsbench([*ILI, "model=dlinear", "pred_len=24", "seed=1", "features=S"],
                tmp_path / "dlinear_S")
    out = report(zoo.sweep, tmp_path / "dlinear_S").stdout
    s_row = _row(out, 24, "dlinear (features=S)")
    assert s_row[5] == "–" and s_row[6] == "–"
    assert _row(out, 24, "dlinear (features=M)")[5] == (
        "2.215 (L=104, 10 epochs, other settings, 10 windows unscored)")
    [said] = [line for line in out.splitlines() if line.startswith("Published (other")]
    assert said.startswith("Published (other settings): the paper's figure came with its "
                           "training settings (its preset: model size, optimizer and schedule, "
                           "batch size, learning rate), which these cells did not use; part of "
                           "a gap may be theirs. dlinear (features=M) at ili/24: trained "
                           "unlike experiment=dlinear_ili: data.batch_size=128 (preset 32), ")
    assert out.count("features S (published: M)") == 1
    assert "none is shown beside a cell whose protocol differs" in out
    rows = {r["label"]: r for r in _csv(report(zoo.sweep, tmp_path / "dlinear_S", "--format",
                                               "csv").stdout) if r["pred_len"] == "24"}
    assert rows["dlinear (features=S)"]["published"] == ""
    assert rows["dlinear (features=S)"]["published_withheld"] == "features S (published: M)"
    assert rows["dlinear (features=M)"]["published"] == "2.215"
    # the scaler fitted on fewer training rows: another scale of the same test windows
    run_tsbench([*ILI, "model=dlinear", "pred_len=24", "seed=1", "dataset.train_frac=0.6"],
                tmp_path / "dlinear_frac")
    rows = {r["label"]: r for r in _csv(report(zoo.sweep, tmp_path / "dlinear_frac", "--format",
                                               "csv").stdout) if r["pred_len"] == "24"}
    frac = rows["dlinear (dataset.train_frac=0.6, scaler rows: [0, 579))"]
    assert frac["published"] == "" and frac["published_withheld"] == (
        "dataset.train_frac 0.6 (published: 0.7)")
    assert rows["dlinear (dataset.train_frac=0.7, scaler rows: [0, 676))"]["published"] == (
        "2.215")
    # two M cells and two S cells, no baseline to decide: the published protocol (M) does
    both = report(zoo.sweep, tmp_path / "dlinear_S", zoo.features_s, "--baseline",
                  "dlinear").stdout
    for model in ("dlinear", "naive"):
        assert _row(both, 24, f"{model} (features=M)")[-1] == "same"
        assert _row(both, 24, f"{model} (features=S)")[-1] == "⚠ features S (table: M)"
    notes = [r[7] for r in _rows(both) if r[1] == "24"]
    assert set(notes) == {"– (2 dlinear configurations in this table: none is the baseline)"}
    assert both.count("name one by its row's label") == 1
    assert "--baseline 'dlinear (features=M)'" in both


def test_cells_scoring_another_series_are_flagged_not_tested(zoo: Zoo, tmp_path: Path
                                                             ) -> None:
    """features=S runs of two targets score two different series: neither is tested against
    the other or bolded, whichever is the baseline; and features=M runs of fewer columns
    score other channels than those of all columns."""
    run_tsbench([*ILI, "model=seasonal_naive", "model.period=12", "pred_len=24", "seed=1",
                 "features=S", "dataset.target=ILITOTAL"], tmp_path / "ilitotal")
    run_tsbench([*ILI, "model=seasonal_naive", "model.period=12", "pred_len=24", "seed=1",
                 "features=S"], tmp_path / "ot")
    rows = {r["label"]: r for r in _csv(report(
        zoo.features_s, tmp_path / "ilitotal", tmp_path / "ot", "--baseline", "naive",
        "--format", "csv").stdout)}
    other = rows["seasonal_naive (dataset.target=ILITOTAL)"]
    assert other["protocol_flags"] == "scored columns ILITOTAL (table: OT)"
    assert other["p_value"] == "" and other["best"] == "False"
    assert rows["seasonal_naive (dataset.target=OT)"]["protocol_flags"] == ""
    assert rows["seasonal_naive (dataset.target=OT)"]["p_value"] != ""
    run_tsbench([*ILI, "model=naive", "pred_len=24", "seed=1", "dataset.columns=[ILITOTAL,OT]"],
                tmp_path / "two")
    rows = {r["model"]: r for r in _csv(report(
        tmp_path / "two", *_runs(zoo.sweep, "dlinear", 24), "--format", "csv").stdout)}
    assert "scored columns ILITOTAL,OT (differs)" in rows["naive"]["protocol_flags"]
    text = report(tmp_path / "two", *_runs(zoo.sweep, "dlinear", 24)).stdout
    assert text.count("(differs): the table's cells disagree on that fact and no baseline or "
                      "majority says which value is the table's") == 1
    assert "the table's cells disagree" not in report(zoo.sweep).stdout


def test_a_recursive_cell_is_tested_against_a_direct_one_and_gets_no_published_number(
        zoo: Zoo, tmp_path: Path) -> None:
    """How a model forecasts its horizon is its own choice, not a protocol: the same windows
    are scored, so a recursive cell is compared with the direct ones. The published numbers
    forecast every step at once: a recursive run's cell gets none; its protocol card says
    how it forecast and what it trained on. (One run and one report for both promises.)"""
    run_dir = tmp_path / "recursive"
    run_tsbench([*ILI, "model=dlinear", "pred_len=24", "seed=1", "strategy=recursive",
                 "strategy.step=12"], run_dir)
    rows = {r["label"]: r for r in _csv(report(
        zoo.sweep, run_dir, "--baseline", "naive", "--format", "csv").stdout)
        if r["pred_len"] == "24"}
    recursive = rows["dlinear (strategy=recursive)"]
    assert recursive["protocol_flags"] == "" and recursive["p_value"] != ""
    errors = np.load(run_dir / "test_window_mse.npy").astype(np.float64)
    naive = np.mean([np.load(r / "test_window_mse.npy").astype(np.float64)
                     for r in _runs(zoo.sweep, "naive", 24)], axis=0)
    expected = diebold_mariano(errors, naive, 24)
    assert float(recursive["p_value"]) == pytest.approx(expected.p_value, rel=1e-9)
    # no published direct number beside it; its card says how it forecast
    card = json.loads((run_dir / "protocol.json").read_text())
    assert card["strategy"] == {"name": "recursive", "step": 12, "rolls": 2}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert card["windows"]["train"]["available"] == metrics["n_train_windows"]
    assert recursive["published"] == ""
    assert recursive["published_withheld"] == "strategy recursive step 12 (published: direct)"
    assert rows["dlinear (strategy=direct)"]["published"] == "2.215"


def test_a_null_setting_is_labelled_null(zoo: Zoo, tmp_path: Path) -> None:
    """The presets turn gradient clipping off (null); trainer=cpu clips at 1.0."""
    run_tsbench([*ILI, "model=dlinear", "pred_len=24", "seed=1",
                 "trainer.gradient_clip_val=null"], tmp_path / "no_clip")
    labels = {r[2] for r in _rows(report(zoo.sweep, tmp_path / "no_clip").stdout)
              if r[1] == "24" and r[2].startswith("dlinear")}
    assert labels == {"dlinear (trainer.gradient_clip_val=1.0)",
                      "dlinear (trainer.gradient_clip_val=null)"}


def test_ranks_alike_in_every_table_give_no_iman_davenport_f(tmp_path: Path) -> None:
    """Three models ranked alike in two tables: Iman-Davenport's F divides by
    N(k-1) - χ² = 0; below Demšar's N > 10 and k > 5 the exact p decides: 1/6 (the second
    table repeats the first's order), nothing significant; in three tables 1/36."""
    alike = {(model, pred_len): [mse + (pred_len - 96) / 1000]
             for model, mse in (("dlinear", 0.37), ("patchtst", 0.38), ("itransformer", 0.39))
             for pred_len in (96, 192)}
    out = report(_write_legacy(tmp_path / "sweep", alike, own_datasets=True)).stdout
    assert ("Friedman χ² = 4.00 (p = 0.135), Iman-Davenport F undefined (every table ranks "
            "the models in the same order, so its denominator N(k-1) - χ² is 0); exact p = "
            "0.167 decides (2 tables of 3 models: short of N > 10 and k > 5") in out
    assert "p < 0.001" not in out and "F = inf" not in out
    assert "the ranks do not differ significantly at α = 0.05" in out
    three = {(m, h): v for (m, _), v in alike.items() for h in (96, 192, 336)}
    out = report(_write_legacy(tmp_path / "three", three, own_datasets=True)).stdout
    assert "Friedman χ² = 6.00 (p = 0.050), Iman-Davenport F undefined" in out
    assert "exact p = 0.028 decides" in out
    assert ("the ranks differ at α = 0.05; critical difference 2.00 (exact, from every order "
            "of each table's ranks): two models whose average ranks differ by the critical "
            "difference or more are significantly different (dlinear vs itransformer)") in out


def test_two_tables_of_four_models_ranked_alike_differ_by_the_exact_p(tmp_path: Path
                                                                      ) -> None:
    """χ² = 6 on 3 df is p = 0.11 (not significant); exactly, the second table repeats the
    first's order with p = 1/24 = 0.042. Yet the widest gap of two average ranks (3: one
    model first in both, another last in both) arises with p = 1/12: no critical difference
    exists, which the report says rather than implying a pair could be told apart."""
    out = report(_write_legacy(tmp_path / "sweep", SPREAD, own_datasets=True)).stdout
    assert "Friedman χ² = 6.00 (p = 0.112)" in out and "exact p = 0.042 decides" in out
    assert ("the ranks differ at α = 0.05, but with 2 tables even the widest gap of two "
            "average ranks (3) is not rare enough at α for a critical difference (exact, from "
            "every order of each table's ranks): no two models are told apart.") in out


def test_below_demsars_rule_the_exact_critical_difference_tells_models_apart(
        tmp_path: Path) -> None:
    """7 tables of 3 models with rank sums 11, 11 and 20: the ranks differ (exact p 0.021),
    but gaps of 9/7 = 1.29 arise by chance with p = 0.052; Nemenyi's large-sample 1.25 would
    call both pairs with the third different, the exact critical difference (1.43) none."""
    orders = [(3, 1, 2), (1, 2, 3), (1, 2, 3), (1, 2, 3), (1, 2, 3), (2, 1, 3), (2, 1, 3)]
    table = {(model, 24 * (i + 1)): [0.3 + rank / 100]
             for i, ranks in enumerate(orders)
             for model, rank in zip(("dlinear", "patchtst", "naive"), ranks, strict=True)}
    out = report(_write_legacy(tmp_path / "sweep", table, own_datasets=True)).stdout
    assert "exact p = 0.021 decides" in out
    assert ("the ranks differ at α = 0.05; critical difference 1.43 (exact, from every order "
            "of each table's ranks)") in out
    assert "Nemenyi" not in out


def test_verdicts_follow_the_sign_and_the_holm_adjusted_p(tmp_path: Path) -> None:
    """Per-window errors made so that one model is clearly better than the baseline, one
    clearly worse, and two differ at raw p < 0.05 but not after Holm's adjustment."""
    rng = np.random.default_rng(7)
    base = rng.gamma(2.0, 0.2, 300) + 0.15
    noise = rng.normal(0.0, 0.05, (3, 300))
    noise -= noise.mean(axis=1, keepdims=True)
    errors = {"dlinear": base, "better": base - 0.05 + noise[1], "worse": base + 0.05 + noise[1],
              "near_a": base + 0.009 + noise[0], "near_b": base + 0.008 + noise[2]}
    sweep = _write_legacy(tmp_path / "sweep", {(m, 24): [float(e.mean())]
                                               for m, e in errors.items()})
    for run in sweep.iterdir():
        model = yaml.safe_load((run / ".hydra" / "config.yaml").read_text())["model"]["name"]
        np.save(run / "test_window_mse.npy", errors[model].astype(np.float32))
        metrics = json.loads((run / "metrics.json").read_text())
        (run / "metrics.json").write_text(json.dumps({**metrics, "n_test_windows": 300}))
    rows = {r["model"]: r for r in _csv(report(sweep, "--baseline", "dlinear", "--format",
                                               "csv").stdout)}
    saved = {m: e.astype(np.float32).astype(np.float64) for m, e in errors.items()}
    raw = {m: diebold_mariano(saved[m], saved["dlinear"], 24).p_value
           for m in ("better", "worse", "near_a", "near_b")}
    adjusted = dict(zip(raw, holm(np.array(list(raw.values()))), strict=True))
    assert raw["better"] < 1e-6 and raw["worse"] < 1e-6  # the premise of each verdict
    assert all(raw[m] < 0.05 <= adjusted[m] for m in ("near_a", "near_b"))
    for model, p in adjusted.items():
        assert float(rows[model]["p_holm"]) == pytest.approx(p, rel=1e-9)
    assert [rows[m]["vs_baseline"] for m in ("dlinear", "better", "worse", "near_a", "near_b")
            ] == ["baseline", "better", "worse", "indistinguishable", "indistinguishable"]


def test_per_window_errors_that_are_not_finite_are_not_tested(tmp_path: Path) -> None:
    """A window error past float32's range (its run's float64 mean still finite) made the
    test's p NaN, which is never >= alpha: the row read 'worse'. It is not tested, and says
    why; the other rows' tests and Holm's family are as without it."""
    base = np.random.default_rng(3).gamma(2.0, 0.2, 300) + 0.15
    errors = {"dlinear": base, "better": base - 0.05, "diverged": base + 0.05}
    errors["diverged"][17] = np.inf
    sweep = _write_legacy(tmp_path / "sweep", {(m, 24): [0.5] for m in errors})
    for run in sweep.iterdir():
        model = yaml.safe_load((run / ".hydra" / "config.yaml").read_text())["model"]["name"]
        np.save(run / "test_window_mse.npy", errors[model].astype(np.float32))
        metrics = json.loads((run / "metrics.json").read_text())
        (run / "metrics.json").write_text(json.dumps({**metrics, "n_test_windows": 300}))
    proc = report(sweep, "--baseline", "dlinear", "--format", "csv")
    rows = {r["model"]: r for r in _csv(proc.stdout)}
    assert rows["diverged"]["vs_baseline"] == (
        "not tested: 1 of its per-window errors is not finite (a run that diverged?)")
    assert rows["diverged"]["p_holm"] == "" and rows["better"]["vs_baseline"] == "better"
    assert float(rows["better"]["p_holm"]) == pytest.approx(diebold_mariano(
        *(errors[m].astype(np.float32).astype(np.float64) for m in ("better", "dlinear")),
        24).p_value)


def _per_seed(runs: list[Path], metric: str) -> np.ndarray:
    return np.stack([np.load(r / f"test_window_{metric}.npy").astype(np.float64)
                     for r in runs])


def test_the_mae_report_tests_the_per_window_mae(zoo: Zoo) -> None:
    for run_dir in _runs(zoo.sweep, "naive", 24):
        metrics = json.loads((run_dir / "metrics.json").read_text())
        for split in ("test", "val"):
            mae = np.load(run_dir / f"{split}_window_mae.npy")
            assert mae.dtype == np.float32 and mae.size == metrics[f"n_{split}_windows"]
            assert mae.astype(np.float64).mean() == pytest.approx(metrics[f"{split}_mae"],
                                                                  rel=1e-6)
    rows = {(r["pred_len"], r["model"]): r for r in _csv(report(
        zoo.sweep, "--baseline", "dlinear", "--metric", "mae", "--format", "csv").stdout)}
    tests = []
    for pred_len in (24, 36):
        naive = _per_seed(_runs(zoo.sweep, "naive", pred_len), "mae")
        dlinear = _per_seed(_runs(zoo.sweep, "dlinear", pred_len), "mae")
        expected = with_seed_variance(
            diebold_mariano(naive.mean(axis=0), dlinear.mean(axis=0), pred_len), naive,
            dlinear, pred_len)
        row = rows[(str(pred_len), "naive")]
        assert float(row["p_value"]) == pytest.approx(expected.p_value, rel=1e-9)
        tests.append(expected)
    adjusted = holm(np.array([t.p_value for t in tests]))
    for pred_len, test, p in zip((24, 36), tests, adjusted, strict=True):
        row = rows[(str(pred_len), "naive")]
        assert float(row["p_holm"]) == pytest.approx(p, rel=1e-9)
        assert row["vs_baseline"] == ("indistinguishable" if p >= 0.05
                                      else "better" if test.mean_diff < 0 else "worse")
    assert "per-window test MAE" in report(zoo.sweep, "--baseline", "dlinear",
                                           "--metric", "mae").stdout


def test_a_run_without_per_window_mae_is_not_tested_on_mse(zoo: Zoo, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    shutil.copytree(zoo.sweep, sweep)
    for path in sweep.glob("*/test_window_mae.npy"):
        path.unlink()
    rows = _csv(report(sweep, "--baseline", "dlinear", "--metric", "mae", "--format",
                       "csv").stdout)
    naive = [r for r in rows if r["model"] == "naive"]
    assert all(r["p_value"] == "" for r in naive)
    assert all("no test_window_mae.npy (a run saved before" in r["vs_baseline"] for r in naive)
    mse = _csv(report(sweep, "--baseline", "dlinear", "--format", "csv").stdout)
    assert all(r["p_value"] != "" for r in mse if r["model"] == "naive")


def test_the_unscored_note_names_the_re_runs_of_its_own_table(tmp_path: Path) -> None:
    """An MSE table of DLinear on ETTh1 (an all-windows re-run) and on ILI (the paper's
    figure, 10 of 170 windows unscored): the note under it names the re-run cells it holds;
    a table of ILI alone, none."""
    sweep = _write_legacy(tmp_path / "sweep", {("dlinear", 96): [0.372]})
    ili = tmp_path / "sweep" / "ili" / ".hydra"
    ili.mkdir(parents=True)
    (ili / "config.yaml").write_text(
        "dataset:\n  name: ili\nmodel:\n  name: dlinear\npred_len: 24\nseed: 1\n"
        "features: M\n")
    (ili.parent / "metrics.json").write_text(json.dumps(
        {"test_mse": 2.1, "test_mae": 1.0, "n_test_windows": 170}))
    both = report(sweep).stdout
    assert _row(both, 24, "dlinear")[5].endswith("(10 windows unscored)")
    (note,) = [line for line in both.splitlines() if line.startswith("Published (N windows")]
    assert note.endswith("Where someone re-ran the official code on every window, as for "
                         "dlinear at etth1/96, that re-run is the reference.")
    alone = report(ili.parent).stdout
    (note,) = [line for line in alone.splitlines() if line.startswith("Published (N windows")]
    assert note.endswith("and part of a gap may be the protocol's).")
    assert "re-ran" not in alone


def test_a_published_number_that_left_test_windows_unscored_says_how_many(
        legacy: Path) -> None:
    """ETTh1: the MSE reference is the all-windows re-run, the MAE the paper's, whose test
    loader dropped its last batch (DLinear: 2785 windows in batches of 32, 1 unscored;
    PatchTST/42: batches of 128, 97 unscored)."""
    mse = report(legacy).stdout
    assert _row(mse, 96, "dlinear")[5] == "0.384" and "unscored" not in mse
    said = [line for line in mse.splitlines() if line.startswith("Published (re-run)")]
    assert len(said) == 1 and ("FITS README 'Result Update': official LTSF-Linear code, "
                               "drop_last=False (MSE only): dlinear at etth1/96") in said[0]
    mae = report(legacy, "--metric", "mae").stdout
    assert _row(mae, 96, "dlinear")[5] == "0.399 (1 window unscored)"
    assert _row(mae, 96, "patchtst")[5] == "0.399 (97 windows unscored)"
    assert mae.count("Published (N windows unscored): the paper's figure") == 1
    assert "re-ran" not in mae  # no MAE re-run: the note names none
    rows = {(r["pred_len"], r["model"]): r for r in _csv(report(
        legacy, "--metric", "mae", "--format", "csv").stdout)}
    assert rows[("96", "dlinear")]["published_source"] == "dlinear_paper"
    assert rows[("96", "dlinear")]["published_windows_unscored"] == "1"
    rows = {(r["pred_len"], r["model"]): r for r in _csv(report(
        legacy, "--format", "csv").stdout)}
    assert rows[("96", "dlinear")]["published_windows_unscored"] == "0"
    assert rows[("96", "dlinear")]["published_source"] == "dlinear_allwindows"


def test_row_ranges_read_as_the_half_open_ranges_the_card_records(zoo: Zoo) -> None:
    """A card's ``[0, 676]`` is rows 0-675 (end excluded, as a slice): the facts say
    ``[0, 676)``, not the closed interval the HTML page showed."""
    from tsbench.report.collect import collect
    from tsbench.report.compare import facts

    run = next(r for r in collect([zoo.sweep], "test_mse", lambda message: None).runs
               if r.model == "naive" and r.pred_len == 24)
    card = run.card
    start, end = card["scaler"]["fitted_rows"]
    assert (start, end) == (0, 676)  # ILI: int(0.7 * 966) training rows
    known = facts(run)
    assert known["scaler rows"] == "[0, 676)"
    assert known["rows used"] == f"[0, {card['dataset']['rows_used'][1]}) of 966"


def test_job_folders_that_never_finished_are_counted_once(zoo: Zoo, tmp_path: Path) -> None:
    """A killed or failed job leaves Hydra's .hydra/config.yaml and no metrics.json: left
    out, said once with a count (it was left out silently)."""
    for name in ("killed_1", "killed_2", "c_lookback"):
        shutil.copytree(zoo.sweep / "0", tmp_path / name)  # a job of Hydra's
        (tmp_path / name / "metrics.json").unlink()
    # a tuning run's look-back stage: a tsbench-analyze job, finished with lookback.yaml
    (tmp_path / "c_lookback" / "lookback.yaml").write_text("lookbacks: [24, 48]\n")
    proc = report(zoo.csv, tmp_path)
    assert proc.stderr == (f"tsbench-report: warning: left out 2 job folders without "
                           f"metrics.json (killed, failed or still running), e.g. "
                           f"{tmp_path / 'killed_1'}\n")
    assert _n(_rows(proc.stdout)[0][3]) == 1


def test_a_failed_trial_without_metrics_is_named_with_its_error(zoo: Zoo, tmp_path: Path
                                                                ) -> None:
    """A trial that failed leaves no metrics.json; its sweep's trials.csv says why, and the
    warning says it (it read "killed, failed or still running" as a killed job does)."""
    sweep = tmp_path / "sweep"
    for job in ("0", "1"):
        shutil.copytree(zoo.sweep / "0", sweep / job)
        (sweep / job / "metrics.json").unlink()
    (sweep / "trials.csv").write_text(
        "trial,job,status,objective,seconds,seq_len,job_dir,error\n"
        "1,0,failed,,1.0,36,0,model.kernel_size: must be odd\n")
    proc = report(zoo.csv, sweep)
    assert proc.stderr == (
        f"tsbench-report: warning: left out 1 job folder without metrics.json that "
        f"{sweep / 'trials.csv'} marks failed, e.g. {sweep / '0'}: failed "
        "(model.kernel_size: must be odd)\n"
        f"tsbench-report: warning: left out 1 job folder without metrics.json (killed, "
        f"failed or still running), e.g. {sweep / '1'}\n")


def test_an_unreadable_trials_csv_is_one_warning_and_its_jobs_still_left_out(
        tmp_path: Path) -> None:
    """A sweep's trials.csv that is no readable CSV (binary): one warning naming it, and its
    job folder left out as any unfinished one is (in process: no run needed)."""
    from tsbench.report.collect import collect

    sweep = tmp_path / "sweep"
    (sweep / "0" / ".hydra").mkdir(parents=True)
    (sweep / "0" / ".hydra" / "config.yaml").write_text("seed: 1\n")
    (sweep / "trials.csv").write_bytes(b"\x00\x9f\x92\x96" * 50)
    warnings: list[str] = []
    assert collect([sweep], "test_mse", warnings.append).runs == []
    assert warnings == [
        f"{sweep / 'trials.csv'} is not a readable CSV file ('utf-8' codec can't decode byte "
        "0x9f in position 1: invalid start byte): its failed trials cannot be told apart",
        f"left out 1 job folder without metrics.json (killed, failed or still running), e.g. "
        f"{sweep / '0'}"]


def test_a_twin_that_differs_only_in_how_it_was_logged_is_said_so(zoo: Zoo, tmp_path: Path
                                                                   ) -> None:
    """The same DLinear run again with logger=tensorboard: left out as the same
    configuration and seed (the logger changes no score), not as a look-back DLinear
    would not read (it reads it)."""
    run = _runs(zoo.sweep, "dlinear", 24)[0]
    shutil.copytree(run, tmp_path / "csv")
    shutil.copytree(run, tmp_path / "tensorboard")
    config = yaml.safe_load((tmp_path / "tensorboard" / "config.yaml").read_text())
    config["logger"]["name"] = "tensorboard"
    config["trainer"]["progress_bar"] = not config["trainer"]["progress_bar"]
    (tmp_path / "tensorboard" / "config.yaml").write_text(yaml.safe_dump(config))
    [said] = report(tmp_path).stderr.splitlines()
    first, second = sorted([tmp_path / "csv", tmp_path / "tensorboard"])
    assert said == (f"tsbench-report: warning: left out {second}: same configuration and "
                    f"seed {read_config(run).seed} as {first} (they differ only in "
                    "logger.name, trainer.progress_bar, which change no score)")


def test_a_cell_whose_seeds_ran_different_code_says_so(zoo: Zoo, tmp_path: Path) -> None:
    """Seeds 1 and 2 of one cell, the second's card edited as if it ran another version of
    the package: the cell still pools them, and one warning names the seeds of each."""
    for seed_dir in ("0", "1"):
        shutil.copytree(zoo.sweep / seed_dir, tmp_path / seed_dir)
    seeds = [read_config(tmp_path / d).seed for d in ("0", "1")]
    assert report(tmp_path).stderr == ""  # one version: nothing to say
    card_path = tmp_path / "1" / "protocol.json"
    card = json.loads(card_path.read_text())
    card["source"]["sources_sha256"] = "0" * 64
    card_path.write_text(json.dumps(card))
    proc = report(tmp_path)
    [row] = _rows(proc.stdout)
    assert _n(row[3]) == 2
    assert proc.stderr == (
        f"tsbench-report: warning: {row[2]} at ili/{row[1]} pools seeds that ran 2 versions "
        f"of tsbench's code (seeds {seeds[0]} | {seeds[1]}; their protocol.json "
        "source.sources_sha256 differ): rerun them on one version where the change may touch "
        "the numbers\n")
    # the same package, but a user's model file edited between the seeds
    card["source"]["sources_sha256"] = json.loads(
        (tmp_path / "0" / "protocol.json").read_text())["source"]["sources_sha256"]
    card["source"].update(model_file="/home/me/my_models/gru.py", model_sha256="1" * 64)
    card_path.write_text(json.dumps(card))
    assert report(tmp_path).stderr == (
        f"tsbench-report: warning: {row[2]} at ili/{row[1]} pools seeds that ran 2 versions "
        f"of the model's file (seeds {seeds[0]} | {seeds[1]}; their protocol.json "
        "source.model_sha256 differ): rerun them on one version where the change may touch "
        "the numbers\n")


def test_a_run_saved_before_a_null_setting_existed_pools_with_one_after(
        zoo: Zoo, tmp_path: Path) -> None:
    # dataset.thousands and dataset.date_format (null) came later: an older run of another
    # seed lacks them, and was a cell of its own with the same label
    shutil.copytree(zoo.csv, tmp_path / "new")
    shutil.copytree(zoo.csv, tmp_path / "old")
    config = yaml.safe_load((tmp_path / "old" / "config.yaml").read_text())
    assert config["dataset"]["thousands"] is None and config["dataset"]["date_format"] is None
    del config["dataset"]["thousands"], config["dataset"]["date_format"]
    config["seed"] = 2
    (tmp_path / "old" / "config.yaml").write_text(yaml.safe_dump(config))
    rows = _rows(report(tmp_path).stdout)
    assert [(row[2], _n(row[3])) for row in rows] == [("naive", 2)]


def test_a_model_that_trained_nothing_pools_across_training_batch_limits(
        zoo: Zoo, tmp_path: Path) -> None:
    # naive run beside a quick DLinear (trainer.limit_train_batches=20) and a full one was
    # two rows, "naive (trainer.limit_train_batches=20)" and "naive (...=null)", with one
    # score, and neither could be named --baseline naive
    shutil.copytree(zoo.csv, tmp_path / "full")
    shutil.copytree(zoo.csv, tmp_path / "quick")
    config = yaml.safe_load((tmp_path / "quick" / "config.yaml").read_text())
    config["trainer"]["limit_train_batches"] = 20
    config["seed"] = 2
    (tmp_path / "quick" / "config.yaml").write_text(yaml.safe_dump(config))
    rows = _rows(report(tmp_path).stdout)
    assert [(row[2], _n(row[3])) for row in rows] == [("naive", 2)]


def test_a_run_saved_before_cards_is_labelled_so_once(zoo: Zoo, tmp_path: Path) -> None:
    # its unknown facts made a label of them all: "naive (data file: unknown, metric
    # scale: unknown, rows used: unknown, ...)"
    shutil.copytree(zoo.csv, tmp_path / "new")
    shutil.copytree(zoo.csv, tmp_path / "old")
    (tmp_path / "old" / "protocol.json").unlink()
    config = yaml.safe_load((tmp_path / "old" / "config.yaml").read_text())
    config["seed"] = 2
    (tmp_path / "old" / "config.yaml").write_text(yaml.safe_dump(config))
    labels = [row[2] for row in _rows(report(tmp_path).stdout)]
    assert len(labels) == 2 and "naive (no card)" in labels
    carded = next(label for label in labels if label != "naive (no card)")
    assert "unknown" not in carded and "data file: sha256" in carded


def test_baselines_that_read_no_look_back_pool_across_seq_len(zoo: Zoo, tmp_path: Path
                                                              ) -> None:
    """naive forecasts the same whatever seq_len (its card says it is not read, as the
    classical models' do):
    runs at the look-backs of several deep models are one cell each, not one per seq_len,
    and a second run of a seed at another look-back is the same run (left out as a twin).
    DLinear reads its look-back: its seq_len still makes cells."""
    for seq_len in (24, 48):
        run_tsbench([*[o for o in ILI if not o.startswith("seq_len=")], f"seq_len={seq_len}",
                     "pred_len=24", "seed=3", "model=naive"], tmp_path / f"naive{seq_len}")
    run_tsbench([*ILI, "model=dlinear", "pred_len=24", "seed=3", "seq_len=24"],
                tmp_path / "dlinear24")
    card = json.loads((tmp_path / "naive24" / "protocol.json").read_text())
    assert card["seq_len"]["read"] is False
    assert json.loads((tmp_path / "dlinear24" / "protocol.json").read_text())["seq_len"][
        "read"] is True
    proc = report(zoo.sweep, tmp_path)
    labels = {r[2]: _n(r[3]) for r in _rows(proc.stdout) if r[1] == "24"}
    assert labels == {"naive": 3, "dlinear (seq_len=36)": 2, "dlinear (seq_len=24)": 1}
    assert (f"left out {tmp_path / 'naive48'}: naive does not read seq_len, so it repeats "
            f"{tmp_path / 'naive24'} (seed 3; seq_len 48 vs 24)") in proc.stderr
    # a run saved before cards said so: its model class says it
    card_path = tmp_path / "naive24" / "protocol.json"
    card["seq_len"].pop("read")
    card_path.write_text(json.dumps(card))
    assert {r[2] for r in _rows(report(zoo.sweep, tmp_path).stdout) if r[1] == "24"} == {
        "naive", "dlinear (seq_len=36)", "dlinear (seq_len=24)"}
    # scores that differ contradict the card: said, not hidden as a repeat
    metrics_path = tmp_path / "naive48" / "metrics.json"
    metrics = json.loads(metrics_path.read_text())
    metrics_path.write_text(json.dumps({**metrics, "test_mse": metrics["test_mse"] * 1.5}))
    assert (f"left out {tmp_path / 'naive48'}: its scores differ from {tmp_path / 'naive24'}'s "
            "(seed 3; seq_len 48 vs 24), though its card says naive does not read seq_len -> "
            "check the model's reads_look_back") in report(zoo.sweep, tmp_path).stderr
    from tsbench.models import classical, dlinear, itransformer, naive, patchtst

    unread = [naive.Naive, naive.SeasonalNaive, classical.ETS, classical.Theta, classical.ARIMA]
    read = [dlinear.DLinear, patchtst.PatchTST, itransformer.ITransformer]
    assert [m.reads_look_back for m in unread + read] == [False] * 5 + [True] * 3


def test_a_baseline_label_stands_for_its_models_one_cell_in_other_tables(zoo: Zoo) -> None:
    """ILI-24 holds three DLinear configurations (a search's two and the fixed one), so the
    baseline is named by its label there; ILI-36 holds one DLinear cell, labelled
    ``dlinear``: it is that table's baseline, said once (there was no test at 36)."""
    label = "dlinear (seq_len: fixed, seq_len=36)"
    out = report(zoo.sweep, zoo.seq_sweep, "--baseline", label).stdout
    assert _row(out, 24, label)[7] == "baseline" and _row(out, 36, "dlinear")[7] == "baseline"
    assert "(p" in _row(out, 24, "naive")[7] and "(p" in _row(out, 36, "naive")[7]
    assert (f"--baseline '{label}' names a row of other tables; the baseline of each table "
            "without it: ili/36 'dlinear' (the one cell of that model whose settings agree with "
            "the label's, else its only cell).") in out
    # any of the 24 table's labels: the same one cell stands in at 36
    searched = "dlinear (seq_len: searched on val, seq_len=24)"
    out = report(zoo.sweep, zoo.seq_sweep, "--baseline", searched).stdout
    assert _row(out, 36, "dlinear")[7] == "baseline" and _row(out, 24, searched)[7] == "baseline"


def test_a_baseline_label_finds_the_cell_of_its_settings_where_the_table_labels_it_otherwise(
        zoo: Zoo, tmp_path: Path) -> None:
    """A label names what tells its own table's cells apart: at ILI-24, beside the search's
    cells, the fixed DLinear is ``dlinear (seq_len: fixed, seq_len=36)``; at ILI-36, beside a
    refit at seq_len 24, ``dlinear (cv=holdout, seq_len=36)``. The first finds it at 36 too
    (two DLinear cells there, so the model alone does not); the second is ambiguous at 24,
    where two cells agree with it (fixed and searched seq_len 36): no baseline there."""
    run_tsbench([*[o for o in ILI if not o.startswith("seq_len=")], "seq_len=24",
                 "model=dlinear", "pred_len=36", "seed=1", "cv=refit"], tmp_path / "refit")
    at_24, at_36 = "dlinear (seq_len: fixed, seq_len=36)", "dlinear (cv=holdout, seq_len=36)"
    out = report(zoo.sweep, zoo.seq_sweep, tmp_path, "--baseline", at_24).stdout
    assert _row(out, 24, at_24)[7] == "baseline" and _row(out, 36, at_36)[7] == "baseline"
    assert "(p" in _row(out, 36, "dlinear (cv=refit, seq_len=24)")[7]
    out = report(zoo.sweep, zoo.seq_sweep, tmp_path, "--baseline", at_36).stdout
    assert _row(out, 36, at_36)[7] == "baseline"
    assert _row(out, 24, at_24)[7] == f"– (no {at_36} run in this table)"


def test_a_cell_scored_on_other_test_windows_gets_no_published_number(zoo: Zoo,
                                                                     tmp_path: Path) -> None:
    """dataset.test_frac=0.1 scores ILI-24 on 73 windows, not the published split's 170: the
    paper's figure is withheld (it compared as if like for like), said under the table."""
    run_tsbench([*ILI, "model=dlinear", "pred_len=24", "seed=1", "dataset.test_frac=0.1"],
                tmp_path / "short_test")
    metrics = json.loads((tmp_path / "short_test" / "metrics.json").read_text())
    assert metrics["n_test_windows"] == 73
    out = report(tmp_path).stdout
    row = _row(out, 24, "dlinear")
    assert row[5] == "–" and row[6] == "–"
    assert "test windows 73 (published: 170)" in out
    assert _row(report(zoo.sweep).stdout, 24, "dlinear")[5].startswith("2.215")
