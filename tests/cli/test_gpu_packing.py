"""Trials packed on one GPU, end to end on the CPU: a trial out of GPU memory (simulated by
a model whose forward raises ``torch.cuda.OutOfMemoryError``) fails alone in a joblib sweep
and clearly in a single run; the benchmarks' ``--device cuda`` fails clearly without CUDA."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from tests.conftest import ROOT, TINY, run_tsbench
from tests.test_benchmarks import load
from tests.training.oom_model import TOO_BIG
from tsbench.rundir import METRICS

#: The test-only model is imported by tsbench's subprocesses (and their joblib workers).
ENV = {"PYTHONPATH": str(ROOT)}
OOM_MODEL = "model._target_=tests.training.oom_model.OutOfMemoryDLinear"
FITS, TOO_LARGE = 5, TOO_BIG + 2
MESSAGE = ("trainer: GPU out of memory (tried to allocate 2.00 GiB) with 2 trials on one GPU "
           "(hydra.launcher.n_jobs=2) -> lower hydra.launcher.n_jobs or data.batch_size")
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


@pytest.mark.heavy
def test_a_sweep_records_the_trial_out_of_gpu_memory_and_goes_on(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    tiny = [a for a in TINY if not a.startswith("seq_len")]
    run_tsbench([
        *tiny, "hydra/sweeper=skopt", OOM_MODEL, f"model.kernel_size=choice({FITS}, {TOO_LARGE})",
        "seq_len=choice(24, 48)", "hydra.sweeper.n_trials=4", "hydra.sweeper.n_initial_points=2",
        "hydra.sweeper.n_jobs=2", "hydra.sweeper.max_failure_rate=1",
        "hydra.sweeper.random_state=0", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
    ], sweep, env=ENV, multirun=True)  # fmt: skip
    with open(sweep / "trials.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    points = [(int(r["seq_len"]), int(r["model.kernel_size"])) for r in rows]
    assert sorted(points) == [(24, FITS), (24, TOO_LARGE), (48, FITS), (48, TOO_LARGE)]
    for row in rows:
        job = sweep / row["job_dir"]
        if row["model.kernel_size"] == str(TOO_LARGE):
            assert row["status"] == "failed" and row["error"] == MESSAGE
            assert not (job / METRICS).exists()
        else:
            assert row["status"] == "ok" and float(row["objective"]) > 0
            assert (job / METRICS).is_file()
    best = yaml.safe_load((sweep / "best.yaml").read_text())
    assert best["params"]["model.kernel_size"] == FITS


def test_a_single_run_out_of_gpu_memory_is_one_line_and_exit_2(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc = run_tsbench([*TINY, OOM_MODEL, f"model.kernel_size={TOO_LARGE}"], run_dir, env=ENV,
                       check=False)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert errors == ["tsbench: error: trainer: GPU out of memory (tried to allocate 2.00 GiB) "
                      "-> lower data.batch_size or the model's size"]
    assert "Traceback" not in proc.stderr
    assert not (run_dir / METRICS).exists()


#: What the benchmarks say, exit 2, without CUDA for ``--device cuda``.
NO_CUDA = ("{}: --device cuda: torch {} finds no CUDA GPU -> run it on a machine with an "
           "NVIDIA GPU and a CUDA build of torch, or use --device cpu")


@no_cuda
def test_benchmarks_on_cuda_without_cuda_fail_in_one_line(tmp_path: Path) -> None:
    """The script run as its README says, in a fresh interpreter: its imports say nothing
    either. sweep_throughput.py shares that start (it imports throughput.py's check):
    :func:`test_the_sweep_benchmark_on_cuda_without_cuda_starts_no_table`."""
    script = "throughput.py"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--device",
                           "cuda", "--precision", "bf16", "--compile", "--configs", "dlinear",
                           "--steps", "1", "--repeat", "1"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={**os.environ, **ENV, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [NO_CUDA.format(script, torch.__version__)]
    assert proc.stdout == ""  # no table started


@no_cuda
def test_the_sweep_benchmark_on_cuda_without_cuda_starts_no_table(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """In-process (its fresh interpreter's start is throughput.py's, run by the test
    above): the check comes before any sweep or table."""
    script = "sweep_throughput.py"
    module = load(ROOT / "benchmarks" / script, monkeypatch)
    monkeypatch.setattr(sys, "argv", [script, "--device", "cuda", "--batches", "1"])
    with pytest.raises(SystemExit) as ended:
        module.main()
    assert ended.value.code == 2
    assert capsys.readouterr() == ("", NO_CUDA.format(script, torch.__version__) + "\n")
