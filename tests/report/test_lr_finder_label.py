"""A run that trained with the learning-rate finder's suggestion (``tune.lr_find=true``,
applied) trained at that rate, not at ``optim.lr``: its row names the rate found, and its
``optim.lr``, which changed nothing, does not set it apart. Real runs of tiny models on
synthetic data, the report's real CLI."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.conftest import read_metrics, run_tsbench
from tests.report.conftest import report, row_labels, tiny_run


def test_a_finder_runs_row_names_the_rate_it_trained_at(tmp_path: Path) -> None:
    found = [tiny_run(tmp_path / f"found_{seed}", "tune.lr_find=true", "optim.lr=1e-3",
                  f"seed={seed}") for seed in (1, 2)]
    other_lr = tiny_run(tmp_path / "found_1_other_lr", "tune.lr_find=true", "optim.lr=1e-2",
                    "seed=1")
    tiny_run(tmp_path / "plain", "optim.lr=1e-3", "seed=1")
    rates = sorted(read_metrics(r)["lr_used"] for r in found)
    assert rates == sorted(read_metrics(r)["lr_suggested"] for r in found)
    assert read_metrics(other_lr)["test_mse"] == read_metrics(found[0])["test_mse"]
    proc = report(tmp_path)
    assert row_labels(proc.stdout) == [
        f"dlinear (lr found={rates[0]:.3g} to {rates[1]:.3g}, tune.lr_find=True)",
        "dlinear (optim.lr=0.001, tune.lr_find=False)"]
    assert (f"left out {other_lr}: same configuration and seed 1 as {found[0]} (they differ "
            "only in optim.lr, which changes no score)") in proc.stderr
    # one seed: its rate
    proc = report(found[0], tmp_path / "plain")
    assert row_labels(proc.stdout)[0] == (
        f"dlinear (lr found={read_metrics(found[0])['lr_used']:.3g}, tune.lr_find=True)")


def test_a_baseline_label_of_a_finder_row_finds_the_finder_cell_of_another_table(
        tmp_path: Path) -> None:
    # pred_len 12 and 24 each hold a finder cell and a plain one; the finder found another
    # rate at each (seed 1, seed 2), so the 12 table's label names a rate the 24 table's row
    # does not: the rate is an outcome, not a setting, and the finder cell there is the
    # baseline
    for pred_len, seed in ((12, 1), (24, 2)):
        tiny_run(tmp_path / f"found_{pred_len}", "tune.lr_find=true", f"pred_len={pred_len}",
                 f"seed={seed}")
        tiny_run(tmp_path / f"plain_{pred_len}", "optim.lr=1e-3", f"pred_len={pred_len}",
                 f"seed={seed}")
    rates = {p: read_metrics(tmp_path / f"found_{p}")["lr_used"] for p in (12, 24)}
    assert f"{rates[12]:.3g}" != f"{rates[24]:.3g}"
    label = f"dlinear (lr found={rates[12]:.3g}, tune.lr_find=True)"
    out = report(tmp_path, "--baseline", label).stdout
    verdicts = {line.split("|")[3].strip(): line.split("|")[8].strip()
                for line in out.splitlines() if line.startswith("| synthetic")}
    assert verdicts[label] == "baseline"
    assert verdicts[f"dlinear (lr found={rates[24]:.3g}, tune.lr_find=True)"] == "baseline"
    assert (f"the baseline of each table without it: synthetic/24 'dlinear (lr found="
            f"{rates[24]:.3g}, tune.lr_find=True)'") in out


def test_a_finder_cells_other_settings_name_the_rate_found_not_optim_lr(
        tmp_path: Path) -> None:
    # the paper's preset trains at optim.lr=0.01; a finder run given optim.lr=0.02 trained
    # at neither: beside the published number it names the rate it trained at
    run_tsbench(["experiment=dlinear_ili", "trainer.max_epochs=1", "logger=none", "plots=false",
                 "tune.lr_find=true", "tune.lr_find_num_training=20", "optim.lr=0.02"],
                tmp_path / "found")
    rate = read_metrics(tmp_path / "found")["lr_used"]
    [row] = csv.DictReader(io.StringIO(report(tmp_path, "--format", "csv").stdout))
    assert row["published"] == "2.215"
    assert row["published_other_settings"] == (
        f"trained unlike experiment=dlinear_ili: lr found={rate:.3g} (preset optim.lr=0.01), "
        "tune.lr_find=True (preset False), tune.lr_find_num_training=20 (preset 100)")
