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

``--device cuda`` trains both loops on the first CUDA GPU: tsbench's with ``trainer=gpu``
(pinned batches, non-blocking copies), the plain one moving each batch with ``.to(device)``
as TSLib does. ``--precision bf16`` is ``trainer.precision=bf16-mixed`` for tsbench and the
same autocast in the plain loop (forward and loss under ``torch.autocast(dtype=bfloat16)``,
backward and step outside); ``fp32`` is ``32-true`` and no autocast. Both loops score in
float32 (tsbench always does). ``--compile`` runs ``model.compile()`` in both loops
(``model.compile=true``). On a GPU each timed stretch ends with ``torch.cuda.synchronize``,
and ``peak GPU MB`` is ``torch.cuda.max_memory_allocated``. Without CUDA, ``--device cuda``
exits with status 2 and one line.

    TSBENCH_DATA_DIR=... python benchmarks/throughput.py
    python benchmarks/throughput.py --configs patchtst42 --steps 20 --repeat 3
    python benchmarks/throughput.py --device cuda --precision bf16 --repeat 1
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
from contextlib import nullcontext
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
from tsbench.data.timefeatures import time_features
from tsbench.models.build import build_model
from tsbench.models.layers.attention import EncoderLayer, MultiHeadAttention
from tsbench.models.layers.dropout import Dropout
from tsbench.models.layers.kernels import fast_kernels
from tsbench.models.layers.linear import Linear
from tsbench.quiet import quiet_dependencies
from tsbench.training.allocator import run_memory
from tsbench.training.evaluate import evaluate
from tsbench.training.gpu import trainer_devices
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
#: --precision -> trainer.precision of the tsbench loop.
PRECISION = {"fp32": "32-true", "bf16": "bf16-mixed"}


def run_overrides(args: argparse.Namespace) -> list[str]:
    """Hydra overrides for --device, --precision and --compile (none for the defaults)."""
    extra = ["trainer=gpu"] if args.device == "cuda" else []
    if args.device == "cuda" or args.precision != "fp32":
        extra.append(f"trainer.precision={PRECISION[args.precision]}")
    if args.compile:
        extra.append("model.compile=true")
    return extra


def require_cuda(script: str, device: str) -> None:
    """Exit with status 2 and one line when ``--device cuda`` finds no CUDA GPU."""
    if device == "cuda" and not torch.cuda.is_available():
        print(f"{script}: --device cuda: torch {torch.__version__} finds no CUDA GPU -> run "
              "it on a machine with an NVIDIA GPU and a CUDA build of torch, or use "
              "--device cpu", file=sys.stderr)
        sys.exit(2)


