"""Training and evaluation throughput: tsbench's loop vs a plain PyTorch loop, one run.

For each configuration (the paper settings of ``conf/experiment/``, ETTh1, pred_len 96),
two loops train the same model class on the same ETTh1 windows:

- ``tsbench``: the real path of ``tsbench`` runs: :class:`ForecastData` (a batch is one
  gather), :class:`ForecastModule` under ``pl.Trainer`` with the run's trainer settings
  (no validation, checkpoints or logger during the timed epoch), then
  :func:`tsbench.training.evaluate.evaluate` on the test split (inference mode, batch
  ``data.eval_batch_size``).
- ``plain``: what a hand-written PyTorch script does: a per-window ``Dataset`` (numpy
  slices) + ``DataLoader`` (shuffled, ``--workers`` processes), the same model class and
  weights run through standard PyTorch layers (tsbench's fast dropout, oneDNN linear and
  attention core swapped for ``nn.Dropout``, ``nn.Linear`` and attention as composed ops /
  ``scaled_dot_product_attention``; iTransformer's last layer encodes all tokens, as the
  official model does, where tsbench skips the calendar tokens' unused outputs),
  ``torch.optim.Adam`` with default options, and
  ``zero_grad / backward / step``; evaluation under ``torch.no_grad()`` with the
  training batch size (as TSLib does).

Training windows/s are timed over the batches after ``--warmup`` batches (by default the
rest of one epoch); seconds per epoch = training windows / that rate. Evaluation windows/s
time one pass over the test split after a pass over the validation split. Each loop of each
configuration runs in its own subprocess, so peak RSS (``ru_maxrss``) is its own;
``other`` is the average number of cores that other processes used meanwhile (keep runs
with other ~ 0). ``--repeat`` runs alternate the loops; the table shows the best rate and
the largest peak RSS.

    TSBENCH_DATA_DIR=... python benchmarks/throughput.py
    python benchmarks/throughput.py --configs patchtst42 --steps 20 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import types
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from hydra import compose as hydra_compose
from hydra import initialize_config_module
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset

from tsbench.data.loading import load_series
from tsbench.data.splits import benchmark_borders
from tsbench.models.build import build_model
from tsbench.models.layers.attention import EncoderLayer, MultiHeadAttention
from tsbench.models.layers.dropout import Dropout
from tsbench.models.layers.linear import Linear
from tsbench.quiet import quiet_dependencies
from tsbench.training.allocator import keep_freed_memory, skip_deterministic_fill
from tsbench.training.evaluate import evaluate
from tsbench.training.module import ForecastModule
from tsbench.training.schedules import scaled_lr
from tsbench.training.threads import apply_threads
from tsbench.training.train_and_score import make_data

CONFIGS = {
    "patchtst42": ("PatchTST/42 ETTh1-96 (L 336, B 128)", ["experiment=patchtst42_etth1"]),
    "itransformer": ("iTransformer ETTh1-96 (L 96, B 32)", ["experiment=itransformer_etth1"]),
    "dlinear": ("DLinear ETTh1-96 (L 336, B 32)", ["experiment=dlinear_etth1"]),
}
LOOPS = ("tsbench", "plain")
MARK = "THROUGHPUT "


def compose(name: str, extra: list[str]) -> Any:
    overrides = [*CONFIGS[name][1], "pred_len=96", "trainer.progress_bar=false", *extra]
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        return hydra_compose("config", overrides=overrides)


class Clock:
    """Times batches ``warmup`` .. end and counts their windows."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start = self.end = self.cpu_start = self.cpu_end = 0.0
        self.windows = 0

    def batch_start(self, index: int) -> None:
        if index == self.warmup:
            self.start, self.cpu_start = time.perf_counter(), time.process_time()

    def batch_end(self, index: int, size: int) -> None:
        if index >= self.warmup:
            self.windows += size
            self.end, self.cpu_end = time.perf_counter(), time.process_time()

    def result(self) -> dict[str, float]:
        """Windows per second of wall time, and CPU seconds (all threads) per window."""
        return {"train": self.windows / (self.end - self.start),
                "cpu": (self.cpu_end - self.cpu_start) / self.windows}


def setup(cfg: Any) -> tuple[Any, dict[str, tuple[int, int]], Any]:
    """The ETTh1 series, its benchmark split and a fresh model, as ``tsbench`` runs build them."""
    series = load_series(cfg.dataset)
    borders = benchmark_borders(len(series.values), series.split, int(cfg.seq_len),
                                series.train_frac, series.test_frac)
    ranges = {"train": borders.train, "val": borders.val, "test": borders.test}
    n_marks = series.time_features(slice(0, 1)).shape[1]
    model = build_model(cfg.model, int(cfg.seq_len), int(cfg.pred_len), series.values.shape[1],
                        n_marks)
    return series, ranges, model


