"""The report's statistics against hand-computed values, scipy/statsmodels and Demšar (2006).

Demšar's numbers are quoted from J. Demšar, "Statistical Comparisons of Classifiers over
Multiple Data Sets", JMLR 7 (2006) 1-30 (read at
https://is.muni.cz/el/fi/podzim2020/PA164/projekt/Statistical_Comparison_of_Classifiers_over_Multiple_Data_Sets.txt):
Table 5(a), critical values q_0.05 and q_0.10 of the two-tailed Nemenyi test; Table 6, the AUC
of four C4.5 variants on 14 data sets with their ranks in parentheses; section 3.2.2,
"chi2_F = 9.28", "F_F = 3.69", the F(3, 39) critical value 2.85, "CD is
2.569 sqrt(4*5/(6*14)) = 1.25" and, at p = 0.10, "CD is 2.291 sqrt(...) = 1.12"; "pure C4.5
is significantly worse than C4.5+m and C4.5+m+cf. We cannot tell which group C4.5+cf
belongs to" (Figure 1a); and the Holm example: p = 0.016, 0.019, 0.607 against
alpha / i = 0.017, 0.025, 0.050, "The Holm procedure rejects the first and then the second
hypothesis".
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import signal, stats
from statsmodels.stats.multitest import multipletests

from tsbench.report import stats as report_stats
from tsbench.report.stats import (
    approximations_hold,
    cliques,
    critical_difference,
    diebold_mariano,
    dm_bandwidth,
    exact_cd,
    friedman,
    holm,
    nemenyi_cd,
    nemenyi_q,
    t_interval,
    with_seed_variance,
)

MODELS = ["C4.5", "C4.5+m", "C4.5+cf", "C4.5+m+cf"]
#: Table 6: AUC per data set (adult (sample), breast cancer, breast cancer wisconsin, cmc,
#: ionosphere, iris, liver disorders, lung cancer, lymphography, mushroom, primary tumor,
#: rheum, voting, wine) ...
AUC = np.array([
    [0.763, 0.768, 0.771, 0.798], [0.599, 0.591, 0.590, 0.569], [0.954, 0.971, 0.968, 0.967],
    [0.628, 0.661, 0.654, 0.657], [0.882, 0.888, 0.886, 0.898], [0.936, 0.931, 0.916, 0.931],
    [0.661, 0.668, 0.609, 0.685], [0.583, 0.583, 0.563, 0.625], [0.775, 0.838, 0.866, 0.875],
    [1.000, 1.000, 1.000, 1.000], [0.940, 0.962, 0.965, 0.962], [0.619, 0.666, 0.614, 0.669],
    [0.972, 0.981, 0.975, 0.975], [0.957, 0.978, 0.946, 0.970],
])
#: ... and the ranks printed beside them (voting's two 0.975 are ranked 2 and 3 there: the
#: unrounded AUCs differ).
RANKS = np.array([
    [4, 3, 2, 1], [1, 2, 3, 4], [4, 1, 2, 3], [4, 1, 3, 2], [4, 2, 3, 1], [1, 2.5, 4, 2.5],
    [3, 2, 4, 1], [2.5, 2.5, 4, 1], [4, 3, 2, 1], [2.5, 2.5, 2.5, 2.5], [4, 2.5, 1, 2.5],
    [3, 2, 4, 1], [4, 1, 2, 3], [3, 1, 4, 2],
])
VOTING = 12


def test_t_interval_is_students_over_seeds() -> None:
    values = np.array([0.380, 0.390, 0.386])
    spread = t_interval(values)
    mean, sem = values.mean(), values.std(ddof=1) / math.sqrt(3)
    half = 4.302652729911275 * sem  # t_{0.975, 2} (tables: 4.303)
    assert spread.mean == pytest.approx(mean) and spread.n == 3
    assert spread.std == pytest.approx(values.std(ddof=1))
    assert spread.ci == pytest.approx((mean - half, mean + half), rel=1e-12)
    assert spread.ci == pytest.approx(stats.t.interval(0.95, 2, loc=mean, scale=sem), rel=1e-12)
    single = t_interval(np.array([0.4]))
    assert single.std is None and single.ci is None and single.n == 1
    assert not spread.clipped and t_interval(values, lowest=0.0) == spread  # far above 0


def test_an_error_interval_below_zero_is_cut_at_zero_and_marked() -> None:
    """Two seeds: t_{0.975, 1} = 12.71 standard errors each side reach below 0, where no
    MSE lies; the interval an error gets stops at 0 and says so, its upper end unchanged."""
    values = np.array([0.1, 0.5])
    half = 12.706204736174707 * values.std(ddof=1) / math.sqrt(2)
    plain = t_interval(values)
    assert plain.ci == pytest.approx((0.3 - half, 0.3 + half)) and plain.ci[0] < 0
    assert not plain.clipped  # a quantity that may be negative keeps the whole interval
    error = t_interval(values, lowest=0.0)
    assert error.ci == pytest.approx((0.0, 0.3 + half)) and error.clipped
    assert (error.mean, error.std, error.n) == (plain.mean, plain.std, plain.n)


def test_dm_statistic_equals_the_hand_computed_one() -> None:
    """Twelve windows, pred_len 1: m = min(int(12 ** (1/3)), 12 // 4) = 2 frequencies."""
    loss_a = np.array([1.0, 0.8, 1.3, 0.9, 1.1, 0.7, 1.2, 1.0, 0.6, 0.9, 1.4, 0.8])
    loss_b = np.array([1.2, 1.0, 1.1, 1.3, 1.0, 1.1, 1.5, 0.9, 1.0, 1.2, 1.3, 1.1])
    d = loss_a - loss_b
    n, m = 12, 2
    t = np.arange(n)
    periodogram = [(np.sum(d * np.cos(2 * math.pi * j * t / n)) ** 2
                    + np.sum(d * np.sin(2 * math.pi * j * t / n)) ** 2) / n for j in (1, 2)]
    statistic = d.mean() / math.sqrt(np.mean(periodogram) / n)
    result = diebold_mariano(loss_a, loss_b, pred_len=1)
    assert dm_bandwidth(n, 1) == m and result.df == 2 * m and result.n == n
    assert result.mean_diff == pytest.approx(d.mean())
    assert result.statistic == pytest.approx(statistic, rel=1e-12)
    assert result.p_value == pytest.approx(2 * stats.t.sf(abs(statistic), 2 * m), rel=1e-12)


def _daniell_by_hand(x: np.ndarray, m: int) -> float:
    """Mean periodogram (times 2 pi) over Fourier frequencies 1..m, from sums of cosines."""
    n, t, x = x.size, np.arange(x.size), x - x.mean()
    return float(np.mean([(np.sum(x * np.cos(2 * math.pi * j * t / n)) ** 2
                           + np.sum(x * np.sin(2 * math.pi * j * t / n)) ** 2) / n
                          for j in range(1, m + 1)]))


def test_seed_variance_joins_the_windows_variance_with_welch_satterthwaite_df() -> None:
    """Hand-computed on 12 windows (pred_len 1: m = 2): each cell adds the variance of its
    seeds' mean losses less their window noise's share (the deviations from the window's
    seed mean, whose long-run variance holds (k-1)/k of it), over k seeds; df by
    Welch-Satterthwaite, floored."""
    rng = np.random.default_rng(5)
    base = np.array([1.0, 0.8, 1.3, 0.9, 1.1, 0.7, 1.2, 1.0, 0.6, 0.9, 1.4, 0.8])
    a = base + np.array([[-0.2], [0.1], [0.3]]) + 0.05 * rng.standard_normal((3, 12))
    b = base + 0.1 + np.array([[0.02], [-0.02]]) + 0.05 * rng.standard_normal((2, 12))
    window = diebold_mariano(a.mean(axis=0), b.mean(axis=0), pred_len=1)
    parts = []
    for losses in (a, b):
        k = len(losses)
        noise = np.mean([_daniell_by_hand(row, 2) for row in losses - losses.mean(axis=0)])
        offsets = max(0.0, losses.mean(axis=1).var(ddof=1) - noise * k / (k - 1) / 12)
        parts.append((offsets / k, k - 1))
    assert parts[0][0] > 0  # a's seeds differ as wholes
    total = window.variance + sum(v for v, _ in parts)
    df = int(total ** 2 / (window.variance ** 2 / window.df + sum(v * v / f for v, f in parts)))
    both = with_seed_variance(window, a, b, pred_len=1)
    assert window.variance == pytest.approx(window.mean_diff ** 2 / window.statistic ** 2)
    assert both.variance == pytest.approx(total, rel=1e-12) and both.df == df
    assert both.statistic == pytest.approx(window.mean_diff / math.sqrt(total), rel=1e-12)
    assert both.p_value == pytest.approx(2 * stats.t.sf(abs(both.statistic), df), rel=1e-12)
    assert both.mean_diff == window.mean_diff and both.n == window.n
    # one seed on each side: nothing to add, the windows' test as it was
    assert with_seed_variance(window, a[:1], b[:1], pred_len=1) == window


def test_a_seed_that_trained_well_is_no_real_difference() -> None:
    """Both cells forecast every window alike but for each seed's offset; A's three seeds
    happen to average lower. The windows alone call it certain (a constant difference);
    with the seeds' spread it is nothing."""
    rng = np.random.default_rng(3)
    common = _window_losses(signal.lfilter([1.0], [1.0, -0.5], rng.standard_normal(600)), 24)
    offsets_a, offsets_b = np.array([-0.30, 0.02, 0.10]), np.array([0.05, -0.04, 0.01])
    a, b = common + offsets_a[:, None], common + offsets_b[:, None]
    window = diebold_mariano(a.mean(axis=0), b.mean(axis=0), 24)
    assert window.p_value < 1e-6
    seeds = with_seed_variance(window, a, b, 24)
    assert seeds.p_value > 0.3 and seeds.mean_diff == window.mean_diff


def test_seed_variance_df_stay_within_the_information_there_is() -> None:
    """Welch-Satterthwaite's df lie between the smallest part's and the parts' sum: the
    windows' 2m plus k - 1 for each cell's seeds. With 720-step windows the windows give
    t(2); five seeds a cell that differ as wholes carry more than that, and the df say so."""
    rng = np.random.default_rng(12)
    pred_len, n = 720, 2161
    for seeds, spread in [(2, 0.0), (3, 0.02), (5, 0.1), (5, 0.5), (8, 1.0)]:
        common = _window_losses(signal.lfilter([1.0], [1.0, -0.9], rng.standard_normal(
            n + pred_len - 1)), pred_len)
        a, b = (np.stack([common + spread * rng.standard_normal() + _window_losses(
            0.5 * rng.standard_normal(n + pred_len - 1), pred_len) for _ in range(seeds)])
            for _ in range(2))
        window = diebold_mariano(a.mean(axis=0), b.mean(axis=0), pred_len)
        both = with_seed_variance(window, a, b, pred_len)
        assert window.df == 2
        assert min(window.df, seeds - 1) <= both.df <= window.df + 2 * (seeds - 1)
        assert both.variance >= window.variance
    assert both.df > window.df  # eight seeds a cell, a wide spread: more than t(2)


def test_seed_noise_is_not_counted_twice() -> None:
    """Seeds that differ only window by window (no seed better as a whole): that noise is
    in the windows' variance already, so the seeds add (almost) nothing, where their
    means' plain variance over seeds would double the test's variance."""
    rng = np.random.default_rng(11)
    pred_len, n = 24, 2000
    common = _window_losses(signal.lfilter([1.0], [1.0, -0.9], rng.standard_normal(
        n + pred_len - 1)), pred_len)
    own = [_window_losses(signal.lfilter([1.0], [1.0, -0.9], rng.standard_normal(
        n + pred_len - 1)), pred_len) for _ in range(6)]
    a, b = common + np.stack(own[:3]), common + np.stack(own[3:])
    window = diebold_mariano(a.mean(axis=0), b.mean(axis=0), pred_len)
    plain = (a.mean(axis=1).var(ddof=1) + b.mean(axis=1).var(ddof=1)) / 3
    assert plain > 0.5 * window.variance  # the naive sum would count it again
    added = with_seed_variance(window, a, b, pred_len).variance - window.variance
    assert added < 0.5 * plain


def _window_losses(errors: np.ndarray, pred_len: int) -> np.ndarray:
    """Per-window MSE of overlapping windows (stride 1), as tsbench scores them."""
    return np.convolve(errors ** 2, np.ones(pred_len) / pred_len, mode="valid")


def test_dm_finds_the_better_model_and_not_identical_ones() -> None:
    """Model A's per-step errors are B's independent twin scaled by 0.7 (half the MSE):
    better by construction; the same losses twice are no difference at all."""
    rng = np.random.default_rng(7)
    pred_len, n = 24, 2000
    a, b = (signal.lfilter([1.0], [1.0, -0.5], rng.standard_normal(n + pred_len - 1))
            for _ in range(2))
    loss_a, loss_b = _window_losses(0.7 * a, pred_len), _window_losses(b, pred_len)
    better = diebold_mariano(loss_a, loss_b, pred_len)
    assert better.p_value < 0.01 and better.mean_diff < 0 and better.statistic < 0
    assert diebold_mariano(loss_b, loss_a, pred_len).statistic == pytest.approx(
        -better.statistic)
    same = diebold_mariano(loss_b, loss_b.copy(), pred_len)
    assert same.p_value == 1.0 and same.statistic == 0.0 and same.mean_diff == 0.0


def test_dm_bandwidth_shrinks_with_the_overlap() -> None:
    assert dm_bandwidth(2785, 96) == 7  # ETTh1-96: 14 degrees of freedom
    # the cube root of a cube, not one less (int(64 ** (1/3)) is 3)
    assert [dm_bandwidth(j ** 3, 1) for j in range(2, 16)] == list(range(2, 16))
    assert dm_bandwidth(63, 1) == 3
    assert dm_bandwidth(2689, 192) == 3
    assert dm_bandwidth(2161, 720) == 1  # three non-overlapping stretches: t(2)
    assert dm_bandwidth(170, 24) == 1  # ILI-24
    with pytest.raises(ValueError, match="equal-length"):
        diebold_mariano(np.ones(5), np.ones(4), 1)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_dm_refuses_losses_that_are_not_finite(bad: float) -> None:
    """A NaN p compares false with alpha: it read as significant, 'better' or 'worse'."""
    loss = np.linspace(1.0, 2.0, 50)
    with pytest.raises(ValueError, match="non-finite values: leave out the runs"):
        diebold_mariano(np.where(np.arange(50) == 7, bad, loss), loss, 1)


def test_holm_on_demsars_example_and_against_statsmodels() -> None:
    adjusted = holm(np.array([0.607, 0.016, 0.019]))
    assert adjusted == pytest.approx([0.607, 3 * 0.016, 3 * 0.016])  # p2: max(2*0.019, 0.048)
    assert list(adjusted < 0.05) == [False, True, True]  # Demšar: rejects the first two
    p = np.random.default_rng(3).uniform(0, 0.2, size=9)
    reject, expected, _, _ = multipletests(p, alpha=0.05, method="holm")
    assert holm(p) == pytest.approx(expected, rel=1e-12)
    assert list(holm(p) < 0.05) == list(reject)


def test_average_ranks_reproduce_table6_ranks() -> None:
    ranks = np.array([stats.rankdata(-row) for row in AUC])  # higher AUC = rank 1
    others = [i for i in range(len(AUC)) if i != VOTING]
    assert ranks[others] == pytest.approx(RANKS[others])
    assert ranks[VOTING] == pytest.approx([4, 1, 2.5, 2.5])  # the printed values tie


def test_friedman_and_nemenyi_on_demsars_table6() -> None:
    """Demšar's χ² = 9.28 and F = 3.69 leave out the tie correction; Table 6 ties in four
    data sets (t = 2, 2, 4, 2: sum of t^3 - t = 78), so the corrected χ² is 9.28 / (1 - 78 /
    (14 * 4 * 15)) = 10.23, scipy's, and F on it 4.19."""
    result = friedman(RANKS)  # the paper's ranks (lower = better), as scores
    ranks = result.average_ranks
    assert np.round(ranks, 3) == pytest.approx([3.143, 2.000, 2.893, 1.964])
    uncorrected = 12 * 14 / (4 * 5) * (np.sum(ranks ** 2) - 4 * 5 ** 2 / 4)
    assert uncorrected == pytest.approx(9.28, abs=0.005)
    assert 13 * uncorrected / (14 * 3 - uncorrected) == pytest.approx(3.69, abs=0.005)
    assert result.chi2 == pytest.approx(uncorrected / (1 - 78 / (14 * 4 * 15)), rel=1e-12)
    assert result.chi2 == pytest.approx(stats.friedmanchisquare(*RANKS.T).statistic, rel=1e-12)
    assert result.f == pytest.approx(13 * result.chi2 / (14 * 3 - result.chi2), rel=1e-12)
    assert result.f == pytest.approx(4.19, abs=0.005)
    assert result.f > stats.f.ppf(0.95, 3, 39) == pytest.approx(2.85, abs=0.005)
    assert result.p_f < 0.05 and (result.n_blocks, result.k) == (14, 4)
    table5a = {0.05: [1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164],
               0.10: [1.645, 2.052, 2.291, 2.459, 2.589, 2.693, 2.780, 2.855, 2.920]}
    for alpha, row in table5a.items():  # printed to 3 decimals, some cut (2.343 for 2.3437)
        assert [nemenyi_q(k, alpha) for k in range(2, 11)] == pytest.approx(row, abs=1e-3)
    assert nemenyi_cd(4, 14, 0.05) == pytest.approx(1.25, abs=0.005)
    assert nemenyi_cd(4, 14, 0.10) == pytest.approx(1.12, abs=0.005)
    # Rank order: C4.5+m+cf 1.964, C4.5+m 2.000, C4.5+cf 2.893, C4.5 3.143.
    assert cliques(result.average_ranks, nemenyi_cd(4, 14, 0.05)) == [(0, 3)]  # no difference
    assert cliques(result.average_ranks, nemenyi_cd(4, 14, 0.10)) == [(0, 2), (2, 3)]


def test_friedman_matches_scipy_without_ties() -> None:
    scores = np.random.default_rng(5).normal(size=(9, 5))
    result = friedman(scores)
    chi2, p = stats.friedmanchisquare(*scores.T)
    assert result.chi2 == pytest.approx(chi2, rel=1e-12)
    assert result.p_chi2 == pytest.approx(p, rel=1e-12)
    assert result.average_ranks.sum() == pytest.approx(5 * 6 / 2)


@pytest.mark.parametrize("scores", [
    np.random.default_rng(6).integers(0, 3, (12, 6)).astype(float),  # past Demšar's rule
    np.random.default_rng(7).integers(0, 4, (5, 4)).astype(float),  # short of it
    np.array([[1.0, 1.0, 2.0], [1.0, 2.0, 2.0], [3.0, 1.0, 2.0], [5.0, 5.0, 5.0]]),
])
def test_friedman_is_tie_corrected_as_scipys(scores: np.ndarray) -> None:
    """Models that tie in a block share the mean of their ranks, which narrows the ranks'
    spread: χ² is divided by 1 - sum(t^3 - t) / (N k (k^2 - 1)), as scipy's
    friedmanchisquare does, and Iman-Davenport's F is taken on it; a block that ties every
    model (the last table's last) counts as one that ranks nothing."""
    n, k = scores.shape
    result = friedman(scores)
    chi2, p = stats.friedmanchisquare(*scores.T)
    assert result.chi2 == pytest.approx(chi2, rel=1e-12)
    assert result.p_chi2 == pytest.approx(p, rel=1e-12)
    assert result.f == pytest.approx((n - 1) * chi2 / (n * (k - 1) - chi2), rel=1e-12)
    assert result.p_f == pytest.approx(stats.f.sf(result.f, k - 1, (k - 1) * (n - 1)),
                                       rel=1e-12)
    ties = sum(t ** 3 - t for row in scores for t in np.unique(row, return_counts=True)[1])
    uncorrected = 12 * n / (k * (k + 1)) * (np.sum(result.average_ranks ** 2)
                                           - k * (k + 1) ** 2 / 4)
    assert ties > 0 and result.chi2 == pytest.approx(
        uncorrected / (1 - ties / (n * k * (k * k - 1))), rel=1e-12)


def test_every_block_tying_every_model_ranks_nothing() -> None:
    """No spread of ranks at all: χ² 0 (p 1), not 0 / 0."""
    result = friedman(np.full((3, 4), 0.5))
    assert (result.chi2, result.p_chi2, result.f, result.p_f) == (0.0, 1.0, 0.0, 1.0)
    assert result.p_exact == 1.0


def _corrected_share(scores: np.ndarray) -> float:
    """P(scipy's tie-corrected χ² >= the observed) over every combination of every block's
    orders, its ties kept, one by one."""
    ranks = stats.rankdata(scores, axis=1)
    observed = stats.friedmanchisquare(*ranks.T).statistic
    chi2 = [stats.friedmanchisquare(*np.array(orders).T).statistic
            for orders in itertools.product(*(list(itertools.permutations(row))
                                              for row in ranks))]
    return float(np.mean(np.array(chi2) >= observed - 1e-9))


def test_the_exact_p_with_ties_is_that_of_the_corrected_statistic() -> None:
    """The exact p permutes each block's ranks with its ties kept, so the correction's
    denominator is the same in every order: the share of orders whose corrected χ² reaches
    the observed one, listed outright, is the p."""
    scores = np.array([[1.0, 1.0, 2.0], [2.0, 1.0, 3.0], [1.0, 3.0, 3.0], [1.0, 2.0, 3.0]])
    assert friedman(scores).p_exact == pytest.approx(_corrected_share(scores), abs=1e-12)


def test_iman_davenport_is_undefined_where_every_block_ranks_alike() -> None:
    """Its denominator N(k-1) - χ² is 0: no F, no p; the exact p decides below Demšar's
    rule of thumb (here 1/6: the second block repeats the first's order), Friedman's above."""
    alike = friedman(np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]))
    assert alike.chi2 == pytest.approx(4.0) and alike.p_chi2 == pytest.approx(math.exp(-2))
    assert alike.f is None and alike.p_f is None
    assert alike.p_value == alike.p_exact == pytest.approx(1 / 6)
    many = friedman(np.tile(np.arange(6.0), (11, 1)))  # N = 11 > 10, k = 6 > 5
    assert many.f is None and many.p_exact is None and many.p_value == many.p_chi2
    differ = friedman(np.random.default_rng(1).normal(size=(12, 6)))
    assert differ.f is not None and differ.p_exact is None and differ.p_value == differ.p_f


