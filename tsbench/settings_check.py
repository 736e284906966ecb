"""A misspelt setting on the command line, named in one line with its fix.

Hydra's own error for ``optim.lrr=0.01`` is several lines ending in the hint
``To append to your config use +optim.lrr=0.01``, which would add the typo rather than fix
it. ``tsbench`` and ``tsbench-tune`` compose the command's config first and say instead
``optim.lrr: no such setting -> check its spelling ...``. Every other composition problem
is left to Hydra, which names the group's options for a misspelt choice.
"""

from __future__ import annotations

import re

from hydra import compose, initialize_config_module
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException
from omegaconf import DictConfig

from tsbench.errors import TsbenchError

#: Hydra's error for an override of a key the config does not have.
UNKNOWN_KEY = re.compile(r"Could not override '([^']+)'")


def unknown_setting(error: BaseException, choices: dict[str, list[str]] | None = None,
                    ) -> TsbenchError | None:
    """The one-line error for Hydra's ``error`` when it names a setting the config lacks.
    ``choices`` are config groups chosen on the command line, each as its composed option
    followed by the other options given that do have the setting (``{"strategy": ["direct",
    "recursive"]}``): a setting of another option of a swept group is named as such, not as
    a misspelling."""
    key = missing_setting(error)
    if key is None:
        return None
    group = key.split(".")[0]
    options = (choices or {}).get(group, []) if "." in key else []
    if len(options) > 1:
        having = ", ".join(f"{group}={o}" for o in options[1:])
        return TsbenchError(
            f"{key}: no such setting of {group}={options[0]}, a setting of {having} only, "
            f"options this multirun sweeps together -> run each {group} in its own multirun, "
            f"setting {key} only where its {group} has it")
    if options:
        return TsbenchError(
            f"{key}: no such setting of {group}={options[0]} -> check its spelling, or choose "
            f"a {group} that has it (tsbench --cfg job {group}=<option> shows its settings)")
    shows = "--cfg hydra shows Hydra's settings" if key.startswith("hydra.") else (
        "--cfg job shows every setting")
    return TsbenchError(f"{key}: no such setting -> check its spelling (tsbench {shows})")


def missing_setting(error: BaseException) -> str | None:
    """The setting Hydra's ``error`` says the config lacks (None for any other error)."""
    found = UNKNOWN_KEY.match(" ".join(str(error).split()))
    return None if found is None else found[1]


def check_settings(overrides: list[str]) -> DictConfig | None:
    """Raise :func:`unknown_setting`'s error for the first override of a setting that
    tsbench's config lacks; else return the composed config, Hydra's included (None where
    it does not compose for another reason, which Hydra then reports). A sweep (``a=1,2``,
    ``choice(...)``, ``interval(...)``) is composed at its first value, or at null when it
    has none to list."""
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException:
        return None  # Hydra says what is wrong with the syntax
    single = [o.input_line if not o.is_sweep_override() else
              f"{o.get_key_element()}={_first_value(o)}" for o in parsed]
    try:
        with initialize_config_module("tsbench.conf", version_base="1.3"):
            return compose("config", overrides=single, return_hydra_config=True)
    except Exception as exc:  # noqa: BLE001 (anything but a misspelt key is Hydra's to say)
        error = unknown_setting(exc, _group_choices(parsed, single, missing_setting(exc)))
        if error is not None:
            raise error from None
        return None


def _group_choices(parsed: list[Override], single: list[str], missing: str | None,
                   ) -> dict[str, list[str]]:
    """Each config group chosen on the command line (``strategy=direct,recursive``): the
    option composed, then the other options given whose config has the ``missing`` setting
    (composed once each, on this error's path only). A swept group none of whose other
    options has it is left out: the setting is then misspelt."""
    choices = {}
    for i, override in enumerate(parsed):
        key = override.get_key_element()
        if "." in key or "/" in key or key.startswith(("+", "~")):
            continue
        try:
            values = list(override.sweep_string_iterator()) if override.is_sweep_override() \
                else [str(override.value())]
        except HydraException:
            continue
        choices.pop(key, None)  # the last override of a group is the one composed
        if missing is None or not missing.startswith(f"{key}.") or len(values) == 1:
            choices[key] = values
            continue
        having = [v for v in values[1:] if _has_setting(single, i, f"{key}={v}", missing)]
        if having:
            choices[key] = [values[0], *having]
    return choices


def _has_setting(single: list[str], index: int, choice: str, setting: str) -> bool:
    """Whether the command ``single`` with its override ``index`` replaced by ``choice``
    composes a config that has ``setting``."""
    overrides = [*single[:index], choice, *single[index + 1:]]
    try:
        with initialize_config_module("tsbench.conf", version_base="1.3"):
            compose("config", overrides=overrides)
    except Exception as exc:  # noqa: BLE001 - only the same missing setting counts
        return missing_setting(exc) != setting
    return True


def _first_value(override: Override) -> str:
    try:
        return next(override.sweep_string_iterator())
    except (HydraException, StopIteration):
        return "null"
