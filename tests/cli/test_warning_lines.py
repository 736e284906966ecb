"""A run's warnings read alike and are kept: ``tsbench: warning: ...`` on stderr, once each,
whether the command's checks said them before Hydra ran the job or the run did, and the
same lines in the job's log file (``tsbench.log``), with their time in front."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import TINY, run_tsbench

#: A tiny noisy series; one epoch at a tiny rate leaves DLinear worse than the seasonal
#: naive forecast, and pred_len=56 leaves the validation split a few windows.
RUN = ["dataset=synthetic", "dataset.n_rows=600", "dataset.noise=0.5", "model=dlinear",
       "seq_len=48", "pred_len=56", "trainer=debug", "trainer.max_epochs=1", "optim.lr=1e-6",
       "data.batch_size=32", "logger=none", "plots=false"]
#: What each expected warning says, by where it is said.
EXPECTED = {"command check": "+note=1 adds a setting tsbench reads nowhere",
            "run, before training": "the validation split holds 5 windows",
            "run, after training": "it has not learnt the series"}
WARNING = "tsbench: warning: "
STAMP = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] ")


def warning_lines(text: str) -> list[str]:
    """Lines of ``text`` that say a warning, in tsbench's form or Hydra's logging form."""
    return [line for line in text.splitlines() if "warning:" in line or "[WARNING]" in line]


def test_every_warning_of_a_run_is_one_line_on_stderr_and_in_its_log(tmp_path: Path) -> None:
    said = run_tsbench([*RUN, "+note=1"], tmp_path / "run")
    printed = warning_lines(said.stderr)
    assert all(line.startswith(WARNING) for line in printed), printed
    for part in EXPECTED.values():
        assert sum(part in line for line in printed) == 1, (part, printed)
    assert len(printed) == len(EXPECTED)
    assert warning_lines(said.stdout) == []  # the scores' stream has none (nor Hydra's form)
    logged = (tmp_path / "run" / "tsbench.log").read_text().splitlines()
    assert all(STAMP.match(line) for line in logged), logged
    assert [STAMP.sub("", line) for line in logged] == printed  # in the order said


def test_each_job_of_a_multirun_logs_the_commands_and_its_own_warning_said_once(
        tmp_path: Path) -> None:
    """The command's warning concerns every job: each job's log keeps it, the terminal
    has it once. So does a warning each job says alike (its validation split's few
    windows): the first job to say it prints it, each job's log keeps its own."""
    run = [o for o in RUN if not o.startswith("model")]  # a naive forecast: nothing learnt
    said = run_tsbench([*run, "model=naive", "seed=1,2", "+note=1"], tmp_path / "sweep",
                       multirun=True)
    for part in (EXPECTED["command check"], EXPECTED["run, before training"]):
        assert sum(part in line for line in warning_lines(said.stderr)) == 1, part
    for job in ("0", "1"):
        logged = (tmp_path / "sweep" / job / "tsbench.log").read_text().splitlines()
        assert [STAMP.sub("", line) for line in logged] == warning_lines(said.stderr)


def test_a_sweeps_own_warning_reads_as_a_runs(tmp_path: Path) -> None:
    """A search's warning about itself (not a job's) is a ``tsbench: warning:`` line on
    stderr too, not a ``[time][HYDRA]`` line among its progress lines on stdout."""
    said = run_tsbench(["hydra/sweeper=skopt", *TINY, "optim.lr=choice(1e-3, 1e-2)",
                        "hydra.sweeper.n_trials=1", "hydra.sweeper.plots=false",
                        "hydra.sweep.subdir=s_${seed}"], tmp_path / "search", multirun=True)
    assert warning_lines(said.stderr) == [
        f"{WARNING}hydra.sweep.subdir=s_${{seed}} may name one folder for trials at different "
        "points (it names neither the job number nor optim.lr): they would write over each "
        "other's files; use hydra.sweep.subdir='s_${seed}_${hydra.job.num}'"]
    assert "may name one folder" not in said.stdout
    assert "[HYDRA] trial 1 (Hydra job #0): value=" in said.stdout  # progress stays there
