"""More seeds of a search's choice run as a plain multirun: the skopt sweeper refuses the
seed as a searched parameter, and best.yaml's ``seeds_command`` runs the seeds with the
basic sweeper, with every setting of the search's preset but its sweeper's."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from tests.conftest import read_metrics, run_tsbench
from tsbench.search.composition import compose_tsbench
from tsbench.search.seeds import plain_multirun

#: A user's own search preset (in a config folder of the search path) that sets more than
#: the sweeper: config groups' options, settings off their defaults (a list among them;
#: ``plots: false`` spares the runs pictures that nothing here looks at).
PRESET = """\
# @package _global_
defaults:
  - override /hydra/sweeper: skopt
  - override /model: dlinear
  - override /dataset: synthetic
  - override /trainer: debug
  - _self_
seq_len: 48
pred_len: 12
plots: false
trainer:
  max_epochs: 1
dataset:
  n_rows: 600
  periods: [12, 24]
model:
  kernel_size: 13
hydra:
  mode: MULTIRUN
  sweeper:
    n_trials: 1
    n_initial_points: 1
    random_state: 0
    params:
      model.individual: choice(false, true)
"""


def configuration(overrides: list[str]) -> tuple[dict, dict]:
    """What ``overrides`` run, but the seed and the sweeper: their composition's settings
    and config groups' options (Hydra's own and the search preset left out)."""
    config = compose_tsbench(overrides)
    choices = {group: option for group, option in config.hydra.runtime.choices.items()
               if not group.startswith("hydra/") and group != "search"}
    settings = OmegaConf.to_container(config, resolve=False)
    for key in ("hydra", "seed"):
        settings.pop(key)  # type: ignore[union-attr]
    return settings, choices  # type: ignore[return-value]


def composed(job: Path) -> tuple[dict, dict]:
    """What a job ran: its composed config and config groups' options (Hydra's own and the
    search preset left out), as its Hydra recorded them."""
    choices = yaml.safe_load((job / ".hydra" / "hydra.yaml").read_text())["hydra"]["runtime"][
        "choices"]
    return yaml.safe_load((job / ".hydra" / "config.yaml").read_text()), {
        group: option for group, option in choices.items()
        if not group.startswith("hydra/") and group != "search"}


@pytest.fixture
def user_conf(tmp_path: Path) -> Path:
    """A config folder holding :data:`PRESET` as ``search/tiny``."""
    (tmp_path / "conf" / "search").mkdir(parents=True)
    (tmp_path / "conf" / "search" / "tiny.yaml").write_text(PRESET)
    return tmp_path / "conf"


def test_the_plain_multirun_composes_what_the_preset_did(user_conf: Path) -> None:
    """Without ``search=tiny``, the seeds' command composes the same settings and options:
    the preset's groups, its settings (a list), the command's own ones kept."""
    command = [f"hydra.searchpath=[file://{user_conf}]", "search=tiny", "logger=none",
               "hydra.sweeper.n_trials=2", "optim.lr=0.01"]
    plain = plain_multirun(command, compose_tsbench)
    assert plain[0] == "-m" and plain[-1] == "seed=1,2,3"
    assert not any(o.startswith(("search=", "hydra.sweeper", "hydra/sweeper")) for o in plain)
    assert {"model=dlinear", "trainer.max_epochs=1", "dataset.periods=[12,24]"} <= set(plain)
    assert configuration(plain[1:]) == configuration(command)
    assert configuration(plain[1:]) != configuration([command[0], "logger=none"])


def test_the_seeds_score_the_test_split_that_the_presets_trials_did_not(
        user_conf: Path) -> None:
    """A preset's ``score_test: false`` kept its trials off the test split; the seeds of its
    choice are the final runs and score it (score_test is left to its default)."""
    preset = user_conf / "search" / "tiny.yaml"
    preset.write_text(PRESET.replace("seq_len: 48", "score_test: false\nseq_len: 48"))
    command = [f"hydra.searchpath=[file://{user_conf}]", "search=tiny", "logger=none"]
    assert configuration(command)[0]["score_test"] is False
    plain = plain_multirun(command, compose_tsbench)
    assert configuration(plain[1:])[0]["score_test"] is None
    assert not any(o.lstrip("+~").startswith("score_test") for o in plain)


@pytest.mark.parametrize("flags", [[], ["--config-name=config"]], ids=["tsbench", "sweeper"])
def test_a_search_over_the_seed_is_refused_with_the_plain_multirun(
        tmp_path: Path, user_conf: Path, flags: list[str]) -> None:
    """best.yaml's command keeps ``search=<preset>``; ``seed=1,2,3 -m`` added to it would
    search the seed and name the luckiest one best. The refusal is all the command says
    (not the warnings that its values replace the preset's sweeps), and its fix runs the
    seeds of what the command runs: the preset's settings, the search path to the user's
    configs. tsbench refuses it before Hydra runs; the sweeper refuses it where tsbench does
    not check the command (a config named on it)."""
    sweep = tmp_path / "sweep"
    command = [f"hydra.searchpath=[file://{user_conf}]", "search=tiny", "logger=none",
               "model.individual=true"]
    proc = run_tsbench([*flags, *command, "seed=1,2,3"], sweep, multirun=True, check=False)
    assert proc.returncode == 2, proc.stderr[-2000:]
    said = [line for line in proc.stderr.splitlines() if line.startswith("tsbench: ")]
    assert len(said) == 1 and said[0].startswith("tsbench: error: seed: a search over the seed")
    fix = shlex.split(said[0].split(" -> ", 1)[1].split(": ", 1)[1])
    multirun = len(fix) - fix[::-1].index("-m")  # python -m tsbench -m ...
    assert fix[multirun] == command[0] and fix[-1] == "seed=1,2,3"
    assert configuration(fix[multirun:]) == configuration(command)
    assert not sweep.exists()


@pytest.mark.heavy
def test_best_yaml_runs_more_seeds_of_its_choice_with_the_basic_sweeper(
        tmp_path: Path, user_conf: Path) -> None:
    """The seeds run the best trial's configuration (its composition, as Hydra recorded it),
    a user preset's settings included, each with its own seed."""
    sweep = tmp_path / "sweep"
    run_tsbench([f"hydra.searchpath=[file://{user_conf}]", "search=tiny", "logger=none"],
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
    trial = composed(sweep / best["job_dir"])
    runs = [composed(seeds / str(job)) for job in range(3)]
    assert [run[0].pop("seed") for run in runs] == [1, 2, 3]
    trial[0].pop("seed")
    assert trial[0]["trainer"]["max_epochs"] == 1 and trial[0]["model"]["kernel_size"] == 13
    assert trial[0]["plots"] is False
    assert all(run == trial for run in runs)
    assert all("test_mse" in read_metrics(seeds / str(job)) for job in range(3))
