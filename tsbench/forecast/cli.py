"""``tsbench-forecast RUN_DIR``: a finished run's forecast of the steps after its data's
last row, or of every window of a scored split beside the actual values, as CSV; of a
finished ``tsbench-tune`` folder, its ensemble's forecast of those steps."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from tsbench.atomic import write_text
from tsbench.closed_stdout import quiet_when_stdout_closes
from tsbench.counted import counted
from tsbench.errors import TsbenchError
from tsbench.forecast.intervals import parse_levels
from tsbench.log_lines import RunLines
from tsbench.one_line_parser import OneLineParser
from tsbench.output_guard import check_output
from tsbench.quiet import quiet_dependencies
from tsbench.rundir import (
    METRICS,
    LoadedRun,
    find_runs,
    load_run,
    read_metrics,
    read_protocol,
)
from tsbench.tuning_files import STATE_FILE, SUMMARY_FILE
from tsbench.user_paths import user_path

if TYPE_CHECKING:  # pandas comes with the tables, not for --help
    import pandas as pd

PROG = "tsbench-forecast"


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog=PROG,
        description="Forecasts of a finished tsbench run, in original units, as CSV: "
                    "'future' (default) the pred_len steps after the data's last row, one "
                    "row per date; 'val' or 'test' every window of that split, one row per "
                    "window, step and channel, beside the actual value.")
    p.add_argument("run", type=user_path,
                   help="a finished run's directory (it has metrics.json), or a finished "
                        "tsbench-tune folder")
    p.add_argument("--split", choices=("future", "val", "test"), default="future")
    p.add_argument("--data", type=user_path, metavar="FILE",
                   help="with --split future: forecast the steps after this newer file's "
                        "last row (the run's columns and frequency, e.g. a copy of its CSV "
                        "with rows appended: the file the run read must stay as it was), "
                        "scaled as the run scaled its data")
    p.add_argument("--intervals", metavar="LEVELS",
                   help="e.g. 0.8,0.95: add each level's lower and upper bound (future: "
                        "<channel>_lower_80, ...; --split test: lower_80, ...), split-conformal "
                        "intervals calibrated on the run's validation windows, per step: each "
                        "step's holds its actual with probability at least the level, not the "
                        "whole horizon at once")
    p.add_argument("-o", "--output", type=user_path, help="write the CSV here (default: stdout)")
    return p


def main(argv: list[str] | None = None) -> int:
    say_warnings()
    args = parser().parse_args(argv)
    if args.output is not None and args.output.is_dir():
        return _error(f"-o {args.output} is a folder -> give the CSV file to write, e.g. "
                      f"{args.output / 'forecast.csv'}")
    try:  # a finished run's own files are never written over
        if args.output is not None:
            check_output(args.output, "-o", "forecast.csv")
    except TsbenchError as error:
        return _error(str(error))
    if args.data is not None and args.split != "future":
        return _error(f"--data forecasts the future after a newer file's rows; the {args.split} "
                      "split's windows are the run's own -> drop --data, or --split future")
    try:
        args.intervals = None if args.intervals is None else parse_levels(args.intervals)
    except ValueError as error:
        return _error(str(error))
    # every refusal that needs only files comes first: tables imports torch and Lightning
    if (args.run / STATE_FILE).is_file():
        refused = _tuned_refusal(args)
        if refused:
            return _error(refused)
        from tsbench.forecast import tables

        return _tuned(args, tables)
    try:
        run = load_run(args.run)
    except OSError:
        return _error(_not_a_run(args.run))
    refused = _over_data(args.output, _data_files(run, args.data))
    if refused:
        return _error(refused)
    from tsbench.forecast import tables

    try:
        table = (tables.future(run, args.data, args.intervals) if args.split == "future"
                 else tables.windows(run, args.split, args.intervals))
    except (TsbenchError, ValueError, FileNotFoundError) as error:
        return _error(str(error))
    _write(table.to_csv(index=args.split == "future", float_format=_float_format(table, tables)),
           args.output)
    return 0


def say_warnings() -> None:
    """The warnings logged while forecasting (a run's code changed since, rough interval
    levels, filled cells) on stderr as every command's own: ``tsbench-forecast: warning:
    ...``, a dependency's naming it, not the bare message Python's fallback prints."""
    handler = logging.StreamHandler()
    handler.setFormatter(RunLines(command=PROG))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


def _data_files(run: LoadedRun | None, data: Path | None) -> set[Path]:
    """The files a forecast reads: the one ``run``'s card names, and ``--data``'s."""
    card = {} if run is None else read_protocol(run.root) or {}
    named = (card.get("dataset") or {}).get("file")
    return {p.resolve() for p in (Path(named) if named else None, data) if p is not None}


def _over_data(output: Path | None, read: set[Path]) -> str | None:
    """Why ``output`` may not be written: it is a data file the forecast reads."""
    if output is None or output.resolve() not in read:
        return None
    return (f"-o {output}: is a data file this forecast reads: writing there would replace "
            f"it -> give a file of your own, e.g. {output.parent / 'forecast.csv'}")


def _not_a_run(folder: Path) -> str:
    """Why ``folder`` is no run to forecast with, and the runs under it that are: each
    finished run that kept a model (a pruned trial kept none), in path order, jobs 0, 1,
    ..., 10 by number (a search's best.yaml names its best trial)."""
    if not folder.exists():
        return (f"{folder}: no such folder -> check the path: give the folder of a run that "
                "ended (it has metrics.json), e.g. outputs/runs/<date>/<time>")
    runs = [d for d in find_runs([folder]) if not read_metrics(d).get("pruned")]
    if not runs:
        return (f"{folder} is not a finished run (no {METRICS}) -> give the folder of a run "
                "that ended, e.g. outputs/runs/<date>/<time>")
    runs.sort(key=lambda d: [(int(p), "") if p.isdigit() else (1 << 30, p)
                             for p in d.relative_to(folder.resolve()).parts])
    named = ", ".join(map(str, runs[:3])) + (", ..." if len(runs) > 3 else "")
    return (f"{folder} is not a run but holds {counted(len(runs), 'finished run')} with a model -> "
            f"give one of them: {named} (a search's best.yaml names its best trial)")


def _tuned_refusal(args: argparse.Namespace) -> str | None:
    """Why a tsbench-tune folder gives no forecast for ``args`` (its files tell), if it
    does not."""
    if not (args.run / SUMMARY_FILE).is_file():
        return (f"{args.run} is an unfinished tsbench-tune run (no {SUMMARY_FILE} yet) "
                "-> run the same tsbench-tune command again to finish it")
    if args.split != "future":  # its runs read train and val alone: none has test windows
        fix = ("--split future, or --split val of one of its runs' folders" if args.split == "val"
               else "--split future; for test windows (and the coverage of --intervals), run "
                    "a configuration of its report.md with tsbench (cv=holdout): its own runs "
                    "did not read the test split")
        return (f"{args.run} is a tsbench-tune folder: it forecasts the future with "
                f"the ensemble it chose; its test scores are in {SUMMARY_FILE} -> {fix}")
    return _over_data(args.output, _data_files(None, args.data))


def _tuned(args: argparse.Namespace, tables: ModuleType) -> int:
    """The forecast of the ensemble a finished tsbench-tune folder ended with (its
    refusals, :func:`_tuned_refusal`, checked)."""
    try:
        table = tables.tuned_future(args.run, args.data, args.intervals)
    except (TsbenchError, ValueError, FileNotFoundError) as error:
        return _error(str(error))
    _write(table.to_csv(float_format=_float_format(table, tables)), args.output)
    return 0


def _float_format(table: pd.DataFrame, tables: ModuleType) -> str:
    """The CSV's numbers: the significant digits the table's channels need
    (:func:`tsbench.forecast.tables.digits`; 7, a float32's, for most files)."""
    return f"%.{table.attrs[tables.DIGITS]}g"


def _write(text: str, output: Path | None) -> None:
    if output:
        write_text(output, text)
    else:
        sys.stdout.write(text)


def _error(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


@quiet_when_stdout_closes
def entry() -> None:
    quiet_dependencies()
    sys.exit(main())
