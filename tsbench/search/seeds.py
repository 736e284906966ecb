"""More seeds of a chosen configuration: a plain multirun (Hydra's basic sweeper), never a
search. A search over ``seed`` would score each seed on validation and name a "best" one:
selection on noise. So the skopt sweeper refuses ``seed`` as a searched parameter
(:func:`refuse_seed`), and ``best.yaml`` gives the command that runs more seeds of its
best trial (:func:`seeds_command`)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from tsbench.errors import ConfigError

#: The seeds a "run more seeds" command runs.
MORE_SEEDS = "1,2,3"

#: Overrides of a search's command that make it a search (or a single run): dropped from the
#: plain multirun over seeds, which sweeps ``seed`` with the basic sweeper into a folder of
#: its own.
_SEARCH_ONLY = ("search", "hydra/sweeper", "hydra.sweeper", "hydra.mode", "hydra.sweep.dir",
                "hydra.run.dir", "seed")


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def plain_multirun(overrides: Sequence[str], model: str | None,
                   seeds: str = MORE_SEEDS) -> list[str]:
    """``overrides`` of one configuration made a plain multirun over ``seeds``: the search
    preset (``search=<preset>``, whose sweeper would search the seed) and the sweeper's and
    mode's settings dropped, the model the preset chose (``model``) named where no override
    names one, ``seed=<seeds>`` last (``-m`` first: more overrides may follow)."""
    kept = [o for o in overrides
            if not any(_key(o) == k or _key(o).startswith(f"{k}.") for k in _SEARCH_ONLY)]
    preset = any(_key(o) == "search" for o in overrides)
    if preset and model and not any(_key(o) == "model" for o in overrides):
        kept.append(f"model={model}")
    return ["-m", *kept, f"seed={seeds}"]


def seeds_command(lead: Sequence[str], overrides: Sequence[str], model: str | None,
                  seeds: str = MORE_SEEDS) -> str:
    """The shell command that runs ``seeds`` of a configuration with the basic sweeper:
    ``lead`` (``PYTHONPATH=...``, the program) then :func:`plain_multirun`."""
    return " ".join([*lead, *(shlex.quote(o) for o in plain_multirun(overrides, model, seeds))])


def refuse_seed(searched: Sequence[str], lead: Sequence[str], arguments: Sequence[str],
                model: str | None) -> None:
    """Raise where ``seed`` is among the ``searched`` keys, with the plain multirun over
    the seeds of the command's configuration (``lead`` and its ``arguments``) as the fix:
    the seeds listed (``seed=1,2,3``), else :data:`MORE_SEEDS`."""
    if "seed" not in (k.lstrip("+") for k in searched):
        return
    listed = [o.split("=", 1)[1] for o in arguments if _key(o) == "seed"]
    seeds = listed[0] if listed and re.fullmatch(r"\d+(,\d+)+", listed[0]) else MORE_SEEDS
    raise ConfigError(
        "seed", "a search over the seed scores each seed on validation and names the luckiest "
                "one best (selection on noise)",
        f"run the seeds of one configuration (for a search's choice, its best.yaml's "
        f"seeds_command) as a plain multirun: "
        f"{seeds_command(lead, arguments, model, seeds)}")
