"""A run whose loss or scores go non-finite fails with one line naming the fix: exit code 2,
no metrics.json (so reports and sweepers see a failed run), and in a sweep a failed trial."""

from __future__ import annotations

import csv
import os
import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import TINY, run_tsbench

#: Plain SGD far too fast and no clipping: DLinear's weights overflow in the first epoch.
DIVERGING = ["optim=sgd", "trainer.gradient_clip_val=null"]

NAN_MODEL = '''
"""A baseline that breaks down on an outlier: finite on the training windows checked
before the run, NaN where a look-back holds a value far off the training rows' scale."""
import torch

from tsbench.models.base import ForecastModel


class NanForecast(ForecastModel):
    trainable = False

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        far = x.abs().amax(dim=(1, 2), keepdim=True) > 1e3
        value = torch.where(far, torch.tensor(float("nan")), torch.tensor(0.0))
        return value.expand(x.shape[0], self.pred_len, x.shape[2]).clone()
'''


def _outlier_csv(path: Path) -> Path:
    """600 hourly rows of a smooth series with one value of 1e9 at row 450 (validation)."""
    steps = np.arange(600)
    values = np.sin(steps / 12.0)
    values[450] = 1e9
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=600, freq="h"),
                  "OT": values}).to_csv(path, index=False)
    return path


def test_diverged_training_stops_in_its_first_bad_epoch(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    args = [*TINY, *DIVERGING, "optim.lr=1e6", "trainer.max_epochs=20",
            "trainer.progress_bar=true", "logger=csv"]
    proc = run_tsbench(args, run_dir, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    # the bar's line ended, so the error starts a line of its own (as in a terminal or log)
    assert "Epoch 0" in proc.stdout and proc.stdout.endswith("\n")
    error = [line for line in proc.stderr.splitlines() if line.startswith("tsbench: error:")]
    assert len(error) == 1
    # the folder keeps what the run wrote (its loss log), and says where
    assert proc.stderr.splitlines()[-2:] == [
        f"tsbench: the failed run's folder is kept: {run_dir}", error[0]]
    assert (run_dir / "logs" / "metrics.csv").is_file()
    assert re.fullmatch(
        r"tsbench: error: optim\.lr: the run diverged: the training loss is (nan|inf) in epoch 1 "
        r"-> lower optim\.lr \(this run used 1e\+06\), or clip gradients with "
        r"trainer\.gradient_clip_val=1\.0", error[0]), error[0]
    assert not (run_dir / "metrics.json").exists()


def test_a_clipped_run_that_diverges_is_not_told_to_clip(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    args = [*TINY, "optim=sgd", "trainer.gradient_clip_val=0.5", "optim.lr=1e30"]
    proc = run_tsbench(args, run_dir, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert re.search(r"-> lower optim\.lr \(this run used 1e\+30; its gradients were clipped "
                     r"at trainer\.gradient_clip_val=0\.5\)$", proc.stderr.strip()), proc.stderr


def test_non_finite_scores_fail_the_run(tmp_path: Path) -> None:
    (tmp_path / "nan_models.py").write_text(textwrap.dedent(NAN_MODEL))
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p)
    run_dir = tmp_path / "run"
    data = _outlier_csv(tmp_path / "outlier.csv")
    tiny = [a for a in TINY if not a.startswith("dataset")]
    args = [*tiny, "dataset=csv", f"dataset.path={data}", "model=naive",
            "model._target_=nan_models.NanForecast"]
    proc = run_tsbench(args, run_dir, env={"PYTHONPATH": path}, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (  # no learning rate to blame: it does not train
        "tsbench: error: model._target_: NanForecast, which does not train, forecast NaN or inf "
        "on the val split (val_mse=nan, val_mae=nan) -> fix the model's forward")
    assert not (run_dir / "metrics.json").exists()


@pytest.mark.parametrize(("setting", "good_lr", "bad_lr", "said"), [
    (DIVERGING, 0.001, 1e6, ""),
    # its trained model's forecasts are NaN on some training windows: the check after
    # training refuses it before any split is scored, as a diverged run
    (["model=naive", "model._target_=tests.models.faulty_models.NanOnceTrained",
      "trainer.max_epochs=1", "trainer.limit_train_batches=1"], 1e-9, 1e-4,
     ": once trained, NanOnceTrained forecasts NaN or inf for"),
], ids=["loss", "forecasts_once_trained"])
def test_a_diverged_trial_is_a_failed_trial_of_the_sweep(
        setting: list[str], good_lr: float, bad_lr: float, said: str, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    args = [
        "hydra/sweeper=skopt", *TINY, *setting, f"optim.lr=choice({good_lr}, {bad_lr})",
        "hydra.sweeper.n_trials=2", "hydra.sweeper.n_initial_points=2",
        "hydra.sweeper.random_state=0",
    ]  # fmt: skip
    run_tsbench(args, sweep, multirun=True, check=False)
    with open(sweep / "trials.csv", newline="") as handle:
        trials = {float(row["optim.lr"]): row for row in csv.DictReader(handle)}
    assert sorted(trials) == [good_lr, bad_lr]
    bad, good = trials[bad_lr], trials[good_lr]
    # tsbench's own error as it reads (not "ConfigError: optim.lr: ...")
    assert bad["status"] == "failed"
    assert bad["error"].startswith(f"optim.lr: the run diverged{said}"), bad["error"]
    assert not (sweep / bad["job_dir"] / "metrics.json").exists()
    assert good["status"] == "ok" and (sweep / good["job_dir"] / "metrics.json").is_file()


def test_a_run_refused_before_its_bar_is_drawn_prints_nothing_on_stdout(tmp_path: Path
                                                                       ) -> None:
    """With the bar on, a run refused before training (a column the data lacks) says its
    error on stderr alone: no bar's line was drawn, so none is ended with a blank line."""
    args = [*TINY, "trainer.progress_bar=true", "dataset.target=nope"]
    proc = run_tsbench(args, tmp_path / "run", check=False)
    assert proc.returncode == 2 and "tsbench: error: dataset.target:" in proc.stderr
    assert proc.stdout == ""


def test_a_job_that_broke_off_leaves_no_bar_line_open_for_the_next_job(tmp_path: Path
                                                                         ) -> None:
    """A plain multirun of in-process jobs: job 0 draws its bar and diverges, job 1 is
    refused before drawing one. Job 0's bar line ends when its training breaks off, so job
    1's launch line starts a line of its own; job 1 prints nothing on stdout after it (no
    blank line for a bar line it never drew, nor job 0's bar drawn again at exit)."""
    sweep = tmp_path / "sweep"
    args = [*TINY, *DIVERGING, "optim.lr=1e6", "trainer.progress_bar=true",
            "dataset.target=OT,nope"]
    proc = run_tsbench(args, sweep, multirun=True, check=False)
    assert proc.returncode != 0
    assert "tsbench: error: job 0: optim.lr: the run diverged" in proc.stderr
    assert "tsbench: error: job 1: dataset.target: column 'nope' not found" in proc.stderr
    lines = proc.stdout.split("\n")
    [second] = [i for i, line in enumerate(lines) if "\t#1 : " in line]
    assert re.match(r"\[[-\d :,]+\]\[HYDRA\] \t#1 : ", lines[second]), lines[second][:300]
    assert lines[second + 1:] == [""], lines[second + 1:]
    assert "Epoch 0" in "\n".join(lines[:second])  # job 0 drew its bar
