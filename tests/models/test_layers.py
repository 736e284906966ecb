"""RevIN, attention, and the PatchTST / iTransformer shapes and config checks."""

from typing import Any

import pytest
import torch
import torch.nn.functional as F

from tsbench.errors import ConfigError
from tsbench.models.dlinear import MovingAverage
from tsbench.models.itransformer import ITransformer
from tsbench.models.layers.attention import Attention, MultiHeadAttention
from tsbench.models.layers.dropout import dropout_noise
from tsbench.models.layers.revin import RevIN
from tsbench.models.patchtst import PatchTST


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def series(batch: int = 4, length: int = 48, n_vars: int = 3) -> torch.Tensor:
    return torch.randn(batch, length, n_vars) * 5 + 10


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("subtract_last", [False, True])
def test_revin_round_trip(affine: bool, subtract_last: bool) -> None:
    revin = RevIN(3, affine=affine, subtract_last=subtract_last)
    if affine:
        with torch.no_grad():
            revin.weight.uniform_(0.5, 2.0)
            revin.bias.normal_()
    x = series()
    torch.testing.assert_close(revin.denormalize(revin.normalize(x)), x, rtol=1e-4, atol=1e-4)


def test_revin_normalizes_per_instance() -> None:
    x = series()
    z = RevIN(3).normalize(x)
    torch.testing.assert_close(z.mean(dim=1), torch.zeros(4, 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(z.std(dim=1, unbiased=False), torch.ones(4, 3), atol=1e-4, rtol=0)


@pytest.mark.parametrize("subtract_last", [False, True])
def test_revin_statistics_are_the_biased_variance(subtract_last: bool) -> None:
    """The official RevIN scale: sqrt(torch.var(unbiased=False) + eps), centre or not."""
    x = series(8, 336, 7)
    revin = RevIN(7, subtract_last=subtract_last)
    revin.normalize(x)
    expected = torch.sqrt(x.var(dim=1, keepdim=True, unbiased=False) + revin.eps)
    torch.testing.assert_close(revin._scale, expected)


def test_revin_subtract_last_centres_on_last_value() -> None:
    z = RevIN(3, subtract_last=True).normalize(series())
    torch.testing.assert_close(z[:, -1], torch.zeros(4, 3))


def test_revin_affine_parameters() -> None:
    assert sum(p.numel() for p in RevIN(3).parameters()) == 0
    revin = RevIN(3, affine=True)
    assert sum(p.numel() for p in revin.parameters()) == 6
    x = series()
    plain = RevIN(3).normalize(x)
    with torch.no_grad():
        revin.weight.fill_(2.0)
        revin.bias.fill_(1.0)
    torch.testing.assert_close(revin.normalize(x), plain * 2 + 1)


def test_revin_constant_series_finite() -> None:
    revin = RevIN(2, affine=True)
    x = torch.full((2, 16, 2), 7.0)
    z = revin.normalize(x)
    assert torch.isfinite(z).all()
    torch.testing.assert_close(revin.denormalize(z), x)


def reference_attention(
    attn: MultiHeadAttention, x: torch.Tensor, prev: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Explicit multi-head attention with separate q/k/v projections, as the official code."""
    batch, tokens, d_model = x.shape
    heads, dim = attn.n_heads, d_model // attn.n_heads
    w_q, w_k, w_v = attn.qkv.weight.split(d_model)
    b_q, b_k, b_v = attn.qkv.bias.split(d_model)

    def split(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return F.linear(x, w, b).view(batch, tokens, heads, dim).transpose(1, 2)

    q, k, v = split(w_q, b_q), split(w_k, b_k), split(w_v, b_v)
    scores = q @ k.transpose(-2, -1) / dim**0.5
    if prev is not None:
        scores = scores + prev
    out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, tokens, d_model)
    return attn.out(out), scores


def test_attention_sdpa_matches_reference() -> None:
    attn = MultiHeadAttention(32, 4, attn_dropout=0.5, proj_dropout=0.5).eval()
    x = torch.randn(3, 10, 32)
    out, scores = attn(x)
    assert scores is None
    torch.testing.assert_close(out, reference_attention(attn, x, None)[0])


def test_residual_attention_matches_reference() -> None:
    attn = MultiHeadAttention(32, 4, res_attention=True).eval()
    x, prev = torch.randn(3, 10, 32), torch.randn(3, 4, 10, 10)
    out, scores = attn(x, prev)
    ref_out, ref_scores = reference_attention(attn, x, prev)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(scores, ref_scores)
    # With no previous scores both paths compute the same attention.
    plain = MultiHeadAttention(32, 4).eval()
    plain.load_state_dict(attn.state_dict())
    torch.testing.assert_close(attn(x)[0], plain(x)[0])


def composed_attention(qkv: torch.Tensor, prev: torch.Tensor | None, scale: float,
                       queries: int, noise: torch.Tensor | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """The attention core in plain autograd ops."""
    q, k, v = qkv[0, :, :queries], qkv[1], qkv[2]
    scores = torch.bmm(q, k.mT) * scale
    if prev is not None:
        scores = scores + prev
    weights = torch.softmax(scores, dim=-1)
    return torch.bmm(weights if noise is None else weights * noise, v), scores


# Narrow (< 16 keys) and wide softmax; fewer dims than tokens and not; fewer queries.
@pytest.mark.parametrize(("tokens", "dim", "queries"), [(5, 2, 5), (20, 2, 20), (3, 6, 3),
                                                         (6, 3, 4)])
@pytest.mark.parametrize("with_prev", [False, True])
def test_attention_core_gradients(with_prev: bool, tokens: int, dim: int, queries: int) -> None:
    """The hand-written backward of the attention core matches finite differences, whether
    the next layer uses the scores, the output, or both; the forward the composed ops."""
    qkv = torch.randn(3, 3, tokens, dim, dtype=torch.float64, requires_grad=True)
    prev = (torch.randn(3, queries, tokens, dtype=torch.float64, requires_grad=True)
            if with_prev else None)
    inputs = (qkv, prev) if with_prev else (qkv,)

    def core(*args: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return Attention.apply(args[0], args[1] if with_prev else None, 0.7, 0.0, queries)

    for got, want in zip(core(*inputs), composed_attention(qkv, prev, 0.7, queries),
                         strict=True):
        torch.testing.assert_close(got, want)
    assert torch.autograd.gradcheck(core, inputs)
    assert torch.autograd.gradcheck(lambda *args: core(*args)[0], inputs)
    assert torch.autograd.gradcheck(lambda *args: core(*args)[1], inputs)


def test_attention_core_dropout_gradient() -> None:
    """With dropout on the weights, the gradients are those of the composed ops with the
    same mask (drawn from the same seed)."""
    qkv = torch.randn(3, 4, 6, 3, dtype=torch.float64, requires_grad=True)
    torch.manual_seed(5)
    out, _ = Attention.apply(qkv, None, 0.5, 0.5, 6)
    grad = torch.randn_like(out)
    (fast,) = torch.autograd.grad(out, qkv, grad)
    torch.manual_seed(5)
    weights = torch.softmax(torch.bmm(qkv[0], qkv[1].mT) * 0.5, dim=-1)
    noise = dropout_noise(weights.detach(), 0.5)
    reference = composed_attention(qkv, None, 0.5, 6, noise)[0]
    torch.testing.assert_close(out, reference)
    torch.testing.assert_close(fast, torch.autograd.grad(reference, qkv, grad)[0])


def test_residual_attention_with_attention_dropout() -> None:
    attn = MultiHeadAttention(32, 4, attn_dropout=0.5, res_attention=True)
    x, prev = torch.randn(3, 10, 32, requires_grad=True), torch.randn(3, 4, 10, 10)
    out, scores = attn(x, prev)
    (out.sum() + scores.sum()).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    attn.eval()
    ref_out = reference_attention(attn, x.detach(), prev)[0]
    torch.testing.assert_close(attn(x.detach(), prev)[0], ref_out)


@pytest.mark.parametrize("res_attention", [False, True])
def test_composed_path_matches_attention_core(
    res_attention: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The composed ops (torch.compile, autocast, GPUs) compute what the CPU core does."""
    attn = MultiHeadAttention(32, 4, res_attention=res_attention).eval()
    x, prev = torch.randn(3, 10, 32), torch.randn(3, 4, 10, 10)
    fast = attn(x, prev if res_attention else None)
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    composed = attn(x, prev if res_attention else None)
    torch.testing.assert_close(composed[0], fast[0])
    if res_attention:
        torch.testing.assert_close(composed[1], fast[1])


PATCHTST_BAD = [
    ({"patch_len": 64}, "model.patch_len"),
    ({"stride": 0}, "model.stride"),
    ({"d_model": 18, "n_heads": 4}, "model.d_model"),
    ({"n_heads": 0}, "model.n_heads"),
    ({"dropout": 1.0}, "model.dropout"),
    ({"attn_dropout": -0.1}, "model.attn_dropout"),
    ({"head_dropout": 1.5}, "model.head_dropout"),
    ({"norm": "group"}, "model.norm"),
]


@pytest.mark.parametrize(("override", "field"), PATCHTST_BAD)
def test_patchtst_config_errors(override: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        PatchTST(seq_len=48, pred_len=12, n_vars=3, **override)
    assert info.value.field == field
    assert field in str(info.value)


ITRANSFORMER_BAD = [
    ({"d_model": 30, "n_heads": 8}, "model.d_model"),
    ({"dropout": 1.0}, "model.dropout"),
    ({"activation": "tanh"}, "model.activation"),
]


@pytest.mark.parametrize(("override", "field"), ITRANSFORMER_BAD)
def test_itransformer_config_errors(override: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        ITransformer(seq_len=48, pred_len=12, n_vars=3, n_marks=4, **override)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("seq_len", "pred_len", "n_vars", "patch_len", "stride"),
    [(48, 12, 3, 16, 8), (50, 7, 1, 10, 3), (16, 24, 2, 16, 4), (33, 5, 4, 1, 1)],
)
def test_patchtst_shapes(
    seq_len: int, pred_len: int, n_vars: int, patch_len: int, stride: int
) -> None:
    model = PatchTST(seq_len, pred_len, n_vars, patch_len=patch_len, stride=stride, d_model=8)
    assert model.patch_num == (seq_len - patch_len) // stride + 2
    out = model(series(2, seq_len, n_vars))
    assert out.shape == (2, pred_len, n_vars)
    out.mean().backward()


def test_patchtst_patches_the_look_back_and_its_last_value_repeated() -> None:
    seq_len, patch_len, stride = 20, 8, 4
    model = PatchTST(seq_len, 4, 2, patch_len=patch_len, stride=stride, d_model=8, revin=False)
    seen: list[torch.Tensor] = []
    model.embed.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    x = torch.stack([torch.arange(seq_len, dtype=torch.float32)] * 2, dim=1)[None]
    model(x + torch.tensor([0.0, 100.0]))  # (1, seq_len, 2): channel 1 is channel 0 + 100
    # the official 'end' padding: the last value once more per stride, then every stride-th
    # patch_len-long slice
    padded = torch.cat([torch.arange(seq_len), torch.full((stride,), seq_len - 1)]).float()
    want = torch.stack([padded[i:i + patch_len]
                        for i in range(0, seq_len + stride - patch_len + 1, stride)])
    assert len(want) == model.patch_num
    assert torch.equal(seen[0], torch.stack([want, want + 100]))  # one row per channel


def test_the_dlinear_trend_is_a_centred_average_with_the_ends_repeated() -> None:
    x = torch.arange(10.0)[None, :, None]
    trend = MovingAverage(5)(x)[0, :, 0]
    assert trend[0].item() == pytest.approx((0 + 0 + 0 + 1 + 2) / 5)
    assert trend[-1].item() == pytest.approx((7 + 8 + 9 + 9 + 9) / 5)
    assert torch.allclose(trend[2:-2], x[0, 2:-2, 0])  # a line is its own centred average


@pytest.mark.parametrize(
    ("norm", "res_attention", "affine"), [("layer", False, True), ("batch", True, False)]
)
def test_patchtst_variants_finite(norm: str, res_attention: bool, affine: bool) -> None:
    model = PatchTST(48, 12, 3, d_model=8, norm=norm, res_attention=res_attention, affine=affine)
    assert torch.isfinite(model(series(2))).all()


def test_patchtst_channels_independent() -> None:
    model = PatchTST(48, 12, 3, d_model=8).eval()
    x = series(2)
    y = x.clone()
    y[..., 1:] = torch.randn(2, 48, 2)
    torch.testing.assert_close(model(x)[..., 0], model(y)[..., 0])


def test_itransformer_with_time_features() -> None:
    model = ITransformer(48, 12, 3, n_marks=4, d_model=16, d_ff=16, n_heads=2).eval()
    x, marks = series(2), torch.rand(2, 48, 4) - 0.5
    out = model(x, marks)
    assert out.shape == (2, 12, 3)
    assert not torch.allclose(out, model(x, marks + 1.0))
    # without its calendar tokens it would forecast something else: refused, not run
    with pytest.raises(ValueError, match="reads 4 calendar features as tokens: pass x_mark"):
        model(x)
    no_calendar = ITransformer(48, 12, 3, n_marks=0, d_model=16, d_ff=16, n_heads=2).eval()
    assert no_calendar(x).shape == (2, 12, 3)  # a series without dates has no marks


def test_itransformer_without_time_features() -> None:
    model = ITransformer(
        48, 12, 3, n_marks=4, d_model=16, d_ff=16, n_heads=2, use_time_features=False
    ).eval()
    assert not model.uses_time_features
    x, marks = series(2), torch.rand(2, 48, 4)
    out = model(x, marks)
    assert out.shape == (2, 12, 3)
    torch.testing.assert_close(out, model(x, None))
    torch.testing.assert_close(out, model(x, marks + 1.0))


def test_itransformer_revin_off() -> None:
    model = ITransformer(48, 12, 3, n_marks=4, d_model=16, d_ff=16, n_heads=2, revin=False)
    out = model(series(2), torch.rand(2, 48, 4))
    out.mean().backward()
    assert out.shape == (2, 12, 3)
