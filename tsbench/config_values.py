"""Read a whole number or a number from a config value, refusing anything else by name.

Hydra types what the command line gives (``seq_len=abc`` is the string ``'abc'``,
``seq_len=96.5`` a float), so ``int(...)`` would raise a bare ``ValueError`` or truncate
silently (96.5 trained as 96 while config.yaml says 96.5). Integer and number strings are
accepted: they come from interpolations such as ``${oc.env:SEQ_LEN}``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import InterpolationKeyError, InterpolationResolutionError

from tsbench.errors import ConfigError
from tsbench.shell_override import shell_override

_INTEGER = re.compile(r"[+-]?\d+")


def whole(value: Any, field: str) -> int:
    """``value`` as an int: an int, or a string of one; :class:`ConfigError` otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    raise ConfigError(field, f"must be a whole number, got {value!r}",
                      f"give {field} as an integer")


def flag(value: Any, field: str) -> bool:
    """``value`` as a bool: true or false (or their strings, from an interpolation);
    :class:`ConfigError` otherwise (``bool('no')`` would be true)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigError(field, f"must be true or false, got {value!r}",
                      f"give {field}=true or {field}=false")


def number(value: Any, field: str, example: str | None = None) -> float:
    """``value`` as a finite float: an int, a float or a string of one; :class:`ConfigError`
    otherwise (its fix shows ``example``, a value of the field, where given)."""
    if isinstance(value, bool):
        parsed = math.nan
    else:
        try:
            parsed = float(value)
        except (TypeError, ValueError):
            parsed = math.nan
    if not math.isfinite(parsed):
        raise ConfigError(field, f"must be a finite number, got {value!r}",
                          f"give {field} as a number"
                          + (f", e.g. {field}={example}" if example else ""))
    return parsed


class UnresolvedSetting(ConfigError):
    """A setting whose ``${...}`` cannot be resolved (a sweep leaves such a value to its
    trials: another swept value may resolve it)."""


def check_interpolations(cfg: DictConfig, command: str = "tsbench") -> None:
    """:class:`UnresolvedSetting` naming the first setting whose ``${...}`` cannot be
    resolved (a misspelt key, ``pred_len=${oops}``; a preset's ``by_horizon`` without the
    horizon) rather than OmegaConf's traceback at its first use; its fix names the
    ``command`` the user ran. Hydra's own block is not read."""
    task = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]) if "hydra" in cfg else cfg
    try:
        OmegaConf.to_container(task, resolve=True)
    except InterpolationResolutionError as error:
        said = str(error).splitlines()[0].removeprefix(
            "ValueError raised while resolving interpolation: ")
        problem, _, fix = said.partition(" -> ")  # a resolver's message may say its fix
        raise UnresolvedSetting(str(error.full_key), problem, fix or "check the ${...} in its "
                                f"value ({command} --cfg job shows every setting)"
                                + literal_hint(error)) from None


def literal_hint(error: InterpolationResolutionError) -> str:
    """Where the value that failed holds text around its ``${...}`` (a CSV column named
    ``cost ${usd}``), how to give that text as written: ``\\${`` (Hydra and OmegaConf read
    ``${`` as an interpolation); a list item's whole list. '' for other values."""
    if not isinstance(error, InterpolationKeyError) or error.parent_node is None:
        return ""
    parent = OmegaConf.to_container(error.parent_node, resolve=False)
    raw = parent[error.key]  # type: ignore[index]
    if not isinstance(raw, str) or (raw.startswith("${") and raw.endswith("}")):
        return ""
    key = str(error.full_key)
    if isinstance(parent, list):  # dataset.columns[1]: the whole list, each item as written
        key = key.rsplit("[", 1)[0]
        override = shell_override(key, [str(v) for v in parent])
    else:
        override = shell_override(key, raw)
    return f"; a ${{ of its text, as in a column's name, is written \\${{: {override}"
