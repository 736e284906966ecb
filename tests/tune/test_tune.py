"""tsbench-tune with the quick recipe, end to end on synthetic data: the stages before (g)
never touch the test split."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT
from tsbench.tune.ensemble import error_gram
from tsbench.tune.recipe import lr_range, spread


def test_spread_keeps_the_ends() -> None:
    assert spread([48, 72, 96, 120, 144], 3) == [48, 96, 144]
    assert spread([24, 48], 6) == [24, 48]


def test_lr_range_reaches_the_loss_minimum() -> None:
    assert lr_range(2e-5, 0.2, 10.0) == pytest.approx((2e-6, 0.02))  # minimum far above
    assert lr_range(1e-3, 2e-2, 10.0) == pytest.approx((1e-4, 1e-2))  # within the usual span


def test_quick_recipe_end_to_end_never_reads_test_before_g(tmp_path: Path) -> None:
    out = tmp_path / "tune"
    args = ["dataset=synthetic", "dataset.n_rows=900", "model=patchtst", "model.e_layers=1",
            "model.d_ff=16", "model.n_heads=2", "pred_len=24", "seq_len=48", "trainer=debug",
            "data.batch_size=64", "recipe=quick", "recipe.random_trials=3",
            "recipe.bayes_trials=2", "recipe.top_k=2", "recipe.seeds=[1,2]",
            "recipe.max_seq_len=120", f"out={out}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "tsbench.tune.cli", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert set(report["results"]) == {"baseline", "best single", "ensemble"}
    assert len(report["members"]) == 4  # top 2 configurations x 2 seeds
    weights = report["ensemble_weights"]
    assert set(weights) <= set(report["members"]) and sum(weights.values()) == pytest.approx(1)
    results = report["results"]  # greedy selection starts from the best single run
    assert results["ensemble"]["val_mse"] <= results["best single"]["val_mse"] * (1 + 1e-6)
    members = [Path(m) for m in report["members"]]  # the streamed Gram predicts the score
    w = np.array([weights.get(str(m), 0.0) for m in members])
    assert w @ error_gram(members, "val") @ w == pytest.approx(
        results["ensemble"]["val_mse"], rel=1e-6)
    for scores in report["results"].values():
        assert scores["n_test_windows"] == 180 - 24 + 1  # every test window: int(0.2 * 900)
    stage_runs = [p for p in out.rglob("metrics.json")]
    assert len(stage_runs) == 1 + 1 + 3 + 2 + 4  # a, b, d, e, f
    for path in stage_runs:
        metrics = json.loads(path.read_text())
        assert metrics["splits_read"] == ["train", "val"], path
        assert not [k for k in metrics if k.startswith(("test_", "n_test"))], path
    assert f"| ensemble | {len(weights)} |" in (out / "report.md").read_text()
    found = json.loads((out / "b_lr_find" / "lr_find.json").read_text())
    assert report["lr_searched"] == list(
        lr_range(found["suggestion"], found["min_loss_lr"], 10.0))
