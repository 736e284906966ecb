"""Whether a sweep's look-backs suit the series it reads, and the look-backs that do, as
``tsbench-analyze`` suggests them.

The presets' ``seq_len`` values (96 to 720) are the hourly benchmarks'. On a short series a
look-back too long to start one training window fails every trial that draws it (the sweep
check refuses it, :func:`tsbench.sweep_check.check_sweep`); one that starts a window but
leaves fewer than half of the training rows one
(:func:`~tsbench.analysis.lookback.longest_lookback`), or that holds fewer than two cycles
of the series' shortest period, runs, and spends its trials where ``tsbench-analyze``
would suggest none. Look-backs swept on the command line (pasted, where no preset's are in
play) are held to the half rule alone: a short one is the user's choice, one too long
for half of the rows runs on fewer windows unnoticed. Both fixes name
the look-backs it suggests for the same series, ``pred_len`` and ``features``. The periods
are read where a look-back is too long, or where reading them is cheap
(:data:`PERIOD_VALUES`): the two-cycle rule is not checked on a wide, long series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from tsbench.analysis.lookback import (
    Suggestion,
    default_settings,
    longest_lookback,
    search_override,
    split_rows,
    suggest,
)
from tsbench.data.loading import Series

#: How a fix's override replaces a preset's sweep.
IN_PLACE = "on the command line, in place of the preset's"
#: How a fix's override replaces the command line's own sweep.
IN_ITS_PLACE = "in its place"
#: The most training values (rows x channels read) whose periods are looked for where no
#: look-back is too long (for the two-cycle rule alone): ETTh1's 60,480 took 0.7 s on a
#: shared 2-core machine, so a series of hundreds of channels (electricity, traffic) would
#: take far longer at each sweep's start.
PERIOD_VALUES = 100_000


@dataclass(frozen=True)
class LookbackFit:
    """A series' facts that judge look-backs: ``name`` (as runs name their data), its
    training rows, the longest look-back that leaves half of them a window (``half``) and,
    read when first asked for, tsbench-analyze's
    :class:`~tsbench.analysis.lookback.Suggestion` at its defaults."""

    name: str
    series: Series
    pred_len: int
    features: str
    train_rows: int
    half: int

    @cached_property
    def suggestion(self) -> Suggestion:
        return suggest(self.series, self.pred_len, self.features, **default_settings())

    def cheap_periods(self) -> bool:
        """Whether the periods are read in well under a second (:data:`PERIOD_VALUES`)."""
        channels = 1 if self.features in ("S", "MS") else self.series.values.shape[1]
        return self.train_rows * channels <= PERIOD_VALUES

    def analyzed(self, place: str = IN_PLACE) -> str | None:
        """The fix naming the suggested look-backs to paste (where: ``place``), None without
        any."""
        line = search_override(self.suggestion.candidates, sweep=True)
        if line is None:
            return None
        periods = [p.period for p in self.suggestion.periods]
        return (f"paste {line} {place} (multiples of {self.name}'s "
                f"{'period' if len(periods) == 1 else 'periods'} "
                f"{', '.join(map(str, periods))} that leave half of its training rows a "
                "window, as tsbench-analyze suggests)")


def lookback_fit(series: Series, name: str, pred_len: int, features: str) -> LookbackFit:
    """The :class:`LookbackFit` of ``series`` (called ``name``) for ``pred_len`` and
    ``features`` (S or MS: the target's periods alone, as its runs score it)."""
    borders = split_rows(series)
    return LookbackFit(name, series, pred_len, features, borders.train[1] - borders.train[0],
                       longest_lookback(borders, pred_len))


def unsuited(values: Sequence[int], where: str, fit: LookbackFit, preset: bool = True
             ) -> str | None:
    """A warning for the look-backs ``values`` (swept at ``where``) that leave fewer than
    half of the training rows a window or, a ``preset``'s, hold fewer than two cycles of the
    shortest period, with the look-backs that suit the series; None where all suit it."""
    long = [v for v in values if v > fit.half]
    periods = fit.suggestion.periods if long or preset and fit.cheap_periods() else []
    period = min((p.period for p in periods), default=None)
    short = [v for v in values if preset and period is not None and v < 2 * period]
    if not long and not short:
        return None
    said = []
    if long:
        said.append(f"{_values(long)} {'leaves' if len(long) == 1 else 'leave'} fewer than "
                    f"half of its {fit.train_rows} training rows a window (at most "
                    f"{fit.half} does, at pred_len={fit.pred_len})")
    if short:
        said.append(f"{_values(short)} {'holds' if len(short) == 1 else 'hold'} fewer than "
                    f"two cycles of its period {period}")
    place = IN_PLACE if preset else IN_ITS_PLACE
    return (f"{where} does not suit {fit.name}: {'; '.join(said)} -> "
            f"{_fix(values, fit, place)}")


def _fix(values: Sequence[int], fit: LookbackFit, place: str) -> str:
    """The look-backs to sweep instead (where: ``place``): the suggested ones, or without a
    period the swept ones that leave half of the training rows a window (else that longest
    one)."""
    analyzed = fit.analyzed(place)
    if analyzed is not None:
        return analyzed
    kept = [v for v in values if v <= fit.half] or [fit.half]
    line = f"seq_len=choice({','.join(map(str, kept))})"
    periods = [p.period for p in fit.suggestion.periods]
    why = (f"two cycles of its period {min(periods)} are longer" if periods else
           f"tsbench-analyze finds no period in {fit.name}'s training rows")
    return f"sweep look-backs of at most {fit.half} {place}, e.g. {line} ({why})"


def _values(values: Sequence[int]) -> str:
    return f"seq_len={','.join(map(str, values))}"
