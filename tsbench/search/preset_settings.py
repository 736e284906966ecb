"""A search preset's settings written out as overrides, for a command without the preset.

The command that runs more seeds of a search's choice (:mod:`tsbench.search.seeds`) leaves
the search preset (``search=<preset>``) out, its sweeper with it: that sweeper would search
the seed. Every other setting the preset makes (a config group's option,
``trainer.max_epochs``, ...) must stay, so :func:`preset_settings` reads them from Hydra's
composition of the command with and without the preset and writes each as an override.
:data:`SEARCH_ONLY` names the overrides that make a command a search, which are not
written out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from tsbench.search.composition import Compose
from tsbench.search.space import format_value

#: Overrides of a search's command that make it a search (or a single run): dropped from the
#: plain multirun over seeds, which sweeps ``seed`` with the basic sweeper into a folder of
#: its own and scores the test split (a preset's ``score_test: false`` kept its trials off
#: it; the seeds are the chosen configuration's final runs).
SEARCH_ONLY = ("search", "hydra/sweeper", "hydra.sweeper", "hydra.mode", "hydra.sweep.dir",
               "hydra.run.dir", "seed", "score_test")


def override_key(override: str) -> str:
    """The key (or config group) an override line sets: ``+a.b=1`` -> ``a.b``."""
    return override.split("=", 1)[0].lstrip("+~")


def search_only(key: str) -> bool:
    """Whether ``key`` is one of :data:`SEARCH_ONLY`'s or below one."""
    return any(key == k or key.startswith(f"{k}.") for k in SEARCH_ONLY)


def preset_settings(config: DictConfig, kept: Sequence[str], compose: Compose) -> list[str]:
    """The overrides that turn ``kept`` (a command without its search preset) into
    ``config`` (its composition with it): each config group's option that differs, then
    each setting (``+`` one the preset adds, ``~`` one it removes), read against ``kept``'s
    options and Hydra settings composed with those options (a searched setting of the
    preset's model composes only with that model), an option added at a time in the
    config's order until the options agree. Hydra's own groups and settings are left
    out (the sweeper's and the run's folders), and so are the keys ``kept`` sets itself (and
    those above or below them) and :data:`SEARCH_ONLY`'s."""
    named = {override_key(o) for o in kept}
    chosen = _choices(config)
    own = [o for o in kept if override_key(o) in chosen or override_key(o).startswith("hydra")]
    groups: list[str] = []
    while True:  # one option at a time: a model's own defaults choose its optimizer
        plain = compose([*own, *groups])
        options = _choices(plain)
        differ = [f"{group}={option}" if option is not None else f"~{group}"
                  for group, option in chosen.items()
                  if options.get(group) != option and group not in named
                  and not group.startswith("hydra/") and not search_only(group)]
        if not differ or differ[0] in groups:
            break
        groups.append(differ[0])
    mine, theirs = (OmegaConf.to_container(c, resolve=False) for c in (config, plain))
    mine.pop("hydra", None)  # type: ignore[union-attr]
    theirs.pop("hydra", None)  # type: ignore[union-attr]
    settings = [line for line in _differences(mine, theirs, "")
                if not search_only(override_key(line)) and not any(
                    f"{override_key(line)}.".startswith(f"{key}.")
                    or key.startswith(f"{override_key(line)}.")
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
