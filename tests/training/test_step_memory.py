"""The memory estimate of a training step (:mod:`tsbench.training.step_memory`) leaves the
published settings far below a laptop's memory, counts the attention scores exactly where
the model holds them whole, and refuses a run only past the margin over the memory it has:
only a step that cannot fit is refused (tests/cli/test_bad_input.py refuses one;
benchmarks/step_memory.md calibrates it)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from hydra import compose, initialize_config_module
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from tests.conftest import ROOT
from tsbench.data.loading import Series, load_series
from tsbench.data.splits import Borders, benchmark_borders
from tsbench.errors import ConfigError
from tsbench.models.build import model_for
from tsbench.models.layers.kernels import fast_kernels
from tsbench.training import step_memory
from tsbench.training.step_memory import (
    MARGIN,
    available_memory,
    check_step_memory,
    estimate,
    step_of,
)

#: The Transformer presets of conf/experiment/.
TRANSFORMERS = sorted(p.stem for p in (ROOT / "tsbench" / "conf" / "experiment").glob("*.yaml")
                      if not p.stem.startswith("dlinear"))


def _config(overrides: list[str]) -> tuple[Any, Series, Borders]:
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    series = load_series(cfg.dataset)
    return cfg, series, benchmark_borders(len(series.values), series.split, int(cfg.seq_len),
                                          series.train_frac, series.test_frac)


@pytest.mark.parametrize("experiment", TRANSFORMERS)
def test_a_published_setting_needs_well_under_a_laptops_memory(experiment: str) -> None:
    cfg, series, borders = _config([f"experiment={experiment}"])
    found = estimate(cfg, series, borders)
    assert found is not None
    assert found[1] < 2 * 2**30, f"{experiment}: {found[1] / 2**30:.1f} GiB"


class _SquareOutputs(TorchDispatchMode):
    """Records whether any op outputs a ``(..., tokens, tokens)`` tensor: scores held whole
    (a fused kernel's outputs never have that shape)."""

    def __init__(self, tokens: int) -> None:
        super().__init__()
        self.tokens, self.seen = tokens, False

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None
                           ) -> Any:
        out = func(*args, **(kwargs or {}))
        self.seen = self.seen or any(
            isinstance(t, torch.Tensor) and t.shape[-2:] == (self.tokens, self.tokens)
            for t in tree_flatten(out)[0])
        return out


DEVICES = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("overrides", [
    ["model=itransformer"],  # tsbench's own attention kernel, with dropout
    ["model=itransformer", "trainer.fast_kernels=false"],  # CPU: math backend for dropout
    ["model=itransformer", "trainer.fast_kernels=false", "model.dropout=0"],
    ["model=itransformer", "trainer.precision=bf16-mixed", "model.dropout=0"],
    ["model=patchtst"],  # residual attention: its own kernel
    ["model=patchtst", "trainer.fast_kernels=false"],  # residual: composed ops
    ["model=patchtst", "model.res_attention=false", "trainer.fast_kernels=false"],
    ["model=patchtst", "model.res_attention=false", "trainer.fast_kernels=false",
     "model.attn_dropout=0.2"],
    ["model=patchtst", "model.res_attention=false", "trainer.precision=bf16-mixed"],
])  # fmt: skip
def test_the_estimate_counts_the_scores_where_the_model_holds_them(
        overrides: list[str], device: str) -> None:
    """Whether a training step (under the run's autocast and kernels) and a scoring step
    (``evaluate``'s: no autocast, no gradients) of the real model hold the scores whole is
    what :func:`step_of` says: no run whose attention takes the fused path is refused for
    scores it never holds."""
    cfg, series, _ = _config([
        "dataset=synthetic", "dataset.n_rows=300", "dataset.n_vars=21", "seq_len=40",
        "pred_len=8", "model.d_model=16", "model.n_heads=2", "model.d_ff=24", *overrides])
    n_vars, n_marks = series.values.shape[1], series.time_features(slice(0, 1)).shape[1]
    step = step_of(cfg, n_vars, n_marks, 3, device)
    assert step is not None
    model = model_for(cfg, series).to(device)
    x, marks = torch.randn(3, 40, n_vars, device=device), torch.randn(3, 40, n_marks,
                                                                       device=device)
    autocast = torch.autocast(device, torch.bfloat16, "mixed" in cfg.trainer.precision)
    training, scoring = _SquareOutputs(step.shape.tokens), _SquareOutputs(step.shape.tokens)
    with fast_kernels(bool(cfg.trainer.fast_kernels)):
        with training:
            with autocast:
                forecast = model.train()(x, marks)
            forecast.float().sum().backward()
        with torch.inference_mode(), scoring:
            model.eval()(x, marks)
    assert (step.shape.scores, step.shape.eval_scores) == (training.seen, scoring.seen)


