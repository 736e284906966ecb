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
(0.77-0.98 of it, ``benchmarks/step_memory.md``): a run it refuses would not have fitted.
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
from tsbench.models.patchtst import PatchTST

#: A run is refused where its estimate exceeds the available memory this many times.
MARGIN = 1.2
#: Activations a layer keeps per token for the backward pass, in floats: this many times
#: d_model (the packed q/k/v, the attention's output, the residuals, the norms) plus
#: :data:`FF_FLOATS` times d_ff (the feed-forward block's), fewer than it holds in all
#: (calibrated: ``benchmarks/step_memory.md``).
D_MODEL_FLOATS = 8
FF_FLOATS = 3


@dataclass(frozen=True)
class Attention:
    """The shape of one Transformer's step: ``rows`` sequences of ``tokens`` attended over
    by ``heads`` in each of ``layers``, tokens of ``d_model`` with a ``d_ff`` feed-forward
    block; ``scores`` whether the scores are held whole (not by a fused GPU kernel),
    ``dropout`` whether attention dropout keeps a mask of them for the backward pass,
    ``residual`` whether each layer's scores are added to the next's (PatchTST's residual
    attention: two score tensors at once)."""

    rows: int
    tokens: int
    heads: int
    layers: int
    d_model: int
    d_ff: int
    scores: bool = True
    dropout: bool = False
    residual: bool = False


def step_bytes(shape: Attention, eval_rows: int, float_bytes: int = 4) -> int:
    """The memory one training step needs beyond what the run holds before it: each layer's
    attention weights kept for the backward pass (and their dropout masks), with residual
    attention two score tensors more (the previous layer's and the new, or their
    gradients), and each layer's activations; or, where more, a scoring step of
    ``eval_rows`` sequences (no gradients: the scores and their weights, and the previous
    layer's scores)."""
    per_row = shape.heads * shape.tokens**2 if shape.scores else 0
    passed = 2 if shape.residual else 0
    kept = shape.layers * (2 if shape.dropout else 1) + passed
    activations = shape.layers * shape.tokens * (D_MODEL_FLOATS * shape.d_model
                                                 + FF_FLOATS * shape.d_ff)
    train = shape.rows * (kept * per_row + activations)
    scoring = eval_rows * (2 + passed // 2) * per_row
    return max(train, scoring) * float_bytes


class Step(NamedTuple):
    """A model's training step: its :class:`Attention`, how many sequences one window is
    (PatchTST: its channels) and how to give it fewer tokens."""

    shape: Attention
    per_window: int
    fewer_tokens: str


def step_of(cfg: Any, n_vars: int, n_marks: int, batch: int, on_gpu: bool) -> Step | None:
    """The :class:`Step` of ``batch`` windows of ``cfg.model``; None for a model other than
    PatchTST and iTransformer, and for a subclass of theirs (its layers may be its own)."""
    cls, model = model_class(cfg.model), cfg.model
    if cls not in (PatchTST, ITransformer):
        return None
    layers = (int(model.e_layers), int(model.d_model), int(model.d_ff))
    if cls is PatchTST:
        seq_len, patch_len, stride = int(cfg.seq_len), int(model.patch_len), int(model.stride)
        patches = max(1, (seq_len - patch_len) // stride + 2)
        return Step(Attention(batch * n_vars, patches, int(model.n_heads), *layers,
                              dropout=float(model.attn_dropout) > 0,
                              residual=bool(model.res_attention)),
                    n_vars, "raise model.stride or model.patch_len (fewer patches), lower "
                    "seq_len")
    tokens = n_vars + (n_marks if model.use_time_features else 0)  # variates, calendar
    # a GPU's fused attention never holds the scores whole; the CPU's kernel does
    return Step(Attention(batch, tokens, int(model.n_heads), *layers, scores=not on_gpu,
                          dropout=float(model.dropout) > 0 and not on_gpu),
                1, "read fewer variates (dataset.columns, features=S)")


def estimate(cfg: Any, series: Series, borders: Borders, on_gpu: bool = False
             ) -> tuple[Step, int] | None:
    """The :class:`Step` of a run of ``cfg`` on ``series`` (its batches no larger than the
    windows of its data) and its :func:`step_bytes`; None for a model other than PatchTST
    and iTransformer."""
    seq_len, pred_len = int(cfg.seq_len), int(cfg.pred_len)
    trained = n_windows(borders.val[1] - borders.train[0], seq_len, pred_len)  # refit's
    scored = max(n_windows(borders[s][1] - borders[s][0], seq_len, pred_len)
                 for s in ("val", "test"))
    n_vars = 1 if cfg.features == "S" else series.values.shape[1]
    n_marks = series.time_features(slice(0, 1)).shape[1]
    step = step_of(cfg, n_vars, n_marks, max(1, min(int(cfg.data.batch_size), trained)),
                   on_gpu)
    if step is None:
        return None
    eval_rows = max(1, min(int(cfg.data.eval_batch_size), scored)) * step.per_window
    return step, step_bytes(step.shape, eval_rows,
                            2 if "16" in str(cfg.trainer.precision) else 4)


def check_step_memory(cfg: Any, series: Series, borders: Borders) -> None:
    """Refuse a PatchTST or iTransformer run whose training step (:func:`estimate`) needs
    more than :data:`MARGIN` times the memory available to it (:func:`available_memory`),
    naming both and what to lower."""
    gpu = _gpu_index(cfg.trainer)
    found = estimate(cfg, series, borders, gpu is not None)
    free = None if found is None else available_memory(gpu)
    if found is None or free is None:
        return
    (step, need), (room, where) = found, free
    if need <= MARGIN * room:
        return
    shape = step.shape
    raise ConfigError(
        "model", f"one training step of {cfg.model.name} needs about {_gib(need)} "
        f"({shape.rows} sequences x {shape.heads} heads x {shape.tokens}^2 attention scores "
        f"in each of {shape.layers} layers, and their activations), more than the "
        f"{_gib(room)} {where}", f"lower data.batch_size, {step.fewer_tokens}, or lower "
        "model.n_heads or model.d_model; or run where more memory is free")


def _gib(size: float) -> str:
    return f"{size / 2**30:.1f} GiB"


def _gpu_index(trainer_cfg: Any) -> int | None:
    """The GPU a run trains on, None on the CPU (or where CUDA is not available)."""
    if str(trainer_cfg.accelerator) not in ("gpu", "cuda") or not torch.cuda.is_available():
        return None
    devices = trainer_cfg.get("devices", 1)
    return int(devices[0]) if isinstance(devices, ListConfig | list) else 0


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


def _cgroup_room() -> int | None:
    """The bytes left under this process's cgroup v2 memory limit; None where unlimited or
    unknown."""
    try:
        line = Path("/proc/self/cgroup").read_text().splitlines()[0]
        group = Path("/sys/fs/cgroup") / line.split("::", 1)[1].lstrip("/")
        limit = (group / "memory.max").read_text().strip()
        used = int((group / "memory.current").read_text())
    except (OSError, IndexError, ValueError):
        return None
    return None if limit == "max" else int(limit) - used
