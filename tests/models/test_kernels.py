"""``trainer.fast_kernels``: off, every layer runs stock PyTorch ops; on or off, a model
trains to the same validation loss; a private-API kernel that fails its check is switched
off with one warning and the stock op takes over with the same results."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_module

from tsbench.models.itransformer import ITransformer
from tsbench.models.layers import attention, kernels, linear
from tsbench.models.patchtst import PatchTST
from tsbench.training.run import run

SMALL = {
    "patchtst": ["model.d_model=8", "model.n_heads=2", "model.e_layers=2", "model.d_ff=16",
                 "model.patch_len=8", "model.stride=4"],
    "itransformer": ["model.d_model=16", "model.n_heads=2", "model.e_layers=2", "model.d_ff=16"],
}


@pytest.fixture(autouse=True)
def fresh_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees the kernels unchecked, and leaves no verdict behind."""
    monkeypatch.setattr(kernels, "_checked", {})


@pytest.mark.parametrize("name", ["patchtst", "itransformer"])
def test_both_settings_train_to_the_same_validation_loss(name: str, tmp_path: Path) -> None:
    """Dropout 0, so both settings compute the same math and differ only in rounding (oneDNN
    vs MKL products, the attention core's own backward): the validation MSE after two epochs
    agrees to 1e-4 relative. With dropout the masks come from different generators."""
    scores = {}
    for fast in (True, False):
        with initialize_config_module("tsbench.conf", version_base="1.3"):
            cfg = compose("config", overrides=[
                "dataset=synthetic", "dataset.n_rows=500", f"model={name}", *SMALL[name],
                "model.dropout=0.0", "seq_len=32", "pred_len=8", "trainer=debug",
                "logger=none", "data.batch_size=32", f"trainer.fast_kernels={fast}"])
        scores[fast] = run(cfg, tmp_path / str(fast))["val_mse"]
    assert scores[True] == pytest.approx(scores[False], rel=1e-4)
    assert scores[True] != scores[False] or name == "itransformer"  # really other kernels


@pytest.mark.parametrize(("batch", "n_vars"), [(1, 1), (1, 3), (2, 1)])
def test_a_batch_of_one_window_trains_as_on_stock_ops(batch: int, n_vars: int) -> None:
    """One window of one series: PatchTST's overlapping patches reach the linear layers as a
    view with overlapping strides (a last batch of 8449 % 128 = 1 ETTh1 windows crashed)."""
    model = PatchTST(32, 8, n_vars, d_model=8, n_heads=2, e_layers=1, d_ff=16, patch_len=8,
                     stride=4, dropout=0.0)
    model.train()
    x = torch.randn(batch, 32, n_vars)
    grads = {}
    for fast in (True, False):
        model.zero_grad()
        with kernels.fast_kernels(fast):
            model(x).square().mean().backward()
        grads[fast] = [p.grad.clone() for p in model.parameters()]
    for fast_grad, stock_grad in zip(grads[True], grads[False], strict=True):
        torch.testing.assert_close(fast_grad, stock_grad, rtol=1e-4, atol=1e-6)


def test_off_means_stock_ops(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the switch off no tsbench kernel runs, in training or evaluation."""
    def forbidden(*_: object) -> None:
        raise AssertionError("a fast kernel ran with fast_kernels off")

    monkeypatch.setattr(linear.OneDNNLinear, "apply", forbidden)
    monkeypatch.setattr(attention.Attention, "apply", forbidden)
    monkeypatch.setattr("tsbench.models.layers.dropout.dropout_noise", forbidden)
    models = [PatchTST(32, 8, 3, d_model=8, n_heads=2, e_layers=1, d_ff=16, patch_len=8,
                       stride=4, dropout=0.3),
              ITransformer(32, 8, 3, 4, d_model=16, n_heads=2, e_layers=1, d_ff=16)]
    with kernels.fast_kernels(False):
        for model in models:
            model.train()
            model(torch.randn(4, 32, 3), torch.rand(4, 32, 4)).sum().backward()
            model.eval()
            model(torch.randn(4, 32, 3), torch.rand(4, 32, 4))
    assert kernels.enabled()  # the switch is back on after the run


def kernel_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The kernels' warnings logged so far (a run's log records: its terminal and log)."""
    return [r.getMessage() for r in caplog.records
            if r.name == kernels.__name__ and r.levelno == logging.WARNING]


def test_a_failing_private_linear_falls_back_with_one_warning(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def changed_signature(*_: object) -> torch.Tensor:
        raise TypeError("_linear_pointwise() takes 2 positional arguments")

    monkeypatch.setattr(linear, "_LINEAR", changed_signature)
    layer = linear.Linear(5, 3)
    x = torch.randn(4, 5, requires_grad=True)
    out = layer(x)
    (said,) = kernel_warnings(caplog)
    assert said.startswith("the fast oneDNN linear kernel is off (TypeError: ")
    torch.testing.assert_close(out, F.linear(x, layer.weight, layer.bias))
    layer(x).sum().backward()
    assert kernel_warnings(caplog) == [said]  # once per process: no second warning
    assert x.grad is not None


def test_a_wrong_private_softmax_backward_falls_back(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A private op that still runs but computes something else is caught by the check."""
    true_op = torch._softmax_backward_data
    monkeypatch.setattr(torch, "_softmax_backward_data",
                        lambda grad, w, dim, dtype: 2 * true_op(grad, w, dim, dtype))
    torch.manual_seed(0)
    # 24 patches: wide enough (>= 16 keys) for PyTorch's own softmax backward
    model = PatchTST(96, 8, 3, d_model=8, n_heads=2, e_layers=2, d_ff=16, patch_len=8,
                     stride=4, dropout=0.0)
    x, marks = torch.randn(4, 96, 3), None
    model(x, marks).square().mean().backward()
    assert [w.split(" (")[0] for w in kernel_warnings(caplog)] == [
        "the fast softmax backward kernel is off"]
    fast = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    with kernels.fast_kernels(False):
        model(x, marks).square().mean().backward()
    for a, b in zip(fast, [p.grad for p in model.parameters()], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-6)