def measure_tsbench(cfg: Any, warmup: int, steps: int | None) -> dict[str, float]:
    apply_threads(cfg.trainer.num_threads)
    keep_freed_memory()  # as tsbench.training.run.run does
    skip_deterministic_fill()
    pl.seed_everything(int(cfg.seed), verbose=False)
    series, ranges, model = setup(cfg)
    data = make_data(cfg, series, ranges, with_marks=model.uses_time_features)
    if bool(cfg.model.get("compile", False)):
        model.compile()
    batches = len(data.train_dataloader())
    module = ForecastModule(model, cfg.optim, scaled_lr(cfg.optim, data.batch_size),
                            data.target_dims, batches, 1, cfg.trainer.gradient_clip_val)
    clock = Clock(warmup)

    class Timer(pl.Callback):
        def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, i: int) -> None:
            clock.batch_start(i)

        def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any,
                               i: int) -> None:
            clock.batch_end(i, batch[0].shape[0])

    trainer_cfg = cfg.trainer
    trainer = pl.Trainer(
        accelerator=str(trainer_cfg.accelerator), devices=1, precision=trainer_cfg.precision,
        max_epochs=1,
        deterministic=bool(trainer_cfg.deterministic), callbacks=[Timer()], logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        num_sanity_val_steps=0, limit_val_batches=0,
        limit_train_batches=batches if steps is None else min(batches, warmup + steps),
    )
    trainer.fit(module, train_dataloaders=data.train_dataloader())
    evaluate(model, data, "val")
    start = time.perf_counter()
    scores = evaluate(model, data, "test")
    eval_rate = scores["n_windows"] / (time.perf_counter() - start)
    return {**clock.result(), "eval": eval_rate, "n_train": len(data.windows("train"))}


def standard_attention(self: MultiHeadAttention, x: torch.Tensor,
                       prev_scores: torch.Tensor | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``MultiHeadAttention.forward`` in standard PyTorch ops (as in the official models)."""
    batch, tokens, d_model = x.shape
    qkv = self.qkv(x).view(batch, tokens, 3, self.n_heads, self.head_dim)
    q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
    p = self.attn_dropout if self.training else 0.0
    scores = None
    if self.res_attention:
        scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale
        if prev_scores is not None:
            scores = scores + prev_scores
        out = torch.matmul(F.dropout(torch.softmax(scores, dim=-1), p, self.training), v)
    else:
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=p, scale=self.scale)
    out = out.transpose(1, 2).reshape(batch, q.shape[2], d_model)
    return self.proj_dropout(self.out(out)), scores


def standard_encoder_layer(self: EncoderLayer, x: torch.Tensor,
                           prev_scores: torch.Tensor | None = None, queries: int | None = None
                           ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``EncoderLayer.forward`` as in the official models: every token is encoded, and the
    outputs past ``queries`` (iTransformer's calendar tokens) are dropped afterwards."""
    out, scores = self.attn(x, prev_scores)
    x = self.norm1(x + self.dropout(out))
    x = self.norm2(x + self.dropout(self.ff(x)))
    return x[:, :queries], scores


def standard_layers(model: nn.Module) -> None:
    """Swap tsbench's fast layers in ``model`` for standard PyTorch ones (same weights)."""
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, Dropout):
                setattr(module, name, nn.Dropout(child.p))
            elif isinstance(child, Linear):
                plain = nn.Linear(child.in_features, child.out_features, child.bias is not None)
                plain.load_state_dict(child.state_dict())
                setattr(module, name, plain)
        if isinstance(module, MultiHeadAttention):
            module.forward = types.MethodType(standard_attention, module)
        elif isinstance(module, EncoderLayer):
            module.forward = types.MethodType(standard_encoder_layer, module)


class WindowDataset(Dataset):
    """Window ``i``: rows ``[i, i+L)`` in, ``[i+L, i+L+H)`` out, sliced per item."""

    def __init__(self, values: np.ndarray, marks: np.ndarray, seq_len: int, pred_len: int
                 ) -> None:
        self.values, self.marks = values, marks
        self.seq_len, self.pred_len = seq_len, pred_len

    def __len__(self) -> int:
        return len(self.values) - self.seq_len - self.pred_len + 1

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mid, end = i + self.seq_len, i + self.seq_len + self.pred_len
        return self.values[i:mid], self.values[mid:end], self.marks[i:mid]


