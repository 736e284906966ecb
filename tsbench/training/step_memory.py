"""A Transformer run whose training step clearly cannot fit in memory, refused before it
trains.

Attention holds ``rows x n_heads x tokens^2`` scores per layer. PatchTST folds each channel
into the batch (``rows = batch x channels``) and attends over patches; iTransformer attends
over the variates and calendar features (``rows = batch``). ``tsbench seq_len=5000`` with
PatchTST's defaults on ETTh1 (625 patches, 896 rows: 5.2 GiB of scores per layer) was killed
by the kernel's out-of-memory killer without a word. :func:`check_step_memory` estimates the
peak of one training step (:func:`step_bytes`) and refuses the run in one line where it
exceeds the memory available (RAM, or the GPU's free memory) by :data:`MARGIN`; in a
search, the trial is recorded as failed with that line and the search goes on. The
estimate counts what a step surely holds at once, so it stays below the measured peak
(``benchmarks/step_memory.md``): a run it refuses would not have fitted. Where attention
runs through PyTorch's fused ``scaled_dot_product_attention``
(:func:`~tsbench.models.layers.attention.composed_ops`), whose flash and memory-efficient
kernels never hold the scores whole, it counts none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import torch
from omegaconf import ListConfig

from tsbench.data.loading import Series
from tsbench.data.splits import Borders, n_windows
from tsbench.errors import ConfigError
from tsbench.models.build import model_class
from tsbench.models.itransformer import ITransformer
from tsbench.models.layers.attention import composed_ops
from tsbench.models.patchtst import PatchTST
from tsbench.training.model_check import trains_on_cpu
from tsbench.training.trainer import precision

#: A run is refused where its estimate exceeds the available memory this many times.
MARGIN = 1.2
#: Activations a layer keeps per token for the backward pass, in floats: this many times
#: d_model (the packed q/k/v, the attention's output, the residuals, the norms) plus
#: :data:`FF_FLOATS` times d_ff (the feed-forward block's input and output of its
#: activation; dropout keeps a mask more), fewer than it holds in all (calibrated:
#: ``benchmarks/step_memory.md``).
D_MODEL_FLOATS = 8
FF_FLOATS = 2


@dataclass(frozen=True)
class Attention:
    """The shape of one Transformer's step: ``rows`` sequences of ``tokens`` attended over
    by ``heads`` in each of ``layers``, tokens of ``d_model`` with a ``d_ff`` feed-forward
    block; ``scores`` and ``eval_scores`` whether a training step and a scoring step hold
    the scores whole (not where a fused kernel attends, :func:`held_scores`), ``dropout``
    whether attention dropout keeps a mask of them for the backward pass, ``residual``
    whether each layer's scores are added to the next's (PatchTST's residual attention: two
    score tensors at once)."""

    rows: int
    tokens: int
    heads: int
    layers: int
    d_model: int
    d_ff: int
    scores: bool = True
    eval_scores: bool = True
    dropout: bool = False
    residual: bool = False


def step_bytes(shape: Attention, eval_rows: int, float_bytes: int = 4) -> int:
    """The memory one training step needs beyond what the run holds before it: each layer's
    attention weights kept for the backward pass where it holds them whole (and their
    dropout masks), with residual attention two score tensors more (the previous layer's
    and the new, or their gradients), and each layer's activations; or, where more, a
    scoring step of ``eval_rows`` sequences where it holds them (no gradients: the scores
    and their weights, and the previous layer's scores)."""
    per_row = shape.heads * shape.tokens**2
    passed = 2 if shape.residual else 0
    kept = shape.layers * (2 if shape.dropout else 1) + passed if shape.scores else 0
    activations = shape.layers * shape.tokens * (D_MODEL_FLOATS * shape.d_model
                                                 + FF_FLOATS * shape.d_ff)
    train = shape.rows * (kept * per_row + activations)
    scoring = eval_rows * (2 + passed // 2) * per_row if shape.eval_scores else 0
    return max(train, scoring) * float_bytes


class Step(NamedTuple):
    """A model's training step: its :class:`Attention`, how many sequences one window is
    (PatchTST: its channels) and how to give it fewer tokens."""

    shape: Attention
    per_window: int
    fewer_tokens: str


def held_scores(cfg: Any, device: str, residual: bool, dropout: bool) -> tuple[bool, bool]:
    """Whether a training step and a scoring step (``evaluate``'s: no autocast) of ``cfg``
    on ``device`` hold the attention scores whole. Plain attention through composed ops
    (the model's own test, :func:`~tsbench.models.layers.attention.composed_ops`) is
    PyTorch's ``scaled_dot_product_attention``, whose flash and memory-efficient kernels
    hold none; but the CPU's flash kernel has no dropout, so a CPU training step with
    attention dropout runs the math backend, which holds them."""
    compiled, fast = bool(cfg.model.get("compile", False)), bool(cfg.trainer.fast_kernels)

    def fused(autocast: bool) -> bool:
        return not residual and composed_ops(device, residual, compiled, autocast, fast)

    train = not fused("mixed" in precision(cfg.trainer)) or (dropout and device == "cpu")
    return train, not fused(False)


def step_of(cfg: Any, n_vars: int, n_marks: int, batch: int, device: str = "cpu"
            ) -> Step | None:
    """The :class:`Step` of ``batch`` windows of ``cfg.model`` trained on ``device`` (a
    device type: cpu, cuda); None for a model other than PatchTST and iTransformer, and for
    a subclass of theirs (its layers may be its own)."""
    cls, model = model_class(cfg.model), cfg.model
    if cls not in (PatchTST, ITransformer):
        return None
    size = (int(model.n_heads), int(model.e_layers), int(model.d_model), int(model.d_ff))
    if cls is PatchTST:
        seq_len, patch_len, stride = int(cfg.seq_len), int(model.patch_len), int(model.stride)
        patches = max(1, (seq_len - patch_len) // stride + 2)
        rows, tokens, per_window = batch * n_vars, patches, n_vars
        residual, dropout = bool(model.res_attention), float(model.attn_dropout) > 0
        fewer = "raise model.stride or model.patch_len (fewer patches), lower seq_len"
    else:
        rows, per_window, residual, dropout = batch, 1, False, float(model.dropout) > 0
        tokens = n_vars + (n_marks if model.use_time_features else 0)  # variates, calendar
        fewer = "read fewer variates (dataset.columns, features=S)"
    scores, eval_scores = held_scores(cfg, device, residual, dropout)
    return Step(Attention(rows, tokens, *size, scores=scores, eval_scores=eval_scores,
                          dropout=dropout, residual=residual), per_window, fewer)


def estimate(cfg: Any, series: Series, borders: Borders, device: str = "cpu"
             ) -> tuple[Step, int] | None:
    """The :class:`Step` of a run of ``cfg`` on ``series`` (its batches no larger than the
    windows of its data) trained on ``device`` and its :func:`step_bytes`; None for a model
    other than PatchTST and iTransformer."""
    seq_len, pred_len = int(cfg.seq_len), int(cfg.pred_len)
    trained = n_windows(borders.val[1] - borders.train[0], seq_len, pred_len)  # refit's
    scored = max(n_windows(borders[s][1] - borders[s][0], seq_len, pred_len)
                 for s in ("val", "test"))
    n_vars = 1 if cfg.features == "S" else series.values.shape[1]
    n_marks = series.time_features(slice(0, 1)).shape[1]
    step = step_of(cfg, n_vars, n_marks, max(1, min(int(cfg.data.batch_size), trained)),
                   device)
    if step is None:
        return None
    eval_rows = max(1, min(int(cfg.data.eval_batch_size), scored)) * step.per_window
    return step, step_bytes(step.shape, eval_rows,
                            2 if "16" in precision(cfg.trainer) else 4)


def check_step_memory(cfg: Any, series: Series, borders: Borders) -> None:
    """Refuse a PatchTST or iTransformer run whose training step (:func:`estimate`) needs
    more than :data:`MARGIN` times the memory available to it (:func:`available_memory`),
    naming both and what to lower."""
    device = _device(cfg.trainer)
    found = estimate(cfg, series, borders, device.type)
    free = None if found is None else available_memory(
        device.index if device.type == "cuda" else None)
    if found is None or free is None:
        return
    (step, need), (room, where) = found, free
    if need <= MARGIN * room:
        return
    shape = step.shape
    if shape.scores or shape.eval_scores:
        what = (f"{shape.rows} sequences x {shape.heads} heads x {shape.tokens}^2 attention "
                f"scores in each of {shape.layers} layers, and their activations")
        smaller = "model.n_heads or model.d_model"
    else:
        what = (f"{shape.rows} sequences x {shape.tokens} tokens of activations in each of "
                f"{shape.layers} layers; the fused attention holds no scores whole")
        smaller = "model.d_model or model.d_ff"
    raise ConfigError(
        "model", f"one training step of {cfg.model.name} needs about {_gib(need)} ({what}), "
        f"more than the {_gib(room)} {where}", f"lower data.batch_size, {step.fewer_tokens}, "
        f"or lower {smaller}; or run where more memory is free")


def _gib(size: float) -> str:
    return f"{size / 2**30:.1f} GiB"


def _device(trainer_cfg: Any) -> torch.device:
    """The device a run trains on, as Lightning picks it: ``auto`` a CUDA GPU where there
    is one (:func:`~tsbench.training.model_check.trains_on_cpu`), ``trainer.devices=[i]``
    GPU ``i``; MPS where CUDA is not available, and the CPU."""
    accelerator = str(trainer_cfg.accelerator)
    if trains_on_cpu(accelerator):
        return torch.device("cpu")
    if accelerator in ("gpu", "cuda", "auto") and torch.cuda.is_available():
        devices = trainer_cfg.get("devices", 1)
        return torch.device("cuda", int(devices[0]) if isinstance(devices, ListConfig | list)
                            else 0)
    mps = accelerator in ("gpu", "mps", "auto") and torch.backends.mps.is_available()
    return torch.device("mps" if mps else "cpu")


def available_memory(gpu: int | None) -> tuple[int, str] | None:
    """The bytes a run may still take and where: GPU ``gpu``'s free memory, else the RAM's
    ``MemAvailable`` (and a cgroup's room under its limit, where less); None where not
    known (no ``/proc/meminfo``)."""
    if gpu is not None:
        free, _ = torch.cuda.mem_get_info(gpu)
        return free, f"free on GPU {gpu}"
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    if "MemAvailable" not in fields:
        return None
    found = [(int(fields["MemAvailable"].split()[0]) * 1024, "of RAM available (MemAvailable)")]
    room = _cgroup_room()
    if room is not None:
        found.append((room, "left under this process's cgroup memory limit"))
    return min(found)


#: This process's cgroups, one ``id:controllers:path`` line each (cgroup v2's ``0::path``),
#: and where the v2 hierarchy is mounted.
PROC_CGROUP, CGROUP_ROOT = Path("/proc/self/cgroup"), Path("/sys/fs/cgroup")


def _cgroup_room() -> int | None:
    """The bytes left under this process's cgroup v2 memory limit, the reclaimable page
    cache (``inactive_file``) counted as free; None where unlimited or unknown (as under
    cgroup v1 alone)."""
    try:
        path = next(line[3:] for line in PROC_CGROUP.read_text().splitlines()
                    if line.startswith("0::"))  # a hybrid v1/v2 host lists v1 lines first
        group = CGROUP_ROOT / path.lstrip("/")
        limit = (group / "memory.max").read_text().strip()
        used = int((group / "memory.current").read_text())
        stat = dict(line.split() for line in (group / "memory.stat").read_text().splitlines())
        cache = int(stat["inactive_file"])
    except (OSError, StopIteration, ValueError, KeyError):
        return None
    return None if limit == "max" else int(limit) - used + cache
