"""A run that trained with the learning-rate finder's suggestion (``tune.lr_find=true``,
applied) trained at that rate, not at ``optim.lr``: its row names the rate found, and its
``optim.lr``, which changed nothing, does not set it apart. Real runs of tiny models on
synthetic data, the report's real CLI."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import read_metrics
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
