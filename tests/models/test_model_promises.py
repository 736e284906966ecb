"""What the models and the model contract promise, checked by what each promise means:
RevIN's statistics, forecasts in the input's units, per-channel maps, the flatten head's
feature order, one output per variate token, and the contract and config checks that refuse
what they say they refuse."""

from __future__ import annotations

import re
from typing import Any

import pytest
import torch
from torch import nn

from tsbench.errors import ConfigError
from tsbench.models import ContractError, check_model
from tsbench.models.base import ForecastModel
from tsbench.models.build import check_model_settings
from tsbench.models.dlinear import DLinear
from tsbench.models.itransformer import ITransformer
from tsbench.models.layers.revin import RevIN
from tsbench.models.patchtst import PatchTST

#: Tiny sizes: every model here builds and runs in milliseconds.
PATCHTST = {"patch_len": 8, "stride": 4, "d_model": 4, "n_heads": 2, "e_layers": 1,
            "d_ff": 8, "dropout": 0.0}
ITRANSFORMER = {"d_model": 8, "n_heads": 2, "e_layers": 2, "d_ff": 8, "dropout": 0.0}


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# RevIN ---------------------------------------------------------------------------------


@pytest.mark.parametrize("subtract_last", [False, True])
def test_revin_scale_keeps_eps_inside_the_root_on_a_low_variance_window(
        subtract_last: bool) -> None:
    """scale = sqrt(biased var + eps): visible only when the variance is near eps."""
    x = torch.randn(4, 32, 3, dtype=torch.float64) * 0.01 + 2.0
    revin = RevIN(3, subtract_last=subtract_last)
    revin.normalize(x)
    expected = torch.sqrt(x.var(dim=1, unbiased=False, keepdim=True) + revin.eps)
    torch.testing.assert_close(revin._scale, expected, rtol=1e-6, atol=0)


@pytest.mark.parametrize("subtract_last", [False, True])
def test_revin_statistics_are_detached(subtract_last: bool) -> None:
    """No gradient flows through the centre or the scale: d normalize(x).sum() / dx is
    1 / scale everywhere (attached statistics would make it about zero)."""
    x = (torch.randn(4, 32, 3, dtype=torch.float64) * 3 + 1).requires_grad_()
    revin = RevIN(3, subtract_last=subtract_last)
    z = revin.normalize(x)
    assert not revin._scale.requires_grad and not revin._center.requires_grad
    (grad,) = torch.autograd.grad(z.sum(), x)
    torch.testing.assert_close(grad, (1 / revin._scale).expand_as(x), rtol=1e-10, atol=0)


# RevIN models forecast in the input's units ---------------------------------------------


def _revin_models() -> dict[str, ForecastModel]:
    return {
        "dlinear": DLinear(32, 8, 3, kernel_size=5, revin=True),
        "patchtst": PatchTST(32, 8, 3, revin=True, **PATCHTST),
        "itransformer": ITransformer(32, 8, 3, n_marks=0, revin=True, **ITRANSFORMER),
    }


@pytest.mark.parametrize("name", ["dlinear", "patchtst", "itransformer"])
def test_revin_models_are_shift_and_scale_equivariant(name: str) -> None:
    """With revin=True the forecast is in the input's units: model(10 x + 5) equals
    10 model(x) + 5 (up to RevIN's eps)."""
    model = _revin_models()[name].eval()
    x = torch.randn(4, 32, 3)
    with torch.no_grad():
        base, moved = model(x), model(10 * x + 5)
    assert base.shape == (4, 8, 3)
    torch.testing.assert_close(moved, 10 * base + 5, rtol=1e-4, atol=1e-3)


# DLinear ---------------------------------------------------------------------------------


def test_dlinear_individual_has_one_pair_of_maps_per_channel() -> None:
    """individual=True: a seasonal and a trend map (weights and biases) for each channel;
    changing one channel's maps changes that channel's forecast alone."""
    seq_len, pred_len, n_vars = 16, 4, 3
    shared = DLinear(seq_len, pred_len, n_vars, kernel_size=5)
    model = DLinear(seq_len, pred_len, n_vars, kernel_size=5, individual=True).eval()
    assert n_params(shared) == 2 * pred_len * (seq_len + 1)
    assert n_params(model) == 2 * n_vars * pred_len * (seq_len + 1)
    x = torch.randn(2, seq_len, n_vars)
    with torch.no_grad():
        before = model(x)
        model.seasonal_weight[1].add_(0.5)
        model.trend_weight[1].add_(0.5)
        after = model(x)
    assert not torch.allclose(after[..., 1], before[..., 1])
    torch.testing.assert_close(after[..., [0, 2]], before[..., [0, 2]], rtol=0, atol=0)


