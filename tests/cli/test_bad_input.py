"""Each bad input ends in its own clear message, exit code 2, no traceback, no metrics."""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import torch
from omegaconf import open_dict
from pytorch_lightning.accelerators import CUDAAccelerator, MPSAccelerator

from tests.conftest import TINY, data_dir, run_tsbench
from tests.models import faulty_models
from tests.preloaded import run_module
from tsbench.cli import check_command_line, holding
from tsbench.data.loading import load_series
from tsbench.errors import ConfigError, TsbenchError
from tsbench.folder_lock import held
from tsbench.hidden_configs import OWN_CONFIGS
from tsbench.models.build import model_class, model_for
from tsbench.settings_check import check_settings, refuse_a_file, unread_additions
from tsbench.sweep_check import check_sweep
from tsbench.training.run import validate_config
from tsbench.training.step_memory import available_memory
from tsbench.user_paths import home_in_overrides

GOOD_HEAD = "date,a,OT\n"


def _rows(n: int, start: int = 0, blank_at: int | None = None) -> str:
    stamps = pd.date_range("2020-01-01", periods=start + n, freq="h")[start:]
    return "".join(f"{t},{'' if i == blank_at else i % 7},{i % 5}\n"
                   for i, t in enumerate(stamps, start))


#: One case per kind of bad file through the real CLI; tests/data/test_loading_errors.py
#: checks the exact wording of the others in-process.
CASES = {
    "no_date_column": ("a,OT\n1,2\n", [], "dataset.date_col: column 'date' not found"),
    "bad_dates": (GOOD_HEAD + "not-a-date,1,2\n" + _rows(5), [], "is not a date"),
    "no_dates": (GOOD_HEAD + "abc,1,2\n" * 600, [],
                 "are dates (first 'abc') -> set dataset.date_col to the column that holds"),
    "non_numeric": (GOOD_HEAD + _rows(3) + "2020-02-01 00:00:00,x,1\n", [], "non-numeric"),
    "nan": (GOOD_HEAD + _rows(5, blank_at=3), [], "missing value"),
    "duplicate": (GOOD_HEAD + _rows(3) + _rows(1, 2), [], "duplicate timestamp"),
    "unsorted": (GOOD_HEAD + _rows(3, 5) + _rows(2), [], "not sorted"),
    "missing_target": ("date,a,b\n" + _rows(3), [], "dataset.target: column 'OT' not found"),
    "too_short": (GOOD_HEAD + _rows(200), ["seq_len=96", "pred_len=96"],
                  "shorter than seq_len + pred_len"),
    "header_only": (GOOD_HEAD, [], "has no data rows, only a header"),
    "inf": (GOOD_HEAD + _rows(3) + "2020-01-01 03:00:00,inf,1\n" + _rows(3, 4), [],
            "1 non-finite value (first inf in column 'a' at row 3)"),
    "epoch_seconds": (GOOD_HEAD + "".join(f"{1_600_000_000 + 3600 * i},{i},{i}\n"
                                          for i in range(5)), [],
                      "dataset.date_unit: column 'date'"),
    "yyyymmdd": ("day,OT\n" + "".join(f"202201{d:02d},{d}\n" for d in range(1, 6)),
                 ["dataset.date_col=day"],
                 "that read as dates written YYYYMMDD -> set \"dataset.date_format='%Y%m%d'\""),
    "columns_without_target": (GOOD_HEAD + _rows(5), ["dataset.columns=[a]"],
                               "dataset.columns: ['a'] leaves out the target 'OT'"),
    "thousands": (GOOD_HEAD + _rows(3) + '2020-01-01 03:00:00,"1,234",1\n' + _rows(3, 4), [],
                  "(e.g. '1,234' in 'a' at row 3) -> if ',' separates thousands, add "
                  "\"dataset.thousands=','\" to the command line (a decimal comma needs a "
                  "field separator other than ','"),
    "decimal_is_separator": (GOOD_HEAD + _rows(5), ["dataset.decimal=','"],
                             "dataset.decimal: must be one character other than the separator "
                             "',', got ',' -> use '.', and for decimal commas a file separated "
                             "by ';' with \"dataset.sep=';'\""),
    "semicolons": (GOOD_HEAD.replace(",", ";") + _rows(5).replace(",", ";"), [],
                   "look separated by ';', not ','"),
    "gap": (GOOD_HEAD + _rows(3) + _rows(3, 5), [],
            "2 steps of its frequency h are missing (the first gap follows row 2"),
    "freq_mismatch": (GOOD_HEAD + _rows(5), ["dataset.freq=D"],
                      "dataset.freq: 'D' does not match the timestamps"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_csv(case: str, tmp_path: Path) -> None:
    text, extra, message = CASES[case]
    csv = tmp_path / "data.csv"
    csv.write_text(text)
    run_dir = tmp_path / "run"
    args = [a for a in TINY if not a.startswith("dataset")] + [
        "dataset=csv", f"dataset.path={csv}", *extra]
    proc = run_tsbench(args, run_dir, check=False)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not run_dir.exists()  # no half-written results: not even Hydra's files


def _ffill_args(tmp_path: Path) -> list[str]:
    """A tiny run of a 700-row CSV (written in ``tmp_path``) whose column a is empty at row
    300 and OT at rows 600 and 601, with ``dataset.fillna=ffill``."""
    csv = tmp_path / "data.csv"
    lines = _rows(700, blank_at=300).splitlines(keepends=True)
    for row in (600, 601):
        lines[row] = lines[row].rsplit(",", 1)[0] + ",\n"
    csv.write_text(GOOD_HEAD + "".join(lines))
    return [a for a in TINY if not a.startswith("dataset")] + [
        "dataset=csv", f"dataset.path={csv}", "dataset.fillna=ffill"]


def test_cells_ffill_filled_are_counted_where_they_are_scored(tmp_path: Path) -> None:
    """700 rows: train targets 0-489, val 490-559, test 560-699 (seq_len 48). Column a is
    empty at row 300, OT at 600 and 601 (:func:`_ffill_args`): scored as if observed, so
    the card counts them per split and the run says so where val or test scores them."""
    args = _ffill_args(tmp_path)
    proc = run_tsbench(args, tmp_path / "run")
    card = json.loads((tmp_path / "run" / "protocol.json").read_text())
    assert card["dataset"]["filled"] == {
        "by": "ffill", "cells": 3, "in_target_rows": {"train": 1, "val": 0, "test": 2}}
    assert ("dataset.fillna=ffill filled scored target cells (2 in test): they are scored as "
            "if observed") in proc.stderr + proc.stdout
    run_tsbench([*args, "features=S"], tmp_path / "target")  # column a is not read
    card = json.loads((tmp_path / "target" / "protocol.json").read_text())
    assert card["dataset"]["filled"]["in_target_rows"] == {"train": 0, "val": 0, "test": 2}
    unscored = run_tsbench([*args, "score_test=false"], tmp_path / "no_test")
    assert "filled scored target cells" not in unscored.stderr + unscored.stdout


@pytest.mark.parametrize("refit, said", [
    ("false", "(1 in the folds' validation blocks)"),  # no test rows read, no val split
    ("true", "(1 in the folds' validation blocks, 2 in test)"),  # the refit scores test
])
def test_cells_ffill_filled_are_counted_where_cross_validation_scores_them(
        tmp_path: Path, refit: str, said: str) -> None:
    """The run of the test above (:func:`_ffill_args`) with cv=tscv: 5 validation blocks
    of 93 rows over the 560 train+val rows; row 300 (column a, scored with features=M) lies
    in the fourth."""
    args = [*_ffill_args(tmp_path), "cv=tscv", f"cv.refit={refit}"]
    proc = run_tsbench(args, tmp_path / "run")
    assert f"dataset.fillna=ffill filled scored target cells {said}: they are scored as " in (
        proc.stderr + proc.stdout)


def test_offline_and_missing_names_file_url_and_env(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {"TSBENCH_DATA_DIR": str(empty), "TSBENCH_CACHE_DIR": str(empty),
           "TSBENCH_OFFLINE": "1"}
    proc = run_tsbench(["dataset=etth1", "model=naive", "trainer=debug"], tmp_path / "run",
                       env=env, check=False)
    assert proc.returncode == 2
    assert "ETTh1.csv" in proc.stderr
    assert "https://raw.githubusercontent.com/zhouhaoyi/ETDataset/main/ETT-small/ETTh1.csv" in (
        proc.stderr)
    assert "TSBENCH_DATA_DIR" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_edited_benchmark_file_in_the_data_dir_is_refused_before_any_run(
        tmp_path: Path) -> None:
    """ETTh1.csv with one test-period OT value raised by 50 is no longer the benchmark: the
    run is refused in one line naming the file and both digests, and leaves no folder."""
    lines = (data_dir() / "ETTh1.csv").read_text().split("\n")
    row = 1 + 12 * 30 * 24 + 4 * 30 * 24 + 100  # header + train + val months + 100 rows
    cells = lines[row].split(",")
    cells[-1] = str(float(cells[-1]) + 50)
    lines[row] = ",".join(cells)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ETTh1.csv").write_text("\n".join(lines))
    proc = run_tsbench(["dataset=etth1", "model=naive", "trainer=debug", "logger=none"],
                       tmp_path / "run", env={"TSBENCH_DATA_DIR": str(tmp_path / "data")},
                       check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith(f"tsbench: error: {tmp_path / 'data' / 'ETTh1.csv'} (in "
                                  "$TSBENCH_DATA_DIR) has sha256 ")
    assert ", not the published ETTh1.csv's f18de3ad269c... (dataset.sha256)" in proc.stderr
    assert "or read an edited copy as your own data with dataset=csv dataset.path=" in (
        proc.stderr)
    assert not (tmp_path / "run").exists()


def test_impossible_model_setting_names_the_field(tmp_path: Path) -> None:
    args = [a for a in TINY if not a.startswith("model")] + [
        "model=patchtst", "model.patch_len=64"]
    proc = run_tsbench(args, tmp_path / "run", check=False)
    assert proc.returncode == 2
    assert "model.patch_len" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "run").exists()  # refused after config.yaml was written


def test_refused_run_leaves_no_folder_in_outputs(tmp_path: Path) -> None:
    """The plain command, with Hydra's default run directory: not even the ``outputs/runs/``
    and day's folders Hydra made for it; those a user had stay, empty as they were, the
    run's own folder (``hydra.run.dir``) too."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = run_module("tsbench", [*TINY, "pred_len=-5"], env, cwd=tmp_path)
    assert proc.returncode == 2 and "tsbench: error: pred_len: must be >= 1" in proc.stderr
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "data.csv").write_text(GOOD_HEAD + _rows(100))  # refused once the data is read
    csv = [a for a in TINY if not a.startswith("dataset")] + [
        "dataset=csv", "dataset.path=data.csv", "dataset.columns=[a,b,OT]"]
    proc = run_module("tsbench", csv, env, cwd=tmp_path)
    assert proc.returncode == 2 and "tsbench: error: dataset.columns: ['b']" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["data.csv"]
    (tmp_path / "outputs" / "runs").mkdir(parents=True)  # the user's, empty
    proc = run_module("tsbench", [*TINY, "pred_len=-5"], env, cwd=tmp_path)
    assert proc.returncode == 2 and list((tmp_path / "outputs" / "runs").iterdir()) == []
    mine = tmp_path / "mine"  # a folder of the user's own, empty: it stays
    mine.mkdir()
    proc = run_module("tsbench", [*TINY, "pred_len=-5", "hydra.run.dir=mine/run"], env,
                      cwd=tmp_path)
    assert proc.returncode == 2 and mine.is_dir() and list(mine.iterdir()) == []
    proc = run_module("tsbench", [*TINY, "pred_len=-5", "hydra.run.dir=mine"], env,
                      cwd=tmp_path)  # the run's own folder: it stays, empty as it was
    assert proc.returncode == 2 and mine.is_dir() and list(mine.iterdir()) == []


#: Runs the tsbench command of its arguments with the clock just before midnight until
#: the checks of the command line are done, and just after midnight from then on.
AT_MIDNIGHT = """
import sys
from datetime import datetime

import hydra.core.utils
import tsbench.cli


class Clock(datetime):
    turned = False

    @classmethod
    def now(cls, tz=None):
        return (cls(2026, 1, 2, 0, 0, 0, 1) if cls.turned else
                cls(2026, 1, 1, 23, 59, 59, 999999))


def main():
    Clock.turned = True
    checked_main()


hydra.core.utils.datetime = Clock  # its ${now:...}
checked_main, tsbench.cli.main = tsbench.cli.main, main
sys.argv[0] = "tsbench"
tsbench.cli.entry()
"""

#: A command refused once its run reads the data, after Hydra made its folder.
NO_FILE = ["dataset=csv", "dataset.path=none.csv", "model=naive", "logger=none"]


def test_a_refused_run_just_after_midnight_leaves_no_day_folder(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """The folders to remove were those of the day the command was checked in: Hydra named
    the run's folder a moment later, in the new day, whose folder stayed. (The command is
    forked from the preloaded fork server: the clock, not a fresh import, is the subject.)"""
    code = tmp_path_factory.mktemp("clock")
    (code / "at_midnight.py").write_text(AT_MIDNIGHT)
    tmp_path = tmp_path_factory.mktemp("work")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(code)}
    proc = run_module("at_midnight", NO_FILE, env, cwd=tmp_path)
    assert proc.returncode == 2 and "none.csv does not exist" in proc.stderr
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "outputs" / "runs" / "2026-01-01").mkdir(parents=True)  # the user's day
    proc = run_module("at_midnight", NO_FILE, env, cwd=tmp_path)
    assert proc.returncode == 2
    assert [p.name for p in (tmp_path / "outputs" / "runs").iterdir()] == ["2026-01-01"]


def test_a_multirun_whose_jobs_are_all_refused_leaves_no_folder(tmp_path: Path) -> None:
    """Each refused job's folder was removed, and the sweep's, holding only multirun.yaml,
    stayed, with the day's and the ``multiruns/`` folders made for it."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # the file swept: no job's file is read before launch (one file is, once: below)
    files = [*NO_FILE[:1], "dataset.path=none.csv,nothing.csv", *NO_FILE[2:]]
    for named in ([], ["hydra.sweep.dir=deep/sweep"]):
        proc = run_module("tsbench", ["-m", *files, *named], env, cwd=tmp_path)
        assert proc.returncode != 0 and "job 0: dataset.path: file none.csv" in proc.stderr
        assert list(tmp_path.iterdir()) == []
    (tmp_path / "outputs" / "multiruns").mkdir(parents=True)  # the user's, empty
    proc = run_module("tsbench", ["-m", *files], env, cwd=tmp_path)
    assert proc.returncode != 0 and list((tmp_path / "outputs" / "multiruns").iterdir()) == []


@pytest.mark.parametrize("settings, said", [
    (["dataset=csv", "dataset.path=mix.csv", "model=naive,seasonal_naive", "pred_len=24,48",
      "seed=1,2"], "tsbench: error: dataset.target: column 'OT' not found in mix.csv; "
     "columns are ['a', 'b'] -> set dataset.target=<column to forecast>"),
    (["dataset=csv", "dataset.path=mix.csv", "dataset.target=b", "features=MS", "cv=tscv",
      "cv.n_splits=7",
      "model=naive,seasonal_naive", "seq_len=48", "pred_len=24"],
     "tsbench: error: cv.n_splits: 7 folds are more than the 240 train+val rows allow"),
])
def test_a_setting_every_job_shares_that_fails_is_refused_once_before_any_job(
        settings: list[str], said: str, tmp_path: Path) -> None:
    """The data file, its target and the folds, shared by every job of the sweep, are
    checked once on the first job's config: one line, no job launched, no folder."""
    rows = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=300, freq="h"),
                         "a": range(300), "b": [i % 24 for i in range(300)]})
    rows.to_csv(tmp_path / "mix.csv", index=False)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = run_module("tsbench", ["-m", *settings, "logger=none"], env, cwd=tmp_path)
    assert proc.returncode == 2 and said in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "job " not in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["mix.csv"]


