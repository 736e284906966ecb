"""The fast CPU dropout: keep rate, scaling, gradients, eval identity, reproducibility."""

import numpy as np
import pytest
import torch

from tsbench.models.layers.dropout import (
    MIN_CHUNK,
    Dropout,
    PassMasks,
    add_dropout,
    dropout,
    dropout_noise,
    extra_drops,
    keep_mask,
    random_bits,
    stream,
)

N = 1_000_000  # large enough for the parallel fill (more than 2 * MIN_CHUNK draws)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_keep_rate_and_scaling(p: float) -> None:
    torch.manual_seed(0)
    out = dropout(torch.ones(N), p)
    kept = out != 0
    # Binomial(N, 1 - p): 6 standard deviations is far outside chance.
    tolerance = 6 * (p * (1 - p) / N) ** 0.5
    assert abs(kept.float().mean().item() - (1 - p)) < tolerance
    torch.testing.assert_close(out[kept], torch.full_like(out[kept], 1 / (1 - p)))
    assert abs(out.mean().item() - 1.0) < tolerance / (1 - p)  # unbiased in expectation


def test_masks_are_uniform_over_the_tensor() -> None:
    """Each chunk of the parallel fill keeps the same share (no repeated or stuck chunks)."""
    torch.manual_seed(1)
    kept = (dropout(torch.ones(N), 0.3) != 0).float().view(8, -1).mean(dim=1)
    assert torch.all((kept - 0.7).abs() < 6 * (0.21 / (N / 8)) ** 0.5)


def test_gradient_is_mask_times_scale() -> None:
    torch.manual_seed(2)
    x = torch.randn(64, 33, 17, requires_grad=True)
    out = dropout(x, 0.3)
    grad = torch.randn_like(out)
    out.backward(grad)
    mask = (out != 0).float()
    torch.testing.assert_close(x.grad, grad * mask / 0.7)
    torch.testing.assert_close(out, x.detach() * mask / 0.7)


def test_residual_dropout_keeps_the_residual_and_drops_the_branch() -> None:
    """``residual + dropout(x)`` fused: the same mask law, gradient 1 to the residual and
    mask / (1 - p) to the branch; eval and p = 0 add plainly."""
    torch.manual_seed(5)
    residual = torch.randn(N, requires_grad=True)
    x = torch.ones(N, requires_grad=True)
    out = add_dropout(residual, x, 0.3)
    noise = (out - residual).detach()
    kept = noise != 0
    assert abs(kept.float().mean().item() - 0.7) < 6 * (0.21 / N) ** 0.5
    torch.testing.assert_close(noise[kept], torch.full_like(noise[kept], 1 / 0.7))
    grad = torch.randn(N)
    out.backward(grad)
    torch.testing.assert_close(residual.grad, grad)
    torch.testing.assert_close(x.grad, grad * noise)
    layer = Dropout(0.3).eval()
    a, b = torch.randn(8), torch.randn(8)
    assert torch.equal(layer.residual(a, b), a + b)
    assert torch.equal(add_dropout(a, b, 0.0), a + b)


def test_eval_mode_and_p_zero_are_identity() -> None:
    x = torch.randn(32, 16)
    layer = Dropout(0.3).eval()
    assert layer(x) is x
    assert dropout(x, 0.0, training=True) is x
    assert dropout(x, 0.3, training=False) is x
    assert torch.equal(dropout(x, 1.0), torch.zeros_like(x))


def test_same_seed_same_mask_whatever_the_threads() -> None:
    torch.manual_seed(3)
    first = dropout(torch.ones(N), 0.3)
    torch.manual_seed(3)
    again = dropout(torch.ones(N), 0.3)
    assert torch.equal(first, again)
    assert not torch.equal(first, dropout(torch.ones(N), 0.3))
    count = 5 * MIN_CHUNK + 3
    serial = random_bits(count, 7, workers=1)
    assert np.array_equal(serial, random_bits(count, 7, workers=4))
    assert np.array_equal(serial, stream(7).random_raw(count))
    assert np.array_equal(stream(7, 5).random_raw(3), serial[5:8])


