"""More seeds of a search's choice run as a plain multirun: the skopt sweeper refuses the
seed as a searched parameter, and best.yaml's ``seeds_command`` runs the seeds with the
basic sweeper."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import read_metrics, run_tsbench
from tests.search.test_tsbench_sweeps import FAST


def test_a_search_over_the_seed_is_refused_with_the_plain_multirun(tmp_path: Path) -> None:
    """best.yaml's command keeps ``search=<preset>``; ``seed=1,2,3 -m`` added to it would
    search the seed and name the luckiest one best."""
    sweep = tmp_path / "sweep"
    proc = run_tsbench(["search=patchtst_bo", *FAST, "hydra.sweeper.n_trials=1",
                        "hydra.sweeper.n_initial_points=1", "seq_len=48", "seed=1,2,3"],
                       sweep, multirun=True, check=False)
    assert proc.returncode == 2, proc.stderr[-2000:]
    error = [line for line in proc.stderr.splitlines() if line.startswith("tsbench: error:")]
    assert len(error) == 1 and error[0].startswith("tsbench: error: seed: a search over the seed")
    fix = shlex.split(error[0].split(" -> ", 1)[1].split(": ", 1)[1])
    plain = [a for a in FAST if not a.startswith("hydra.sweeper")]  # the sweeper's dropped
    multirun = len(fix) - fix[::-1].index("-m")  # python -m tsbench -m ...
    assert fix[multirun:] == [*plain, "seq_len=48", "model=patchtst", "seed=1,2,3"]
    assert not sweep.exists()


@pytest.mark.heavy
def test_best_yaml_runs_more_seeds_of_its_choice_with_the_basic_sweeper(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    run_tsbench(["search=patchtst_bo", *FAST, "hydra.sweeper.n_trials=1",
                 "hydra.sweeper.n_initial_points=1", "model.e_layers=1", "model.d_ff=16",
                 "seq_len=choice(16, 32)", "model.patch_len=8", "model.d_model=8"],
                sweep, multirun=True)
    best = yaml.safe_load((sweep / "best.yaml").read_text())
    command = best["seeds_command"]
    assert "search=" not in command and command.endswith(" seed=1,2,3")
    seeds = tmp_path / "seeds"
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "-c", f"{command} hydra.sweep.dir={seeds}"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not (seeds / "trials.csv").exists()  # no search: each seed run, none chosen
    runs = [yaml.safe_load((seeds / str(job) / "config.yaml").read_text()) for job in range(3)]
    assert [run["seed"] for run in runs] == [1, 2, 3]
    assert {run["seq_len"] for run in runs} == {best["params"]["seq_len"]}
    assert all("test_mse" in read_metrics(seeds / str(job)) for job in range(3))
