"""What the pieces of a training step cost: tsbench's bare step (fixed batch, Adam, no
Lightning) against variants with one piece swapped, in one process.

The host's speed drifts by ±15 % within minutes, so the variants alternate every
``--per`` steps for ``--rounds`` rounds (order reversed every other round) and the figure
is the median over rounds of (current step time / variant step time): above 1, the
variant is faster. Variants:

- ``word masks``: dropout masks as before session 3: ``np.random.PCG64(seed)`` built per
  mask, one 32-bit word per element, thresholded by torch (``ge``/``to``/``mul_``).
- ``fixed bits``: the same thresholding of one fixed set of words per shape, no random
  numbers drawn at all (a bound, not a dropout).
- ``bytes only``: the current byte masks without the extra drops (``p`` then rounds down
  to a multiple of 1/256: a measurement, not a dropout).
- ``torch.var RevIN``: RevIN's scale from ``torch.var`` instead of two passes.
- ``mask per call``: every dropout mask drawn on its own (before session 4) instead of one
  draw per training pass (:class:`tsbench.models.layers.dropout.PassMasks`).

The first three replace the whole mask function, so they also draw each mask on its own.

With ``--profile N``, N more steps of the current code run under torch.profiler and the
ops with the most self CPU time are listed, per step.

    TSBENCH_DATA_DIR=... python benchmarks/step_variants.py --config itransformer
    python benchmarks/step_variants.py --config patchtst42 --per 3 --rounds 10
    python benchmarks/step_variants.py --variants current --profile 20
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import pytorch_lightning as pl
import torch
from throughput import CONFIGS, compose, machine, setup

from tsbench.models.layers import attention, dropout, revin
from tsbench.training.allocator import run_memory
from tsbench.training.module import ForecastModule
from tsbench.training.threads import apply_threads
from tsbench.training.train_and_score import make_data

Noise = Callable[[torch.Tensor, float], torch.Tensor]


def _seed() -> int:
    return int(torch.empty((), dtype=torch.int64).random_())


def _threshold_words(words: np.ndarray, x: torch.Tensor, p: float) -> torch.Tensor:
    """Session 2's thresholding: 32 bits per element, torch's ``ge``/``to``/``mul_``."""
    bits = torch.from_numpy(words.view(np.int32))[: x.numel()].view(x.shape)
    threshold = min(round(p * 2**32), 2**32 - 1) - 2**31
    return bits.ge(threshold).to(x.dtype).mul_(1.0 / (1.0 - p))


def word_masks(x: torch.Tensor, p: float) -> torch.Tensor:
    words = np.random.PCG64(_seed()).random_raw((x.numel() + 1) // 2)
    return _threshold_words(words, x, p)


_FIXED: dict[int, np.ndarray] = {}


def fixed_bits(x: torch.Tensor, p: float) -> torch.Tensor:
    n = x.numel()
    return _threshold_words(_FIXED.setdefault(n, np.random.PCG64(n).random_raw((n + 1) // 2)),
                            x, p)


def bytes_only(x: torch.Tensor, p: float) -> torch.Tensor:
    n = x.numel()
    data = dropout.random_bits((n + 7) // 8, _seed(), torch.get_num_threads())
    keep = data.view(np.uint8)[:n] >= int(p * 256)
    noise = np.multiply(keep, np.float32(1.0 / (1.0 - p)), dtype=np.float32)
    return torch.from_numpy(noise).view(x.shape)


def var_normalize(self: revin.RevIN, x: torch.Tensor) -> torch.Tensor:
    x_detached = x.detach()
    mean = x_detached.mean(dim=1, keepdim=True)
    self._center = x_detached[:, -1:, :] if self.subtract_last else mean
    self._scale = torch.sqrt(x_detached.var(dim=1, keepdim=True, unbiased=False) + self.eps)
    x = (x - self._center) / self._scale
    return x * self.weight + self.bias if self.affine else x


def own_draw(self: dropout.PassMasks, x: torch.Tensor, p: float) -> torch.Tensor:
    return dropout._flat_noise(x.numel(), p, x.dtype).view(x.shape)


CURRENT = (dropout.dropout_noise, revin.RevIN.normalize, dropout.PassMasks.take)
VARIANTS: dict[str, tuple[Noise, Callable, Callable]] = {
    "current": CURRENT,
    "word masks": (word_masks, CURRENT[1], CURRENT[2]),
    "fixed bits": (fixed_bits, CURRENT[1], CURRENT[2]),
    "bytes only": (bytes_only, CURRENT[1], CURRENT[2]),
    "torch.var RevIN": (CURRENT[0], var_normalize, CURRENT[2]),
    "mask per call": (CURRENT[0], CURRENT[1], own_draw),
}


def use(name: str) -> None:
    noise, normalize, take = VARIANTS[name]
    dropout.dropout_noise = attention.dropout_noise = noise
    revin.RevIN.normalize = normalize
    dropout.PassMasks.take = take


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", choices=sorted(CONFIGS), default="itransformer")
    parser.add_argument("--per", type=int, default=10, help="steps per variant and round")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated; the first is the reference")
    parser.add_argument("--profile", type=int, default=0,
                        help="then profile this many steps of the current code")
    args = parser.parse_args()
    names = args.variants.split(",")
    cfg = compose(args.config, [])
    apply_threads(cfg.trainer.num_threads)
    run_memory(True).__enter__()  # as a run does, for the whole process
    pl.seed_everything(int(cfg.seed), verbose=False)
    series, ranges, model = setup(cfg)
    data = make_data(cfg, series, ranges, with_marks=model.uses_time_features)
    module = ForecastModule(model, cfg.optim, 1e-4, data.target_dims, 10, 1)
    optimizer = module.configure_optimizers()["optimizer"]
    batch = next(iter(data.train_dataloader()))
    model.train()

    def steps(count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            optimizer.zero_grad(set_to_none=True)
            module.training_loss(batch).backward()
            optimizer.step()
        return (time.perf_counter() - start) / count * 1000

    for name in names:  # warm-up
        use(name)
        steps(args.per)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(args.rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            use(name)
            steps(1)
            times[name].append(steps(args.per))
    use("current")
    print(f"Machine: {machine()}\n\n{CONFIGS[args.config][0]}, bare step, "
          f"{torch.get_num_threads()} threads, {args.rounds} rounds of {args.per} steps\n")
    print(f"| variant | median ms/step | {names[0]} / variant (median, quartiles) |")
    print("|---|---:|---:|")
    for name in names:
        ratios = [a / b for a, b in zip(times[names[0]], times[name], strict=True)]
        q1, _, q3 = statistics.quantiles(ratios)
        print(f"| {name} | {statistics.median(times[name]):.2f} | "
              f"{statistics.median(ratios):.3f} ({q1:.3f}–{q3:.3f}) |")
    if args.profile:
        profile_steps(steps, args.profile)


def profile_steps(steps: Callable[[int], float], count: int, rows: int = 12) -> None:
    """Print the ops with the most self CPU time over ``count`` steps, per step."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        ms = steps(count)
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in events) / count / 1000
    print(f"\ntorch.profiler, {count} steps ({ms:.2f} ms a step under the profiler; "
          f"self CPU time {total:.2f} ms a step)\n")
    print("| op | calls a step | self CPU ms a step |")
    print("|---|---:|---:|")
    for event in events[:rows]:
        print(f"| `{event.key}` | {event.count / count:.0f} | "
              f"{event.self_cpu_time_total / count / 1000:.3f} |")


if __name__ == "__main__":
    main()
