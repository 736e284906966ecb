"""More seeds of a chosen configuration: a plain multirun (Hydra's basic sweeper), never a
search. A search over ``seed`` would score each seed on validation and name a "best" one:
selection on noise (so the sweeper refuses one: :mod:`tsbench.search.seed_refusal`).
``best.yaml`` gives the command that runs more seeds of its best trial
(:func:`seeds_command`), and a report the command for more seeds of a cell: the command
made a plain multirun over the seeds (:func:`plain_multirun`), its search preset
(``search=<preset>``) left out, its sweeper with it, and every other setting the preset
makes written out in its place (:mod:`tsbench.search.preset_settings`)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from tsbench.search.composition import Compose
from tsbench.search.preset_settings import override_key, preset_settings, search_only

#: The seeds a "run more seeds" command runs.
MORE_SEEDS = "1,2,3"


def plain_multirun(overrides: Sequence[str], compose: Compose,
                   seeds: str = MORE_SEEDS) -> list[str]:
    """``overrides`` of one configuration made a plain multirun over ``seeds``: the search
    preset (``search=<preset>``, whose sweeper would search the seed) and the sweeper's and
    mode's settings dropped, the preset's other settings written out in its place
    (:func:`~tsbench.search.preset_settings.preset_settings`), ``seed=<seeds>`` last (``-m``
    first: more overrides may follow)."""
    kept = [o for o in overrides if not search_only(override_key(o))]
    preset = any(override_key(o) == "search" for o in overrides)
    made = preset_settings(compose(list(overrides)), kept, compose) if preset else []
    return ["-m", *kept, *made, f"seed={seeds}"]


def seeds_command(lead: Sequence[str], overrides: Sequence[str], compose: Compose,
                  seeds: str = MORE_SEEDS) -> str:
    """The shell command that runs ``seeds`` of a configuration with the basic sweeper:
    ``lead`` (``PYTHONPATH=...``, the program) then :func:`plain_multirun`."""
    return " ".join([*lead, *(shlex.quote(o)
                               for o in plain_multirun(overrides, compose, seeds))])
