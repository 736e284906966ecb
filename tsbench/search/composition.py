"""Hydra's composition of tsbench's config from a command's overrides, as a function.

The seeds command (:mod:`tsbench.search.seeds`) reads a search preset's settings from
Hydra's composition of the command with and without the preset; inside a sweep the
sweeper's own Hydra composes (:meth:`tsbench.search.sweep.SkoptSweep.compose`), before
Hydra runs the command (its refusal of a search over the seed, a report's command for more
seeds) :func:`compose_tsbench` does. :data:`Compose` is what both are."""

from __future__ import annotations

from collections.abc import Callable

from hydra import initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode
from omegaconf import DictConfig

#: Hydra's composition of a list of overrides as a multirun's config (its sweeps left out),
#: Hydra's own settings included (``hydra.runtime.choices``).
Compose = Callable[[list[str]], DictConfig]


def compose_tsbench(overrides: list[str]) -> DictConfig:
    """tsbench's config composed from ``overrides`` as a multirun's (the sweeps left out),
    before Hydra runs the command."""
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        return GlobalHydra.instance().config_loader().load_configuration(
            "config", overrides, RunMode.MULTIRUN)