def test_refused_run_keeps_a_folder_with_other_files(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "notes.txt").write_text("mine")
    proc = run_tsbench([*TINY, "pred_len=-5"], run_dir, check=False)
    assert proc.returncode == 2
    assert (run_dir / "notes.txt").read_text() == "mine" and (run_dir / ".hydra").is_dir()


@pytest.mark.skipif(CUDAAccelerator.is_available() or MPSAccelerator.is_available(),
                    reason="needs a machine without a GPU")
def test_gpu_trainer_without_a_gpu_names_the_fix(tmp_path: Path) -> None:
    args = [a for a in TINY if not a.startswith("trainer")] + ["trainer=gpu"]
    proc = run_tsbench(args, tmp_path / "run", check=False)
    assert proc.returncode == 2
    assert "trainer.accelerator: 'gpu' asks for a GPU" in proc.stderr
    assert "use trainer=cpu" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_lightnings_short_precision_names_train_as_their_full_ones(tmp_path: Path) -> None:
    # bf16 is Lightning's bf16-mixed: it trains under autocast, its gradients clipped by an
    # unfused AdamW (fused, it raised at the first clipped step), and its card says so
    run_tsbench([*TINY, "trainer.precision=bf16", "trainer.gradient_clip_val=1.0"],
                tmp_path / "run")
    card = json.loads((tmp_path / "run" / "protocol.json").read_text())
    assert card["device"]["precision"] == "bf16-mixed"


