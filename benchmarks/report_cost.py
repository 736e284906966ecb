"""What ``tsbench-report`` costs as the run folders it reads grow (100, 500, 1000 folders).

Four real runs are made first (a tiny multirun: DLinear and the naive baseline, seeds 1
and 2, on a generated series); each report folder is a copy of one of them, given a seed
of its own and slightly moved scores with the run's own writers (``config.yaml``:
:func:`tsbench.rundir.write_config`, ``metrics.json``: :func:`tsbench.rundir.write_metrics`),
all in one multirun folder: two cells of n/2 seeds. Then the report over that folder is
timed in this process (``tsbench.report.cli.main``, a markdown report written to a file),
and run again under ``tracemalloc`` for its peak of Python memory.

    python benchmarks/report_cost.py                   # 100, 500, 1000 folders
    python benchmarks/report_cost.py --sizes 500
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from tsbench.report.cli import main as report_main
from tsbench.rundir import HYDRA_CONFIG, read_config, read_metrics, write_config, write_metrics

TINY = ["dataset=synthetic", "dataset.n_rows=600", "seq_len=48", "pred_len=12",
        "trainer=debug", "data.batch_size=32", "logger=none", "plots=false"]


def real_runs(folder: Path) -> list[Path]:
    """Four finished runs made by tsbench itself (DLinear and naive, seeds 1 and 2)."""
    command = [sys.executable, "-m", "tsbench", "-m", *TINY, "model=dlinear,naive",
               "seed=1,2", f"hydra.sweep.dir={folder}"]
    subprocess.run(command, check=True, capture_output=True)
    return sorted(p for p in folder.iterdir() if (p / "metrics.json").is_file())


def report_folders(templates: list[Path], root: Path, n: int) -> Path:
    """``n`` run folders under ``root/sweep``, each a template's copy with a seed of its own
    and its test scores moved by up to 1 %."""
    sweep = root / "sweep"
    rng = np.random.default_rng(0)
    for i in range(n):
        run = sweep / str(i)
        shutil.copytree(templates[i % len(templates)], run)
        config = read_config(run)
        config.seed = 1000 + i
        write_config(run, config)
        (run / HYDRA_CONFIG).write_text(OmegaConf.to_yaml(config))  # Hydra's copy of it
        metrics = read_metrics(run)
        write_metrics(run, {k: v * (1 + 0.01 * rng.random()) if k.startswith("test_")
                            and isinstance(v, float) else v for k, v in metrics.items()})
    return sweep


def timed_report(sweep: Path, out: Path) -> tuple[float, float]:
    """Seconds of one report over ``sweep``, then its peak of Python memory (MiB)."""
    argv = [str(sweep), "-o", str(out)]
    start = time.perf_counter()
    code = report_main(argv)
    seconds = time.perf_counter() - start
    assert code == 0 and out.is_file(), f"tsbench-report exited {code}"
    tracemalloc.start()
    report_main(argv)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[100, 500, 1000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        templates = real_runs(Path(tmp) / "real")
        print(f"{'folders':>8}{'report s':>10}{'per folder ms':>15}{'peak MiB':>10}")
        for n in args.sizes:
            root = Path(tmp) / f"n{n}"
            sweep = report_folders(templates, root, n)
            seconds, peak = timed_report(sweep, root / "report.md")
            print(f"{n:>8}{seconds:>10.2f}{1000 * seconds / n:>15.1f}{peak:>10.1f}",
                  flush=True)
            shutil.rmtree(root)


if __name__ == "__main__":
    main()
