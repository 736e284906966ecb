"""Warnings for a command line that an ``experiment=`` preset partly undoes, or that
partly undoes the preset.

Hydra applies a preset (a ``_global_`` config) after the config groups and before the
command line's own ``key=value`` settings. So ``experiment=dlinear_ili dataset=exchange``
runs on Exchange with ILI's look-back, and ``experiment=patchtst42_ili trainer=debug``
trains the preset's 100 epochs, not debug's 2. Both run as composed; each is said in one
line with its fix.
"""

from __future__ import annotations

from typing import Any

from hydra.core.default_element import GroupDefault
from omegaconf import DictConfig, OmegaConf

from tsbench.hydra_private import load_config
from tsbench.settings_check import at_first_values, check_settings, parse_each

#: The settings a paper preset sets for its dataset and model, named in
#: :func:`preset_replaced`'s warning where the command line does not set them.
PRESET_KEYS = ("seq_len", "optim.lr", "data.batch_size", "trainer.max_epochs")


def preset_replaced(overrides: list[str], config: DictConfig,
                    config_name: str = "config") -> list[str]:
    """Warnings for a ``dataset=`` or ``model=`` on the command line that replaces the one
    an ``experiment=`` preset chose (``experiment=dlinear_ili dataset=exchange``): the
    preset's other settings (look-back, learning rate, batch) were chosen for its own."""
    choices, single, given = _command(overrides, config)
    experiment = choices.get("experiment")
    if not experiment:
        return []
    kept = [k for k in PRESET_KEYS if k not in given]
    keeps = f"whose other settings ({', '.join(kept)}, ...) it keeps" if kept else (
        "whose other settings it keeps")
    named = preset_groups(config, experiment)
    said = []
    for group in ("dataset", "model"):
        lines = [line for line in single if line.split("=", 1)[0] == group]
        if not lines:
            continue
        line = lines[-1]
        # without the line and the settings of its option (dataset.n_rows of synthetic),
        # which the preset's option may lack
        others = [o for o in single if o not in lines
                  and not o.lstrip("+~").startswith(f"{group}.")]
        preset = check_settings(others, config_name)
        chosen = OmegaConf.select(preset, f"hydra.runtime.choices.{group}", default=None)
        if chosen is None or chosen == choices.get(group):
            continue
        if group not in named:  # the preset's own defaults leave the group alone
            without = check_settings([o for o in others if o.split("=", 1)[0] !=
                                      "experiment"], config_name)
            if chosen == OmegaConf.select(without, f"hydra.runtime.choices.{group}",
                                          default=None):
                continue  # the config's default, which an included config did not change
        said.append(f"{line} replaces experiment={experiment}'s {group}={chosen}, "
                    f"{keeps}, chosen for {chosen} -> drop {line}, or use a preset of that "
                    f"{group} (tsbench --help lists them)")
    return said


def preset_groups(config: DictConfig, experiment: str) -> set[str]:
    """The config groups that preset ``experiment``'s own defaults list chooses an option of
    (``override /dataset: etth1``), read from the config sources ``config`` was composed
    from (the user's ``hydra.searchpath`` too); none where Hydra cannot load it."""
    search_path = [(source.provider, f"{source.schema}://{source.path}") for source
                   in OmegaConf.select(config, "hydra.runtime.config_sources", default=[]) or []
                   if source.schema != "structured"]
    try:
        loaded = load_config(search_path, f"experiment/{experiment}")
    except Exception:  # noqa: BLE001 - a preset Hydra cannot load is Hydra's to report
        return set()
    return {element.group.lstrip("/") for element in getattr(loaded, "defaults_list", None)
            or [] if isinstance(element, GroupDefault) and element.group}


def preset_beats_option(overrides: list[str], config: DictConfig,
                        config_name: str = "config") -> list[str]:
    """Warnings for a group option on the command line (``trainer=debug``) whose own
    settings an ``experiment=`` preset sets again, so the option's values are lost; only
    the settings that tell the option from the group's default option are named, and only
    where the command line does not set them itself."""
    choices, single, given = _command(overrides, config)
    experiment = choices.get("experiment")
    if not experiment:
        return []
    lines = [line for line in single if line.split("=", 1)[0] in choices
             and line.split("=", 1)[0] not in ("experiment", "dataset", "model")]
    default = check_settings([], config_name) if lines else None  # composed once
    said = []
    for line in lines:
        group = line.split("=", 1)[0]
        option = check_settings([line], config_name)
        if option is None or default is None or not isinstance(option.get(group), DictConfig):
            continue
        own, base, used = (_values(c, group) for c in (option, default, config))
        lost = [key for key, value in own.items()
                if key not in given and value != base.get(key)
                and key in used and used[key] != value]
        if lost:
            settings = " ".join(f"{key}={own[key]}" for key in lost)
            preset = ", ".join(f"{key}={used[key]}" for key in lost)
            said.append(f"experiment={experiment} sets {preset} after {line}, so {line}'s "
                        f"{settings} {'is' if len(lost) == 1 else 'are'} not used -> give "
                        f"{settings} on the command line")
    return said


def _command(overrides: list[str], config: DictConfig
             ) -> tuple[dict[str, Any], list[str], set[str]]:
    """The groups' chosen options, the overrides at their first values, and the keys the
    command line sets."""
    choices = OmegaConf.select(config, "hydra.runtime.choices", default={}) or {}
    single = at_first_values(parse_each(overrides))
    return choices, single, {line.split("=", 1)[0].lstrip("+") for line in single}


def _values(config: DictConfig, group: str) -> dict[str, Any]:
    """``dotted key -> value`` of every setting under ``group`` in ``config``, each
    interpolation resolved (a preset's ``${by_horizon:${pred_len},...}`` to the value at the
    command's pred_len, a sweep's first), so that a warning names the value a run uses and
    compares values, not their spelling; one that does not resolve here (a horizon the
    preset does not list, ``${hydra:...}``) stays as written: the run says why."""
    found = _flat(config.get(group), group)
    for key, raw in found.items():
        if isinstance(raw, str) and "${" in raw:
            try:
                found[key] = OmegaConf.select(config, key, throw_on_resolution_failure=True)
            except Exception:  # noqa: BLE001 - any resolver's error is the run's to say
                pass
    return found


def _flat(node: Any, prefix: str) -> dict[str, Any]:
    """``dotted key -> value`` of every setting under ``node`` (a config node or its plain
    container; interpolations unresolved); {} for no node."""
    if isinstance(node, DictConfig):
        node = OmegaConf.to_container(node, resolve=False)
    if not isinstance(node, dict):
        return {}
    found: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, dict):
            found.update(_flat(value, f"{prefix}.{key}"))
        else:
            found[f"{prefix}.{key}"] = value
    return found