def _enumerated(scores: np.ndarray) -> float:
    """P(χ² >= the observed) over every combination of every block's orders, one by one."""
    ranks = stats.rankdata(scores, axis=1)
    observed = np.sum(ranks.sum(axis=0) ** 2)
    sums = [np.sum(np.sum(orders, axis=0) ** 2) for orders in itertools.product(
        *(list(itertools.permutations(row)) for row in ranks))]
    return float(np.mean(np.array(sums) >= observed - 1e-9))


def test_friedman_p_is_exact_in_small_samples() -> None:
    """Below N > 10 and k > 5 the p is the share of the (k!)^N rank tables, every order of
    each block equally likely, whose χ² is at least the observed one: against that
    enumeration (ties included: they keep their midranks) and against the exact tables
    (Siegel 1956, Table N; Friedman 1937): k = 3, N = 3: χ² = 6 has p = 0.028; N = 4:
    χ² = 6.0, 6.5 and 8.0 have p = 0.069, 0.042 and 0.0046. Two blocks of four ranked
    alike are p = 1/24 = 0.042, where chi-square says 0.11."""
    rng = np.random.default_rng(4)
    for n, k in [(2, 3), (3, 3), (4, 3), (2, 4), (3, 4), (2, 5)]:
        for scores in (rng.normal(size=(n, k)), rng.integers(0, 3, (n, k)).astype(float)):
            result = friedman(scores)
            assert not approximations_hold(n, k) and result.draws == 0
            assert result.p_value == result.p_exact == pytest.approx(_enumerated(scores),
                                                                     abs=1e-12)
    order, swap = [1.0, 2.0, 3.0], [2.0, 1.0, 3.0]
    siegel = [([order] * 3, 6.0, 0.028, 3), ([order, swap] * 2, 6.0, 0.069, 3),
              ([order] * 3 + [swap], 6.5, 0.042, 3), ([order] * 4, 8.0, 0.0046, 4)]
    for blocks, chi2, p, printed in siegel:
        result = friedman(np.array(blocks))
        assert result.chi2 == pytest.approx(chi2)
        assert round(result.p_exact, printed) == p
    two = friedman(np.array([[1.0, 2.0, 3.0, 4.0]] * 2))
    assert two.p_chi2 == pytest.approx(0.1116, abs=1e-4) and two.p_value == pytest.approx(1 / 24)


