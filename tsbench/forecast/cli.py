"""``tsbench-forecast RUN_DIR``: a finished run's forecast of the steps after its data's
last row, or of every window of a scored split beside the actual values, as CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tsbench.atomic import write_text
from tsbench.errors import TsbenchError
from tsbench.forecast.tables import future, windows
from tsbench.quiet import quiet_dependencies
from tsbench.rundir import METRICS, load_run

PROG = "tsbench-forecast"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Forecasts of a finished tsbench run, in original units, as CSV: "
                    "'future' (default) the pred_len steps after the data's last row, one "
                    "row per date; 'val' or 'test' every window of that split, one row per "
                    "window, step and channel, beside the actual value.")
    p.add_argument("run", type=Path, help="a finished run's directory (it has metrics.json)")
    p.add_argument("--split", choices=("future", "val", "test"), default="future")
    p.add_argument("-o", "--output", type=Path, help="write the CSV here (default: stdout)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        run = load_run(args.run)
    except OSError:
        return _error(f"{args.run} is not a finished run (no {METRICS}) -> give the folder "
                      "of a run that ended, e.g. outputs/runs/<date>/<time>")
    try:
        table = future(run) if args.split == "future" else windows(run, args.split)
    except (TsbenchError, ValueError, FileNotFoundError) as error:
        return _error(str(error))
    text = table.to_csv(index=args.split == "future")
    if args.output:
        write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _error(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def entry() -> None:
    quiet_dependencies()
    sys.exit(main())