#: The review's false refusal: 1704 tokens through the fused attention (trained in about
#: 4.6 GiB), once refused as needing 26.7 GiB for scores it never holds.
FUSED = ["dataset=synthetic", "dataset.n_vars=1700", "dataset.n_rows=600",
         "model=itransformer", "model.dropout=0", "seq_len=96", "pred_len=24",
         "trainer.fast_kernels=false"]


def test_a_run_under_the_margin_is_not_refused_and_one_just_over_it_is(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The refusal comes exactly where the estimate exceeds MARGIN times the memory
    available; the review's fused-attention run, with the 6 GiB it fits in, trains."""
    cfg, series, borders = _config(FUSED)
    found = estimate(cfg, series, borders)
    assert found is not None
    need = found[1]
    room = {"bytes": 6 * 2**30}
    monkeypatch.setattr(step_memory, "available_memory",
                        lambda gpu: (room["bytes"], "of RAM available (MemAvailable)"))
    check_step_memory(cfg, series, borders)
    room["bytes"] = math.ceil(need / MARGIN) + 1
    check_step_memory(cfg, series, borders)
    room["bytes"] = int(need / MARGIN) - 1
    with pytest.raises(ConfigError, match="fused attention holds no scores whole"):
        check_step_memory(cfg, series, borders)


def test_auto_on_a_cuda_machine_checks_the_gpus_memory(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    """``trainer.accelerator=auto`` trains on a CUDA GPU where there is one (as Lightning
    picks it): its free memory is what the estimate is checked against."""
    cfg, series, borders = _config([*FUSED, "trainer.accelerator=auto"])
    asked: list[int | None] = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(step_memory, "available_memory",
                        lambda gpu: asked.append(gpu) or (2**40, f"free on GPU {gpu}"))
    check_step_memory(cfg, series, borders)
    cfg.trainer.accelerator = "cpu"
    check_step_memory(cfg, series, borders)
    assert asked == [0, None]


@pytest.mark.parametrize("cgroups", ["0::/box\n", "12:memory:/box\n1:cpu:/\n0::/box\n"])
def test_a_cgroup_v2_limit_counts_its_reclaimable_page_cache_as_free(
        cgroups: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """memory.max less memory.current, plus inactive_file (page cache the kernel drops
    before it kills), of the ``0::`` line's cgroup: on a hybrid v1/v2 host not the first."""
    (tmp_path / "cgroup").write_text(cgroups)
    box = tmp_path / "fs" / "box"
    box.mkdir(parents=True)
    (box / "memory.max").write_text(f"{2**30}\n")
    (box / "memory.current").write_text(f"{900 * 2**20}\n")
    (box / "memory.stat").write_text(f"anon 1\nactive_file 2\ninactive_file {600 * 2**20}\n")
    monkeypatch.setattr(step_memory, "PROC_CGROUP", tmp_path / "cgroup")
    monkeypatch.setattr(step_memory, "CGROUP_ROOT", tmp_path / "fs")
    assert available_memory(None) == (724 * 2**20, "left under this process's cgroup "
                                                   "memory limit")
