"""Errors a user can cause, each naming the field and the fix."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from difflib import SequenceMatcher
from pathlib import Path


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


def too_small(field: str, value: object, least: float, what: str, example: object,
              strict: bool = False) -> ConfigError:
    """The error for ``field``'s ``value`` below ``least`` (at or below it where ``strict``):
    its fix says what the field gives and a valid value, ``give the windows per batch, e.g.
    data.batch_size=32``, so that the line alone says what to type."""
    return ConfigError(field, f"must be {'>' if strict else '>='} {least:g}, got {value}",
                       f"give {what}, e.g. {field}={example}")


class DataError(TsbenchError):
    """Input data that cannot be used (missing file, bad CSV, too-short split)."""


class Refusals(TsbenchError):
    """Several refusals of one command, said at once, each its own line
    (:func:`error_lines`), so that its user fixes them in one go rather than meeting them
    one command after another."""

    def __init__(self, errors: Sequence[TsbenchError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(map(str, self.errors)))

    def __reduce__(self) -> tuple:
        return type(self), (self.errors,)


def each(error: TsbenchError) -> list[TsbenchError]:
    """The refusals ``error`` says: a :class:`Refusals`' each, else itself."""
    return error.errors if isinstance(error, Refusals) else [error]


def together(errors: Sequence[TsbenchError]) -> TsbenchError:
    """One error that says every one of ``errors`` (at least one; a message said twice,
    once): the error itself where only one, else :class:`Refusals`."""
    unique = list({str(e): e for error in errors for e in each(error)}.values())
    return unique[0] if len(unique) == 1 else Refusals(unique)


def error_lines(prog: str, error: TsbenchError) -> str:
    """``prog: error: ...``, a line for each refusal ``error`` says."""
    return "\n".join(f"{prog}: error: {e}" for e in each(error))


class Checks:
    """The refusals of a command's checks that do not depend on each other, collected
    (:meth:`check`) and raised together (:meth:`raise_all`): every one said at once."""

    def __init__(self) -> None:
        self.errors: list[TsbenchError] = []

    @contextlib.contextmanager
    def check(self) -> Iterator[None]:
        """Run the checks of the ``with`` block, keeping the refusal they raise."""
        try:
            yield
        except TsbenchError as error:
            self.errors.extend(each(error))

    def raise_all(self) -> None:
        """Raise the refusals kept (:func:`together`), if any."""
        if self.errors:
            raise together(self.errors)


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate a misspelt ``word`` most likely meant (case aside, difflib's ratio at
    least 0.75: ``lrr`` for ``lr``, not ``pred_len`` for ``seq_len``), for a "did you mean"
    fix; None where none is that close, or two are as close (:func:`closest_all` names
    them all)."""
    found = closest_all(word, candidates)
    return found[0] if len(found) == 1 else None


def closest_beside(path: Path, folders: bool = False) -> Path | None:
    """The file (a folder with ``folders``) beside a missing ``path`` whose name is the
    closest to its name (:func:`closest`: a misspelt path's "did you mean"); None where none
    is that close, or its folder cannot be read."""
    try:
        names = [p.name for p in path.parent.iterdir() if (p.is_dir() if folders else p.is_file())]
    except OSError:
        return None
    meant = closest(path.name, names)
    return None if meant is None else path.parent / meant


def closest_all(word: str, candidates: Iterable[str]) -> list[str]:
    """Every candidate as close to a misspelt ``word`` as the closest (:func:`closest`'s
    measure), in the candidates' order: ``dlinear_etth1`` and ``dlinear_etth2`` for
    ``dlinear_etth3``; none where none is that close."""
    spelt = {c.lower(): c for c in reversed([str(c) for c in candidates])}  # the first wins
    scores = {low: SequenceMatcher(None, word.lower(), low).ratio() for low in spelt}
    best = max(scores.values(), default=0.0)
    return [] if best < 0.75 else [spelt[low] for low in reversed(spelt) if scores[low] == best]


def either(words: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``: the options a "did you mean" offers."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
