"""Text that OmegaConf (and Hydra's command line) reads back as written: a value holding
``${``, such as a CSV column named ``cost ${usd}``, would otherwise be read as an
interpolation of a setting ``usd`` that does not exist."""

from __future__ import annotations

import re
from typing import Any

#: A ``${`` and the backslashes before it, which OmegaConf reads as escapes there.
_OPENING = re.compile(r"(\\*)\$\{")


def literal(text: str) -> str:
    """``text`` with each ``${`` escaped (``\\${``) and the backslashes before one doubled,
    so that OmegaConf resolves it to ``text`` itself."""
    return _OPENING.sub(lambda m: m[1] * 2 + "\\${", text)


def literal_values(value: Any) -> Any:
    """A resolved config's container (dicts, lists, scalars) with every string
    :func:`literal`: written to YAML and loaded back, it reads as it was resolved."""
    if isinstance(value, dict):
        return {k: literal_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [literal_values(v) for v in value]
    return literal(value) if isinstance(value, str) else value
