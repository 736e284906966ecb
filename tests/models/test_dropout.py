"""The fast CPU dropout: keep rate, scaling, gradients, eval identity, reproducibility."""

import numpy as np
import pytest
import torch

from tsbench.models.layers.dropout import MIN_CHUNK, Dropout, dropout, random_bits

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
    assert np.array_equal(serial, np.random.PCG64(7).random_raw(count))


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
