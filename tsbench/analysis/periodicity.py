"""Periodicity of a series (numpy in, numpy out): ACF, detrended periodogram, dominant
periods with their strength, and look-back candidates built from those periods."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import correlate1d
from scipy.signal import detrend, find_peaks, periodogram
from scipy.special import gammaln, logsumexp
from statsmodels.tsa.stattools import acf as _acf

#: Spectral peaks examined, strongest first, before giving up on more periods.
_PEAKS_EXAMINED = 20
#: Bins either side of a peak that belong to the same (leaking) spectral line.
_LINE_HALF_WIDTH = 2
#: Bins either side of a peak whose power counts as the line's: a cycle whose frequency lies
#: between two Fourier frequencies (long periods rarely divide the series' length), or whose
#: length varies (sunspots: 9 to 14 years), spreads its power over the peak's neighbours.
_LINE_SPREAD = 1


#: The seasonal strength at which a harmonic P/k of a period found is a period in its own
#: right. A cycle of that length repeats row for row once slower change is removed (hourly
#: sawtooth day under a weekly sine: 0.99; a sine day under a weekday/weekend step: 0.79),
#: where a harmonic of the slower cycle alone does not (a weekly sawtooth, step or spike:
#: 0.01 or less at 24 rows, 0.26 at 84).
OWN_CYCLE_STRENGTH = 0.5
#: The lowest harmonic order k that may be a cycle of its own: P/2 and P/3 are the commonest
#: harmonics of a cycle of two or three peaks (a day's morning and evening rush hours make
#: a strong, self-similar 12-hour line), so they never count as periods of their own.
MIN_OWN_ORDER = 4


@dataclass(frozen=True)
class Period:
    """A dominant period in rows: ``strength`` in [-1, 1] (see :func:`seasonal_strength`),
    ``prominence`` = how far its spectral line stands above the neighbouring bins (see
    :func:`_prominence`)."""

    period: int
    strength: float
    prominence: float


def _columns(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(len(values), -1)


def _straight(raw: np.ndarray) -> np.ndarray:
    """Which channels of ``raw`` ``(rows, channels)`` are straight lines (a constant one
    too): their linear trend removed, rounding noise is left, whose autocorrelation means
    nothing (a dead sensor's channel)."""
    x = detrend(raw, axis=0, type="linear")
    return np.abs(x).max(axis=0) <= 1e-9 * (np.abs(raw).max(axis=0) + 1.0)


def acf(values: np.ndarray, nlags: int) -> np.ndarray:
    """Autocorrelations ``(nlags + 1, channels)`` of each channel, linear trend removed;
    NaN for a straight-line channel (:func:`_straight`)."""
    raw = _columns(values)
    x = detrend(raw, axis=0, type="linear")
    return np.stack([np.full(nlags + 1, np.nan) if line else _acf(col, nlags=nlags, fft=True)
                     for col, line in zip(x.T, _straight(raw), strict=True)], axis=1)


def spectrum(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (cycles per row) and each channel's periodogram ``(freqs, channels)``,
    linear trend removed first so slow drift does not rule it, scaled to unit total power."""
    freqs, power = periodogram(_columns(values), detrend="linear", axis=0)
    total = power[1:].sum(axis=0)
    return freqs, power / np.where(total > 0, total, 1.0)


def seasonal_strength(values: np.ndarray, period: int) -> float:
    """Autocorrelation at lag ``period`` after removing the trend as a centred
    ``period``-row moving average (classical decomposition), averaged over channels:
    1 for an exactly periodic series, about 0 when ``period`` is no cycle of it. Straight-line
    channels (:func:`_straight`) are left out of the mean, as out of the ACF's: a dead
    sensor's channel would pull a cycle of the others under ``min_strength``; 0 where every
    channel is one."""
    x = _columns(values)
    x = x[:, ~_straight(x)]
    if not x.shape[1]:
        return 0.0
    kernel = np.ones(period + 1 - period % 2)  # a 2 x period average for even periods
    if period % 2 == 0:
        kernel[[0, -1]] = 0.5
    half = len(kernel) // 2
    trend = correlate1d(x, kernel / period, axis=0)[half : len(x) - half]
    rest = x[half : len(x) - half] - trend
    a, b = rest[period:], rest[:-period]
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    denom = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    return float(np.mean((a * b).sum(axis=0) / np.where(denom > 0, denom, np.inf)))


def dominant_periods(
    values: np.ndarray,
    max_period: int,
    n_periods: int = 3,
    min_strength: float = 0.1,
    min_prominence: float = 20.0,
) -> list[Period]:
    """Dominant periods (2..``max_period`` rows) of one channel, or of all channels together
    (the mean of their scaled periodograms; strength averaged over channels).

    Periodogram peaks are taken strongest first; a peak counts when its line stands
    ``min_prominence`` times above its neighbourhood (the peak bin alone, or the peak and its
    neighbours as unlikely under noise, see :func:`_prominence`) and its period, refined to
    the strongest integer period within the peak's bin, has ``seasonal_strength`` >=
    ``min_strength``; a peak on the skirt of a stronger line counts only with a line of its
    own (:func:`_in_skirt`); a harmonic (P/k) of a period already found counts only for k >=
    :data:`MIN_OWN_ORDER` and with :data:`OWN_CYCLE_STRENGTH` (a daily cycle under a
    stronger weekly one is a period of its own, the weekly cycle's seventh harmonic is not).
    """
    x = _columns(values)
    max_period = min(max_period, len(x) // 3)
    if max_period < 2:
        return []
    freqs, power = spectrum(x)
    power = power.mean(axis=1)
    bins = find_peaks(power)[0]
    bins = bins[freqs[bins] >= 1.0 / max_period]
    found: list[Period] = []
    lines: list[int] = []  # the bins of the prominent lines so far, strongest first
    for b in bins[np.argsort(power[bins])[::-1][:_PEAKS_EXAMINED]]:
        prominence = _prominence(power, int(b))
        if prominence < min_prominence or _in_skirt(power, int(b), lines, min_prominence):
            continue
        lines.append(int(b))
        orders = [_harmonic_order(1 / freqs[b], p.period) for p in found]
        order = min((k for k in orders if k), default=0)  # 0: no harmonic of a period found
        period = _refine(x, freqs, int(b), max_period)
        if any(p.period == period for p in found):
            continue
        strength = seasonal_strength(x, period)
        if order and (order < MIN_OWN_ORDER or not _own_cycle(x, period, strength)):
            continue
        if strength >= min_strength:
            found.append(Period(period, round(strength, 4), round(prominence, 1)))
        if len(found) == n_periods:
            break
    return found


def _reach(b: int) -> int:
    """How many bins either side of bin ``b`` make its neighbourhood."""
    return min(max(8, b // 4), b - 1)


def _prominence(power: np.ndarray, b: int, toward: int | None = None) -> float:
    """How many times the line at bin ``b`` stands above the median power ``m`` of the bins
    around it (as many below as above, so that a falling red-noise spectrum is not measured
    against its lower side only; with ``toward``, only those between ``b`` and the line at
    that bin, outside both lines): the peak bin's power over ``m``, or the power of the peak
    and its ``_LINE_SPREAD`` neighbours each side expressed as the single-bin ratio that
    noise would reach as rarely. Under noise a bin is ``m / ln 2`` times an Exp(1) variable,
    so a ratio r has tail ``2**-r``, and k bins summing to r times ``m`` the Gamma(k) tail."""
    reach = _reach(b)
    near = np.r_[
        max(1, b - reach) : max(1, b - _LINE_HALF_WIDTH),
        b + _LINE_HALF_WIDTH + 1 : min(len(power), b + reach + 1),
    ]
    if toward is not None:
        near = near[((near - b) * (toward - b) > 0)
                    & (np.abs(near - b) < abs(toward - b) - _LINE_HALF_WIDTH)]
    if near.size < 2:
        return 0.0  # nothing to stand above: fewer than 4 cycles in the rows, or a line near
    floor = float(np.median(power[near]))
    if floor <= 0:
        return float("inf")
    line = power[max(1, b - _LINE_SPREAD) : b + _LINE_SPREAD + 1]
    return max(float(power[b] / floor), _single_bin_equivalent(float(line.sum() / floor),
                                                               len(line)))


def _in_skirt(power: np.ndarray, b: int, lines: Sequence[int], min_prominence: float) -> bool:
    """Whether the peak at bin ``b`` is a ripple on the skirt of a stronger line in its
    neighbourhood rather than a line of its own: it does not stand ``min_prominence`` times
    above the bins between it and that line. A strong cycle's power leaks into every bin
    (the more, the nearer its line), so that bins a few dozen away stand far above the
    noise further out: a daily sine in 18,396 hourly rows leaks into peaks at 23 and 25 rows
    that stand 60 times above their neighbourhood, but below the bins nearer the day's line;
    a second cycle's line stands above them too, unless the two lines meet (no bin between
    them outside both, ``2 * _LINE_HALF_WIDTH`` or fewer bins apart)."""
    return any(_prominence(power, b, toward=a) < min_prominence
               for a in lines if abs(a - b) <= _reach(b))


def _single_bin_equivalent(ratio: float, bins: int) -> float:
    """The single-bin ratio as unlikely under noise as ``bins`` bins summing to ``ratio``
    medians: -log2 of the Gamma(bins) tail at ``ratio * ln 2`` (closed form for whole k:
    ``exp(-x) * sum(x**j / j!, j < k)``)."""
    x = ratio * math.log(2.0)
    if x <= 0:
        return 0.0
    j = np.arange(bins)
    log_tail = -x + float(logsumexp(j * math.log(x) - gammaln(j + 1)))
    return -log_tail / math.log(2.0)


def _own_cycle(x: np.ndarray, period: int, strength: float) -> bool:
    """Whether a harmonic ``period`` of a period found is a cycle in its own right: its
    strength reaches :data:`OWN_CYCLE_STRENGTH` and exceeds that of the periods one row
    either side (a lag near a stronger cycle's borrows its autocorrelation: 21 rows near a
    daily cycle of 24, ``cos(2 pi 21 / 24) = 0.71``, rising towards 24)."""
    return strength >= OWN_CYCLE_STRENGTH and all(
        strength > seasonal_strength(x, near) for near in (period - 1, period + 1) if near >= 2)


def _harmonic_order(period: float, fundamental: int) -> int:
    """The whole k >= 2 with ``period`` = ``fundamental / k`` (within 2 %), else 0."""
    k = fundamental / period
    return round(k) if k >= 1.5 and abs(k - round(k)) <= 0.02 * k else 0


def _refine(x: np.ndarray, freqs: np.ndarray, b: int, max_period: int) -> int:
    """The integer period of highest strength within the peak's frequency bin, its edges
    included: bin ``b`` of ``n`` rows spans the periods ``2n / (2b + 1)`` to ``2n / (2b - 1)``,
    computed in whole numbers: in floating point a period on an edge may fall a hair outside
    (a week in 2100 hourly rows, 12.5 bins, read 167.99999999999997 rows, so 167 won)."""
    n = len(x)
    lo = max(2, -(-2 * n // (2 * b + 1)))
    hi = min(max_period, 2 * n // (2 * b - 1))
    if lo >= hi:
        return min(max_period, max(2, round(1 / freqs[b])))
    return max(range(lo, hi + 1), key=lambda period: seasonal_strength(x, period))


def lookback_candidates(periods: Sequence[int], pred_len: int, max_len: int) -> list[int]:
    """Whole multiples (x2 or more: at least two cycles) of ``periods`` whose window
    ``seq_len + pred_len`` spans at most ``max_len`` rows (e.g. the shortest split)."""
    found = {m * p for p in periods if p > 0 for m in range(2, (max_len - pred_len) // p + 1)}
    return sorted(found)


def spread_lookbacks(candidates: Sequence[int], count: int = 4) -> list[int]:
    """At most ``count`` of ``candidates`` for a search: the shortest doubled while it stays
    a candidate (each a whole multiple of the period, spread evenly on a log scale, as
    look-backs' effect is), the longest ``count`` of that ladder kept where more fit."""
    ladder = []
    if candidates:
        length = min(candidates)
        while length in candidates:
            ladder.append(length)
            length *= 2
    return ladder[-count:]
