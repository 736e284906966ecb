"""``tsbench-report DIR...``: a results table of every finished run under DIRs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tsbench.report.collect import aggregate, find_runs
from tsbench.report.table import FORMATS, render, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tsbench-report",
        description="Mean ± std over seeds of every finished run under the given "
                    "run/multirun directories, beside the published numbers.")
    parser.add_argument("dirs", nargs="+", type=Path, help="run or multirun directories")
    parser.add_argument("--format", choices=FORMATS, default="markdown")
    parser.add_argument("--metric", choices=("mse", "mae"), default="mse")
    args = parser.parse_args(argv)
    missing = [str(d) for d in args.dirs if not d.is_dir()]
    if missing:
        print(f"tsbench-report: error: not a directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    runs = find_runs(args.dirs)
    if not runs:
        print("tsbench-report: error: no finished run (metrics.json + config.yaml) under "
              f"{', '.join(map(str, args.dirs))}", file=sys.stderr)
        return 2
    sys.stdout.write(render(rows(aggregate(runs), args.metric), args.format, args.metric))
    return 0


def entry() -> None:
    sys.exit(main())
