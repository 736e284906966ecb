"""The memory estimate of :mod:`tsbench.training.step_memory` against the peak RSS of real
runs: each configuration trains two batches and scores the validation split in its own
``tsbench`` process, and its peak RSS less that of the same command with a tiny look-back
and small batches (the process, the data and a small model) is what its training step
took.

    python benchmarks/step_memory.py [WORD ...]

runs the cases whose label holds one of the words (all without), about a minute each, and
uses up to ~7 GB of RAM (one run at a time). The estimate should stay below the measured
step (ratio < 1), so that a run it refuses could not have fitted; the ``fast_kernels=false``
cases attend through ``scaled_dot_product_attention`` (without dropout its flash kernel,
which holds no scores; with it, the math backend).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

from hydra import compose, initialize_config_module

from tsbench.data.loading import load_series
from tsbench.data.splits import benchmark_borders
from tsbench.training.step_memory import estimate

PRED_LEN, TRAIN_BATCHES = 96, 2
#: (label, overrides): the estimate's terms in different proportions.
CASES = [
    ("patchtst seq_len=1024 batch=128", ["model=patchtst", "seq_len=1024",
                                         "data.batch_size=128"]),
    ("patchtst seq_len=2048 batch=64", ["model=patchtst", "seq_len=2048",
                                        "data.batch_size=64"]),
    ("patchtst seq_len=1024 attn_dropout=0.1", ["model=patchtst", "seq_len=1024",
                                                "data.batch_size=128",
                                                "model.attn_dropout=0.1"]),
    ("itransformer 200 variates batch=128", ["model=itransformer", "seq_len=96",
                                             "data.batch_size=128", "dataset.n_vars=200"]),
    ("itransformer 200 variates dropout=0", ["model=itransformer", "seq_len=96",
                                             "data.batch_size=128", "dataset.n_vars=200",
                                             "model.dropout=0.0"]),
    ("itransformer 200 variates n_heads=1", ["model=itransformer", "seq_len=96",
                                             "data.batch_size=128", "dataset.n_vars=200",
                                             "model.n_heads=1"]),
    ("itransformer 400 variates batch=128", ["model=itransformer", "seq_len=96",
                                             "data.batch_size=128", "dataset.n_vars=400"]),
    ("itransformer 400 variates dropout=0", ["model=itransformer", "seq_len=96",
                                             "data.batch_size=128", "dataset.n_vars=400",
                                             "model.dropout=0.0"]),
    ("itransformer 400 variates dropout=0 fast_kernels=false",
     ["model=itransformer", "seq_len=96", "data.batch_size=128", "dataset.n_vars=400",
      "model.dropout=0.0", "trainer.fast_kernels=false"]),
    ("itransformer 400 variates dropout=0 fast_kernels=false d_ff=1024",
     ["model=itransformer", "seq_len=96", "data.batch_size=128", "dataset.n_vars=400",
      "model.dropout=0.0", "trainer.fast_kernels=false", "model.d_ff=1024"]),
    ("itransformer 400 variates fast_kernels=false",
     ["model=itransformer", "seq_len=96", "data.batch_size=128", "dataset.n_vars=400",
      "trainer.fast_kernels=false"]),
    ("patchtst seq_len=1024 res_attention=false fast_kernels=false",
     ["model=patchtst", "seq_len=1024", "data.batch_size=128", "model.res_attention=false",
      "trainer.fast_kernels=false"]),
    ("patchtst seq_len=1024 res_attention=false fast_kernels=false dropout=0",
     ["model=patchtst", "seq_len=1024", "data.batch_size=128", "model.res_attention=false",
      "trainer.fast_kernels=false", "model.dropout=0.0"]),
]
#: The tiny look-back and batches each case's baseline runs with (iTransformer's tokens are
#: its variates whatever the look-back: only small batches keep its scores small).
TINY = ["seq_len=32", "data.batch_size=8", "data.eval_batch_size=8"]


def command(overrides: list[str]) -> list[str]:
    """The case's overrides on a synthetic series long enough for its batches."""
    settings = dict(o.split("=", 1) for o in overrides)
    batch, seq_len = int(settings["data.batch_size"]), int(settings["seq_len"])
    rows = max(int((seq_len + PRED_LEN + TRAIN_BATCHES * batch + 8) / 0.7),
               10 * (PRED_LEN + batch)) + 1  # 70 % train, 10 % validation
    return ["dataset=synthetic", "dataset.n_vars=7", f"dataset.n_rows={rows}",
            f"pred_len={PRED_LEN}", "trainer.max_epochs=1",
            f"trainer.limit_train_batches={TRAIN_BATCHES}", "trainer.progress_bar=false",
            "trainer.patience=0", "logger=none", "score_test=false", *overrides,
            f"data.eval_batch_size={batch}"]


def peak_rss(args: list[str]) -> int:
    """The peak RSS in bytes of ``python -m tsbench args`` (its own process)."""
    with tempfile.TemporaryDirectory() as folder:
        proc = subprocess.Popen([sys.executable, "-m", "tsbench", *args,
                                 f"hydra.run.dir={folder}/run"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env={**os.environ, "OMP_NUM_THREADS": "2"})
        _, status, usage = os.wait4(proc.pid, 0)
        if status != 0:
            raise SystemExit(f"tsbench {' '.join(args)} failed:\n{proc.stderr.read().decode()}")
        return usage.ru_maxrss * 1024


def estimated(args: list[str]) -> int:
    """The check's own estimate of the command's step."""
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=args)
    series = load_series(cfg.dataset)
    borders = benchmark_borders(len(series.values), series.split, int(cfg.seq_len),
                                series.train_frac, series.test_frac)
    return estimate(cfg, series, borders)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description="The step memory estimate against the "
                                     "peak RSS of real runs, one table row per case.")
    parser.add_argument("words", nargs="*", metavar="WORD",
                        help="run only the cases whose label holds one of these words "
                             "(e.g. patchtst, 'n_heads=1'); all cases without")
    words = parser.parse_args().words
    print("| case | estimate (GiB) | measured step (GiB) | estimate / measured |")
    print("| --- | --- | --- | --- |")
    for label, overrides in CASES:
        if words and not any(word in label for word in words):
            continue
        args = command(overrides)
        base = [*[a for a in args if a.split("=")[0] not in ("seq_len", "data.batch_size",
                                                             "data.eval_batch_size")], *TINY]
        measured = peak_rss(args) - peak_rss(base)
        guess = estimated(args)
        print(f"| {label} | {guess / 2**30:.2f} | {measured / 2**30:.2f} | "
              f"{guess / measured:.2f} |", flush=True)


if __name__ == "__main__":
    main()
