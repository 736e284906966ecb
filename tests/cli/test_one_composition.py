"""A run's config composed once: Hydra's run takes the config tsbench's check composed of the
same command line, which is the config Hydra would compose; and every composition parses a
config file's text once per process, each getting its own copy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_dir, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from tests.conftest import TINY, read_metrics
from tests.preloaded import run_module
from tsbench.cli import RUN_MODE, check_command_line, main
from tsbench.hydra_private import known_config, parse_each_config_once, run_config_of


def hydras_run_config(overrides: list[str]) -> DictConfig:
    """The config Hydra's ``Hydra.run`` composes for tsbench's config with ``overrides``, its
    Hydra made by the Compose API."""
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        return GlobalHydra.instance().hydra.compose_config(
            "config", overrides=list(overrides), run_mode=RunMode.RUN)


def same(ours: DictConfig, theirs: DictConfig) -> bool:
    """Equal values, interpolations unresolved, and the same flags where Hydra sets them."""
    return (OmegaConf.to_container(ours, resolve=False)
            == OmegaConf.to_container(theirs, resolve=False)
            and OmegaConf.is_struct(ours) == OmegaConf.is_struct(theirs)
            and OmegaConf.is_readonly(ours.hydra) == OmegaConf.is_readonly(theirs.hydra))


@pytest.mark.parametrize("args", [
    [],
    TINY,
    ["experiment=patchtst42_etth1"],
    [*TINY, "+trainer.accumulate_grad_batches=2"],  # an addition (warned)
    [*TINY, "hydra.job.chdir=true", "hydra.run.dir=/tmp/a b", "hydra.verbose=true"],
    ["model=toy", "dataset=synthetic"],  # a model of the user's search path
])
def test_a_runs_config_is_the_one_hydra_composes(args: list[str], toy_dir: Path) -> None:
    if "model=toy" in args:
        args = [*args, f"hydra.searchpath=[file://{toy_dir / 'conf'}]"]
    composed = check_command_line(args).composed
    assert composed is not None
    assert composed.overrides == [*args, RUN_MODE]  # Hydra adds it where the mode is unset
    assert same(composed.config, run_config_of(main.__wrapped__, "conf", "config",
                                               composed.overrides))  # as @hydra.main runs


@pytest.mark.parametrize("args", [
    ["-m", "seed=1,2"],  # a multirun composes its config and each job's
    ["--cfg", "job"],
    ["search=random"],  # a preset that sets hydra.mode
    ["hydra.searchpath=[file:///no/such/folder]"],  # Hydra's composition warns of it
])
def test_hydra_composes_itself_where_its_composition_differs(args: list[str]) -> None:
    assert check_command_line([*args, *TINY]).composed is None


def test_known_config_answers_its_command_line_alone() -> None:
    """The known config for its command line in a run, without composing; Hydra's own for
    another command line, for a multirun, and once it is left."""
    known = OmegaConf.create({"known": True})
    with known_config("config", ["seed=1", RUN_MODE], known):
        assert hydras_run_config(["seed=1", RUN_MODE]) == known
        assert hydras_run_config(["seed=2", RUN_MODE]).seed == 2
        with initialize_config_module("tsbench.conf", version_base="1.3"):
            multirun = GlobalHydra.instance().hydra.compose_config(
                "config", overrides=["seed=1", RUN_MODE], run_mode=RunMode.MULTIRUN)
        assert multirun.seed == 1
    assert hydras_run_config(["seed=1", RUN_MODE]).seed == 1


def test_a_run_composes_its_config_once(tmp_path: Path) -> None:
    """The check's composition alone: Hydra's run takes its config, and trains with it."""
    run_dir = tmp_path / "run"
    proc = run_module("tests.cli.count_compositions",
                      [*TINY, "seed=5", f"hydra.run.dir={run_dir}"],
                      {**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr.splitlines()[-1] == "compositions: 1"
    assert read_metrics(run_dir)["seed"] == 5
    saved = OmegaConf.load(run_dir / ".hydra" / "hydra.yaml").hydra
    assert saved.mode == "RUN" and RUN_MODE in saved.overrides.hydra


def test_a_config_file_is_parsed_once_and_each_composition_gets_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its text parsed once by the compositions of this process; a composition that changes
    its config changes no other's; the file edited is parsed anew."""
    parse_each_config_once()
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "app.yaml").write_text(f"# {tmp_path}\nsize: 3\nnested:\n  width: 8\n")
    parsed = []
    load = yaml.load
    monkeypatch.setattr(yaml, "load", lambda *a, **k: parsed.append(1) or load(*a, **k))

    def composed() -> DictConfig:
        with initialize_config_dir(str(conf), version_base="1.3"):
            return compose("app")

    first = composed()
    files = len(parsed)  # app.yaml and Hydra's own files not parsed before in this process
    assert files >= 1
    first.nested.width = 99
    second = composed()
    assert len(parsed) == files  # nothing parsed again
    assert second.nested.width == 8 and second.size == 3
    (conf / "app.yaml").write_text(f"# {tmp_path}\nsize: 4\nnested:\n  width: 8\n")
    assert composed().size == 4 and len(parsed) == files + 1
