"""What a finished tsbench search tells its user on its last lines: that its trials did not
score the test split and which command does (best.yaml's, which is checked to), and, when
resumed with nothing left to run, that the sweep is complete rather than an error."""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml

from tests.conftest import TINY, read_metrics, run_tsbench

#: A two-trial random search of tsbench runs.
SEARCH = [*TINY, "hydra/sweeper=skopt", "hydra.sweeper.mode=random",
          "hydra.sweeper.n_trials=2", "hydra.sweeper.plots=false",
          "hydra.sweeper.random_state=0", "optim.lr=choice(0.001,0.01)"]


def _line(proc_output: str, start: str) -> str:
    """The text of the one logged line holding ``start`` (Hydra's log prefix left out)."""
    [line] = [line for line in proc_output.splitlines() if start in line]
    return line[line.index(start):]


def test_a_search_says_best_yamls_command_scores_the_test_split_and_a_resume_it_is_complete(
        tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    proc = run_tsbench(SEARCH, sweep, multirun=True)
    best = yaml.safe_load((sweep / "best.yaml").read_text())
    assert "test_mse" not in read_metrics(sweep / best["job_dir"])  # a trial scores val only
    done = _line(proc.stdout + proc.stderr, "sweep done:")
    assert done.endswith(
        f"; best {best['objective']:.6g} (trial {best['trial']}); trials score validation "
        f"only, not the test split -> best.yaml's command ({sweep / 'best.yaml'}) trains "
        "this configuration and scores it on test"), done
    args = [a for a in shlex.split(best["command"])  # the command's settings, as it says
            if "=" in a and not a.startswith("PYTHONPATH=")]
    run_tsbench(args[:-1], tmp_path / "rerun")  # less hydra.mode=RUN: run_tsbench's own dir
    assert "test_mse" in read_metrics(tmp_path / "rerun")
    resumed = run_tsbench([*SEARCH, "hydra.sweeper.resume=true"], sweep, multirun=True)
    said = resumed.stdout + resumed.stderr
    assert _line(said, "resume: the sweep") == (
        "resume: the sweep is complete (2 of 2 trials ended), so none is launched -> to run "
        "more trials, raise hydra.sweeper.n_trials")