def test_friedman_p_is_monte_carlo_where_enumerating_is_too_long(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the enumeration's limit the p comes from seeded random orders of each block's
    ranks, (1 + hits) / (1 + draws): the same every time, and near the exact p."""
    scores = np.random.default_rng(8).normal(size=(5, 4))
    exact = friedman(scores)
    monkeypatch.setattr(report_stats, "EXACT_LIMIT", 0)
    drawn = friedman(scores)
    assert drawn.draws == report_stats.DRAWS and exact.draws == 0
    spread = math.sqrt(exact.p_exact * (1 - exact.p_exact) / drawn.draws)
    assert abs(drawn.p_exact - exact.p_exact) < 4 * spread
    assert friedman(scores).p_exact == drawn.p_exact
    alike = friedman(np.array([[1.0, 2.0, 3.0, 4.0]] * 5))  # exactly 24^-4
    assert alike.p_exact == 1 / (1 + drawn.draws)
    big = friedman(np.random.default_rng(9).normal(size=(4, 10)))  # 10! orders a block
    assert big.draws == report_stats.DRAWS and 0 < big.p_exact <= 1


def _brute_force_cd(scores: np.ndarray, alpha: float) -> float:
    """The exact critical difference by listing every combination of each row's orders."""
    ranks = stats.rankdata(scores, axis=1)
    orders = [list(itertools.permutations(row)) for row in ranks]
    gaps = np.array([np.ptp(np.sum(combo, axis=0)) / len(ranks)
                     for combo in itertools.product(*orders)])
    for gap in np.unique(gaps):
        if np.mean(gaps >= gap - 1e-9) <= alpha:
            return float(gap)
    return math.inf


@pytest.mark.parametrize("scores", [
    np.tile(np.arange(3.0), (3, 1)),
    np.array([[1.0, 2.0, 2.0, 4.0], [3.0, 1.0, 2.0, 4.0], [1.0, 1.0, 3.0, 2.0]]),  # ties
    np.random.default_rng(3).normal(size=(5, 3)),
    np.tile(np.arange(4.0), (2, 1)),  # no gap is rare enough: the widest has p = 1/12
])
def test_exact_critical_difference_is_the_permutation_quantile_of_the_widest_gap(
        scores: np.ndarray) -> None:
    """Every order of each table's ranks listed outright agrees with the row-by-row count."""
    for alpha in (0.05, 0.10):
        assert exact_cd(scores, alpha) == (pytest.approx(_brute_force_cd(scores, alpha)), 0)


def test_the_exact_critical_difference_replaces_nemenyis_below_demsars_rule(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """7 tables of 3 models: Nemenyi's 1.25 would split rank sums 11, 11 and 20 (gaps of
    9/7 = 1.29, which arise by chance with p = 0.052); the exact one is 1.43. Above the
    rule of thumb Nemenyi's stands; past the enumeration's limit seeded random orders
    give the same value here."""
    seven = np.array([[3, 1, 2], [1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3], [2, 1, 3],
                      [2, 1, 3]], dtype=np.float64)
    assert nemenyi_cd(3, 7) == pytest.approx(1.2528, abs=1e-4)
    assert critical_difference(seven) == (pytest.approx(10 / 7), 0)
    assert cliques(friedman(seven).average_ranks, 10 / 7) == [(0, 2)]
    many = np.random.default_rng(4).normal(size=(11, 6))
    assert critical_difference(many, 0.1) == (nemenyi_cd(6, 11, 0.1), None)
    monkeypatch.setattr(report_stats, "EXACT_LIMIT", 0)
    assert critical_difference(seven) == (pytest.approx(10 / 7), report_stats.DRAWS)
