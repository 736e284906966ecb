"""The refusal of a search over ``seed``, with the plain multirun over seeds as its fix.

A search over the seed would score each seed on validation and name the luckiest one best:
selection on noise. The skopt sweeper refuses ``seed`` as a searched parameter
(:func:`refuse_seed`), and ``tsbench`` refuses it before Hydra runs the command
(:func:`refuse_seed_first`), so that the refusal is all the command says. The fix given is
the command that runs the seeds as a plain multirun
(:func:`~tsbench.search.seeds.seeds_command`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from tsbench.errors import ConfigError
from tsbench.search.composition import Compose, compose_tsbench
from tsbench.search.preset_settings import override_key
from tsbench.search.seeds import MORE_SEEDS, seeds_command
from tsbench.search.space import sweep_lines


def refuse_seed(searched: Sequence[str], lead: Sequence[str], arguments: Sequence[str],
                compose: Compose) -> None:
    """Raise where ``seed`` is among the ``searched`` keys, with the plain multirun over
    the seeds of the command's configuration (``lead`` and its ``arguments``, Hydra's
    included) as the fix: the seeds listed (``seed=1,2,3``), else
    :data:`~tsbench.search.seeds.MORE_SEEDS`."""
    if "seed" not in (k.lstrip("+") for k in searched):
        return
    listed = [o.split("=", 1)[1] for o in arguments if override_key(o) == "seed"]
    seeds = listed[0] if listed and re.fullmatch(r"\d+(,\d+)+", listed[0]) else MORE_SEEDS
    raise ConfigError(
        "seed", "a search over the seed scores each seed on validation and names the luckiest "
                "one best (selection on noise)",
        f"run the seeds of one configuration (for a search's choice, its best.yaml's "
        f"seeds_command) as a plain multirun: "
        f"{seeds_command(lead, arguments, compose, seeds)}")


def refuse_seed_first(config: DictConfig, overrides: Sequence[str], lead: Sequence[str]
                      ) -> None:
    """:func:`refuse_seed` of a search's command line (``overrides``, composed: ``config``)
    before Hydra runs it, composing with tsbench's config
    (:func:`~tsbench.search.composition.compose_tsbench`): where ``seed`` is swept there or
    in the preset's ``hydra.sweeper.params`` and not set to one value there. A line that
    does not parse is the sweeper's to refuse."""
    params = OmegaConf.select(config, "hydra.sweeper.params", default=None) or {}
    line = sweep_lines(params, overrides).get("seed")
    try:
        swept = line is not None and OverridesParser.create().parse_override(
            line).is_sweep_override()
    except HydraException:
        return
    refuse_seed(["seed"] if swept else [], lead, overrides, compose_tsbench)