def measure_plain(cfg: Any, warmup: int, steps: int | None, workers: int) -> dict[str, float]:
    apply_threads(cfg.trainer.num_threads)
    torch.manual_seed(int(cfg.seed))
    series, ranges, model = setup(cfg)
    standard_layers(model)
    uses_marks = model.uses_time_features
    data = make_data(cfg, series, ranges, with_marks=uses_marks)  # the same scaled splits

    def loader(split: str, shuffle: bool) -> DataLoader:
        windows = data.windows(split)
        values = windows.values.numpy()
        marks = windows.marks.numpy() if uses_marks else np.zeros((len(values), 0), np.float32)
        dataset = WindowDataset(values, marks, int(cfg.seq_len), int(cfg.pred_len))
        return DataLoader(dataset, batch_size=data.batch_size, shuffle=shuffle,
                          num_workers=workers)

    optimizer = torch.optim.Adam(model.parameters(), lr=float(cfg.optim.lr))
    clock = Clock(warmup)
    model.train()
    for i, (x, y, marks) in enumerate(loader("train", shuffle=True)):
        if steps is not None and i == warmup + steps:
            break
        clock.batch_start(i)
        optimizer.zero_grad()
        loss = F.mse_loss(model(x, marks if uses_marks else None), y)
        loss.backward()
        optimizer.step()
        clock.batch_end(i, x.shape[0])

    def test_pass(split: str) -> float:
        model.eval()
        start, windows, sse = time.perf_counter(), 0, 0.0
        with torch.no_grad():
            for x, y, marks in loader(split, shuffle=False):
                sse += float(((model(x, marks if uses_marks else None) - y) ** 2).sum())
                windows += x.shape[0]
        return windows / (time.perf_counter() - start)

    test_pass("val")
    return {**clock.result(), "eval": test_pass("test"), "n_train": len(data.windows("train"))}


def worker(args: argparse.Namespace) -> None:
    quiet_dependencies()
    cfg = compose(args.worker, args.override)
    if args.loop == "tsbench":
        result = measure_tsbench(cfg, args.warmup, args.steps)
    else:
        result = measure_plain(cfg, args.warmup, args.steps, args.workers)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["threads"] = torch.get_num_threads()
    print(MARK + json.dumps(result), flush=True)


def busy_seconds() -> float:
    """CPU seconds all processes on the machine have used (from /proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    idle = int(fields[3]) + int(fields[4])
    return (sum(int(f) for f in fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run_worker(name: str, loop: str, args: argparse.Namespace) -> dict[str, float]:
    command = [sys.executable, __file__, "--worker", name, "--loop", loop,
               "--warmup", str(args.warmup), "--workers", str(args.workers)]
    if args.steps is not None:
        command += ["--steps", str(args.steps)]
    for override in args.override:
        command += ["--override", override]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy, start = busy_seconds(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    if done.returncode != 0 or not lines:
        sys.exit(f"{name}/{loop} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    result = json.loads(lines[-1][len(MARK):])
    result["other"] = max(0.0, (busy_seconds() - busy - own) / wall)
    return result


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    cores = len(os.sched_getaffinity(0))
    return (f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {model}, {cores} cores; "
            f"Python {platform.python_version()}, torch {torch.__version__}; "
            f"load average {os.getloadavg()[0]:.2f} at start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help=f"comma-separated, from {', '.join(CONFIGS)}")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed training steps (default: the rest of one epoch)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed first training steps")
    parser.add_argument("--repeat", type=int, default=2, help="runs per loop; best is shown")
    parser.add_argument("--workers", type=int, default=0, help="plain DataLoader workers")
    parser.add_argument("--override", action="append", default=[],
                        help="extra Hydra override for both loops, e.g. trainer.num_threads=1")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--loop", choices=LOOPS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    names = args.configs.split(",")
    unknown = sorted(set(names) - set(CONFIGS))
    if unknown:
        parser.error(f"unknown configs {unknown}; use {', '.join(CONFIGS)}")
    print(f"Machine: {machine()}\n")
    print("| config | loop | train windows/s | eval windows/s | s/epoch | CPU s/epoch "
          "| peak RSS MB | other |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name in names:
        runs: dict[str, list[dict[str, float]]] = {loop: [] for loop in LOOPS}
        for _ in range(args.repeat):
            for loop in LOOPS:
                runs[loop].append(run_worker(name, loop, args))
        best = {}
        for loop in LOOPS:
            rs = runs[loop]
            best[loop] = {
                "train": max(r["train"] for r in rs), "eval": max(r["eval"] for r in rs),
                "cpu": min(r["cpu"] for r in rs), "peak_mb": max(r["peak_mb"] for r in rs),
                "other": sum(r["other"] for r in rs) / len(rs),
            }
            b = best[loop]
            print(f"| {CONFIGS[name][0]} | {loop} | {b['train']:,.0f} | {b['eval']:,.0f} | "
                  f"{rs[0]['n_train'] / b['train']:.1f} | {rs[0]['n_train'] * b['cpu']:.1f} | "
                  f"{b['peak_mb']:,.0f} | "
                  f"{b['other']:.2f} |", flush=True)
        ours, plain = best["tsbench"], best["plain"]
        train, evaluation = ours["train"] / plain["train"], ours["eval"] / plain["eval"]
        print(f"| {CONFIGS[name][0]} | **tsbench / plain** | **{train:.2f}x** | "
              f"**{evaluation:.2f}x** | | | | |", flush=True)


if __name__ == "__main__":
    main()