# PatchTST --------------------------------------------------------------------------------


def test_patchtst_head_reads_features_d_model_major() -> None:
    """The flatten head reads the encoder output (patch_num, d_model) of each series as the
    official code does: flat index d * patch_num + p holds feature d of patch p."""
    model = PatchTST(32, 3, 2, revin=False, **PATCHTST).eval()
    patch_num, d_model = model.patch_num, PATCHTST["d_model"]
    assert patch_num != d_model
    picks = [(1, 5), (3, 0), (0, 7)]  # (d, p) read by output step 0, 1, 2
    linear = model.head[1]
    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.zero_()
        for step, (d, p) in enumerate(picks):
            linear.weight[step, d * patch_num + p] = 1.0
    encoded: list[torch.Tensor] = []
    model.layers[-1].register_forward_hook(lambda _m, _i, out: encoded.append(out[0]))
    x = torch.randn(4, 32, 2)
    with torch.no_grad():
        out = model(x)
    z = encoded[0].view(4, 2, patch_num, d_model)  # channels folded into the batch
    for step, (d, p) in enumerate(picks):
        torch.testing.assert_close(out[:, step, :], z[:, :, p, d], rtol=0, atol=1e-6)


def _padded_input(model: PatchTST, x: torch.Tensor) -> torch.Tensor:
    """The normalised window PatchTST pads and cuts into patches, for input ``x``."""
    seen: list[torch.Tensor] = []
    model.pad.register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
    with torch.no_grad():
        model.eval()(x)
    return seen[0]


def test_patchtst_affine_and_subtract_last_do_what_they_say() -> None:
    """affine adds RevIN's 2 * n_vars parameters; subtract_last centres on the last value,
    its absence on the mean (seen in the normalised window the patches are cut from)."""
    n_vars = 3
    plain = PatchTST(32, 8, n_vars, revin=True, **PATCHTST)
    affine = PatchTST(32, 8, n_vars, revin=True, affine=True, **PATCHTST)
    assert n_params(affine) - n_params(plain) == 2 * n_vars
    assert affine.revin.affine and not affine.revin.subtract_last
    x = torch.randn(4, 32, n_vars) * 3 + 7
    for subtract_last in (False, True):
        model = PatchTST(32, 8, n_vars, revin=True, subtract_last=subtract_last, **PATCHTST)
        assert model.revin.subtract_last == subtract_last and not model.revin.affine
        assert n_params(model) == n_params(plain)
        normalized = _padded_input(model, x)  # (batch, n_vars, seq_len)
        if subtract_last:
            torch.testing.assert_close(normalized[..., -1], torch.zeros(4, n_vars))
            assert normalized.mean(-1).abs().max() > 0.1
        else:
            torch.testing.assert_close(normalized.mean(-1), torch.zeros(4, n_vars),
                                       rtol=0, atol=1e-5)


# iTransformer ----------------------------------------------------------------------------


def test_itransformer_outputs_one_forecast_per_variate_token() -> None:
    """Output channel i is variate i's token, not a calendar token: with attention unable
    to mix tokens, moving x[..., 0] moves channel 0 alone and moving x_mark moves nothing."""
    n_vars, n_marks = 3, 4
    model = ITransformer(32, 8, n_vars, n_marks=n_marks, use_time_features=True,
                         revin=False, **ITRANSFORMER).eval()
    with torch.no_grad():
        for layer in model.layers:
            layer.attn.out.weight.zero_()
            layer.attn.out.bias.zero_()
    x, marks = torch.randn(4, 32, n_vars), torch.rand(4, 32, n_marks) - 0.5
    moved_x = x.clone()
    moved_x[..., 0] += torch.randn(4, 32)
    with torch.no_grad():
        base = model(x, marks)
        by_x = model(moved_x, marks)
        by_marks = model(x, marks + torch.randn(4, 32, n_marks))
    assert base.shape == (4, 8, n_vars)
    assert (by_x[..., 0] - base[..., 0]).abs().max() > 1e-2
    torch.testing.assert_close(by_x[..., 1:], base[..., 1:], rtol=0, atol=1e-6)
    torch.testing.assert_close(by_marks, base, rtol=0, atol=1e-6)


# The contract check ----------------------------------------------------------------------