def synchronize(device: torch.device) -> None:
    """Wait for the GPU's queued work (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def compose(name: str, extra: list[str]) -> Any:
    overrides = [*CONFIGS[name][1], "pred_len=96", "trainer.progress_bar=false", *extra]
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        return hydra_compose("config", overrides=overrides)


class Clock:
    """Times batches ``warmup`` .. end and counts their windows. On a GPU, where steps are
    queued, the clock starts after a synchronize and :meth:`finish` stops it after one."""

    def __init__(self, warmup: int, device: torch.device) -> None:
        self.warmup = warmup
        self.device = device
        self.start = self.end = self.cpu_start = self.cpu_end = 0.0
        self.windows = 0

    def batch_start(self, index: int) -> None:
        if index == self.warmup:
            synchronize(self.device)
            self.start, self.cpu_start = time.perf_counter(), time.process_time()

    def batch_end(self, index: int, size: int) -> None:
        if index >= self.warmup:
            self.windows += size
            if self.device.type == "cpu":
                self.end, self.cpu_end = time.perf_counter(), time.process_time()

    def finish(self) -> None:
        """After the last timed batch: on a GPU, stop the clock once its steps have run."""
        if self.device.type != "cpu" and self.windows:
            synchronize(self.device)
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
    n_marks = time_features(series.dates[:1], series.freq).shape[1]
    model = build_model(cfg.model, int(cfg.seq_len), int(cfg.pred_len), series.values.shape[1],
                        n_marks)
    return series, ranges, model


def measure_tsbench(cfg: Any, warmup: int, steps: int | None, device: torch.device
                    ) -> dict[str, float]:
    fast = bool(cfg.trainer.fast_kernels)
    with fast_kernels(fast), run_memory(fast):  # as tsbench.training.run.run does
        return _measure_tsbench(cfg, warmup, steps, device)


def _measure_tsbench(cfg: Any, warmup: int, steps: int | None, device: torch.device
                     ) -> dict[str, float]:
    apply_threads(cfg.trainer.num_threads)
    pl.seed_everything(int(cfg.seed), verbose=False)
    series, ranges, model = setup(cfg)
    data = make_data(cfg, series, ranges, with_marks=model.uses_time_features)
    if bool(cfg.model.get("compile", False)):
        model.compile()
    batches = len(data.train_dataloader())
    module = ForecastModule(model, cfg.optim, scaled_lr(cfg.optim, data.batch_size),
                            data.target_dims, batches, 1, cfg.trainer.gradient_clip_val,
                            "mixed" in str(cfg.trainer.precision))
    clock = Clock(warmup, device)

    class Timer(pl.Callback):
        def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, i: int) -> None:
            clock.batch_start(i)

        def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any,
                               i: int) -> None:
            clock.batch_end(i, batch[0].shape[0])

        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            clock.finish()

    trainer_cfg = cfg.trainer
    trainer = pl.Trainer(
        accelerator=str(trainer_cfg.accelerator), devices=trainer_devices(trainer_cfg),
        precision=trainer_cfg.precision,
        max_epochs=1,
        deterministic=bool(trainer_cfg.deterministic), callbacks=[Timer()], logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        num_sanity_val_steps=0, limit_val_batches=0,
        limit_train_batches=batches if steps is None else min(batches, warmup + steps),
    )
    trainer.fit(module, train_dataloaders=data.train_dataloader())
    model.to(trainer.strategy.root_device)  # scored where it trained, as in fit.train
    evaluate(model, data, "val")
    synchronize(device)
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


def measure_plain(cfg: Any, warmup: int, steps: int | None, workers: int, device: torch.device,
                  precision: str) -> dict[str, float]:
    apply_threads(cfg.trainer.num_threads)
    torch.manual_seed(int(cfg.seed))
    series, ranges, model = setup(cfg)
    standard_layers(model)
    model.to(device)
    if bool(cfg.model.get("compile", False)):
        model.compile()
    uses_marks = model.uses_time_features
    data = make_data(cfg, series, ranges, with_marks=uses_marks)  # the same scaled splits

    def loader(split: str, shuffle: bool) -> DataLoader:
        windows = data.windows(split)
        values = windows.values.numpy()
        marks = windows.marks.numpy() if uses_marks else np.zeros((len(values), 0), np.float32)
        dataset = WindowDataset(values, marks, int(cfg.seq_len), int(cfg.pred_len))
        return DataLoader(dataset, batch_size=data.batch_size, shuffle=shuffle,
                          num_workers=workers)

    def autocast() -> Any:  # forward and loss only, as Lightning's bf16-mixed
        if precision == "bf16":
            return torch.autocast(device.type, dtype=torch.bfloat16)
        return nullcontext()

    optimizer = torch.optim.Adam(model.parameters(), lr=float(cfg.optim.lr))
    clock = Clock(warmup, device)
    model.train()
    for i, (x, y, marks) in enumerate(loader("train", shuffle=True)):
        if steps is not None and i == warmup + steps:
            break
        clock.batch_start(i)
        x, y, marks = x.to(device), y.to(device), marks.to(device)
        optimizer.zero_grad()
        with autocast():
            loss = F.mse_loss(model(x, marks if uses_marks else None), y)
        loss.backward()
        optimizer.step()
        clock.batch_end(i, x.shape[0])
    clock.finish()

    def test_pass(split: str) -> float:
        model.eval()
        start, windows, sse = time.perf_counter(), 0, 0.0
        with torch.no_grad():
            for x, y, marks in loader(split, shuffle=False):
                x, y, marks = x.to(device), y.to(device), marks.to(device)
                sse += float(((model(x, marks if uses_marks else None) - y) ** 2).sum())
                windows += x.shape[0]
        return windows / (time.perf_counter() - start)

    test_pass("val")
    return {**clock.result(), "eval": test_pass("test"), "n_train": len(data.windows("train"))}


def worker(args: argparse.Namespace) -> None:
    quiet_dependencies()
    cfg = compose(args.worker, [*run_overrides(args), *args.override])
    device = torch.device(args.device)
    if args.loop == "tsbench":
        result = measure_tsbench(cfg, args.warmup, args.steps, device)
    else:
        result = measure_plain(cfg, args.warmup, args.steps, args.workers, device,
                               args.precision)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if device.type == "cuda":
        result["peak_gpu_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    result["threads"] = torch.get_num_threads()
    print(MARK + json.dumps(result), flush=True)


def busy_seconds() -> float:
    """CPU seconds all processes on the machine have used (from /proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    idle = int(fields[3]) + int(fields[4])
    return (sum(int(f) for f in fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run_worker(name: str, loop: str, args: argparse.Namespace) -> dict[str, float]:
    command = [sys.executable, __file__, "--worker", name, "--loop", loop,
               "--warmup", str(args.warmup), "--workers", str(args.workers),
               "--device", args.device, "--precision", args.precision]
    if args.compile:
        command.append("--compile")
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


def gpu() -> str:
    """The first CUDA GPU: name, memory, driver, and the CUDA version torch was built with."""
    props = torch.cuda.get_device_properties(0)
    try:
        query = ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader", "-i", "0"]
        driver = subprocess.run(query, capture_output=True, text=True, check=True).stdout.split()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        driver = "unknown"
    return (f"GPU {props.name} ({props.total_memory / 2**30:.0f} GiB), driver {driver}, "
            f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")


def machine(device: str = "cpu") -> str:
    model = platform.processor() or "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    cores = len(os.sched_getaffinity(0))
    return (f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {model}, {cores} cores; "
            f"Python {platform.python_version()}, torch {torch.__version__}; "
            + (f"{gpu()}; " if device == "cuda" else "")
            + f"load average {os.getloadavg()[0]:.2f} at start")


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
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="train and score on the CPU or the first CUDA GPU (trainer=gpu)")
    parser.add_argument("--precision", choices=tuple(PRECISION), default="fp32",
                        help="bf16: trainer.precision=bf16-mixed, and autocast in the plain loop")
    parser.add_argument("--compile", action="store_true", help="model.compile() in both loops")
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
    require_cuda("throughput.py", args.device)
    print(f"Machine: {machine(args.device)}\n")
    on_gpu = args.device == "cuda"
    if on_gpu or args.precision != "fp32" or args.compile:
        print(f"Settings: --device {args.device} --precision {args.precision}, model.compile "
              f"{'on' if args.compile else 'off'}; tsbench overrides: "
              f"{' '.join(run_overrides(args))}\n")
    print("| config | loop | train windows/s | eval windows/s | s/epoch | CPU s/epoch "
          "| peak RSS MB |" + (" peak GPU MB |" if on_gpu else "") + " other |")
    print("|---|---|---:|---:|---:|---:|---:|" + ("---:|" if on_gpu else "") + "---:|")
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
            gpu_mb = f"{max(r['peak_gpu_mb'] for r in rs):,.0f} | " if on_gpu else ""
            print(f"| {CONFIGS[name][0]} | {loop} | {b['train']:,.0f} | {b['eval']:,.0f} | "
                  f"{rs[0]['n_train'] / b['train']:.1f} | {rs[0]['n_train'] * b['cpu']:.1f} | "
                  f"{b['peak_mb']:,.0f} | {gpu_mb}"
                  f"{b['other']:.2f} |", flush=True)
        ours, plain = best["tsbench"], best["plain"]
        train, evaluation = ours["train"] / plain["train"], ours["eval"] / plain["eval"]
        print(f"| {CONFIGS[name][0]} | **tsbench / plain** | **{train:.2f}x** | "
              f"**{evaluation:.2f}x** | | | |" + (" |" if on_gpu else "") + " |", flush=True)


if __name__ == "__main__":
    main()
