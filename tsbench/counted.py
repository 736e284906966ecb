"""A count and its noun in a message, singular for one: ``1 trial``, ``3 trials``."""

from __future__ import annotations


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun`` (its plural with an ``s``), e.g. ``counted(1, "trial")``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