class _Linear(ForecastModel):
    """A valid model: one linear map over time, shared by all channels."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.revin = revin
        self.proj = nn.Linear(seq_len, pred_len)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return self.proj(x.transpose(1, 2)).transpose(1, 2)


class _SqueezesBatch(_Linear):
    """Squeezes the batch axis: wrong only for a batch of one window."""

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x, x_mark).squeeze(0)


class _RandomOffset(_Linear):
    """Adds an offset drawn in __init__ and kept in no state dict (a plain tensor)."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars, revin)
        self.offset = torch.randn(pred_len, n_vars)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x, x_mark) + self.offset


class _UntrainableWithWeights(_Linear):
    """Says trainable = False but has an nn.Linear."""

    trainable = False


class _TrainableWithoutWeights(ForecastModel):
    """Repeats the last value (no parameters) but keeps trainable = True."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return x[:, -1:].expand(-1, self.pred_len, -1)


class _ShortWithRevin(_Linear):
    """One step short of the horizon, with revin on only."""

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        out = super().forward(x, x_mark)
        return out[:, :-1] if self.revin else out


def test_check_model_accepts_the_valid_model() -> None:
    check_model(_Linear)


@pytest.mark.parametrize(("cls", "words"), [
    (_SqueezesBatch, "with revin=False maps input (1, 32, 3) to (8, 3), not (1, 8, 3)"),
    (_RandomOffset, "gives another output after a state-dict round trip: a copy with the "
                    "same weights forecasts otherwise, so forward depends on state its state "
                    "dict lacks"),
    (_UntrainableWithWeights, "has trainable=False but 2 trainable parameters"),
    (_TrainableWithoutWeights, "has trainable=True but 0 trainable parameters"),
    (_ShortWithRevin, "with revin=True maps input (4, 32, 3) to (4, 7, 3), not (4, 8, 3)"),
], ids=["batch_of_one", "round_trip", "untrainable_with_parameters",
        "trainable_without_parameters", "revin_on"])
def test_check_model_names_each_broken_promise(cls: type, words: str) -> None:
    """Batches of one are checked, the state-dict round trip against a fresh clone,
    parameters exactly when trainable, and shapes with revin on too."""
    with pytest.raises(ContractError, match=re.escape(words)):
        check_model(cls)


# Model settings --------------------------------------------------------------------------


def _settings(target: str, **params: Any) -> dict[str, Any]:
    return {"_target_": target, "name": target.rsplit(".", 1)[-1].lower(), **params}


@pytest.mark.parametrize(("target", "key", "value"), [
    ("tsbench.models.patchtst.PatchTST", "d_model", True),
    ("tsbench.models.patchtst.PatchTST", "d_model", 16.5),
    ("tsbench.models.dlinear.DLinear", "kernel_size", False),
    ("tsbench.models.patchtst.PatchTST", "revin", 1),
], ids=["bool_for_int", "fraction_for_int", "bool_for_odd_int", "int_for_bool"])
def test_check_model_settings_refuses_a_value_of_the_wrong_kind(
        target: str, key: str, value: Any) -> None:
    """A bool is not a whole number (nor a whole number a bool): named, not built."""
    with pytest.raises(ConfigError) as refused:
        check_model_settings(_settings(target, **{key: value}))
    assert refused.value.field == f"model.{key}"


def test_check_model_settings_accepts_values_of_the_right_kind() -> None:
    cls, kwargs = check_model_settings(_settings(
        "tsbench.models.patchtst.PatchTST", d_model=16, dropout=0, revin=False))
    assert cls is PatchTST and kwargs == {"d_model": 16, "dropout": 0, "revin": False}


def test_check_model_settings_names_an_unknown_hyperparameter() -> None:
    with pytest.raises(ConfigError, match="no such hyperparameter") as refused:
        check_model_settings(_settings("tsbench.models.dlinear.DLinear", kernel_size=5,
                                       bogus=1))
    assert refused.value.field == "model.bogus"
    # a model of the user's without the contract's revin: the fix is its __init__'s
    with pytest.raises(ConfigError) as refused:
        check_model_settings(_settings("tests.models.faulty_models.NoRevin", revin=False))
    assert str(refused.value) == (
        "model.revin: NoRevin.__init__ takes no revin, which every tsbench model takes (the "
        "model contract) -> add revin: bool = False to its __init__ (a model without RevIN "
        "may ignore it); tsbench.models.contract.check_model(NoRevin, ...) checks the whole "
        "contract")
    with pytest.raises(ConfigError) as refused:  # nothing to choose from: drop it
        check_model_settings(_settings("tests.models.faulty_models.NoRevin", bogus=1))
    assert str(refused.value) == ("model.bogus: NoRevin has no such hyperparameter -> drop it "
                                  "from the model's YAML: NoRevin.__init__ takes none")
