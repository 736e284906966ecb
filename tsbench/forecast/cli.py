"""``tsbench-forecast RUN_DIR``: a finished run's forecast of the steps after its data's
last row, or of every window of a scored split beside the actual values, as CSV; of a
finished ``tsbench-tune`` folder, its ensemble's forecast of those steps."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import ModuleType

from tsbench.atomic import write_text
from tsbench.errors import TsbenchError
from tsbench.quiet import quiet_dependencies
from tsbench.rundir import METRICS, load_run
from tsbench.tune.report import SUMMARY_FILE
from tsbench.tune.state import STATE_FILE

PROG = "tsbench-forecast"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Forecasts of a finished tsbench run, in original units, as CSV: "
                    "'future' (default) the pred_len steps after the data's last row, one "
                    "row per date; 'val' or 'test' every window of that split, one row per "
                    "window, step and channel, beside the actual value.")
    p.add_argument("run", type=Path, help="a finished run's directory (it has metrics.json), "
                                          "or a finished tsbench-tune folder")
    p.add_argument("--split", choices=("future", "val", "test"), default="future")
    p.add_argument("-o", "--output", type=Path, help="write the CSV here (default: stdout)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.output is not None and args.output.is_dir():
        return _error(f"-o {args.output} is a folder -> give the CSV file to write, e.g. "
                      f"{args.output / 'forecast.csv'}")
    from tsbench.forecast import tables  # torch and Lightning: not for --help

    if (args.run / STATE_FILE).is_file():
        return _tuned(args, tables)
    try:
        run = load_run(args.run)
    except OSError:
        jobs = sorted((p for p in args.run.glob(f"*/{METRICS}")), key=_job_order)
        if jobs:  # a multirun's folder: its jobs are the runs
            named = ", ".join(str(p.parent) for p in jobs[:3]) + (", ..." if len(jobs) > 3
                                                                  else "")
            return _error(f"{args.run} is a multirun's folder, not a run -> give one of its "
                          f"{len(jobs)} finished job folders: {named}")
        return _error(f"{args.run} is not a finished run (no {METRICS}) -> give the folder "
                      "of a run that ended, e.g. outputs/runs/<date>/<time>")
    try:
        table = (tables.future(run) if args.split == "future"
                 else tables.windows(run, args.split))
    except (TsbenchError, ValueError, FileNotFoundError) as error:
        return _error(str(error))
    _write(table.to_csv(index=args.split == "future", float_format=DIGITS), args.output)
    return 0


def _job_order(metrics: Path) -> tuple[int, str]:
    """Hydra's job folders 0, 1, ..., 10 in number order (other names after them)."""
    name = metrics.parent.name
    return (int(name), "") if name.isdigit() else (1 << 30, name)


#: The CSV's numbers: 7 significant digits, a float32's (the models' and the benchmark
#: files' precision): more would print rounding noise (10.114000399018316 for 10.114).
DIGITS = "%.7g"


def _tuned(args: argparse.Namespace, tables: ModuleType) -> int:
    """The forecast of the ensemble a finished tsbench-tune folder ended with."""
    if not (args.run / SUMMARY_FILE).is_file():
        return _error(f"{args.run} is an unfinished tsbench-tune run (no {SUMMARY_FILE} yet) "
                      "-> run the same tsbench-tune command again to finish it")
    if args.split != "future":
        return _error(f"{args.run} is a tsbench-tune folder: it forecasts the future with "
                      f"the ensemble it chose; its test scores are in {SUMMARY_FILE} -> "
                      "--split future, or give one of its runs' folders")
    try:
        table = tables.tuned_future(args.run)
    except (TsbenchError, ValueError, FileNotFoundError) as error:
        return _error(str(error))
    _write(table.to_csv(float_format=DIGITS), args.output)
    return 0


def _write(text: str, output: Path | None) -> None:
    if output:
        write_text(output, text)
    else:
        sys.stdout.write(text)


def _error(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def entry() -> None:
    quiet_dependencies()
    sys.exit(main())
