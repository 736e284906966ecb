"""The fast CPU dropout's masks are random, not just right on average: masks drawn by the
parallel fill (several threads, several chunks of the random stream) at the presets' rates
pass independence tests, and a mask that repeats itself fails them.

Every bound is many standard deviations wide under independence, so a correct mask fails
with a probability below 1e-6 (the seeds are fixed as well, so a run cannot be flaky)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft
import torch

from tsbench.models.layers.dropout import MIN_CHUNK, dropout, random_bits

#: Mask elements: 2 ** 19 draws of 64 bits (8 elements each), 4 chunks of MIN_CHUNK draws.
N = 1 << 22
THREADS = 4
#: Lags of the autocorrelation checked: every mask period up to this length is caught.
MAX_LAG = 8192
#: Standard deviations allowed for the normal approximations.
SIGMAS = 7.0
#: Dropout rates of the presets (iTransformer 0.1, PatchTST 0.3, the PatchTST paper's 0.2)
#: and 0.5, where a byte alone decides.
RATES = [0.1, 0.2, 0.3, 0.5]


def chunk_bounds(n: int, workers: int) -> list[int]:
    """Element borders of the parallel fill's chunks (its word borders, 8 elements a word)."""
    words = (n + 7) // 8
    chunks = max(1, min(workers, words // MIN_CHUNK))
    return [8 * (words * i // chunks) for i in range(chunks + 1)]


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelation of ``x`` at lags 1..max_lag (by FFT, zero-padded so that
    the lags do not wrap around; float32 keeps its error far below the bounds used)."""
    centered = (x - x.mean()).astype(np.float32)
    size = scipy.fft.next_fast_len(len(x) + max_lag, real=True)
    spectrum = scipy.fft.rfft(centered, size)
    acov = scipy.fft.irfft(spectrum * np.conj(spectrum), size)[: max_lag + 1]
    return acov[1:] / acov[0]


def run_lengths(keep: np.ndarray, value: bool) -> np.ndarray:
    """Lengths of the maximal runs of ``value`` that lie wholly inside the mask."""
    edges = np.flatnonzero(np.diff(keep.astype(np.int8)))
    lengths = np.diff(edges)  # runs between two changes, alternating values
    values = keep[edges[:-1] + 1]
    return lengths[values == value]


def geometric_chi2(lengths: np.ndarray, stop: float) -> tuple[float, int]:
    """Chi-square of run lengths against P(L = k) = stop (1 - stop)^(k - 1), bins with at
    least 50 expected runs, the rest pooled; returns (statistic, degrees of freedom)."""
    total = lengths.size
    expected, observed, k = [], [], 1
    while total * stop * (1 - stop) ** (k - 1) >= 50:
        expected.append(total * stop * (1 - stop) ** (k - 1))
        observed.append(np.count_nonzero(lengths == k))
        k += 1
    expected.append(total - sum(expected))
    observed.append(np.count_nonzero(lengths >= k))
    e, o = np.array(expected), np.array(observed)
    return float(((o - e) ** 2 / e).sum()), len(e) - 1


def randomness_failures(keep: np.ndarray, p: float, bounds: list[int]) -> list[str]:
    """The independence checks a mask fails (empty when it looks like fair coin flips)."""
    n, failures = keep.size, []
    rate = keep.mean()
    if abs(rate - (1 - p)) > SIGMAS * (p * (1 - p) / n) ** 0.5:
        failures.append(f"keep rate {rate:.5f}, expected {1 - p}")
    acf = autocorrelation(keep, MAX_LAG)
    worst = int(np.argmax(np.abs(acf)))
    if abs(acf[worst]) > SIGMAS / n**0.5:
        failures.append(f"autocorrelation {acf[worst]:.4f} at lag {worst + 1}")
    chunks = [keep[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    for i in range(len(chunks)):
        for j in range(i + 1, len(chunks)):
            size = min(chunks[i].size, chunks[j].size)
            corr = np.corrcoef(chunks[i][:size], chunks[j][:size])[0, 1]
            if abs(corr) > SIGMAS / size**0.5:
                failures.append(f"chunks {i} and {j} correlate: {corr:.4f}")
    for value, stop in ((True, p), (False, 1 - p)):  # a kept run ends with a drop
        chi2, dof = geometric_chi2(run_lengths(keep, value), stop)
        if chi2 > dof + SIGMAS * (2 * dof) ** 0.5 + 10:
            failures.append(f"runs of {'kept' if value else 'dropped'}: chi2 {chi2:.0f}, "
                            f"{dof} dof")
    return failures


def parallel_mask(p: float, seed: int) -> np.ndarray:
    """A mask drawn as training draws it (``dropout`` on the CPU), with THREADS threads."""
    threads = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        torch.manual_seed(seed)
        return (dropout(torch.ones(N), p) != 0).numpy()
    finally:
        torch.set_num_threads(threads)


def test_the_masks_use_the_parallel_fill() -> None:
    assert len(chunk_bounds(N, THREADS)) - 1 == THREADS  # four chunks, one per thread


@pytest.mark.parametrize("p", RATES)
def test_parallel_masks_are_independent_coin_flips(p: float) -> None:
    keep = parallel_mask(p, seed=int(p * 1000))
    assert randomness_failures(keep, p, chunk_bounds(N, THREADS)) == []


def test_the_checks_catch_repeating_masks() -> None:
    """Masks with the right keep rate that repeat themselves fail the checks: one with a
    period of 3001 elements, and one whose second chunk repeats its first (as if two
    threads filled from the same place in the stream)."""
    p, bounds = 0.3, chunk_bounds(N, THREADS)
    keep = parallel_mask(p, seed=1)
    periodic = np.resize(keep[:3001], N)
    assert any("autocorrelation" in f for f in randomness_failures(periodic, p, bounds))
    copied = keep.copy()
    copied[bounds[1]:bounds[2]] = keep[: bounds[2] - bounds[1]]
    assert any("chunks 0 and 1" in f for f in randomness_failures(copied, p, bounds))
    assert randomness_failures(keep, p, bounds) == []


def test_the_parallel_stream_never_repeats_a_draw() -> None:
    """The 64-bit draws of the threads' chunks are all distinct: 2 ** 19 fair draws repeat
    one with a probability near 2 ** 37 / 2 ** 64 (no chunk re-reads another's part of the
    stream), and a stream that does repeat is caught."""
    count = N // 8
    bits = random_bits(count, seed=12345, workers=THREADS)
    assert np.unique(bits).size == count
    assert np.unique(np.resize(bits[:4096], count)).size < count
