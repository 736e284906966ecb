"""The rows a periodicity analysis may read, the longest window the splits allow, and the
look-backs the training rows' periods suggest (``tsbench-analyze``'s, and a sweep's advice
where a search preset's look-backs do not fit the data)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from tsbench.analysis.periodicity import (
    Period,
    dominant_periods,
    lookback_candidates,
    spread_lookbacks,
)
from tsbench.data.loading import Series
from tsbench.data.splits import Borders, benchmark_borders
from tsbench.yaml_load import load_yaml


def split_rows(series: Series) -> Borders:
    """The benchmark split's own rows (no look-back overlap)."""
    return benchmark_borders(
        len(series.values), series.split, 0, series.train_frac, series.test_frac
    )


def longest_lookback(borders: Borders, pred_len: int) -> int:
    """The longest look-back worth trying: validation and test windows take their look-back
    from the rows before their split (the published convention), so only the training split
    bounds it, and at least half of its rows should still start a training window."""
    train_rows = borders.train[1] - borders.train[0]
    return max(1, train_rows // 2 - pred_len)


def period_settings(settings: Any) -> dict[str, Any]:
    """The settings that choose the periods and the look-backs (``max_lookback``,
    ``n_periods``, ``min_strength``, ``min_prominence``), read from ``settings``
    (tsbench-analyze's config, or its file's defaults) as :func:`suggest`'s keywords."""
    return {"max_lookback": int(settings["max_lookback"]),
            "n_periods": int(settings["n_periods"]),
            "min_strength": float(settings["min_strength"]),
            "min_prominence": float(settings["min_prominence"])}


def default_settings() -> dict[str, Any]:
    """:func:`period_settings` as tsbench-analyze's config gives them (``analyze.yaml``):
    advice given elsewhere suggests what ``tsbench-analyze`` would print."""
    return period_settings(load_yaml(
        (files("tsbench.conf") / "analyze.yaml").read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Suggestion:
    """The periods of a series' training rows (the target's alone with ``features`` S or
    MS), the look-backs they suggest for ``pred_len`` and the longest of them: half the
    training rows less ``pred_len``, at most ``max_lookback``."""

    periods: list[Period]
    candidates: list[int]
    longest: int


def search_override(candidates: Sequence[int], sweep: bool = False) -> str | None:
    """The few of ``candidates`` to search (the shortest doubled, see
    :func:`~tsbench.analysis.periodicity.spread_lookbacks`) as the override to paste, quoted
    for the shell where it is a choice; one alone as a choice too with ``sweep`` (in place
    of a preset's sweep, where a single value would be a fixed setting); None without
    candidates."""
    few = spread_lookbacks(candidates)
    if not few:
        return None
    if len(few) == 1 and not sweep:
        return f"seq_len={few[0]}"
    return f"'seq_len=choice({','.join(map(str, few))})'"


def one_run_lookback(candidates: Sequence[int]) -> int:
    """The look-back for a single run: the second of the few searched (the only one where
    there is one)."""
    few = spread_lookbacks(candidates)
    return few[len(few) > 1]


def suggest(series: Series, pred_len: int, features: str, *, max_lookback: int,
            n_periods: int, min_strength: float, min_prominence: float) -> Suggestion:
    """The :class:`Suggestion` for ``series``'s training rows (see :func:`split_rows`)."""
    borders = split_rows(series)
    start, end = borders.train
    train = series.values[start:end]
    scored = train[:, -1:] if features in ("S", "MS") else train  # the target last
    periods = dominant_periods(scored, **channel_options(
        max_lookback=max_lookback, n_periods=n_periods, min_strength=min_strength,
        min_prominence=min_prominence))
    max_len = min(longest_lookback(borders, pred_len), max_lookback) + pred_len
    return Suggestion(periods, lookback_candidates([p.period for p in periods], pred_len,
                                                   max_len), max_len - pred_len)


def channel_options(*, max_lookback: int, n_periods: int, min_strength: float,
                    min_prominence: float) -> dict[str, Any]:
    """:func:`~tsbench.analysis.periodicity.dominant_periods`' options for the settings:
    periods up to half the longest look-back, so that two cycles fit in it."""
    return dict(max_period=max_lookback // 2, n_periods=n_periods,
                min_strength=min_strength, min_prominence=min_prominence)

