"""``hydra.mode`` read from the config tsbench's check composed, which spares Hydra's
``get_mode`` composing the command's config again: the same answer as Hydra's own, or
Hydra's own where a sweep could change it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hydra import initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode

from tests.preloaded import run_module
from tsbench.cli import hydra_mode
from tsbench.hydra_private import known_mode
from tsbench.settings_check import check_settings


def hydras_mode(overrides: list[str]) -> RunMode | None:
    """What Hydra's own ``get_mode`` answers for tsbench's config with ``overrides``."""
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        return GlobalHydra.instance().hydra.get_mode(config_name="config",
                                                     overrides=list(overrides))


@pytest.mark.parametrize(("overrides", "known"), [
    ([], True),
    (["seed=1,2", "model=dlinear"], True),  # a value swept: no mode of its own
    (["hydra.mode=MULTIRUN"], True),
    (["search=dlinear_tune"], True),  # a preset setting the mode
    (["search=dlinear_tune", "model.individual=choice(true,false)"], True),
    # its first option sets MULTIRUN, the check's; Hydra's get_mode leaves the sweep out
    (["search=dlinear_tune,grid"], False),
    (["hydra/sweeper=skopt,basic"], False),
    (["hydra.job.chdir=true,false"], False),
])
def test_the_checks_mode_is_hydras_or_left_to_hydra(overrides: list[str], known: bool) -> None:
    """Hydra's answer where the check's config tells it (``known``: the composition saved);
    else none, Hydra's to compose (for a swept preset, the check's mode is not Hydra's)."""
    cfg = check_settings(overrides)
    assert cfg is not None
    mode = hydra_mode(cfg, overrides)
    assert mode is None or (mode.overrides, mode.mode) == (overrides, hydras_mode(overrides))
    assert (mode is not None) == known


def test_known_mode_answers_its_command_line_alone() -> None:
    """Its answer (here one Hydra's composition would not give) for the command line it
    knows, without composing; Hydra's own for another, and once it is left."""
    assert hydras_mode(["seed=1"]) is None
    with known_mode("config", ["seed=1"], RunMode.MULTIRUN):
        assert hydras_mode(["seed=1"]) == RunMode.MULTIRUN
        assert hydras_mode(["seed=2"]) is None
        assert hydras_mode(["seed=1", "seed=2"]) is None
    assert hydras_mode(["seed=1"]) is None


def test_a_command_the_check_could_not_compose_gets_hydras_own_error(tmp_path: Path) -> None:
    """``hydra.job.chdir=notabool`` (a Hydra setting of the wrong type) does not compose in
    the check, which leaves it to Hydra: its get_mode and its run compose it, and its error
    is said."""
    proc = run_module("tsbench", ["hydra.job.chdir=notabool", "logger=none"], {**os.environ},
                      cwd=tmp_path)
    assert proc.returncode == 1
    assert "Value 'notabool' is not a valid bool" in proc.stderr
    assert "Traceback" not in proc.stderr and list(tmp_path.iterdir()) == []