def test_float16_autocast_on_the_cpu_is_one_line_before_any_folder(tmp_path: Path) -> None:
    """Lightning trained ``trainer.precision=16`` on the CPU at bf16-mixed (a warning) while
    protocol.json said 16-mixed: refused before any data is read or folder made."""
    proc = run_tsbench([*TINY, "trainer.precision=16"], tmp_path / "run", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith(
        "tsbench: error: trainer.precision: '16' (float16 autocast) does not run on the CPU")
    assert not (tmp_path / "run").exists()


def test_float16_autocast_is_refused_only_where_it_would_train_on_the_cpu(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """16-mixed stays a GPU's precision: trainer=gpu on a machine with a CUDA GPU, and a
    sweep's ``auto`` trials (a launcher may run them on GPU nodes) are not refused; ``auto``
    on a machine without a GPU trains on the CPU and is."""
    cpu_free = [a for a in TINY if not a.startswith("trainer")]
    auto = check_settings([*TINY, "trainer.accelerator=auto", "trainer.precision=16"])
    validate_config(auto, here=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="'16' .float16 autocast. does not run on the CPU"):
        validate_config(auto)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(CUDAAccelerator, "is_available", staticmethod(lambda: True))
    validate_config(auto)
    validate_config(check_settings([*cpu_free, "trainer=gpu", "trainer.precision=16"]))


def test_a_folder_as_path_says_so(tmp_path: Path) -> None:
    args = [a for a in TINY if not a.startswith("dataset")] + [
        "dataset=csv", f"dataset.path={tmp_path}"]
    proc = run_tsbench(args, tmp_path / "run", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"dataset.path: {tmp_path} is a folder, not a file" in proc.stderr


def test_a_path_under_home_written_with_a_tilde_reads_the_users_file(tmp_path: Path) -> None:
    """``dataset.path=~/sales.csv`` (Hydra's parser refuses a bare ``~``, and the shell
    leaves it to tsbench) and ``'~/sales.csv'`` quoted read ``$HOME/sales.csv``, as does a
    ``$TSBENCH_DATA_DIR`` of ``~/data``; the protocol card names the file resolved."""
    home, elsewhere = tmp_path / "home", tmp_path / "cwd"
    (home / "data").mkdir(parents=True)
    elsewhere.mkdir()
    (home / "sales.csv").write_text(GOOD_HEAD + _rows(600))
    (home / "data" / "ETTh1.csv").symlink_to(data_dir() / "ETTh1.csv")
    env = {**os.environ, "HOME": str(home), "OMP_NUM_THREADS": "1"}
    args = [a for a in TINY if not a.startswith("dataset")] + ["dataset=csv"]
    for i, path in enumerate(("~/sales.csv", "'~/sales.csv'")):
        run_dir = tmp_path / f"run{i}"
        proc = run_module("tsbench", [*args, f"dataset.path={path}", "model=naive",
                                      f"hydra.run.dir={run_dir}"], env, cwd=elsewhere)
        assert proc.returncode == 0, proc.stderr
        card = json.loads((run_dir / "protocol.json").read_text())["dataset"]
        assert card["file"] == str((home / "sales.csv").resolve())
        assert card["sha256"] is not None
    assert not (elsewhere / "~").exists()
    proc = run_module("tsbench", ["dataset=etth1", "model=naive", "trainer=debug",
                                  "logger=none", f"hydra.run.dir={tmp_path / 'etth1'}"],
                      {**env, "TSBENCH_DATA_DIR": "~/data", "TSBENCH_CACHE_DIR": str(elsewhere)},
                      cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("searchpath", ["[file://~/conf]", "[pkg://tests,file://~/conf]",
                                        "[~/conf]", "['file://~/conf']"])
def test_a_search_path_under_home_written_with_a_tilde_is_the_users_folder(
        searchpath: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``hydra.searchpath=[file://~/conf]``: Hydra's parser refuses the bare ``~``, and a
    quoted one it reads as a folder named ``~``; either is ``$HOME/conf``, whose model the
    command composes."""
    home = tmp_path / "home"
    (home / "conf" / "model").mkdir(parents=True)
    (home / "conf" / "model" / "mine.yaml").write_text(
        (OWN_CONFIGS / "model" / "dlinear.yaml").read_text().replace("name: dlinear",
                                                                     "name: mine"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    args = home_in_overrides([f"hydra.searchpath={searchpath}", "model=mine"])
    assert check_settings(args).model.name == "mine"


@pytest.mark.parametrize("args, fix", [
    # 3 channels x 32 windows, 64 heads, 20001 one-step patches: ~29 TiB of scores a layer
    (["model=patchtst", "model.patch_len=1", "model.stride=1", "model.d_model=64",
      "model.n_heads=64", "seq_len=20000", "dataset.n_rows=30000"],
     "raise model.stride or model.patch_len (fewer patches), lower seq_len"),
    # 32 windows, 256 heads over 5000 variates and 4 calendar features: ~24 TiB a layer
    (["model=itransformer", "model.n_heads=256", "dataset.n_vars=5000"],
     "read fewer variates (dataset.columns, features=S)"),
])  # fmt: skip
def test_a_transformer_whose_training_step_cannot_fit_in_memory_is_refused(
        args: list[str], fix: str, tmp_path: Path) -> None:
    """Not killed by the kernel's OOM killer without a word (``seq_len=5000`` with
    PatchTST's defaults on ETTh1): the estimate, the memory available and what to lower, in
    one line, before training, and no folder."""
    proc = run_tsbench([*TINY, *args], tmp_path / "run", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    said = proc.stderr.strip().splitlines()
    assert len(said) == 1 and said[0].startswith("tsbench: error: model: one training step "
                                                 "of "), proc.stderr
    _, where = available_memory(None)  # RAM's MemAvailable, or a cgroup's room if less
    assert re.search(rf" more than the \d+\.\d GiB {re.escape(where)} -> lower "
                     r"data\.batch_size, ", said[0]), said[0]
    assert said[0].endswith(f"{fix}, or lower model.n_heads or model.d_model; or run where "
                            "more memory is free")
    assert not (tmp_path / "run").exists()


def test_a_share_of_the_training_batches_that_is_no_batch_is_one_line(tmp_path: Path) -> None:
    """Lightning refuses a trainer.limit_train_batches share under one batch with a
    traceback (the run's folder left behind); it is refused in one line, naming the least
    share of this run's batches, and leaves no folder."""
    run_dir = tmp_path / "run"
    proc = run_tsbench([*TINY, "trainer.limit_train_batches=0.001"], run_dir, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    # 420 training rows: 361 windows of 48 + 12 rows, 12 batches of 32
    assert ("tsbench: error: trainer.limit_train_batches: 0.001 of the 12 training batches "
            "is no batch -> give a share of at least 1/12, or a whole number of batches "
            "(e.g. 1)") in proc.stderr
    assert not run_dir.exists()


@pytest.mark.parametrize("override, message", [
    ("optim.weight_decay=-0.1", "optim.weight_decay: must be >= 0, got -0.1"),
    # a range's refusal names a value in range, as data.batch_size's does
    ("seq_len=-1", "seq_len: must be >= 1, got -1 -> give the look-back in time steps, e.g. "
                   "seq_len=96"),
    ("pred_len=0", "pred_len: must be >= 1, got 0 -> give the horizon in time steps, e.g. "
                   "pred_len=96"),
    ("optim.lr=-0.1", "optim.lr: must be > 0, got -0.1 -> give the learning rate, e.g. "
                      "optim.lr=0.001"),
    ("trainer.max_epochs=0", "trainer.max_epochs: must be >= 1, got 0 -> give the epochs to "
                             "train at most, e.g. trainer.max_epochs=10"),
    ("data.eval_batch_size=0", "data.eval_batch_size: must be >= 1, got 0 -> give the windows "
                               "per batch, e.g. data.eval_batch_size=32"),
    ("optim.warmup=-5", "optim.warmup: must be >= 0, got -5"),
    ("trainer.patience=-1", "trainer.patience: must be >= 0, got -1 -> use 0 to turn early "
                            "stopping off, or the epochs without a better validation loss to "
                            "wait for (e.g. 3)"),
    # not a number where one is read (a bare ValueError before), a fraction where a whole
    # number is (96.5 trained as 96 while config.yaml said 96.5)
    ("seq_len=abc", "seq_len: must be a whole number, got 'abc' -> give seq_len as an integer"),
    ("seq_len=48.5", "seq_len: must be a whole number, got 48.5 -> give seq_len as an integer"),
    ("optim.lr=abc", "optim.lr: must be a finite number, got 'abc' -> give optim.lr as a "
                     "number, e.g. optim.lr=0.001"),
    ("data.batch_size=1e2", "data.batch_size: must be a whole number, got 100.0"),
    # Lightning trains no batch and the run scored its untrained model
    ("trainer.limit_train_batches=0", "trainer.limit_train_batches: must be > 0, got 0: no "
     "batch would train, and the untrained model would be scored -> give the batches per "
     "epoch (e.g. 10), a share of them in (0, 1], or null for all"),
])  # fmt: skip
def test_impossible_settings_fail_before_training(
        override: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line passes, and the run refuses the setting before it reads any data
    (:func:`validate_config`): in-process, the CLI's path is
    :func:`test_an_impossible_setting_is_the_runs_one_line`. optim=adam_constant ignores
    warmup, yet a negative one is refused."""
    monkeypatch.chdir(tmp_path)
    argv = [*TINY, "optim=adam_constant", override]
    assert check_command_line(argv).kind == "run"
    with pytest.raises(TsbenchError) as refused:
        validate_config(check_settings(argv))
    assert str(refused.value).startswith(message)


def test_an_impossible_setting_is_the_runs_one_line(tmp_path: Path) -> None:
    """A forked ``tsbench`` says a refusal of :func:`validate_config` as its last line, exit
    2, no traceback, before any data is read (no config.yaml in a folder of the user's,
    kept so that it shows what the run wrote)."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "notes.txt").write_text("mine")
    proc = run_tsbench([*TINY, "optim=adam_constant", "optim.warmup=-5"], run_dir,
                       check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        "tsbench: error: optim.warmup: must be >= 0, got -5 -> give a step count (e.g. 500) "
        "or a fraction of all steps (e.g. 0.05)")
    assert not (run_dir / "config.yaml").exists()


@pytest.mark.parametrize("overrides, message", [
    (["optim.schedule=step", "optim.step_size=0"], "optim.step_size: must be >= 1, got 0 -> "
     "give the epochs between decays, e.g. optim.step_size=1"),  # a ZeroDivisionError mid-run
    (["optim.schedule=step", "optim.step_size=abc"], "optim.step_size: must be a whole number, "
     "got 'abc' -> give optim.step_size as an integer"),
    (["optim.schedule=step", "optim.gamma=0"], "optim.gamma: must be > 0, got 0 -> give the "
     "decay factor, e.g. optim.gamma=0.5"),
    (["optim=adamw", "optim.min_lr=-1e-5"], "optim.min_lr: must be >= 0, got -1e-05 -> give "
     "the cosine's floor, e.g. optim.min_lr=0"),
    (["optim=adamw", "optim.min_lr=abc"], "optim.min_lr: must be a finite number, got 'abc'"),
    (["optim.schedule=cosine"], "optim.schedule: unknown schedule 'cosine' -> use one of "
     "('warmup_cosine', 'constant', 'step', 'type1', 'type3')"),
    (["optim.lr_scaling=linear", "optim.base_batch_size=0"], "optim.base_batch_size: must be "
     ">= 1, got 0 -> give the batch size at which optim.lr applies unscaled, e.g. "
     "optim.base_batch_size=32"),
    (["optim.lr_scaling=cubic"], "optim.lr_scaling: unknown rule 'cubic' -> use none, sqrt or "
     "linear"),
    (["trainer.num_threads=2.5"], "trainer.num_threads: must be a whole number, got 2.5"),
    (["trainer.num_threads=-2"], "trainer.num_threads: must be >= 1, got -2 -> give torch's "
     "threads per run, or null for the cores shared out"),
    (["trainer.progress_refresh=0"], "trainer.progress_refresh: must be >= 1, got 0 -> give the "
     "steps between refreshes (trainer.progress_bar=false hides the bar)"),
    (["tune.lr_find=true", "tune.lr_find_num_training=abc"], "tune.lr_find_num_training: must "
     "be a whole number, got 'abc'"),
    (["tune.lr_find=true", "tune.lr_find_min_lr=2"], "tune.lr_find_min_lr: need 0 < min_lr < "
     "max_lr, got 2.0 and 1.0"),
    (["strategy=recursive", "strategy.step=abc"], "strategy.step: must be a whole number"),
    (["trainer.gradient_clip_val=abc"], "trainer.gradient_clip_val: must be a finite number"),
    (["trainer.gradient_clip_val=-1"], "trainer.gradient_clip_val: must be >= 0, got -1"),
    # Lightning takes them, but they cast the weights: a dtype error at the first step
    (["trainer.precision=bf16-true"], "trainer.precision: 'bf16-true' casts the model's "
     "weights away from float32, which tsbench's float32 windows do not feed (the run would "
     "fail at its first step) -> use bf16-mixed (autocast: the weights stay float32, "
     "trainer=gpu's default), 16-mixed or 32-true"),
    (["trainer.precision=64"], "trainer.precision: '64' casts the model's weights"),
    (["trainer.precision=fp16"], "trainer.precision: unknown precision 'fp16' -> use 32-true, "
     "bf16-mixed or 16-mixed"),
    # Lightning has no float16 autocast on the CPU: it trained at bf16-mixed, the card said 16
    (["trainer.precision=16"], "trainer.precision: '16' (float16 autocast) does not run on the "
     "CPU: Lightning would train at bf16-mixed instead -> use trainer.precision=bf16-mixed or "
     "32-true on the CPU, or 16-mixed with trainer=gpu"),
    (["trainer.precision=16-mixed"], "trainer.precision: '16-mixed' (float16 autocast) does not "
     "run on the CPU"),
    # a string where true or false is read (bool('no') is true: it ran as true)
    (["data.drop_last=no"], "data.drop_last: must be true or false, got 'no' -> give "
     "data.drop_last=true or data.drop_last=false"),
    (["model.compile=maybe"], "model.compile: must be true or false, got 'maybe'"),
    (["score_test=maybe"], "score_test: must be true, false or null, got 'maybe' -> give "
     "score_test=true, false, or null (the default: true except in a search's trials)"),
    # a model's annotated hyperparameter, before any data is read (a sweep's values too)
    (["model.revin=maybe"], "model.revin: must be true or false, got 'maybe'"),
])  # fmt: skip
def test_a_schedule_strategy_trainer_or_model_setting_no_run_can_use_is_named(
        overrides: list[str], message: str) -> None:
    """In-process (the CLI's path is the cases above): before any folder or data read."""
    with pytest.raises(ConfigError) as refused:
        validate_config(check_settings([*TINY, *overrides]))
    assert str(refused.value).startswith(message)


def test_a_model_yaml_without_its_name_is_named() -> None:
    """A model config of the user's own that lacks ``name`` (``~model.name`` on the command
    line is refused before: tests of test_a_plus_or_tilde_that_cannot_run_is_named_in_one_line)."""
    config = check_settings(TINY)
    with open_dict(config):
        del config.model["name"]
    with pytest.raises(ConfigError) as refused:
        validate_config(config)
    assert str(refused.value).startswith(
        "model.name: is not set -> add 'name: <model>' to the model's YAML")


@pytest.mark.parametrize("overrides, message", [
    (["model=patchtst", "model.d_model=16.5"], "model.d_model: must be a whole number, got 16.5 "
     "-> give model.d_model as a whole number"),  # a tensor-size TypeError before
    (["model.kernel_size=abc"], "model.kernel_size: must be a whole number, got 'abc'"),
    (["model.revin=maybe"], "model.revin: must be true or false, got 'maybe'"),  # ran as true
    (["model=patchtst", "model.dropout=high"], "model.dropout: must be a number, got 'high'"),
    # a constructor that raises (a bug of a user's model): named with its line
    (["model=naive", "model._target_=tests.models.faulty_models.RaisesInInit"],
     "model: RaisesInInit(revin=False) raised ValueError: a bug in __init__ (at "
     f"{faulty_models.__file__}:{faulty_models.RaisesInInit.__init__.__code__.co_firstlineno + 2}"
     ") -> check the model's settings (tsbench --cfg job shows them), or fix its __init__"),
])  # fmt: skip
def test_a_model_setting_its_constructor_cannot_take_is_named(overrides: list[str],
                                                              message: str) -> None:
    cfg = check_settings([*TINY, *overrides])
    with pytest.raises(ConfigError) as refused:
        model_for(cfg, load_series(cfg.dataset))
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize("target, message", [
    # a model file in the working directory run without PYTHONPATH=.
    ("mymodels.Last", "model._target_: cannot import 'mymodels.Last': no module named "
     "'mymodels' -> put the model's file on the Python path (PYTHONPATH=. for one in the "
     "working directory), or point it at a ForecastModel subclass"),
    ("tests.models.faulty_models.Nope", "model._target_: tests.models.faulty_models has no "
     "'Nope' -> point it at a ForecastModel subclass"),
    # a class name misspelt, case aside: the module's model of that name offered
    ("tests.models.faulty_models.TimeLiner", "model._target_: tests.models.faulty_models has "
     "no 'TimeLiner' -> did you mean tests.models.faulty_models.TimeLinear? Else point it"),
    ("tests.models.faulty_models.Raisesininit", "model._target_: tests.models.faulty_models "
     "has no 'Raisesininit' -> did you mean tests.models.faulty_models.RaisesInInit? Else"),
    ("tests.models.broken_import.Any", "model._target_: importing tests.models.broken_import "
     "raised ModuleNotFoundError: No module named 'not_installed_anywhere' (at "),
])
def test_a_model_class_that_does_not_import_says_why(target: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        model_class({"_target_": target})
    assert str(refused.value).startswith(message)


def test_model_settings_of_their_annotated_types_build() -> None:
    cfg = check_settings([*TINY, "model=patchtst", "model.dropout=0", "model.revin=false",
                          "model.d_model=16", "model.n_heads=2"])  # an int where a float is
    assert model_for(cfg, load_series(cfg.dataset)).seq_len == 48


@pytest.mark.parametrize("overrides", [
    ["optim.min_lr=abc"],  # dlinear's type1 schedule has no floor to read
    ["optim.schedule=step", "optim.step_size=3", "optim.gamma=0.9"],
    ["trainer.num_threads=2", "tune.lr_find_num_training=abc"],  # the finder does not run
])
def test_a_setting_the_run_does_not_read_is_not_refused(overrides: list[str]) -> None:
    validate_config(check_settings([*TINY, *overrides]))


@pytest.mark.parametrize("field, value, said", [
    ("n_rows", "abc", "dataset.n_rows: must be a whole number, got 'abc'"),
    ("n_rows", 0, "dataset.n_rows: must be >= 1, got 0"),
    ("noise", -1, "dataset.noise: must be >= 0, got -1"),
    ("periods", [24, 1], "dataset.periods: each period must be >= 2 steps, got [24, 1]"),
    ("train_frac", "abc", "dataset.train_frac: must be a finite number, got 'abc'"),
])
def test_a_synthetic_series_setting_out_of_range_is_named(field: str, value: object,
                                                          said: str) -> None:
    dataset = check_settings(["dataset=synthetic"]).dataset
    dataset[field] = value
    with pytest.raises(ConfigError, match=re.escape(said)):
        load_series(dataset)


def _command_line_refusal(argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> str:
    """The refusal :func:`check_command_line` raises for ``argv`` run in ``tmp_path``, which
    the CLI prints as ``tsbench: error: <refusal>`` (exit 2); asserts that nothing else was
    said and no file made. Many refusals differ in their message only: checked here, their
    path through the real CLI by a few cases of
    :func:`test_a_refusal_of_the_command_line_is_the_clis_one_line`."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TsbenchError) as refused:
        check_command_line(argv)
    assert capsys.readouterr() == ("", "")
    assert list(tmp_path.iterdir()) == []
    return str(refused.value)


@pytest.mark.parametrize("multirun, args", [
    (False, ["optim.lrr=0.01"]),  # a misspelt setting (check_settings)
    (True, ["logger=csv,mlfow"]),  # a misspelt option among a sweep's
    (True, ["hydra.sweeper.params={seq_len: '24,48'}"]),  # no config Hydra can compose
    (False, ["dataset=csv", "dataset.sep=;"]),  # an override Hydra cannot parse
    (False, ["pred_len=12,24"]),  # a sweep in a single run
    (False, ["~seed"]),  # a setting the run reads deleted (check_settings, composed)
    (False, ["+seed=3"]),  # a + Hydra refuses (check_settings, not composed)
    (True, ["seq_len=48,abc"]),  # a swept value no job can run (check_sweep)
    (True, ["hydra/sweeper=skopt", "seq_len=choice(48,500)",  # and the sweeper's settings:
            "hydra.sweeper.n_trials=3", "hydra.sweeper.n_initial_points=5"]),  # two lines
])
def test_a_refusal_of_the_command_line_is_the_clis_one_line(
        multirun: bool, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A forked ``tsbench`` says :func:`check_command_line`'s refusal and nothing else, exit
    2, no folder: one case per way the command line is refused, whose other cases are
    checked in-process (:func:`_command_line_refusal`); several refusals, a line each."""
    argv = [*(["-m"] if multirun else []), *TINY, *args]
    (tmp_path / "cli").mkdir()
    proc = run_module("tsbench", argv, {**os.environ, "OMP_NUM_THREADS": "1"},
                      cwd=tmp_path / "cli")
    assert list((tmp_path / "cli").iterdir()) == []
    (tmp_path / "in_process").mkdir()
    said = _command_line_refusal(argv, tmp_path / "in_process", monkeypatch, capsys)
    assert (proc.returncode, proc.stderr) == (2, "".join(f"tsbench: error: {line}\n"
                                                          for line in said.splitlines()))


MISSPELT = "no such setting -> check its spelling (tsbench --cfg job shows every setting)"
#: The same for a setting whose spelling is close to one the config has: that one, first.
MEANT = "no such setting -> did you mean"
CHECK = "check its spelling (tsbench --cfg job shows every setting)"
#: The way to a model config of one's own, after a model option tsbench lacks ('dlinaer').
OWN = (", or for a model of your own, its folder of model/dlinaer.yaml on the search path: "
       "'hydra.searchpath=[file://conf]'")


#: The refusal of hydra.sweeper.params on the command line where the sweeper has none.
BASIC_PARAMS = (
    "hydra.sweeper.params: a plain multirun's sweeper (hydra/sweeper=basic_resumable, "
    "Hydra's basic one) takes no params from the command line: its grid is the values swept "
    "there -> sweep the "
    "setting itself (e.g. tsbench -m seq_len=96,336), or choose a sweeper whose params it "
    "changes: a preset, search=dlinear_tune, grid, itransformer_bo, itransformer_tune, "
    "patchtst_bo, patchtst_tune, random, or hydra/sweeper=skopt")


@pytest.mark.parametrize("multirun, args, said", [
    (False, ["optim.lrr=0.01"], f"optim.lrr: {MEANT} optim.lr? Else {CHECK}"),
    (False, ["modell=dlinear"], f"modell: {MEANT} model? Else {CHECK}"),
    (False, ["horizon=48"], f"horizon: {MEANT} pred_len? Else {CHECK}"),  # another's name
    (True, ["seq_len=interval(24,48)", "optim.lrr=0.01,0.02"],
     f"optim.lrr: {MEANT} optim.lr? Else {CHECK}"),
    (False, ["trainer.max_epoch=3"], "trainer.max_epoch: no such setting of trainer=debug -> "
     "did you mean trainer.max_epochs? Else check its spelling, or choose a trainer that has "
     "it (tsbench --cfg job trainer=<option> shows its settings)"),
    # each part of the key: the group's, then the setting's
    (False, ["trainr.max_epoch=3"], f"trainr.max_epoch: {MEANT} trainer.max_epochs? Else "
                                    f"{CHECK}"),
    (False, ["model=patchtst", "model.d_modle=64"], "model.d_modle: no such setting of "
     "model=patchtst -> did you mean model.d_model? Else check its spelling, or choose a model "
     "that has it (tsbench --cfg job model=<option> shows its settings)"),
    (False, ["model=patchtts"], "model: no option 'patchtts' -> did you mean model=patchtst? "
     "Else use one of arima, dlinear, ets, itransformer, naive, patchtst, seasonal_naive, "
     "theta, or for a model of your own, its folder of model/patchtts.yaml on the search path: "
     "'hydra.searchpath=[file://conf]'"),
    (False, ["dataset=ettH1"], "dataset: no option 'ettH1' -> did you mean dataset=etth1? Else "
     "use one of csv, electricity, etth1, etth2, ettm1, ettm2, exchange, ili, synthetic, "
     "traffic, weather, or for a dataset of your own, its folder of dataset/ettH1.yaml on the "
     "search path: 'hydra.searchpath=[file://conf]'"),
    (True, ["logger=csv,mlfow"], "logger: no option 'mlfow' -> did you mean logger=mlflow? Else "
     "use one of csv, mlflow, none, tensorboard, wandb"),
    (True, ["model=dlinear,patchtst,itransformer", "model.patch_len=8"],
     "model.patch_len: no such setting of model=dlinear, a setting of model=patchtst only, "
     "options this multirun sweeps together -> run each model in its own multirun, setting "
     "model.patch_len only where its model has it"),
    (True, ["model=dlinear,patchtst", "model.patch_lem=8"], f"model.patch_lem: {MISSPELT}"),
    (False, ["model=dlinaer"], "model: no option 'dlinaer' -> did you mean model=dlinear? "
                               "Else use one of arima, dlinear, ets, itransformer, naive, "
                               f"patchtst, seasonal_naive, theta{OWN}"),
    (True, ["model=dlinear,dlinaer"], "model: no option 'dlinaer' -> did you mean "
                                      "model=dlinear? Else use one of arima, dlinear, ets, "
                                      "itransformer, naive, patchtst, seasonal_naive, "
                                      f"theta{OWN}"),
    # as close to two options: both (no guess before)
    (False, ["experiment=dlinear_etth3"], "experiment: no option 'dlinear_etth3' -> did you "
     "mean experiment=dlinear_etth1 or experiment=dlinear_etth2? Else use one of "
     "dlinear_etth1, dlinear_etth2, dlinear_exchange, dlinear_ili, itransformer_etth1, "
     "itransformer_etth2, itransformer_exchange, patchtst42_etth1, patchtst42_etth2, "
     "patchtst42_ili"),
    # close to no option (ratio under 0.75 to each): no guess
    (False, ["dataset=ettx"], "dataset: no option 'ettx' -> use one of csv, electricity, etth1, "
     "etth2, ettm1, ettm2, exchange, ili, synthetic, traffic, weather, or for a dataset of your "
     "own, its folder of dataset/ettx.yaml on the search path: 'hydra.searchpath=[file://conf]'"),
    (True, ["hydra/launcher=joblib,jobli"], "hydra/launcher: no option 'jobli' -> did you mean "
                                            "hydra/launcher=joblib? Else use one of basic, "
                                            "joblib, submitit_local, submitit_slurm"),
    # a launcher tsbench's extras install, not installed here: the extra to install
    (True, ["hydra/launcher=ray"], "hydra/launcher: no option 'ray' -> pip install "
     "\"tsbench[ray]\" for it, or use one of basic, joblib, submitit_local, submitit_slurm"),
    # Hydra's own basic sweeper, which lacks resume ("no such setting" before)
    (True, ["hydra/sweeper=basic", "hydra.sweeper.resume=true"], "hydra.sweeper.resume: "
     "Hydra's own basic sweeper (hydra/sweeper=basic) does not resume -> use "
     "hydra/sweeper=basic_resumable, the basic sweeper with resume (a multirun's default)"),
    (True, ["hydra/sweeper=skopt", "hydra.sweeper.params={optim.lr: 'interval(0.001,0.01)'}"],
     "hydra.sweeper.params: no key 'optim.lr' in it to set -> check that key's spelling, or "
     "add keys to hydra.sweeper.params with ++hydra.sweeper.params=..."),
    # Hydra's basic sweeper, tsbench -m's own, has null params: its traceback before
    *[(multirun, [params], BASIC_PARAMS) for multirun, params in (
        (True, "hydra.sweeper.params={seq_len: '24,48'}"),
        (True, "+hydra.sweeper.params.seq_len='24,48'"),
        (True, "++hydra.sweeper.params={seq_len: '24,48'}"),
        (True, "hydra.sweeper.params.seq_len=24,48"),  # Hydra: "Sweeping over Hydra's ..."
        (False, "+hydra.sweeper.params.seq_len='24,48'"))],
    # a parameter the sweeper's space lacks: not a misspelling, and + would not add a
    # dotted one (params is a dict of strings)
    (True, ["hydra/sweeper=skopt", "hydra.sweeper.params.optim.lr='interval(1e-4,1e-2)'"],
     "hydra.sweeper.params.optim.lr: an override reads the dots of optim.lr as nested keys, "
     "which the sweeper's params (a mapping of dotted names) do not have -> sweep it on the "
     "command line (optim.lr=<values>), or give it in a mapping, merged into params: "
     "'++hydra.sweeper.params={optim.lr: \"<values>\"}'"),
    # a preset that does sweep it: the dots, not a missing parameter, are the fault
    (True, ["search=patchtst_bo", "hydra.sweeper.params.model.patch_len='choice(4,8)'"],
     "hydra.sweeper.params.model.patch_len: an override reads the dots of model.patch_len as "
     "nested keys, which the sweeper's params (a mapping of dotted names) do not have -> "
     "sweep it on the command line (model.patch_len=<values>), or give it in a mapping, "
     "merged into params: '++hydra.sweeper.params={model.patch_len: \"<values>\"}'"),
    # a sweeper with params: the values need Hydra's quotes (Hydra's "Sweeping over Hydra's
    # configuration is not supported" and its traceback hint before)
    (True, ["search=grid", "model=patchtst", "hydra.sweeper.params.seq_len=24,48"],
     "hydra.sweeper.params.seq_len=24,48: Hydra reads an unquoted sweep of a params entry as "
     "a sweep of its own settings -> quote the values for Hydra inside the shell's quotes: "
     "'hydra.sweeper.params.seq_len=\"24,48\"'"),
    (True, ["hydra/sweeper=skopt", "hydra.sweeper.params.seq_len='choice(24,48)'"],
     "hydra.sweeper.params.seq_len: the sweeper's params hold no seq_len to change -> sweep "
     "it on the command line (seq_len=<values>), or add it to params with "
     "+hydra.sweeper.params.seq_len=<values>"),
    (False, ["strategy=direct", "strategy.step=24"],
     "strategy.step: no such setting of strategy=direct -> check its spelling, or choose a "
     "strategy that has it (tsbench --cfg job strategy=<option> shows its settings)"),
    # a setting of another option of a group the command line leaves at its default
    (False, ["strategy.step=24"], "strategy.step: no such setting of strategy=direct (the "
     "default), a setting of strategy=recursive -> add strategy=recursive to the command, "
     "or drop strategy.step"),
    (True, ["seed=1,2", "cv.n_splits=3"], "cv.n_splits: no such setting of cv=holdout (the "
     "default), a setting of cv=tscv -> add cv=tscv to the command, or drop cv.n_splits"),
    (False, ["model="], "model: no option given -> use one of arima, dlinear, ets, "
                        "itransformer, naive, patchtst, seasonal_naive, theta"),
    # a sweep without -m: Hydra's "Ambiguous value" or "requires --multirun" and its hints
    (False, ["pred_len=12,24"], "pred_len=12,24 is a sweep, and a single run takes one value "
     "-> run the sweep with tsbench -m ..., or give one value"),
    (False, ["seq_len=choice(24,48)"], "seq_len=choice(24,48) is a sweep, and a single run "
     "takes one value -> run the sweep with tsbench -m ..., or give one value"),
    # a comma list of a setting that takes a list: its list meant (null by default, or not)
    (False, ["dataset.columns=feeder_1,temp_C"], "dataset.columns=feeder_1,temp_C is a sweep, "
     "and a single run takes one value -> dataset.columns takes a list: did you mean "
     "'dataset.columns=[feeder_1,temp_C]'? Else run the sweep with tsbench -m ..., or give "
     "one value"),
    (False, ["optim.betas=0.8,0.9"], "optim.betas=0.8,0.9 is a sweep, and a single run takes "
     "one value -> optim.betas takes a list: did you mean 'optim.betas=[0.8,0.9]'? Else run "
     "the sweep with tsbench -m ..., or give one value"),
    # the shell ate Hydra's quotes: Hydra's own error shows its lexer's state
    (False, ["dataset=csv", "dataset.sep=;"],
     "cannot read the override 'dataset.sep=;' (LexerNoViableAltException: dataset.sep=;) -> "
     "check its syntax; a value holding , ; : = ( ) [ ] { } or spaces needs Hydra's quotes "
     "inside the shell's, e.g. \"dataset.sep=';'\" or \"dataset.decimal=','\""),
    # tsbench --help lists the recipe group, whose settings are tsbench-tune's
    (False, ["recipe=quick"], "recipe: a setting of tsbench-tune's tuning recipe, not of one "
     "run -> run the recipe with tsbench-tune (e.g. tsbench-tune dataset=etth1 "
     "model=patchtst recipe=quick), or drop it"),
    (True, ["recipe.budget_hours=1"], "recipe.budget_hours: a setting of tsbench-tune's "
     "tuning recipe, not of one run -> run the recipe with tsbench-tune (e.g. tsbench-tune "
     "dataset=etth1 model=patchtst recipe=quick), or drop it"),
    # a misspelt sweep function: Hydra's first line named the override alone
    (True, ["seq_len=choise(24,48)"], "seq_len=choise(24,48): Hydra has no function "
     "'choise' -> did you mean choice(...)? Else use one of bool, choice, float, glob, int, "
     "interval, range, shuffle, sort, str, tag (choice, range and interval sweep)"),
    (True, ["seq_len=pick(24,48)"], "seq_len=pick(24,48): Hydra has no function 'pick' -> "
     "use one of bool, choice, float, glob, int, interval, range, shuffle, sort, str, tag "
     "(choice, range and interval sweep)"),
    (True, ["seq_len=choice(24,48"], "cannot read the override 'seq_len=choice(24,48' (no "
     "viable alternative at input 'choice(24,48') -> check its syntax; a value holding , ; : "
     "= ( ) [ ] { } or spaces needs Hydra's quotes inside the shell's, e.g. "
     "\"dataset.sep=';'\" or \"dataset.decimal=','\""),
])  # fmt: skip
def test_a_misspelt_setting_is_named_in_one_line(
        multirun: bool, args: list[str], said: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Not Hydra's hint ``+optim.lrr=0.01``, which would add the typo; no folder either. A
    setting of another option of a group chosen on the command line is named as such.
    In-process: the CLI prints this refusal as its one line, exit 2
    (:func:`test_a_refusal_of_the_command_line_is_the_clis_one_line`)."""
    assert _command_line_refusal([*(["-m"] if multirun else []), *TINY, *args], tmp_path,
                                 monkeypatch, capsys) == said


#: What a ``~`` of a setting the run reads says.
READ = "and stops where it is deleted -> set it instead"


@pytest.mark.parametrize("multirun, args, said", [
    (False, ["+seed=3"], "+seed=3: seed is a setting of the config already, and + adds one "
                         "it lacks -> set it without the +: seed=3"),
    (True, ["seed=1,2", "+trainer.max_epochs=3"], "+trainer.max_epochs=3: trainer.max_epochs "
     "is a setting of the config already, and + adds one it lacks -> set it without the +: "
     "trainer.max_epochs=3"),
    (False, ["+model=dlinear"], "+model=dlinear: model is a config group of the config "
                                "already, and + adds one it lacks -> set it without the +: "
                                "model=dlinear"),
    (False, ["~foo"], "~foo: the config has no setting foo to delete -> drop it (tsbench "
                      "--cfg job shows every setting)"),
    # deleted, the run stopped on its absence with a traceback, after making its folder
    (False, ["~seed"], f"~seed: tsbench reads seed, {READ} (seed=<value>; tsbench --cfg job "
                       "shows its value)"),
    (False, ["~seed=5"], f"~seed: tsbench reads seed, {READ} (seed=<value>; tsbench --cfg job "
                         "shows its value)"),  # Hydra's: the value is not 5
    (True, ["seed=1,2", "~trainer.max_epochs"], f"~trainer.max_epochs: tsbench reads "
     f"trainer.max_epochs, {READ} (trainer.max_epochs=<value>; tsbench --cfg job shows its "
     "value)"),
    (False, ["~logger"], "~logger: tsbench reads logger, and stops where it is deleted -> "
                         "choose its option instead (logger=<option>; tsbench --help lists "
                         "them)"),
])  # fmt: skip
def test_a_plus_or_tilde_that_cannot_run_is_named_in_one_line(
        multirun: bool, args: list[str], said: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Hydra's refusal of ``+`` on a setting the config has, or of ``~`` of one it lacks,
    took three lines and its hint about a stack trace (exit 1); a ``~`` it took ended the
    run in a traceback after its folder was made."""
    assert _command_line_refusal([*(["-m"] if multirun else []), *TINY, *args], tmp_path,
                                 monkeypatch, capsys) == said


@pytest.mark.parametrize("text, said", [
    ("name: mine\n_target_: [1, 2\n", "not YAML at line 3, column 1: expected ',' or ']', but "
     "got '<stream end>' (while parsing a flow sequence from line 2, column 11) -> fix the file"),
    ("name: mine\nd_model: 16\n  e_layers: 2\n", "not YAML at line 3, column 11: mapping "
     "values are not allowed here -> fix the file"),
])
def test_a_config_file_of_ones_own_that_is_not_yaml_is_named_with_where(
        text: str, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A model config of one's own with a bracket left open or a line indented too far:
    the YAML parser's traceback (exit 1) before, 60 lines of Hydra's and PyYAML's frames."""
    mine = tmp_path / "conf" / "model" / "mine.yaml"
    mine.parent.mkdir(parents=True)
    mine.write_text(text)
    (tmp_path / "run").mkdir()
    assert _command_line_refusal([*TINY, "model=mine",
                                  f"hydra.searchpath=[file://{tmp_path / 'conf'}]"],
                                 tmp_path / "run", monkeypatch, capsys) == f"{mine}: {said}"


@pytest.mark.parametrize("multirun", [False, True])
def test_a_search_path_folder_missing_from_the_working_directory_is_named(
        multirun: bool, tmp_path: Path) -> None:
    """``PYTHONPATH=. tsbench model=gru 'hydra.searchpath=[file://conf]'`` from another
    folder than the one holding ``conf/``: Hydra reads the relative folder from the working
    directory, finds none, and warns; the error then named the fix the command had already
    taken (add ``'hydra.searchpath=[file://conf]'``). It names the missing folder instead,
    without Hydra's warning; no folder either."""
    (tmp_path / "project" / "conf" / "model").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = run_module("tsbench", [*(["-m"] if multirun else []), *TINY, "model=gru",
                                  "hydra.searchpath=[file://conf]"],
                      {**os.environ, "OMP_NUM_THREADS": "1"}, cwd=elsewhere)
    assert proc.returncode == 2
    assert proc.stderr == (
        "tsbench: error: model: no option 'gru', and hydra.searchpath's file://conf is no "
        f"folder in {elsewhere} (a relative folder is read from the working directory) -> "
        "run the command from the folder that holds conf/, or give its absolute path: "
        "'hydra.searchpath=[file:///path/to/conf]'; else use one of arima, dlinear, ets, "
        "itransformer, naive, patchtst, seasonal_naive, theta\n")
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("program, module", [("tsbench", "tsbench"),
                                             ("tsbench-analyze", "tsbench.analysis.cli"),
                                             ("tsbench-tune", "tsbench.tune.cli")])
def test_a_data_file_given_for_settings_names_the_setting_that_reads_it(
        program: str, module: str, tmp_path: Path) -> None:
    """``tsbench-analyze load.csv``: not Hydra's parse error and its quoting hint, but the
    setting that reads a file; no folder either."""
    (tmp_path / "load.csv").write_text(GOOD_HEAD + _rows(800))
    proc = run_module(module, ["load.csv"], {**os.environ, "OMP_NUM_THREADS": "1"},
                      cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == (f"{program}: error: load.csv: {program} takes settings, not a file "
                           "-> use dataset=csv dataset.path=load.csv\n")
    assert [p.name for p in tmp_path.iterdir()] == ["load.csv"]


@pytest.mark.parametrize("line, setting", [
    ("load.csv", "dataset.path=load.csv"),
    ("~/data/load.csv.gz", "\"dataset.path='~/data/load.csv.gz'\""),  # need not exist
    ("my load.csv", "'dataset.path=my load.csv'"),  # quoted for the shell
    ("load(1).csv", "\"dataset.path='load(1).csv'\""),  # and for Hydra
])  # fmt: skip
def test_a_bare_file_is_refused_with_the_setting_as_the_shell_takes_it(line: str,
                                                                       setting: str) -> None:
    with pytest.raises(TsbenchError) as error:
        refuse_a_file(["dataset=csv", line], "tsbench")
    assert str(error.value) == (f"{line}: tsbench takes settings, not a file -> use "
                                f"dataset=csv {setting}")
    refuse_a_file(["dataset=etth1", "~model.dropout", "seq_len=96"], "tsbench")  # settings


@pytest.mark.parametrize("args, said", [
    (["hydra/sweeper=skopt", "optim.lr=interval(-1,1)"],
     "optim.lr: must be > 0, got -1 (at optim.lr=-1 of the sweep optim.lr=interval(-1,1)) -> "
     "give the learning rate, e.g. optim.lr=0.001"),
    (["seq_len=48,abc"], "seq_len: must be a whole number, got 'abc' (at seq_len=abc of the "
                         "sweep seq_len=48,abc) -> give seq_len as an integer"),
    # a config group's option, whichever comes first (TINY's pred_len is 12)
    (["strategy=direct,recursive"], "strategy.step: must be between 1 and pred_len=12, got 24 "
     "(at strategy=recursive of the sweep strategy=direct,recursive) -> forecast a part of "
     "the horizon per roll"),
    # a search preset's space (here given on the command line) is checked the same way
    (["hydra/sweeper=skopt", "++hydra.sweeper.params={optim.lr: 'interval(-1,1)'}"],
     "optim.lr: must be > 0, got -1 (at optim.lr=-1 of hydra.sweeper.params optim.lr: "
     "interval(-1,1)) -> give the learning rate, e.g. optim.lr=0.001 (the sweep's values: "
     "optim.lr=<values> on the command line, in place of the preset's)"),
    # the model's own constructor checks (the model is built, the data not read)
    (["hydra/sweeper=skopt", "model=patchtst", "model.dropout=interval(0.0,1.5)"],
     "model.dropout: must be in [0, 1), got 1.5 (at model.dropout=1.5 of the sweep "
     "model.dropout=interval(0.0,1.5))"),
    (["model=patchtst", "model.d_model=0,16"], "model.d_model: must be >= 1, got 0 (at "
     "model.d_model=0 of the sweep model.d_model=0,16)"),
    # a window length the splits of the data cannot hold (600 rows: 420, 60, 120)
    (["pred_len=12,100"], "pred_len: the val split has 60 rows to forecast, fewer than "
     "pred_len = 100 (its look-back comes from the rows before it) (at pred_len=100 of the "
     "sweep pred_len=12,100) -> sweep only the values that fit: pred_len=12"),
    (["hydra/sweeper=skopt", "seq_len=choice(48,96,500)"], "seq_len: seq_len=500 is longer "
     "than the 420 training rows (at seq_len=500 of the sweep seq_len=choice(48,96,500)) -> "
     "sweep only the values that fit: seq_len=choice(48,96)"),
    # no value fits: the run's own fix
    (["seq_len=500,600"], "seq_len: seq_len=500 is longer than the 420 training rows (at "
     "seq_len=500,600 of the sweep seq_len=500,600) -> lower seq_len"),
    # every value of a range, not its ends alone (a kernel size must be odd), each named
    (["model.kernel_size=range(1,10)"], "model.kernel_size: must be an odd number >= 1, got 2 "
     "(at model.kernel_size=2,4,6,8 of the sweep model.kernel_size=range(1,10)) -> sweep only "
     "the values that fit: model.kernel_size=range(1,10,2)"),
    (["hydra/sweeper=skopt", "model.kernel_size=range(3,9)"], "model.kernel_size: must be an "
     "odd number >= 1, got 4 (at model.kernel_size=4,6,8 of the sweep "
     "model.kernel_size=range(3,9)) -> sweep only the values that fit: "
     "model.kernel_size=range(3,9,2)"),
    (["model.kernel_size=range(1,40)"], "model.kernel_size: must be an odd number >= 1, got 2 "
     "(at model.kernel_size=2,4,6,8,10,12,14,16,18,20,22,24,... (19 values) of the sweep "
     "model.kernel_size=range(1,40)) -> sweep only the values that fit: "
     "model.kernel_size=range(1,40,2)"),
    # a range too long to check value by value: its ends, and no values named to sweep
    # in its place (the end that fits alone is not the range's values that fit)
    (["model.kernel_size=range(0,300)"], "model.kernel_size: must be an odd number >= 1, "
     "got 0 (at model.kernel_size=0 of the sweep model.kernel_size=range(0,300))"),
    # a grid point of a plain multirun, each of whose values runs beside other values
    (["strategy=recursive", "strategy.step=6,24", "pred_len=12,48"], "strategy.step: must be "
     "between 1 and pred_len=12, got 24 (at pred_len=12 strategy.step=24, 1 of the 4 grid "
     "points fail) -> a plain multirun runs every combination of its values: run those that "
     "fit together in multiruns of their own, or search them with hydra/sweeper=skopt and "
     "hydra.sweeper.constraints"),
    # so with many seeds, which repeat the points rather than make new ones (1200 jobs)
    (["strategy=recursive", "strategy.step=6,24", "pred_len=12,48", "seed=range(0,300)"],
     "strategy.step: must be between 1 and pred_len=12, got 24 (at pred_len=12 "
     "strategy.step=24, 1 of the 4 grid points fail at every seed) -> a plain multirun runs every "
     "combination of its values: run those that fit together in multiruns of their own, or "
     "search them with hydra/sweeper=skopt and hydra.sweeper.constraints"),
    # the test split, scored by a plain multirun's jobs (score_test: null), not by a search's
    (["dataset.test_frac=0.05", "pred_len=12,40"], "pred_len: the test split has 30 rows to "
     "forecast, fewer than pred_len = 40 (its look-back comes from the rows before it) (at "
     "pred_len=40 of the sweep pred_len=12,40) -> sweep only the values that fit: "
     "pred_len=12"),
    # a look-back longer than the training rows, whatever the validation
    (["cv=refit", "seq_len=48,500"], "seq_len: seq_len=500 is longer than the 420 training "
     "rows (at seq_len=500 of the sweep seq_len=48,500) -> sweep only the values that fit: "
     "seq_len=48"),
    # cv=tscv folds the train+val rows (480) cannot hold: each fold setting, as a run checks
    (["cv=tscv", "cv.n_splits=3,30"], "cv.n_splits: 30 folds are more than the 480 train+val "
     "rows allow: validation blocks of 15 rows and a first training block of 30 rows, which "
     "needs seq_len + pred_len = 60 (at cv.n_splits=30 of the sweep cv.n_splits=3,30) -> sweep "
     "only the values that fit: cv.n_splits=3"),
    (["cv=tscv", "cv.n_splits=2", "cv.test_size=val,300"], "cv.test_size: 2 validation blocks "
     "of 300 rows leave the first fold 0 of the 480 train+val rows, fewer than seq_len + "
     "pred_len = 60 (at cv.test_size=300 of the sweep cv.test_size=val,300) -> sweep only the "
     "values that fit: cv.test_size=val"),
    (["cv=tscv", "cv.gap=0,400"], "cv.gap: a gap of 400 rows leaves the first fold 0 training "
     "rows, fewer than seq_len + pred_len = 60 (at cv.gap=400 of the sweep cv.gap=0,400) -> "
     "sweep only the values that fit: cv.gap=0"),
    (["cv=tscv", "cv.max_train_size=null,50"], "cv.max_train_size: 50 rows hold no training "
     "window of seq_len + pred_len = 60 rows (at cv.max_train_size=50 of the sweep "
     "cv.max_train_size=null,50) -> sweep only the values that fit: cv.max_train_size=null"),
    # a fold setting that fits the longer series only: a grid point of a plain multirun
    (["cv=tscv", "dataset.n_rows=600,3000", "cv.n_splits=3,30"], "cv.n_splits: 30 folds are "
     "more than the 480 train+val rows allow: validation blocks of 15 rows and a first "
     "training block of 30 rows, which needs seq_len + pred_len = 60 (at dataset.n_rows=600 "
     "cv.n_splits=30, 1 of the 4 grid points fail) -> a plain multirun runs every combination "
     "of its values: run those that fit together in multiruns of their own, or search them "
     "with hydra/sweeper=skopt and hydra.sweeper.constraints"),
])  # fmt: skip
def test_a_swept_value_every_trial_of_it_would_fail_on_is_one_line(
        args: list[str], said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Not a failed trial per value, nor a sweep stopped by its failure rate, nor a folder.
    In-process: the CLI prints this refusal as its one line, exit 2
    (:func:`test_a_refusal_of_the_command_line_is_the_clis_one_line`)."""
    assert _command_line_refusal(["-m", *TINY, *args], tmp_path, monkeypatch, capsys) == said


#: The end of the fix of a preset's sweep the data does not fit at some values.
IN_PLACE = " on the command line, in place of the preset's"
#: What the look-backs tsbench-analyze suggests for TINY's series are.
ANALYZED = (" (multiples of synthetic's period 24 that leave half of its training rows a "
            "window, as tsbench-analyze suggests)")


@pytest.mark.parametrize("overrides, fix", [
    # 420 training rows: seq_len=512 does not fit; the period 24's multiples up to 198
    # (half of them less pred_len) do, the grid's and the search's
    (["search=grid"], f"paste 'seq_len=choice(48,96,192)'{IN_PLACE}{ANALYZED}"),
    (["search=patchtst_bo"], f"paste 'seq_len=choice(48,96,192)'{IN_PLACE}{ANALYZED}"),
    # one look-back suggested: still a sweep, which does not replace the preset's with one
    # value (96 fits the 140 training rows, but leaves fewer than half of them a window)
    (["search=patchtst_bo", "dataset.n_rows=200"],
     f"paste 'seq_len=choice(48)'{IN_PLACE}{ANALYZED}"),
    # no period: the preset's values that fit and leave half of the training rows a window
    (["search=patchtst_bo", "dataset.periods=[]"],
     f"sweep only the values that fit: seq_len=choice(96,192){IN_PLACE}"),
    # none fits, and two cycles of 24 do not either: the run's fix, with the sweep's form
    (["search=grid", "dataset.n_rows=100"], "lower seq_len (the sweep's values: "
     f"seq_len=<values>{IN_PLACE})"),
])  # fmt: skip
def test_a_presets_look_backs_the_data_cannot_hold_name_the_sweep_that_fits(
        overrides: list[str], fix: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Not "lower seq_len", which a search preset's ``hydra.sweeper.params`` gives no way
    to do: the look-backs tsbench-analyze suggests for the series, else the sweep of the
    preset's values that fit; pasted, the command runs, without a warning."""
    tiny = [a for a in TINY if not a.startswith(("seq_len", "model"))]
    with pytest.raises(ConfigError) as refused:
        check_command_line([*tiny, *overrides])
    assert str(refused.value).startswith("seq_len: seq_len=")
    assert str(refused.value).endswith(f" -> {fix}")
    if "<values>" not in fix:
        pasted = fix.split(": ")[-1] if "paste" not in fix else fix.split("'")[1]
        check_command_line([*tiny, *overrides, pasted.removesuffix(IN_PLACE)])
        assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize("args, said", [
    # a preset's look-back the series cannot hold and more initial points than trials: the
    # sweep's values and its sweeper's settings, met one command after the other before
    (["search=patchtst_bo", "hydra.sweeper.n_trials=3"], [
        "seq_len: seq_len=512 is longer than the 420 training rows (at seq_len=512 of "
        "hydra.sweeper.params seq_len: choice(96, 192, 336, 512)) -> paste "
        f"'seq_len=choice(48,96,192)'{IN_PLACE}{ANALYZED}",
        "hydra.sweeper.n_initial_points: 10 is more than n_trials=3 -> lower "
        "n_initial_points or raise n_trials"]),
    # the same at pred_len=96, which the 60 validation rows cannot hold at any look-back:
    # the run's fix, not look-backs to paste that fail alike (two of the preset's other
    # sweeps fixed: each look-back is tried beside each combination of theirs)
    (["search=patchtst_bo", "hydra.sweeper.n_trials=3", "pred_len=96", "model.d_model=16",
      "model.patch_len=16"], [
        "seq_len: the val split has 60 rows to forecast, fewer than pred_len = 96 (its "
        "look-back comes from the rows before it) (at seq_len=96,192,336,512 of "
        "hydra.sweeper.params seq_len: choice(96, 192, 336, 512)) -> use pred_len <= 60, or "
        "a longer series",
        "hydra.sweeper.n_initial_points: 10 is more than n_trials=3 -> lower "
        "n_initial_points or raise n_trials"]),
    # two swept settings, each failing at a value of its own: each its own error (seq_len's
    # beside optim.lr=-1 too), not the first setting's alone
    (["model=dlinear", "seq_len=48,500", "optim.lr=interval(-1,1)"], [
        "seq_len: seq_len=500 is longer than the 420 training rows (at seq_len=500 of the "
        "sweep seq_len=48,500) -> sweep only the values that fit: seq_len=48",
        "optim.lr: must be > 0, got -1 (at optim.lr=-1 of the sweep optim.lr=interval(-1,1)) "
        "-> give the learning rate, e.g. optim.lr=0.001"]),
])  # fmt: skip
def test_a_sweeps_refusals_are_said_at_once(
        args: list[str], said: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Every refusal of the command, each its own line with its fix, so that the user fixes
    them in one go; nothing said before, no folder (the CLI prints each line as
    ``tsbench: error: ...``, exit 2:
    :func:`test_a_refusal_of_the_command_line_is_the_clis_one_line`)."""
    tiny = [a for a in TINY if not a.startswith(("seq_len", "model"))]
    assert _command_line_refusal(["-m", *tiny, *args], tmp_path, monkeypatch, capsys
                                 ).splitlines() == said


@pytest.mark.parametrize("sweep, message", [
    # a setting of the swept group's first option only, whichever option comes first
    (["strategy=recursive,direct", "strategy.step=4"], "strategy.step: no such setting of "
     "strategy=direct, a setting of strategy=recursive only, options this multirun sweeps "
     "together -> run each strategy in its own multirun"),
    (["model=dlinear,naive,ets", "model.kernel_size=5"], "model.kernel_size: no such setting of "
     "model=naive, a setting of model=dlinear only"),
    # a model hyperparameter's value of another type than its annotation
    (["model.revin=false,maybe"], "model.revin: must be true or false, got 'maybe' (at "
     "model.revin=maybe of the sweep model.revin=false,maybe)"),
])  # fmt: skip
def test_a_sweep_some_of_whose_jobs_cannot_compose_or_build_is_refused(
        sweep: list[str], message: str) -> None:
    """Refused before Hydra composes the jobs (its own error named the '+' fix) or trains
    the valid ones: in-process, as the CLI checks the command line."""
    with pytest.raises(TsbenchError) as refused:
        check_command_line(["-m", *TINY, *sweep])
    assert str(refused.value).startswith(message)


def test_a_job_refused_in_a_plain_multirun_is_one_line_and_the_others_run(
        tmp_path: Path) -> None:
    """Hydra's basic sweeper records no failed job: the refusal is said when it happens and
    ends the sweep after its other jobs, one line each, no traceback, no refused folder.
    (A value the model's constructor refuses passes the sweep check, which builds no model.)"""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    sweep = tmp_path / "sweep"
    proc = run_module("tsbench", ["-m", *TINY, "model=patchtst", "model.d_model=16",
                                  "model.n_heads=3,4", f"hydra.sweep.dir={sweep}"], env,
                      cwd=tmp_path)
    said = ("tsbench: error: job 0: model.d_model: must be divisible by n_heads (3), got 16 "
            "-> pick d_model as a multiple of model.n_heads")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    end = f"{said} (the first job refused; the sweep tried every other job, and those that "
    assert f"{said}\n" in proc.stderr and f"{end}ended keep their folders)\n" in proc.stderr
    assert not (sweep / "0").exists() and (sweep / "1" / "metrics.json").is_file()


@pytest.mark.parametrize("sweep", [
    # valid beside some of the other swept values: a constraint may keep step <= pred_len
    ["hydra/sweeper=skopt", "pred_len=choice(24,96)", "strategy=recursive",
     "strategy.step=choice(24,48)"],
    # values a search's constraints keep out: never launched
    ["hydra/sweeper=skopt", "model=dlinear", "model.kernel_size=range(1,50)",
     "hydra.sweeper.constraints=['model.kernel_size % 2 == 1']"],
    # trials a launcher may run on GPU nodes (SLURM), swept from a machine without one
    ["hydra/launcher=submitit_slurm", "trainer=gpu", "seed=1,2"],
    # a preset's horizon it has no value for: its trials say so (an interpolation's error)
    ["experiment=dlinear_exchange", "pred_len=96,24"],
    # the shipped search presets' spaces, whose constraints keep e.g. patch_len <= seq_len
    *([f"search={name}"] for name in ["dlinear_tune", "grid", "itransformer_bo",
                                      "itransformer_tune", "patchtst_bo", "patchtst_tune",
                                      "random"]),
    # a preset's space entry replaced by the command line's sweep of the same key
    ["hydra/sweeper=skopt", "++hydra.sweeper.params={optim.lr: 'interval(-1,1)'}",
     "optim.lr=interval(0.001,0.01)"],
    # pred_len=100 fits the longer of the swept series only
    [*TINY, "hydra/sweeper=skopt", "dataset.n_rows=choice(600,3000)",
     "pred_len=choice(12,100)"],
    # cv.n_splits=30 fits the longer of the swept series only
    [*TINY, "hydra/sweeper=skopt", "cv=tscv", "dataset.n_rows=choice(600,3000)",
     "cv.n_splits=choice(3,30)"],
    # a search's trials do not read the test split (30 rows here)
    [*TINY, "hydra/sweeper=skopt", "dataset.test_frac=0.05", "pred_len=choice(12,40)"],
    # pred_len=12 fails beside strategy=recursive (step 24) only, whichever option is first
    ["hydra/sweeper=skopt", "model=dlinear", "strategy=choice(recursive,direct)",
     "pred_len=choice(12,96)"],
    ["hydra/sweeper=skopt", "model=dlinear", "strategy=choice(direct,recursive)",
     "pred_len=choice(12,96)"],
    # step=48 runs beside pred_len=96 only, after more combinations than are tried (a
    # search: a plain multirun runs step=48 beside pred_len=24 too, and is refused)
    ["hydra/sweeper=skopt", "model=dlinear", "strategy=recursive", "strategy.step=24,48",
     "pred_len=24,96", "data.batch_size=range(8,600,2)"],
])  # fmt: skip
def test_a_swept_value_some_trial_may_run_is_not_refused(sweep: list[str]) -> None:
    check_command_line(["-m", *sweep])


def test_settings_of_every_sweep_syntax_are_not_refused() -> None:
    """The check composes a sweep at its first value (null for an interval): a setting that
    exists passes, whatever sweep it is given."""
    sweeps = ["model=patchtst", "optim=adamw,adam", "model.patch_len=8,16",
              "seq_len=interval(48,96)", "optim.lr=tag(log,interval(1e-4,1e-2))",
              "model.d_model=choice(16,32)", "seed=range(1,4)", "hydra/launcher=joblib",
              "hydra.launcher.n_jobs=2", "+my_note=1"]
    config = check_settings(sweeps)
    # nor their values: an interval, composed at null, is checked at its ends
    check_sweep(config, sweeps)
    with pytest.raises(TsbenchError, match=r"^hydra.sweeper.n_trialz: no such setting -> "
                                           r"check its spelling \(tsbench --cfg hydra"):
        check_settings(["hydra.sweeper.n_trialz=3"])


@pytest.mark.parametrize("overrides", [
    ["search=patchtst_bo", "seq_len=choice(96,192)"],  # a search preset runs as a multirun
    ["hydra.mode=MULTIRUN", "seed=1,2"],
])
def test_a_sweep_of_a_command_that_runs_as_a_multirun_needs_no_m(overrides: list[str]) -> None:
    check_command_line(overrides)


def test_a_single_value_that_replaces_a_presets_sweep_is_a_warning(
        capsys: pytest.CaptureFixture[str]) -> None:
    """``search=grid seq_len=48``: the command line's value replaces the grid's
    ``seq_len: 96,336,512``, so the 12-run grid shrinks to 4 without a word; said once, for
    that key alone (a sweep given on the command line, and a key the grid does not sweep,
    are the user's own)."""
    check_command_line(["search=grid", "dataset=synthetic", "seq_len=48",
                        "model.patch_len=8,16", "optim.lr=1e-3", "seed=3"])
    warned = [line for line in capsys.readouterr().err.splitlines()
              if line.startswith("tsbench: warning:")]
    assert warned == [
        "tsbench: warning: seq_len=48 replaces the sweep hydra.sweeper.params seq_len: "
        "96,336,512, so every trial runs seq_len=48 -> to sweep values of your own give them "
        "as a sweep (seq_len=a,b), or drop seq_len=48",
        "tsbench: warning: optim.lr=1e-3 replaces the sweep hydra.sweeper.params optim.lr: "
        "1e-4,1e-3, so every trial runs optim.lr=1e-3 -> to sweep values of your own give "
        "them as a sweep (optim.lr=a,b), or drop optim.lr=1e-3"]


def test_a_setting_added_that_tsbench_reads_nowhere_is_a_warning(tmp_path: Path) -> None:
    """``+trainer.accumulate_grad_batches=2`` looks like Lightning's, but tsbench builds its
    Trainer from named fields: the addition would change nothing but the saved config. A
    model's own hyperparameter and Hydra's settings are read (a model refuses one it lacks).
    ``++`` sets a setting that exists (no warning) and adds one that does not (warned)."""
    proc = run_module("tsbench", ["+trainer.accumulate_grad_batches=2", "+foo=1",
                                  "+model.extra=2", "+hydra.job.env_set.X=1", "++bar=1",
                                  "++trainer.max_epochs=3", "++data.batch_size=8",
                                  "++model.other=1", "+trainer.patiense=2", "--cfg", "job"],
                      {**os.environ}, cwd=tmp_path)
    warned = [line for line in proc.stderr.splitlines() if line.startswith("tsbench: warning:")]
    assert proc.returncode == 0 and [w.split()[2] for w in warned] == [
        "+trainer.accumulate_grad_batches=2", "+foo=1", "++bar=1", "+trainer.patiense=2"]
    ends = ("nothing but the run's saved config (a report then shows it as a cell of its own) "
            "-> ")
    assert warned[1] == (
        f"tsbench: warning: +foo=1 adds a setting tsbench reads nowhere: it changes {ends}drop "
        "it, or check its spelling (tsbench --cfg job shows every setting)")
    # a misspelling of a setting it has (Hydra's hint for trainer.patiense=2 added the +)
    assert warned[3] == (
        "tsbench: warning: +trainer.patiense=2 adds a setting tsbench reads nowhere: it "
        f"changes {ends}did you mean trainer.patience=2? Else drop it, or check its spelling "
        "(tsbench --cfg job shows every setting)")


def test_a_misspelt_additions_meant_setting_is_printed_as_the_shell_takes_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    """``'+dataset.targt=% WEIGHTED ILI'``: the setting meant, with the value as given,
    pasted from the warning, is one argument holding it (unquoted, the shell split it)."""
    check_command_line([*TINY, "+dataset.targt=% WEIGHTED ILI"])
    said = capsys.readouterr().err
    meant = re.search(r"did you mean (.+)\? Else drop it", said)
    assert meant is not None, said
    assert shlex.split(meant[1]) == ["dataset.target=% WEIGHTED ILI"]


@pytest.mark.parametrize("flags, line, last", [
    ([], "logger=[tensorboard,mlflow]", "mlflow"),
    (["-m"], "logger=csv,[mlflow,tensorboard]", "tensorboard"),  # a sweep's value
    ([], "model=[dlinear,patchtst]", "patchtst"),
])
def test_a_list_of_options_for_one_group_is_refused(flags: list[str], line: str,
                                                    last: str) -> None:
    """Hydra merges ``logger=[tensorboard,mlflow]`` into one logger config whose last name
    wins: one logger logged and the other was dropped silently (with mlflow first, its sweep
    callback was left without its logger). One line names it before any folder is made."""
    group, rest = line.split("=", 1)
    options = rest.split("[")[1].rstrip("]").split(",")
    with pytest.raises(TsbenchError) as refused:
        check_command_line([*flags, *TINY, line])
    assert str(refused.value) == (
        f"{line}: a run takes one {group} option, and Hydra merges a list of them into one "
        f"config, where the last one's name wins (only {group}={last} would act) -> give one: "
        f"{group}={options[0]} or {group}={options[1]} (tsbench -m {group}={','.join(options)} "
        "runs one run with each)")
    check_command_line([*TINY, f"{group}=[{last}]"])  # a list of one is that option


@pytest.mark.parametrize("overrides, warned", [
    # + on a setting whose value is null sets it, as Hydra composes it: read
    (["+trainer.limit_train_batches=5", "+trainer.num_threads=1", "+seq_len_searched_on=val",
      "+dataset.columns=[OT]"], []),
    # the CSV reader's settings, read for every dataset with a default where it lacks one
    (["+dataset.dayfirst=true", "+dataset.sep=';'", "+dataset.date_format=%Y"], []),
    (["dataset=synthetic", "+dataset.gaps=keep", "+dataset.path=x.csv"], ["+dataset.path=x.csv"]),
    # SGD reads optim.nesterov with a default; no other optimizer reads it
    (["optim=sgd", "+optim.nesterov=true"], []),
    (["+optim.nesterov=true", "+trainer.accumulate_grad_batches=2"],
     ["+optim.nesterov=true", "+trainer.accumulate_grad_batches=2"]),
])
def test_a_setting_added_that_tsbench_reads_is_not_warned(overrides: list[str],
                                                          warned: list[str]) -> None:
    """``+trainer.limit_train_batches=5`` limits the training as the same setting without
    ``+`` does: it is no setting read nowhere."""
    assert unread_additions(overrides, check_settings(overrides)) == warned


@pytest.mark.parametrize("args, key", [
    (["-m", "seed=1,2"], "hydra.sweep.dir"), ([], "hydra.run.dir")])
def test_a_plain_run_into_a_searchs_folder_is_refused(tmp_path: Path, args: list[str],
                                                     key: str) -> None:
    """Its job folders 0/, 1/ (or its files) would overwrite the trials that the search's
    trials.csv and best.yaml name; a search there is the sweeper's to resume or refuse."""
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "trials.csv").write_text("trial,job,status\n")
    with pytest.raises(ConfigError) as refused:
        check_command_line([*args, *TINY, f"{key}={tmp_path / 'sweep'}"])
    assert str(refused.value) == (
        f"{key}: {tmp_path / 'sweep'} holds a search's record (trials.csv, record/): this "
        f"{'multirun' if args else 'run'} would overwrite the folders of the trials it names "
        f"-> give a new {key}")
    assert check_command_line([*args, *TINY, f"{key}={tmp_path / 'new'}"])[:2] == (
        "multirun" if args else "run", tmp_path / "new")


def test_a_run_into_a_finished_runs_folder_is_refused_and_the_folder_kept(
        tmp_path: Path) -> None:
    """A second run there mixed its files with the first's (a DLinear checkpoint and range
    test beside an ETS run's metrics); two runs started in the same second shared the
    default folder, the second overwriting the first."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = run_module("tsbench", [*TINY, "model=naive", "hydra.run.dir=same"], env,
                       cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    kept = {p: p.read_bytes() for p in (tmp_path / "same").rglob("*") if p.is_file()}
    again = run_module("tsbench", [*TINY, "hydra.run.dir=same"], env, cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr == (
        "tsbench: error: hydra.run.dir: same holds a finished run (metrics.json): this run "
        "would mix its files with that run's -> give a new hydra.run.dir, or delete that "
        "folder first\n")
    assert {p: p.read_bytes() for p in (tmp_path / "same").rglob("*") if p.is_file()} == kept
    (tmp_path / "sweep" / "0").mkdir(parents=True)  # a plain multirun's finished job
    (tmp_path / "sweep" / "0" / "metrics.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"sweep/0 holds a finished run \(metrics.json\): "
                                          "this multirun would mix"):
        check_command_line(["-m", *TINY, "seed=1,2", f"hydra.sweep.dir={tmp_path / 'sweep'}"])
    (tmp_path / "sweep" / "0").rename(tmp_path / "sweep" / "job_0")  # numbered otherwise
    with pytest.raises(ConfigError, match=r"sweep/job_0 holds a finished run"):
        check_command_line(["-m", *TINY, "seed=1,2", f"hydra.sweep.dir={tmp_path / 'sweep'}",
                            "hydra.sweep.subdir=job_${hydra.job.num}"])
    # job folders of another name, as tsbench-tune's refits run the seeds not yet finished
    (tmp_path / "refits" / "seed_1").mkdir(parents=True)
    (tmp_path / "refits" / "seed_1" / "metrics.json").write_text("{}")
    assert check_command_line(["-m", *TINY, "cv=refit", "seed=2,3",
                               f"hydra.sweep.dir={tmp_path / 'refits'}",
                               "hydra.sweep.subdir=seed_${seed}"]).kind == "multirun"
    # the default folders, told apart to the microsecond
    folders = {str(check_settings(TINY).hydra.run.dir) for _ in range(3)}
    assert len(folders) == 3, folders


@pytest.mark.parametrize("text, scored", [("false", False), ("True", True)])
def test_score_test_given_as_text_means_what_it_says(text: str, scored: bool) -> None:
    """A quoted or interpolated ``score_test`` reaches the run as a string, and
    ``bool("false")`` is true: it must resolve as the word says."""
    from tsbench.training.search_trial import scores_test

    cfg = check_settings([*TINY, f"score_test='{text}'"])
    assert cfg.score_test == text and scores_test(cfg) is scored


@pytest.mark.parametrize("args, message", [
    ([*TINY, "pred_len=${oops}"], "tsbench: error: pred_len: Interpolation key 'oops' not "
     "found -> check the ${...} in its value (tsbench --cfg job shows every setting)"),
    (["experiment=dlinear_exchange", "pred_len=48", "logger=none"],
     "tsbench: error: data.batch_size: pred_len=48 has no preset value; presets cover [96, "
     "192, 336, 720] -> pass the field explicitly on the command line"),
])
def test_an_interpolation_that_cannot_resolve_is_one_line(args: list[str], message: str,
                                                          tmp_path: Path) -> None:
    """A misspelt ``${...}`` or a preset's horizon table without the horizon: one line
    naming the setting, exit 2 and no folder, before any data is read; in a multirun the
    job whose value cannot resolve is named the same way."""
    proc = run_tsbench(args, tmp_path / "run", check=False)
    assert (proc.returncode, proc.stderr.strip()) == (2, message)
    assert not (tmp_path / "run").exists()
    with pytest.raises(ConfigError) as refused:  # a job of a sweep, or a run from Python
        validate_config(check_settings(args))
    assert f"tsbench: error: {refused.value}" == message


@pytest.mark.parametrize("given, printed, features, header", [
    # features=M: the target's warning read the value too (a traceback, not the line)
    ("dataset.target=cost ${usd}", "'dataset.target=cost \\${usd}'", "M",
     "date,a,OT,cost ${usd}"),
    ("dataset.columns=[a,cost ${usd},OT]", "'dataset.columns=[a,cost \\${usd},OT]'", "M",
     "date,a,cost ${usd},OT")])
def test_a_column_named_with_an_interpolation_is_one_line_naming_it_escaped(
        given: str, printed: str, features: str, header: str, tmp_path: Path) -> None:
    """A column ``cost ${usd}`` named as it stands: OmegaConf reads ``${usd}`` as a setting
    (a traceback before); one line names the override with ``\\${``, which pasted as printed
    runs on that column, and the run reads back: its config.yaml keeps the escape
    (``tsbench-forecast`` met ``Interpolation key 'usd' not found`` in it)."""
    path = tmp_path / "costs.csv"
    steps = range(400)
    pd.DataFrame({"date": pd.date_range("2020-01-01", periods=400, freq="h"),
                  "a": [i % 7 for i in steps], "cost ${usd}": [i % 5 for i in steps],
                  "OT": [i % 3 for i in steps]}).to_csv(path, index=False)
    args = ["dataset=csv", f"dataset.path={path}", "model=naive", f"features={features}",
            "seq_len=48", "pred_len=12", "trainer=debug", "logger=none", "plots=false"]
    refused = run_tsbench([*args, given], tmp_path / "refused", check=False)
    assert refused.returncode == 2 and not (tmp_path / "refused").exists()
    [line] = refused.stderr.splitlines()
    assert line.startswith(f"tsbench: error: {given.split('=')[0]}")
    assert line.endswith(f"a ${{ of its text, as in a column's name, is written \\${{: {printed}")
    [pasted] = shlex.split(printed)
    run_tsbench([*args, pasted], tmp_path / "run")
    forecast = run_module("tsbench.forecast", [str(tmp_path / "run")])
    assert forecast.returncode == 0, forecast.stderr
    assert forecast.stdout.splitlines()[0] == header


def test_a_sweeps_value_that_cannot_resolve_is_left_to_its_jobs(tmp_path: Path) -> None:
    """In a ``-m`` sweep such a value is its jobs' to say (each job's line, as a run's):
    the check of a target named under features=M, which reads it, raised OmegaConf's
    InterpolationKeyError first, a traceback."""
    path = tmp_path / "costs.csv"
    path.write_text("date,cost ${usd},OT\n" + _rows(400))
    checked = check_command_line(["-m", "dataset=csv", f"dataset.path={path}", *TINY[2:],
                                  "dataset.target=cost ${usd}", "seed=1,2",
                                  f"hydra.sweep.dir={tmp_path / 'sweep'}"])
    assert checked.kind == "multirun" and not (tmp_path / "sweep").exists()


#: What :func:`warnings_of` gives: the warning lines of a command's arguments.
Warnings = Callable[..., list[str]]


@pytest.fixture
def warnings_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                capsys: pytest.CaptureFixture[str]) -> Warnings:
    """The warning lines of ``tsbench ARGS --cfg job`` in ``tmp_path``, whose check must
    pass: those :func:`check_command_line` prints, in-process (a forked tsbench prints them
    the same way: :func:`test_a_setting_added_that_tsbench_reads_nowhere_is_a_warning`)."""
    monkeypatch.chdir(tmp_path)

    def warnings(*args: str) -> list[str]:
        capsys.readouterr()
        check_command_line([*args, "--cfg", "job"])
        return [line for line in capsys.readouterr().err.splitlines()
                if line.startswith("tsbench: warn")]
    return warnings


def test_a_group_that_replaces_a_presets_choice_is_a_warning(
        warnings_of: Warnings) -> None:
    """``experiment=dlinear_ili dataset=exchange`` runs DLinear on Exchange with ILI's
    look-back, learning rate and batch (Hydra's command line wins): said, not refused. The
    preset's own choice given again, or a group the preset leaves alone, says nothing."""
    assert warnings_of("experiment=dlinear_ili", "dataset=exchange") == [
        "tsbench: warning: dataset=exchange replaces experiment=dlinear_ili's dataset=ili, "
        "whose other settings (seq_len, optim.lr, data.batch_size, trainer.max_epochs, ...) it "
        "keeps, chosen for ili -> drop dataset=exchange, or use a preset of that dataset "
        "(tsbench --help lists them)"]
    # the settings the command sets itself are not named as kept
    [said] = warnings_of("experiment=dlinear_ili", "dataset=exchange", "seq_len=96",
                       "optim.lr=0.1")
    assert "whose other settings (data.batch_size, trainer.max_epochs, ...) it keeps" in said
    replaced = warnings_of("experiment=dlinear_ili", "model=patchtst")
    assert [w.split()[2] for w in replaced] == ["model=patchtst"]
    assert warnings_of("experiment=dlinear_ili", "dataset=ili") == []
    assert warnings_of("experiment=dlinear_ili", "optim=adamw") == []
    assert warnings_of("dataset=exchange", "model=patchtst") == []


def test_a_replaced_presets_choice_with_settings_of_its_own_is_a_warning(
        tmp_path: Path, warnings_of: Warnings) -> None:
    """``dataset=synthetic dataset.n_rows=600`` over ``experiment=dlinear_etth1`` composes
    (the setting is synthetic's): the preset's choice, etth1 and the default's option alike,
    is named, and the command is not refused for a setting etth1 lacks. A user's preset that
    chooses no dataset replaces none: no warning."""
    [said] = warnings_of("experiment=dlinear_etth1", "dataset=synthetic",
                       "dataset.n_rows=600")
    assert said.startswith("tsbench: warning: dataset=synthetic replaces "
                           "experiment=dlinear_etth1's dataset=etth1, ")
    conf = tmp_path / "conf"
    (conf / "experiment").mkdir(parents=True)
    (conf / "experiment" / "horizon.yaml").write_text("# @package _global_\npred_len: 24\n")
    (conf / "experiment" / "on_exchange.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /dataset: exchange\npred_len: 24\n")
    searchpath = f"hydra.searchpath=[file://{conf}]"
    assert warnings_of(searchpath, "experiment=horizon", "dataset=synthetic",
                     "dataset.n_rows=600") == []
    [said] = warnings_of(searchpath, "experiment=on_exchange", "dataset=synthetic")
    assert "replaces experiment=on_exchange's dataset=exchange, " in said


def test_an_option_whose_settings_a_preset_sets_again_is_a_warning(
        warnings_of: Warnings) -> None:
    """``experiment=patchtst42_ili trainer=debug`` trains the preset's 100 epochs (Hydra
    applies the preset after the groups): the lost settings are named with the fix; those
    the command sets itself, and an option the preset leaves alone (trainer=gpu), are not."""
    assert warnings_of("experiment=patchtst42_ili", "trainer=debug") == [
        "tsbench: warning: experiment=patchtst42_ili sets trainer.max_epochs=100, "
        "trainer.patience=100 after trainer=debug, so trainer=debug's trainer.max_epochs=2 "
        "trainer.patience=0 are not used -> give trainer.max_epochs=2 trainer.patience=0 on "
        "the command line"]
    [said] = warnings_of("experiment=patchtst42_ili", "trainer=debug",
                       "trainer.max_epochs=2")
    assert "sets trainer.patience=100 after trainer=debug" in said
    assert "max_epochs" not in said
    assert warnings_of("experiment=patchtst42_ili", "trainer=gpu") == []
    assert warnings_of("trainer=debug") == []


def test_a_presets_setting_for_the_horizon_is_named_by_its_value(
        warnings_of: Warnings) -> None:
    """A preset's ``trainer.max_epochs: ${by_horizon:${pred_len},...}`` is named by the value
    the run uses at its pred_len, not by the interpolation's text."""
    lost = ("trainer.patience=3 after trainer=debug, so trainer=debug's trainer.max_epochs=2 "
            "trainer.patience=0 are not used -> give trainer.max_epochs=2 trainer.patience=0 "
            "on the command line")
    for horizon, epochs in (("96", 10), ("336", 1)):
        assert warnings_of("experiment=itransformer_exchange", "trainer=debug",
                         f"pred_len={horizon}") == [
            f"tsbench: warning: experiment=itransformer_exchange sets trainer.max_epochs="
            f"{epochs}, {lost}"]


def test_a_config_of_the_search_path_that_tsbenchs_own_hides_is_refused(
        tmp_path: Path) -> None:
    """Hydra reads tsbench's model/dlinear.yaml before the search path's: the user's edited
    copy would be trained without a word. An unchanged copy changes nothing and passes."""
    conf = tmp_path / "conf"
    (conf / "model").mkdir(parents=True)
    shipped = (OWN_CONFIGS / "model" / "dlinear.yaml").read_text()
    (conf / "model" / "dlinear.yaml").write_text(shipped + "# my copy\n")  # a comment more
    searchpath = f"hydra.searchpath=[file://{conf}]"
    assert check_command_line([*TINY, "model=dlinear", searchpath]).kind == "run"
    (conf / "model" / "dlinear.yaml").write_text(shipped.replace("individual: false",
                                                                 "individual: true"))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = run_module("tsbench", [*TINY, "model=dlinear", searchpath], env, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == (
        f"tsbench: error: {conf}/model/dlinear.yaml: never read, tsbench's own "
        "model/dlinear.yaml hides it (Hydra reads tsbench's configs before the folders of "
        "hydra.searchpath) -> rename it, e.g. model/my_dlinear.yaml, and choose "
        "model=my_dlinear\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conf"]
    # each hidden file is named at once, not one a try
    (conf / "search").mkdir()
    (conf / "search" / "dlinear_tune.yaml").write_text("# @package _global_\n")
    with pytest.raises(TsbenchError) as refused:
        check_command_line([*TINY, searchpath])
    assert str(refused.value).count("never read, tsbench's own") == 2
    assert "search/dlinear_tune.yaml hides it" in str(refused.value)
    # a folder named by an interpolation is Hydra's to read (it warns, reading it before any
    # job), not refused nor resolved here
    with pytest.warns(UserWarning, match=r"runtime.cwd}/conf is not available"):
        assert check_command_line(
            [*TINY, "hydra.searchpath=[file://${hydra:runtime.cwd}/conf]"]).kind == "run"


def test_a_run_that_finished_while_the_command_was_checked_is_not_written_over(
        tmp_path: Path) -> None:
    """The finished-run check is repeated once the folder's lock is held; a folder named by
    Hydra's own values (its job name, known to Hydra alone) is not locked here, where it
    would lock another folder than the run writes."""
    folder = tmp_path / "raced"
    checked = check_command_line([*TINY, f"hydra.run.dir={folder}"])
    folder.mkdir()
    (folder / "metrics.json").write_text("{}")  # another run, finished meanwhile
    with pytest.raises(ConfigError, match="raced holds a finished run"), holding(checked):
        pass
    assert check_command_line([*TINY, "hydra.run.dir=out/${hydra.job.name}"]).folder is None
    # one Hydra resolves here as it will is locked, and --cfg (it writes nothing) is let in
    named = check_command_line([*TINY, "seed=3", f"hydra.run.dir={folder.parent}/"
                                "${hydra.job.override_dirname}"]).folder
    assert named is not None and ",seed=3," in named.name
    assert check_command_line(["--cfg", "job", *TINY, f"hydra.run.dir={folder}"]).folder is None


def test_hydra_flags_that_do_not_go_together_are_one_line(tmp_path: Path) -> None:
    """Hydra's ValueError for -m with --cfg used to end in its traceback."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = run_module("tsbench", ["-m", "--cfg", "job", "seed=1,2", "hydra.sweep.dir=named"],
                      env, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == ("tsbench: error: Only one of --run, --multirun, --cfg, --info and "
                           "--shell_completion can be specified -> drop -m to print the "
                           "config\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, key, lock", [
    ([], "hydra.run.dir", "run.lock"), (["-m", "seed=1,2"], "hydra.sweep.dir", "sweep.lock")])
def test_a_command_into_a_folder_another_is_writing_is_refused(
        tmp_path: Path, args: list[str], key: str, lock: str) -> None:
    """Two commands naming one folder, run together, wrote over each other's files: the
    finished-run check runs before either has finished. The one that holds the folder's lock
    (here: this test) writes on; the other is refused and touches nothing."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    folder = tmp_path / "same"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    command = [*args, *TINY, "model=naive", f"{key}={folder}"]
    with held(folder / lock, lambda pid: pid):
        refused = run_module("tsbench", command, env, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == (
        f"tsbench: error: {key}: another tsbench (pid {os.getpid()}) is writing into "
        f"{folder} -> wait for it to end, or give another {key}\n")
    assert sorted(p.name for p in folder.iterdir()) == sorted([lock, "notes.txt"])
    ran = run_module("tsbench", command, env, cwd=tmp_path)  # once the other has ended
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert len(list(folder.glob("**/metrics.json"))) == (2 if args else 1)
    # a run refused inside Hydra's folder leaves no folder, its lock with it
    gone = run_module("tsbench", ["dataset=csv", "dataset.path=none.csv", "model=naive",
                                  "logger=none", "hydra.run.dir=deep/er/new"], env, cwd=tmp_path)
    assert gone.returncode == 2 and "none.csv does not exist" in gone.stderr
    assert not (tmp_path / "deep").exists()  # nor the parents made for it
    # and a command that writes nothing there (Hydra prints the config) leaves none either
    shown = run_module("tsbench", ["--cfg", "job", "hydra.run.dir=new"], env, cwd=tmp_path)
    assert shown.returncode == 0 and "model:" in shown.stdout
    assert not (tmp_path / "new").exists()


def test_a_target_named_under_features_m_is_a_warning(
        warnings_of: Warnings) -> None:
    """features=M scores every column: a user naming dataset.target means to score it."""
    assert warnings_of("dataset=etth1", "dataset.target=HUFL") == [
        "tsbench: warning: dataset.target=HUFL with features=M: every column is forecast and "
        "scored (test_mse is their mean), HUFL only plotted -> add features=MS to score HUFL "
        "alone from all columns, or features=S to forecast it from itself"]
    assert warnings_of("dataset=etth1", "dataset.target=HUFL", "features=MS") == []
    assert warnings_of("dataset=etth1") == []  # the dataset's own target, not named


def test_the_readmes_own_csv_command_runs_without_a_warning(
        tmp_path: Path, warnings_of: Warnings) -> None:
    """The README's first command on a file of the user's is what a user should run: it
    names a target, so it scores that target (no features=M warning)."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    line = next(line for line in readme.splitlines()
                if line.startswith("tsbench dataset=csv ") and "dataset.target=" in line)
    args = shlex.split(line.split("#")[0])[1:]
    dates = pd.date_range("2021-01-01", periods=1100, freq="D")
    pd.DataFrame({"day": dates, "price": range(1100), "units": range(1100)}).to_csv(
        tmp_path / "sales.csv", index=False)
    assert warnings_of(*args) == []


def test_a_target_the_csv_lacks_is_refused_without_the_features_m_warning(
        tmp_path: Path, warnings_of: Warnings) -> None:
    """``dataset.target=load`` on a file without a column ``load``, a CSV of the user's or
    a published dataset's: the warning about scoring ``load`` under features=M came before
    the error saying there is no ``load`` (and before the one saying there is no file)."""
    dates = pd.date_range("2024-01-01", periods=200, freq="h")
    pd.DataFrame({"date": dates, "a": range(200), "OT": range(200)}).to_csv(
        tmp_path / "site.csv", index=False)
    own = ["dataset=csv", "dataset.path=site.csv", "model=naive", "seq_len=24", "pred_len=6",
           "logger=none"]
    proc = run_module("tsbench", [*own, "dataset.target=load", "hydra.run.dir=run"],
                      {**os.environ}, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr == (
        "tsbench: error: dataset.target: column 'load' not found in site.csv; columns are "
        "['a', 'OT'] -> set dataset.target=<column to forecast>\n")
    assert not (tmp_path / "run").exists()
    assert len(warnings_of(*own, "dataset.target=a")) == 1  # a column it has: warned
    # nor before the error that the file does not exist (dataset.path=lod.csv)
    assert warnings_of(*own, "dataset.path=lost.csv", "dataset.target=a") == []
    # a published dataset's file, read from its copy on disk
    proc = run_module("tsbench", ["dataset=etth1", *own[2:], "dataset.target=foo",
                                  "hydra.run.dir=run"],
                      {**os.environ, "TSBENCH_DATA_DIR": str(data_dir())}, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr == (
        f"tsbench: error: dataset.target: column 'foo' not found in {data_dir() / 'ETTh1.csv'}; "
        "columns are ['HUFL', 'HULL', 'MUFL', 'MULL', 'LUFL', 'LULL', 'OT'] -> set "
        "dataset.target=<column to forecast>\n")
    assert not (tmp_path / "run").exists()
