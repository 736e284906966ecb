"""Statistics of the report: plain functions, numpy arrays in, numbers out.

- :func:`t_interval`: mean, sample std and the 95 % Student-t interval over seeds (cut
  at 0 for an error; none where the seeds agree exactly).
- :func:`diebold_mariano`: the paired test of two forecasters over the same test windows.
  Consecutive windows share ``pred_len - 1`` target steps, so their errors are strongly
  autocorrelated: a test that assumes independent pairs (Wilcoxon, a plain t-test) or the
  Newey-West variance with normal critical values rejects a true null far too often at
  these horizons (``benchmarks/dm_size.py``). The variance is the weighted-periodogram
  (Daniell) HAC estimate over the ``m`` lowest Fourier frequencies, and the statistic is
  referred to Student's t with ``2m`` degrees of freedom: the fixed-smoothing asymptotics
  of Coroneo & Iacone (2020, J. Applied Econometrics 35(4)), which keep the test's size in
  samples that hold only a few independent stretches of windows. (Harvey, Leybourne &
  Newbold's 1997 small-sample correction belongs to the other variance, the truncated
  sum of ``pred_len - 1`` autocovariances with t(n-1); here the t(2m) reference is it.)
- :func:`with_seed_variance`: the same test with each cell's spread over its seeds added,
  so that it compares training procedures rather than the trained models that ran.
- :func:`holm`: Holm's (1979) step-down adjustment of a family of p-values.
- :func:`friedman`, :func:`critical_difference`, :func:`cliques`: average ranks, the
  Friedman test (tie-corrected) with Iman and Davenport's F, and the Nemenyi critical
  difference (Demšar, 2006, JMLR 7); below Demšar's N > 10 and k > 5, the exact
  permutation p and critical difference.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Spread:
    """Mean over seeds, sample std and the Student-t confidence interval (None: n < 2, or
    ``identical``); ``clipped``: the interval's lower end is the least possible value, not
    the t-interval's (which lay below it); ``identical``: every seed gave the same value (a
    model that trains nothing), so the seeds replicate nothing and no interval is given."""

    mean: float
    std: float | None
    n: int
    ci: tuple[float, float] | None
    clipped: bool = False
    identical: bool = False


def t_interval(values: np.ndarray, confidence: float = 0.95,
               lowest: float | None = None) -> Spread:
    """``mean ± t_{(1+c)/2, n-1} * s / sqrt(n)`` over ``values`` (one per seed), its lower
    end raised to ``lowest`` where it falls below the least value the quantity can take (0
    for an error). An interval cut to the possible values covers the true mean whenever the
    whole one did, so its confidence stays ``confidence``; the lower end is then no estimate
    (a t-interval over 2 seeds is ± 12.7 standard errors). An interval on the log scale
    would stay positive, but about the geometric mean, not the mean beside it. Seeds that
    agree exactly give their value, std 0 and no interval (``identical``): a zero-width
    interval would read as certainty where the seeds only repeat one computation."""
    values = np.asarray(values, dtype=np.float64)
    n = int(values.size)
    mean = float(values.mean())
    if n < 2:
        return Spread(mean, None, n, None)
    if np.all(values == values[0]):
        return Spread(float(values[0]), 0.0, n, None, identical=True)
    std = float(values.std(ddof=1))
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * std / math.sqrt(n)
    if lowest is not None and mean - half < lowest:
        return Spread(mean, std, n, (lowest, mean + half), clipped=True)
    return Spread(mean, std, n, (mean - half, mean + half))


@dataclass(frozen=True)
class PairedTest:
    """``mean_diff`` = mean(loss_a - loss_b) (< 0: a has the lower loss); ``variance`` is
    the estimated variance of ``mean_diff`` the statistic divides by."""

    mean_diff: float
    statistic: float
    p_value: float
    df: int
    n: int
    variance: float = 0.0


def dm_bandwidth(n: int, pred_len: int) -> int:
    """Fourier frequencies in the variance: ``n ** (1/3)`` (Coroneo & Iacone's choice), at
    most ``n / (4 pred_len)`` so that every frequency lies where the spectrum of
    overlapping windows' losses is still near its value at zero; at least 1."""
    return max(1, min(_cube_root(n), n // (4 * pred_len)))


def _cube_root(n: int) -> int:
    """The largest integer whose cube is at most ``n`` (``int(64 ** (1/3))`` is 3)."""
    root = round(n ** (1 / 3))
    return root - 1 if root ** 3 > n else root


def diebold_mariano(loss_a: np.ndarray, loss_b: np.ndarray, pred_len: int) -> PairedTest:
    """Two-sided Diebold-Mariano test of equal mean loss over the same windows, in order,
    with the weighted-periodogram variance and t(2m) reference (module docstring)."""
    a, b = np.asarray(loss_a, dtype=np.float64), np.asarray(loss_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.size < 2:
        raise ValueError(f"need two equal-length loss series of >= 2 windows, got shapes "
                         f"{a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("the loss series hold non-finite values: leave out the runs that "
                         "diverged")
    d = a - b
    n = int(d.size)
    m = dm_bandwidth(n, pred_len)
    return _t_test(float(d.mean()), _long_run_variance(d, m) / n, 2 * m, n)


def with_seed_variance(test: PairedTest, seeds_a: np.ndarray, seeds_b: np.ndarray,
                       pred_len: int) -> PairedTest:
    """``test`` of two cells' seed-mean window losses, widened to a test of the two
    *training procedures*. ``seeds_a`` and ``seeds_b`` hold each cell's window losses, one
    row per seed. The windows' variance alone conditions on the seeds that ran: a seed that
    trained well lowers every window's error alike, which no window-to-window variation
    shows, and reads as a real difference. Each cell with several seeds adds the variance
    of its mean of such whole-seed offsets (:func:`seed_offset_variance`), and the degrees
    of freedom are Welch-Satterthwaite's over the parts (Satterthwaite 1946, Biometrics
    Bull. 2(6)), floored: between the smallest part's and their sum ``2m + (k_a - 1) +
    (k_b - 1)``, the information there is; above the windows' 2m where the seeds' spread
    is a large part of the variance, as pooling independent estimates should. (With the
    subtracted window noise as a part of its own, Satterthwaite's df would be lower, and
    the test stricter than its level.) A cell with one seed adds nothing (no estimate; none
    is needed for a model without training, whose seeds forecast alike)."""
    parts = [(test.variance, test.df)]
    for losses in (seeds_a, seeds_b):
        losses = np.asarray(losses, dtype=np.float64)
        if losses.shape[0] >= 2:
            parts.append((seed_offset_variance(losses, pred_len) / losses.shape[0],
                          losses.shape[0] - 1))
    variance = sum(v for v, _ in parts)
    denominator = sum(v * v / df for v, df in parts)
    if len(parts) == 1 or variance == test.variance:
        return test
    df = max(1, int(variance * variance / denominator))
    return _t_test(test.mean_diff, variance, df, test.n)


def seed_offset_variance(losses: np.ndarray, pred_len: int) -> float:
    """The variance across seeds of a whole seed's offset, from window losses of one
    configuration (one row per seed, k >= 2): the sample variance of the seeds' mean
    losses, less the part that each seed's own window-to-window noise puts in a mean (its
    long-run variance / n, estimated from the seeds' deviations from the window's seed
    mean, which hold (1 - 1/k) of it); at least 0. That noise is already in the paired
    test's window variance; counted twice, the test would lose its power."""
    k, n = losses.shape
    m = dm_bandwidth(n, pred_len)
    deviations = losses - losses.mean(axis=0)
    noise = float(np.mean([_long_run_variance(row, m) for row in deviations])) * k / (k - 1)
    return max(0.0, float(losses.mean(axis=1).var(ddof=1)) - noise / n)


def _long_run_variance(x: np.ndarray, m: int) -> float:
    """Daniell estimate of ``x``'s long-run variance: the mean periodogram (times 2 pi)
    over the ``m`` lowest Fourier frequencies."""
    return float(np.mean(np.abs(np.fft.rfft(x - x.mean())[1:m + 1]) ** 2 / x.size))


def _t_test(mean: float, variance: float, df: int, n: int) -> PairedTest:
    """Two-sided t-test of ``mean`` = 0 with ``variance`` and ``df`` degrees of freedom."""
    if variance <= 0.0:  # identical losses, or a constant difference
        statistic = 0.0 if mean == 0.0 else math.copysign(math.inf, mean)
    else:
        statistic = mean / math.sqrt(variance)
    p_value = float(2 * stats.t.sf(abs(statistic), df))
    return PairedTest(mean, statistic, p_value, df, n, variance)


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values: the i-th smallest of m becomes
    ``max_{j<=i} min(1, (m - j + 1) p_(j))``; reject where the adjusted p < alpha."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


@dataclass(frozen=True)
class Friedman:
    """Average ranks (1 = best) over ``n_blocks`` blocks of ``k`` treatments, Friedman's
    chi-square and Iman-Davenport's F with their p-values, and, below Demšar's rule of
    thumb for those approximations (:func:`approximations_hold`), the exact p. F is None
    (undefined) when every block ranks the treatments in the same order without ties: its
    denominator ``N(k-1) - chi2`` is then 0."""

    average_ranks: np.ndarray
    n_blocks: int
    k: int
    chi2: float
    p_chi2: float
    f: float | None
    p_f: float | None
    # P(chi2 >= the observed) when each block's ranks are equally likely in any order:
    # enumerated, or from ``draws`` random orders where enumerating is too long
    p_exact: float | None = None
    draws: int = 0

    @property
    def p_value(self) -> float:
        """The p-value that decides: the exact one where there is one, else
        Iman-Davenport's where F is defined (Demšar's choice), else Friedman's."""
        if self.p_exact is not None:
            return self.p_exact
        return self.p_chi2 if self.p_f is None else self.p_f


def approximations_hold(n_blocks: int, k: int) -> bool:
    """Demšar's (2006, section 3.2.2) rule of thumb for referring Friedman's statistic to
    chi-square (and so to F): N > 10 blocks and k > 5 treatments. Below it they can be far
    off: 2 blocks of 4 ranked alike have chi2 = 6, p = 0.11 by chi-square; 1/24 = 0.042
    exactly."""
    return n_blocks > 10 and k > 5


def friedman(scores: np.ndarray) -> Friedman:
    """Friedman's test on ``scores`` (blocks x treatments, lower is better), with the exact
    p where :func:`approximations_hold` does not (:func:`friedman_exact_p`). Treatments
    that tie in a block share the mean of their ranks, which narrows the ranks' spread, so
    χ² is tie-corrected (:func:`friedman_chi2`, as ``scipy.stats.friedmanchisquare``) and
    F is Iman and Davenport's on it; without ties both are Demšar's (2006, section 3.2.2)."""
    scores = np.asarray(scores, dtype=np.float64)
    n, k = scores.shape
    block_ranks = stats.rankdata(scores, axis=1)
    chi2 = friedman_chi2(block_ranks)
    denominator = n * (k - 1) - chi2
    # chi2 <= N(k-1), with equality (to rounding) exactly when every block ranks alike
    f = None if denominator <= 1e-9 * n * (k - 1) else (n - 1) * chi2 / denominator
    p_exact, draws = (None, 0) if approximations_hold(n, k) else friedman_exact_p(scores)
    return Friedman(
        average_ranks=block_ranks.mean(axis=0), n_blocks=n, k=k, chi2=chi2,
        p_chi2=float(stats.chi2.sf(chi2, k - 1)), f=f,
        p_f=None if f is None else float(stats.f.sf(f, k - 1, (k - 1) * (n - 1))),
        p_exact=p_exact, draws=draws,
    )


def friedman_chi2(block_ranks: np.ndarray) -> float:
    """Friedman's statistic of ``block_ranks`` (blocks x treatments, ties as midranks) in
    its general form: ``(k - 1)`` times the spread of the rank sums about their null mean
    over the spread of the ranks about theirs. Without ties it is Demšar's ``12N / (k(k +
    1)) (sum R_j^2 - k (k + 1)^2 / 4)``; with them, that divided by ``1 - sum (t^3 - t) /
    (N k (k^2 - 1))`` over the groups of t tied treatments. 0 where every block ties every
    treatment: nothing is ranked."""
    n, k = block_ranks.shape
    middle = (k + 1) / 2
    spread = float(np.sum((block_ranks.sum(axis=0) - n * middle) ** 2))
    within = float(np.sum((block_ranks - middle) ** 2))
    return 0.0 if within == 0.0 else (k - 1) * spread / within


#: Most (rank-sum state, block order) pairs :func:`friedman_exact_p` enumerates in one block.
EXACT_LIMIT = 500_000
#: Random rank orders of the Monte Carlo p where enumerating is too long, and their seed.
DRAWS, DRAWS_SEED = 20_000, 0


def friedman_exact_p(scores: np.ndarray) -> tuple[float, int]:
    """The permutation p of Friedman's statistic and how many random draws gave it (0:
    exact). Each block's ranks are permuted as they are, ties kept (the null given the
    ties observed), so the tie correction's denominator is the same in every order and the
    statistic grows with the sum of squared column rank sums alone, whose null
    distribution is :func:`null_rank_sums`'; from random draws, ``p = (1 + hits) / (1 +
    draws)``."""
    doubled = _doubled_ranks(scores)
    sums, probs, draws = null_rank_sums(doubled)
    observed = int(np.sum(doubled.sum(axis=0) ** 2))
    hits = probs[np.sum(sums ** 2, axis=1) >= observed].sum()
    if draws:
        return (1 + round(hits * draws)) / (1 + draws), draws
    return min(1.0, float(hits)), 0


def exact_cd(scores: np.ndarray, alpha: float = 0.05) -> tuple[float, int]:
    """The smallest gap between two average ranks that any pair of the k reaches with
    probability at most ``alpha`` when each block's ranks are equally likely in any order
    (ties as they are), and how many random draws gave it (0: exact): Nemenyi's critical
    difference without the studentized range's large-N approximation, which is not
    conservative at few blocks (7 tables of 3 models: 1.25, where a gap of 1.29 arises
    with p = 0.052; here 1.43). Models whose ranks differ by it or more differ, familywise
    at ``alpha``; ``math.inf`` where no gap is that rare (2 tables of 4 models: the
    widest, 3, has p = 1/12)."""
    doubled = _doubled_ranks(scores)
    sums, probs, draws = null_rank_sums(doubled)
    gaps, index = np.unique(sums.max(axis=1) - sums.min(axis=1), return_inverse=True)
    tail = np.cumsum(np.bincount(index.ravel(), weights=probs)[::-1])[::-1]  # P(gap >= g)
    if draws:
        tail = (1 + np.rint(tail * draws)) / (1 + draws)
    rare = np.flatnonzero(tail <= alpha)
    return (math.inf if not rare.size else float(gaps[rare[0]]) / (2 * len(doubled))), draws


def _doubled_ranks(scores: np.ndarray) -> np.ndarray:
    """Twice each block's ranks (midranks of ties are halves), as integers."""
    return np.rint(2 * stats.rankdata(np.asarray(scores, dtype=np.float64), axis=1)
                   ).astype(np.int64)


def null_rank_sums(doubled: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Column sums of ``doubled`` ranks under the null that every order of each row is
    equally likely, with their probabilities and how many random draws gave them. Built
    row by row over the sorted sums (the treatments are exchangeable, so sorting loses
    nothing: draws 0); where that grows past :data:`EXACT_LIMIT`, :data:`DRAWS` seeded
    random orders instead, each of probability ``1 / DRAWS``."""
    enumerated = _enumerated_sums(doubled)
    if enumerated is not None:
        return (*enumerated, 0)
    rng = np.random.default_rng(DRAWS_SEED)
    n, k = doubled.shape
    drawn, done, chunk = [], 0, max(1, EXACT_LIMIT // (n * k))
    while done < DRAWS:
        size = min(chunk, DRAWS - done)
        drawn.append(rng.permuted(np.broadcast_to(doubled, (size, n, k)), axis=2).sum(axis=1))
        done += size
    return np.concatenate(drawn), np.full(DRAWS, 1 / DRAWS), DRAWS


def _enumerated_sums(doubled: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Every sorted column-sum vector of ``doubled`` over all orders of its rows, with its
    probability; None where that takes more than :data:`EXACT_LIMIT` states at a row."""
    n, k = doubled.shape
    base = 2 * n * k + 1  # above any column sum: a sorted state is one integer in base
    if math.factorial(k) > EXACT_LIMIT or base ** k >= 2 ** 63:
        return None
    powers = base ** np.arange(k, dtype=np.int64)
    states, probs = np.zeros((1, k), dtype=np.int64), np.ones(1)
    every: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}  # by a row's ranks
    for row in doubled:
        ranks = tuple(sorted(row))
        if ranks not in every:
            every[ranks] = np.unique(np.array(list(itertools.permutations(ranks))), axis=0,
                                     return_counts=True)
        orders, counts = every[ranks]
        if len(states) * len(orders) > EXACT_LIMIT:
            return None
        grown = np.sort((states[:, None, :] + orders[None, :, :]).reshape(-1, k), axis=1)
        weights = (probs[:, None] * (counts / counts.sum())[None, :]).ravel()
        _, first, index = np.unique(grown @ powers, return_index=True,
                                       return_inverse=True)
        states, probs = grown[first], np.bincount(index.ravel(), weights=weights)
    return states, probs


def nemenyi_q(k: int, alpha: float = 0.05) -> float:
    """Nemenyi's critical value: the studentized range quantile (k groups, infinite df)
    divided by sqrt(2) (Demšar's Table 5a)."""
    return float(stats.studentized_range.ppf(1 - alpha, k, np.inf)) / math.sqrt(2)


def nemenyi_cd(k: int, n_blocks: int, alpha: float = 0.05) -> float:
    """Critical difference of average ranks: ``q_alpha * sqrt(k (k + 1) / (6 N))``."""
    return nemenyi_q(k, alpha) * math.sqrt(k * (k + 1) / (6 * n_blocks))


def critical_difference(scores: np.ndarray, alpha: float = 0.05) -> tuple[float, int | None]:
    """The critical difference of average ranks for ``scores`` (blocks x treatments) and
    how it was found: Nemenyi's (None) where :func:`approximations_hold`, else
    :func:`exact_cd` (its draws: 0 when enumerated)."""
    n, k = np.shape(scores)
    if approximations_hold(n, k):
        return nemenyi_cd(k, n, alpha), None
    return exact_cd(scores, alpha)


#: The rule of :func:`told_apart`, as the report's text and the diagram's caption say it.
TOLD_APART = "differ by the critical difference or more"


def told_apart(gap: float, cd: float) -> bool:
    """Whether two average ranks ``gap`` apart differ significantly at the critical
    difference ``cd``: a gap of the CD or more (Demšar 2006: ranks that "differ by at
    least the critical difference"; :func:`exact_cd` is the least gap rare enough at α, so
    reaching it counts), to rounding (average ranks and :func:`exact_cd`'s gaps are sums
    over the blocks divided by their number)."""
    return gap >= cd - 1e-9


def cliques(ranks: np.ndarray, cd: float) -> list[tuple[int, int]]:
    """Maximal runs of treatments (as ``(first, last)`` positions in rank order) no two of
    which :func:`told_apart` tells apart: the bars of a CD diagram."""
    ordered = np.sort(np.asarray(ranks, dtype=np.float64))
    runs: list[tuple[int, int]] = []
    for first in range(len(ordered)):
        last = first
        while last + 1 < len(ordered) and not told_apart(ordered[last + 1] - ordered[first],
                                                         cd):
            last += 1
        if last > first and not any(a <= first and last <= b for a, b in runs):
            runs.append((first, last))
    return runs