def test_nearby_seeds_give_uniform_unrelated_bytes() -> None:
    """Seeds 0, 1, 2, ... (hashed into PCG64 states) start uniform, unrelated streams."""
    first = np.stack([random_bits(4, seed, 1) for seed in range(4096)]).view(np.uint8)
    counts = np.bincount(first.ravel(), minlength=256)
    expected = first.size / 256
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 255 + 6 * (2 * 255) ** 0.5  # chi-square, 255 dof: mean 255, sd 22.6
    a, b = (random_bits(N // 8, seed, 1).view(np.uint8) >= 128 for seed in (10, 11))
    assert abs(np.corrcoef(a, b)[0, 1]) < 6 / N**0.5


def test_extra_drops_are_bernoulli_positions() -> None:
    """Geometric skips give increasing positions, each element hit with probability q."""
    n, q = 1 << 22, 0.003
    positions = extra_drops(n, q, np.random.Generator(np.random.PCG64(11)))
    assert positions.dtype == np.int64 and np.all(np.diff(positions) > 0)
    assert positions[0] >= 0 and positions[-1] < n
    assert abs(positions.size / n - q) < 6 * (q * (1 - q) / n) ** 0.5
    halves = np.bincount(positions * 2 // n, minlength=2) / (n / 2)  # no clumping at one end
    assert np.all(np.abs(halves - q) < 6 * (q / (n / 2)) ** 0.5)
    assert extra_drops(n, 0.0, np.random.Generator(np.random.PCG64(11))).size == 0


@pytest.mark.parametrize("p", [25.99 / 256, 0.1, 0.3, 0.5, 255.5 / 256])
def test_keep_rate_between_byte_steps(p: float) -> None:
    """A byte alone would drop floor(256 p) / 256 (up to 0.0039 short of p): the extra
    drops make up the rest, so the keep rate is 1 - p."""
    n = 1 << 22  # 4 chunks of MIN_CHUNK words: the fill and the extra drops span threads
    keep = keep_mask(n, p, 9, 4)
    assert abs(keep.mean() - (1 - p)) < 6 * (p * (1 - p) / n) ** 0.5
    raw = random_bits((n + 7) // 8, 9, 1).view(np.uint8)[:n]
    assert not keep[raw < int(p * 256)].any()  # low bytes always drop
    assert np.array_equal(keep, keep_mask(n, p, 9, 1))  # the same mask on one thread


def _pass(masks: PassMasks, shapes: list[tuple[int, ...]], p: float) -> list[torch.Tensor]:
    with masks.drawing():
        return [dropout_noise(torch.empty(shape), p) for shape in shapes]


def test_pass_masks_draw_each_pass_together_disjoint_and_reproducibly() -> None:
    shapes, p = [(500, 64), (200,), (30, 40)], 0.3
    torch.manual_seed(5)
    masks = PassMasks()
    passes = [_pass(masks, shapes, p) for _ in range(4)]
    first, later = passes[0], passes[1:]
    # The first pass draws per mask; later ones slice one draw sized by the previous pass.
    assert len({m.untyped_storage().data_ptr() for m in first}) == 3
    for masks_of_pass in later:
        assert len({m.untyped_storage().data_ptr() for m in masks_of_pass}) == 1
    kept = torch.cat([m.flatten() for one in later for m in one]) != 0
    n = kept.numel()
    assert abs(kept.float().mean().item() - (1 - p)) < 6 * (p * (1 - p) / n) ** 0.5
    for one in passes:  # every mask holds only 0 and 1 / (1 - p)
        for mask in one:
            assert torch.all((mask == 0) | (mask == torch.tensor(1 / (1 - p))))
    # Slices of one draw do not repeat each other, nor do passes.
    a, b = later[0][0].flatten()[:200] != 0, later[0][1] != 0
    assert not torch.equal(a, b) and not torch.equal(later[0][0], later[1][0])
    torch.manual_seed(5)
    again = PassMasks()
    assert all(torch.equal(x, y) for one, two in zip(passes, [_pass(again, shapes, p)
               for _ in range(4)], strict=True) for x, y in zip(one, two, strict=True))


def test_pass_masks_serve_larger_requests_and_other_rates_on_their_own() -> None:
    torch.manual_seed(6)
    masks = PassMasks()
    _pass(masks, [(1000,)], 0.3)
    big, other = _pass(masks, [(5000,)], 0.3)[0], _pass(masks, [(1000,)], 0.5)[0]
    kept_value = torch.tensor(1 / 0.7).item()  # 1 / (1 - p) in float32
    assert big.shape == (5000,) and set(big.unique().tolist()) <= {0.0, kept_value}
    assert set(other.unique().tolist()) <= {0.0, 2.0}
    x = torch.randn(50, 20, requires_grad=True)  # gradient through a sliced mask
    with masks.drawing():
        out = dropout(x, 0.5)
    out.sum().backward()
    torch.testing.assert_close(x.grad, (out != 0).float() * 2)
    plain = dropout_noise(torch.empty(100), 0.5)  # outside a pass: its own draw again
    assert plain.untyped_storage().nbytes() == 100 * 4


def test_pass_masks_draw_per_mask_beyond_their_limit() -> None:
    torch.manual_seed(7)
    masks = PassMasks(max_elements=1000)
    shapes = [(400,), (500,)]
    _pass(masks, shapes, 0.3)
    assert len({m.untyped_storage().data_ptr() for m in _pass(masks, shapes, 0.3)}) == 1
    shapes = [(400,), (700,)]  # 1100 elements a pass
    _pass(masks, shapes, 0.3)
    assert len({m.untyped_storage().data_ptr() for m in _pass(masks, shapes, 0.3)}) == 2


def test_dtypes_shapes_and_strides() -> None:
    torch.manual_seed(4)
    x = torch.randn(40, 30, dtype=torch.float64).t()  # non-contiguous
    out = dropout(x, 0.5)
    assert out.dtype == torch.float64 and out.shape == x.shape
    kept = out != 0
    torch.testing.assert_close(out[kept], x[kept] * 2)
    assert dropout(torch.randn(7, dtype=torch.bfloat16), 0.5).dtype == torch.bfloat16


def test_module_checks_p() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        Dropout(1.5)
    assert "p=0.3" in repr(Dropout(0.3))
