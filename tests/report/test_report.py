"""tsbench-report on a tree of fake run directories."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tsbench.report.cli import main

FAKE = {  # (model, pred_len): test_mse per seed
    ("patchtst", 96): [0.380, 0.390, 0.386],
    ("dlinear", 96): [0.372, 0.377, 0.371],
    ("patchtst", 192): [0.420],
    ("dlinear", 192): [0.450, 0.440],
}


def _write_run(root: Path, i: int, model: str, pred_len: int, seed: int, mse: float) -> None:
    run = root / str(i)
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text(
        f"dataset:\n  name: etth1\nmodel:\n  name: {model}\npred_len: {pred_len}\nseed: {seed}\n")
    (run / "metrics.json").write_text(json.dumps({"test_mse": mse, "test_mae": mse / 2}))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    i = 0
    for (model, pred_len), values in FAKE.items():
        for seed, mse in enumerate(values, start=1):
            _write_run(tmp_path / "sweep", i, model, pred_len, seed, mse)
            i += 1
    unfinished = tmp_path / "sweep" / "99"
    (unfinished / ".hydra").mkdir(parents=True)  # no metrics.json: left out
    return tmp_path / "sweep"


def _line(out: str, model: str, pred_len: int) -> str:
    return next(line for line in out.splitlines() if f"| {pred_len} | {model} |" in line)


def test_markdown_means_stds_bold_and_deltas(tree: Path, capsys: pytest.CaptureFixture) -> None:
    assert main([str(tree)]) == 0
    out = capsys.readouterr().out
    values = FAKE[("patchtst", 96)]
    mean, std = np.mean(values), np.std(values, ddof=1)
    line = _line(out, "patchtst", 96)
    assert f"{mean:.4f} ± {std:.4f} (3)" in line and "**" not in line
    assert "0.385" in line and f"{100 * (mean - 0.385) / 0.385:+.1f} %" in line
    dl = _line(out, "dlinear", 96)
    assert dl.count("**") == 2 and "0.384" in dl  # best of its row; all-windows reference
    single = _line(out, "patchtst", 192)  # one seed: no std
    assert "**" in single and f"{FAKE[('patchtst', 192)][0]:.4f} (1)" in single
    assert "±" not in single
    assert "**" not in _line(out, "dlinear", 192)


def test_csv_and_latex(tree: Path, capsys: pytest.CaptureFixture) -> None:
    assert main([str(tree), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "dataset,pred_len,model,mean,std,n,published,delta,best"
    assert len(lines) == 1 + len(FAKE)
    assert main([str(tree), "--format", "latex", "--metric", "mae"]) == 0
    latex = capsys.readouterr().out
    assert "\\textbf{" in latex and "\\begin{tabular}" in latex and "MAE" in latex


def test_no_runs_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main([str(tmp_path)]) == 2
    assert "no finished run" in capsys.readouterr().err
