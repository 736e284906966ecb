"""An override that a message tells the user to add (``dataset.target=<column>``), written
so that pasted into a POSIX shell it reaches Hydra as one argument that Hydra reads back as
the value given: a user's column name or path may hold spaces, commas, ``=``, brackets,
quotes or ``%``, which the shell or Hydra's grammar would otherwise read as syntax."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from tsbench.literal_text import literal

#: What a shell's double quotes leave as written, and Hydra's single quotes too: such a
#: value is written ``"key='value'"``, the form the project's other hints use.
_PLAIN_IN_DOUBLE_QUOTES = re.compile(r"[^\"'\\$`!]*")


def shell_override(key: str, value: str | Sequence[str]) -> str:
    """``key=value`` (a list ``key=[a,b]`` for a sequence ``value``) as the shell takes it:
    unquoted where neither the shell nor Hydra reads anything in it as syntax; a value that
    Hydra reads as given, in the shell's single quotes (``'dataset.target=% WEIGHTED ILI'``);
    else each value Hydra would not read as given in Hydra's quotes inside the shell's
    (``"dataset.path='load(1).csv'"``). A ``${`` is escaped (``'dataset.target=cost
    \\${usd}'``): OmegaConf would read it as an interpolation."""
    value = literal(value) if isinstance(value, str) else [literal(v) for v in value]
    values = [value] if isinstance(value, str) else list(value)
    plain = [_reads_back(v) for v in values]
    if all(plain):
        return shlex.quote(_override(key, value, values))
    if all(_PLAIN_IN_DOUBLE_QUOTES.fullmatch(v) for v in values):
        quoted = [v if ok else f"'{v}'" for v, ok in zip(values, plain, strict=True)]
        return f'"{_override(key, value, quoted)}"'
    quoted = [v if ok else _hydra_quoted(v) for v, ok in zip(values, plain, strict=True)]
    return shlex.quote(_override(key, value, quoted))


def _override(key: str, value: str | Sequence[str], texts: list[str]) -> str:
    return f"{key}={texts[0]}" if isinstance(value, str) else f"{key}=[{','.join(texts)}]"


def _reads_back(value: str) -> bool:
    """Whether Hydra reads ``value`` unquoted, alone and as a list's item, as this very
    string (not as syntax, a number, a bool or null, nor with its outer spaces stripped).
    Hydra's parser is imported here, on an error's path: the data modules import this one."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    try:
        [alone, item] = parser.parse_overrides([f"k={value}", f"k=[{value}]"])
    except HydraException:
        return False
    return alone.value() == value and item.value() == [value]  # 1 != "1", True != "true"


def _hydra_quoted(value: str) -> str:
    """``value`` in Hydra's double quotes: a quote in it escaped, and the backslashes that
    would precede an escaped or the closing quote doubled (Hydra's escaping rule)."""
    escaped = re.sub(r'(\\*)("|$)', lambda m: m[1] * 2 + ('\\"' if m[2] else ""), value)
    return f'"{escaped}"'
