"""Errors a user can cause, each naming the field and the fix."""

from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher


class TsbenchError(Exception):
    """Base class for errors reported to the user as one clear message (no traceback)."""


class ConfigError(TsbenchError):
    """An impossible or unknown configuration value.

    ``field`` is the dotted config key (e.g. ``model.patch_len``) so the message can
    name it; ``fix`` says what to do instead.
    """

    def __init__(self, field: str, problem: str, fix: str = "") -> None:
        self.field = field
        self.problem = problem
        self.fix = fix
        message = f"{field}: {problem}"
        if fix:
            message += f" -> {fix}"
        super().__init__(message)

    def __reduce__(self) -> tuple:
        # Rebuilt from its parts: a trial's error travels back from a launcher's worker
        # process (joblib) pickled, and the default would call __init__(message) alone.
        return type(self), (self.field, self.problem, self.fix)


class DataError(TsbenchError):
    """Input data that cannot be used (missing file, bad CSV, too-short split)."""


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate a misspelt ``word`` most likely meant (case aside, difflib's ratio at
    least 0.75: ``lrr`` for ``lr``, not ``pred_len`` for ``seq_len``), for a "did you mean"
    fix; None where none is that close, or two are as close."""
    spelt = {str(c).lower(): str(c) for c in reversed(list(candidates))}  # the first wins
    scored = sorted(((SequenceMatcher(None, word.lower(), low).ratio(), low) for low in spelt),
                    reverse=True)
    if not scored or scored[0][0] < 0.75 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return spelt[scored[0][1]]
