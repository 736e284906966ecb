"""More seeds of a chosen configuration: a plain multirun (Hydra's basic sweeper), never a
search. A search over ``seed`` would score each seed on validation and name a "best" one:
selection on noise. So the skopt sweeper refuses ``seed`` as a searched parameter
(:func:`refuse_seed`; ``tsbench`` before Hydra runs the command, :func:`refuse_seed_first`,
so that the refusal is all it says), and ``best.yaml`` gives the command that runs more
seeds of its best trial (:func:`seeds_command`). The search preset (``search=<preset>``) is
left out of that command, its sweeper with it; every other setting the preset makes (a
config group's option, ``trainer.max_epochs``, ...) is written out, read from Hydra's
composition of the command with and without the preset (:func:`preset_settings`)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence
from typing import Any

from hydra import initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from tsbench.errors import ConfigError
from tsbench.search.space import format_value, sweep_lines

#: The seeds a "run more seeds" command runs.
MORE_SEEDS = "1,2,3"

#: Overrides of a search's command that make it a search (or a single run): dropped from the
#: plain multirun over seeds, which sweeps ``seed`` with the basic sweeper into a folder of
#: its own and scores the test split (a preset's ``score_test: false`` kept its trials off
#: it; the seeds are the chosen configuration's final runs).
_SEARCH_ONLY = ("search", "hydra/sweeper", "hydra.sweeper", "hydra.mode", "hydra.sweep.dir",
                "hydra.run.dir", "seed", "score_test")

#: Hydra's composition of a list of overrides as a multirun's config (its sweeps left out),
#: Hydra's own settings included (``hydra.runtime.choices``).
Compose = Callable[[list[str]], DictConfig]


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _search_only(key: str) -> bool:
    return any(key == k or key.startswith(f"{k}.") for k in _SEARCH_ONLY)


def plain_multirun(overrides: Sequence[str], compose: Compose,
                   seeds: str = MORE_SEEDS) -> list[str]:
    """``overrides`` of one configuration made a plain multirun over ``seeds``: the search
    preset (``search=<preset>``, whose sweeper would search the seed) and the sweeper's and
    mode's settings dropped, the preset's other settings written out in its place
    (:func:`preset_settings`), ``seed=<seeds>`` last (``-m`` first: more overrides may
    follow)."""
    kept = [o for o in overrides if not _search_only(_key(o))]
    preset = any(_key(o) == "search" for o in overrides)
    made = preset_settings(compose(list(overrides)), kept, compose) if preset else []
    return ["-m", *kept, *made, f"seed={seeds}"]


def preset_settings(config: DictConfig, kept: Sequence[str], compose: Compose) -> list[str]:
    """The overrides that turn ``kept`` (a command without its search preset) into
    ``config`` (its composition with it): each config group's option that differs, then
    each setting (``+`` one the preset adds, ``~`` one it removes), read against ``kept``'s
    options and Hydra settings composed with those options (a searched setting of the
    preset's model composes only with that model), an option added at a time in the
    config's order until the options agree. Hydra's own groups and settings are left
    out (the sweeper's and the run's folders), and so are the keys ``kept`` sets itself (and
    those above or below them) and :data:`_SEARCH_ONLY`'s."""
    named = {_key(o) for o in kept}
    chosen = _choices(config)
    own = [o for o in kept if _key(o) in chosen or _key(o).startswith("hydra")]
    groups: list[str] = []
    while True:  # one option at a time: a model's own defaults choose its optimizer
        plain = compose([*own, *groups])
        options = _choices(plain)
        differ = [f"{group}={option}" if option is not None else f"~{group}"
                  for group, option in chosen.items()
                  if options.get(group) != option and group not in named
                  and not group.startswith("hydra/") and not _search_only(group)]
        if not differ or differ[0] in groups:
            break
        groups.append(differ[0])
    mine, theirs = (OmegaConf.to_container(c, resolve=False) for c in (config, plain))
    mine.pop("hydra", None)  # type: ignore[union-attr]
    theirs.pop("hydra", None)  # type: ignore[union-attr]
    settings = [line for line in _differences(mine, theirs, "")
                if not _search_only(_key(line)) and not any(
                    f"{_key(line)}.".startswith(f"{key}.") or key.startswith(f"{_key(line)}.")
                    for key in named)]
    return [*groups, *settings]


def _choices(config: DictConfig) -> dict[str, Any]:
    """The option of each config group that ``config`` composed."""
    return dict(OmegaConf.select(config, "hydra.runtime.choices", default={}) or {})


def _differences(mine: Any, theirs: Any, key: str) -> list[str]:
    """The overrides that make ``theirs`` (a config's plain containers, at ``key``) into
    ``mine``."""
    if not (isinstance(mine, dict) and isinstance(theirs, dict)):
        same = type(mine) is type(theirs) and mine == theirs
        return [] if same else [f"{key}={_value(mine)}"]
    lines = []
    for name, value in mine.items():
        path = f"{key}.{name}" if key else str(name)
        lines += (_differences(value, theirs[name], path) if name in theirs
                  else [f"+{path}={_value(value)}"])
    return lines + [f"~{key}.{name}" if key else f"~{name}" for name in theirs
                    if name not in mine]


def _value(value: Any) -> str:
    """``value`` (a setting's plain container or scalar) as an override's right-hand side."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_value(v) for v in value) + "]"
    return format_value(value)


def seeds_command(lead: Sequence[str], overrides: Sequence[str], compose: Compose,
                  seeds: str = MORE_SEEDS) -> str:
    """The shell command that runs ``seeds`` of a configuration with the basic sweeper:
    ``lead`` (``PYTHONPATH=...``, the program) then :func:`plain_multirun`."""
    return " ".join([*lead, *(shlex.quote(o)
                               for o in plain_multirun(overrides, compose, seeds))])


def refuse_seed(searched: Sequence[str], lead: Sequence[str], arguments: Sequence[str],
                compose: Compose) -> None:
    """Raise where ``seed`` is among the ``searched`` keys, with the plain multirun over
    the seeds of the command's configuration (``lead`` and its ``arguments``, Hydra's
    included) as the fix: the seeds listed (``seed=1,2,3``), else :data:`MORE_SEEDS`."""
    if "seed" not in (k.lstrip("+") for k in searched):
        return
    listed = [o.split("=", 1)[1] for o in arguments if _key(o) == "seed"]
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
    before Hydra runs it, composing with tsbench's config (:func:`compose_tsbench`): where
    ``seed`` is swept there or in the preset's ``hydra.sweeper.params`` and not set to one
    value there. A line that does not parse is the sweeper's to refuse."""
    params = OmegaConf.select(config, "hydra.sweeper.params", default=None) or {}
    line = sweep_lines(params, overrides).get("seed")
    try:
        swept = line is not None and OverridesParser.create().parse_override(
            line).is_sweep_override()
    except HydraException:
        return
    refuse_seed(["seed"] if swept else [], lead, overrides, compose_tsbench)


def compose_tsbench(overrides: list[str]) -> DictConfig:
    """tsbench's config composed from ``overrides`` as a multirun's (the sweeps left out),
    before Hydra runs the command."""
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        return GlobalHydra.instance().config_loader().load_configuration(
            "config", overrides, RunMode.MULTIRUN)
