"""A count and its noun in a message, singular for one: ``1 trial``, ``3 trials``; zero
and every other count plural (``0 windows``)."""

from __future__ import annotations


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun`` (its plural with an ``s``), e.g. ``counted(1, "trial")``."""
    return f"{n} {noun_for(n, noun)}"


def noun_for(n: int, noun: str) -> str:
    """``noun`` as a count of ``n`` takes it, for a message that names the count otherwise
    (``jobs 1, 2``): itself for one, its plural with an ``s`` for any other count."""
    return noun if n == 1 else f"{noun}s"


def word_for(n: int, one: str, other: str) -> str:
    """The verb or pronoun that agrees with a count of ``n``: ``one`` for one (``is``,
    ``it``), ``other`` for any other count (``are``, ``them``): ``1 value is``, ``0 values
    are``."""
    return one if n == 1 else other
