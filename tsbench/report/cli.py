"""``tsbench-report DIR...``: a results table of every finished run under DIRs, with seed
statistics, protocol checks, paired tests against a baseline and average ranks; after it,
each tsbench-tune folder's own result table (:mod:`tsbench.report.tuned`) and each search's
validation-only table of its trials (:mod:`tsbench.report.search_trials`)."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from tsbench.atomic import write_bytes, write_text
from tsbench.closed_stdout import quiet_when_stdout_closes
from tsbench.counted import counted, noun_for, word_for
from tsbench.errors import TsbenchError, closest_all, closest_beside, either
from tsbench.one_line_parser import OneLineParser
from tsbench.output_guard import check_output
from tsbench.report.build import build
from tsbench.report.collect import NO_ORIGINAL, Collected, collect, group, inside
from tsbench.report.planned import never_started
from tsbench.report.search_trials import SearchTable, read_search, search_folders
from tsbench.report.search_trials import markdown as trials_markdown
from tsbench.report.table import FORMATS, caveat_lines, render
from tsbench.report.tuned import Tuned, markdown, read_tuned, tuning_folders, unfinished
from tsbench.report.units import ORIGINAL, UNITS, score_metric, unit_free_refusal
from tsbench.report.validation import SPLITS
from tsbench.rundir import WINDOW_METRICS
from tsbench.user_paths import user_path

#: What a folder reader returns (:func:`_readable`).
T = TypeVar("T")

PROG = "tsbench-report"


def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must lie between 0 and 1, got {text} -> e.g. 0.05")
    return value


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog=PROG,
        description="Mean ± std and 95 % t-interval over seeds of every finished run under "
                    "the given run/multirun directories, beside the published numbers; with "
                    "--baseline, a paired test of every cell against the baseline model.",
        epilog="Average ranks: each model's rank in every (dataset, pred_len) table; the "
               "Friedman test and critical difference run over datasets, not tables (a "
               "dataset's horizons share its test period, so they are not independent): each "
               "dataset ranks the models by their mean rank over its tables, and with one "
               "dataset the ranks only describe it and no significance is claimed.")
    p.add_argument("dirs", nargs="+", type=user_path, help="run or multirun directories")
    p.add_argument("--format", choices=FORMATS,
                   help="default: from the -o file's extension (.html, .tex, .csv; .md and "
                        "any other: markdown), else markdown; a --format that contradicts "
                        "the extension is an error")
    p.add_argument("--metric", choices=WINDOW_METRICS, default="mse",
                   help="mase and smape: scale-free, comparable across series (smape "
                        "only where the actual values keep away from zero: near it, a small "
                        "error scores up to 200, and a warning names such channels; mase "
                        "has no such blind spot); published numbers are MSE and MAE only")
    p.add_argument("--split", choices=SPLITS, default="test",
                   help="the scores reported: test, or val: each run's validation score (a "
                        "holdout run's val split, a cv=tscv run's mean over its folds), each "
                        "validation protocol a table of its own, for choosing configurations "
                        "without touching test")
    p.add_argument("--units", choices=UNITS, default="scaled",
                   help="the MSE/MAE reported: scaled (z-scores of each run's training rows, "
                        "the papers' protocol, beside their published numbers), or original: "
                        "in the data's own units (metrics.json's test_mse_orig, ...), for "
                        "one target (features S/MS) or channels in one unit (under "
                        "features=M the mean over channels is the widest channel's: a line "
                        "says so), or a near-constant training channel "
                        "that blows up the scaled scores; tables, tests and ranks read those "
                        "alone (runs without them are left out and named), with no published "
                        "number (those are scaled); mase and smape have no units and are "
                        "refused with original")
    p.add_argument("--baseline", metavar="MODEL",
                   help="model every cell is tested against, per dataset and horizon (or "
                        "a row's label, where the model has several configurations)")
    p.add_argument("--alpha", type=_alpha, default=0.05,
                   help="significance level of the tests and the critical difference")
    p.add_argument("-o", "--output", type=user_path, help="write the report here (default: stdout)")
    p.add_argument("--cd-diagram", type=user_path, metavar="FILE",
                   help="also write the critical-difference diagram to this file, in the "
                        "format its extension names (.png, .pdf, .svg, or another that "
                        "matplotlib writes); with one dataset, the ranks alone, no CD")
    return p


#: The format an ``-o`` file's extension asks for (any other extension: markdown).
EXTENSIONS = {".html": "html", ".htm": "html", ".tex": "latex", ".csv": "csv",
              ".md": "markdown"}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    suffix = "" if args.output is None else args.output.suffix.lower()
    implied = EXTENSIONS.get(suffix)
    if args.format is None:
        args.format = implied or "markdown"
    elif implied not in (None, args.format):
        return _error(f"-o {args.output} names a {implied} file, but --format is "
                      f"{args.format} -> drop --format, or name the file for "
                      f"{args.format}")
    if args.cd_diagram is not None and (refused := _cd_format_refusal(args.cd_diagram)):
        return _error(refused)
    if refused := unit_free_refusal(args.metric, args.units):
        return _error(refused)
    try:  # a finished run's own files are never written over
        for option, path, example in (("-o", args.output, "report.md"),
                                      ("--cd-diagram", args.cd_diagram, "cd_diagram.png")):
            if path is not None:
                check_output(path, option, example)
    except TsbenchError as error:
        return _error(str(error))
    missing = [d for d in args.dirs if not d.is_dir()]
    if missing:
        said = ", ".join(f"{d} ({'a file' if d.exists() else 'not found'})" for d in missing)
        near = [shlex.quote(str(n)) for n in (closest_beside(d, folders=True) for d in missing)
                if n]
        meant = f"did you mean {either(near)}? Else " if near else ""
        return _error(f"not a folder: {said} -> {meant}{WHERE_RUNS_ARE}")
    where = ", ".join(map(str, args.dirs))
    folders = tuning_folders(args.dirs)
    metric = score_metric(args.metric, args.units)  # mse, or mse_orig in original units
    found = collect(args.dirs, f"{args.split}_{metric}", _warn, tuple(folders), args.split)
    never_started(args.dirs, tuple(folders), _warn)
    tuned, waiting = _tuning(folders)
    searches = _searches(search_folders(args.dirs, tuple(folders)))
    if not found.runs and not tuned and not searches and waiting and not found.n_found:
        return _error("; ".join(map(unfinished, waiting)))
    for folder in waiting:
        _warn(f"left out {unfinished(folder)}")
    if not found.runs and not tuned and not searches:
        return _error(_empty_reason(found, where, metric, args.split))
    # (the error alone, the warning beside other tables) for the tables these options omit
    refused = _not_shown(
        tuned, "a tsbench-tune folder's result table",
        f"the result table of the tsbench-tune {noun_for(len(tuned), 'run')}", (
            (args.split != "test", "validation", "test scores",
             "holds test scores, and its stages are not reported here -> drop --split val"),
            (args.units == ORIGINAL, "original-unit", "scaled scores only",
             "holds scaled scores only -> drop --units original"),
            (args.format != "markdown", args.format, "Markdown only",
             "is Markdown only -> drop --format (and give -o a .md file)")))
    tuned = [] if refused else tuned
    omitted = _not_shown(
        searches, "a search's table of trials",
        f"the validation table of the {noun_for(len(searches), 'search')}", (
            (args.units == ORIGINAL, "original-unit", "scaled scores only",
             "holds scaled scores only -> drop --units original"),
            (args.format not in ("markdown", "html"), args.format, "Markdown and HTML only",
             "is Markdown and HTML only -> drop --format (or give -o a .md or .html file)")))
    searches = [] if omitted else searches
    refused += omitted
    if refused and not found.runs and not tuned and not searches:
        return _error(refused[0][0])
    for _, warning in refused:
        _warn(warning)
    sections = [*(markdown(t, args.metric, args.baseline) for t in tuned),
                *(trials_markdown(s) for s in searches if args.format == "markdown")]
    if not found.runs:  # tuning folders and searches alone: their tables
        if args.cd_diagram:
            _warn(f"--cd-diagram {args.cd_diagram}: not written, a tuning run's table or a "
                  "search's trials have no average ranks -> report runs that make such "
                  "tables, or drop --cd-diagram")
        trials = tuple(search.folder.resolve() for search in searches)
        if searches and not all(inside(run, trials) for run in found.paths):
            # runs beside the trials: why none makes a results table (the trials' table says
            # for its own that they scored validation only)
            _warn(f"no results table: {_empty_reason(found, where, metric, args.split)}")
        if args.format == "html":
            from tsbench.report.html import searches_page

            return _write(args.output, searches_page(searches, [str(d) for d in args.dirs]))
        return _write(args.output, "\n".join(sections))
    cells = group(found.runs, _warn)
    if not cells:  # every seed's runs disagree with each other
        return _error(_none_of(found.n_found, where, "can be reported", "cannot be reported")
                      + " (see the warnings above)")
    if args.baseline and not any(args.baseline in (c.model, c.label) for c in cells):
        models = sorted({c.model for c in cells})
        labels = sorted({c.label for c in cells} - set(models))  # rows these runs make now
        rows = f", or a row's label: {', '.join(map(repr, labels))}" if labels else ""
        meant = closest_all(args.baseline, [*models, *labels])
        guess = (f"did you mean {either([f'--baseline {shlex.quote(m)}' for m in meant])}? "
                 "Else use" if meant else "use")
        return _error(f"--baseline {args.baseline}: no {args.baseline} run under {where} "
                      f"-> {guess} one of {', '.join(models)}{rows}")
    if args.metric == "smape":
        from tsbench.report.smape_zero import near_zero_warning

        said = near_zero_warning(cells, args.split)
        if said:
            _warn(said)
    report = build(cells, args.metric, args.baseline, args.alpha, args.split, args.units)
    if args.cd_diagram:
        if report.ranking is None:
            fix = ("" if " -> " in report.ranking_note
                   else " -> report runs that make such tables")
            _warn(f"--cd-diagram {args.cd_diagram}: not written, the report has no average "
                  f"ranks: {report.ranking_note}{fix}, or drop --cd-diagram")
        else:
            from tsbench.report.plots import cd_diagram  # matplotlib only when drawing

            write_bytes(args.cd_diagram, cd_diagram(report.ranking, _cd_format(args.cd_diagram)))
    if args.format == "html":
        from tsbench.report.html import render_html

        text = render_html(report, [str(d) for d in args.dirs], len(found.runs), searches)
    else:
        text = render(report, args.format)
    if args.format == "csv":  # data alone: the caveat on what its scores mean, on stderr
        for line in caveat_lines(report):
            _warn(line.removeprefix("⚠ "))
    return _write(args.output, "\n".join([text, *sections]))


def _searches(folders: list[Path]) -> list[SearchTable]:
    """The trials of each sweep folder that recorded any (a warning for each one whose
    record is unreadable)."""
    return [table for table in _readable(folders, read_search, "the trials of the search in")
            if table.rows]


def _readable(folders: list[Path], read: Callable[[Path], T], what: str) -> list[T]:
    """``read`` of each of ``folders``, those it finds unreadable (``ValueError``) left out
    with a warning naming ``what`` they hold."""
    found = []
    for folder in folders:
        try:
            found.append(read(folder))
        except ValueError as error:
            _warn(f"skipped {what} {folder}: {error}")
    return found


def _cd_format(path: Path) -> str:
    return path.suffix.lower().removeprefix(".")


def _cd_format_refusal(path: Path) -> str | None:
    """Why the --cd-diagram file cannot be written in the format its extension names
    (matplotlib writes the format of each extension it knows); None where it can."""
    from matplotlib.backend_bases import FigureCanvasBase

    known = FigureCanvasBase.get_supported_filetypes()
    if _cd_format(path) in known:
        return None
    named = f"names no format ({path.suffix})" if path.suffix else "has no extension"
    return (f"--cd-diagram {path} {named} that matplotlib writes -> name the file .png, "
            ".pdf or .svg")


def _write(output: Path | None, text: str) -> int:
    if output:
        write_text(output, text)
    else:
        sys.stdout.write(text)
    return 0


def _tuning(folders: list[Path]) -> tuple[list[Tuned], list[Tuned]]:
    """The tuning folders whose stage (g) scored, and those it has not yet (a warning for
    each one whose summary is unreadable)."""
    finished, waiting = [], []
    for tuned in _readable(folders, read_tuned, "the tsbench-tune folder"):
        (waiting if tuned.summary is None else finished).append(tuned)
    return finished, waiting


#: The folders to give: where tsbench wrote runs.
WHERE_RUNS_ARE = ("give the folders of runs or multiruns (the 'tsbench: outputs in' line names a "
                  "run's; a sweep's is its hydra.sweep.dir), or a folder above them, e.g. "
                  "outputs")

#: Where runs come from that scored no test split, and where their test scores are.
UNSCORED = (" (a search's trials: rerun its best.yaml's command; a grid's jobs "
            "(search=grid, which writes no best.yaml): run the job of the lowest val_mse "
            "alone; a tsbench-tune folder's stages: tsbench-report on the tuning folder, "
            "the one holding tune.json, prints its test scores)")


def _not_shown(folders: Sequence[Tuned | SearchTable], table: str, described: str,
               checks: Sequence[tuple[bool, str, str, str]]) -> list[tuple[str, str]]:
    """Where the report's options cannot show ``folders``' ``table`` (the first of ``checks``,
    each ``(apart, kind of report, why, refusal)``, that applies): the error to give where
    nothing else is reported, and the warning beside what is; none where all can be shown."""
    for apart, kind, why, refusal in checks:
        if folders and apart:
            names = " ".join(str(f.folder) for f in folders)
            return [(f"{names}: {table} {refusal}",
                     f"left out of the {kind} report: {described} {names} ({why}) -> "
                     f"tsbench-report {names}")]
    return []


def _empty_reason(found: Collected, where: str, metric: str, split: str = "test") -> str:
    if found.n_found == 0:
        return f"no finished run (metrics.json + config.yaml) under {where} -> {WHERE_RUNS_ARE}"
    if found.without_metric:
        skipped = (f" ({found.n_skipped} of them left out for other reasons, see the "
                   "warnings)") if found.n_skipped else ""
        why = "; ".join(f"{counted(n, 'run')}: {reason}"
                        f"{UNSCORED if reason == 'score_test=false' else ''}"
                        for reason, n in found.without_metric.items())
        if NO_ORIGINAL in found.without_metric:
            score = f"{split}_{metric}{_cv_key(split, metric)}"
            return (_none_of(found.n_found, where, f"has {score}", f"has no {score}")
                    + f"{skipped}: {why} -> rerun {word_for(found.n_found, 'it', 'them')} "
                    "(tsbench records original-unit scores now), or drop --units "
                    "original")
        if split == "val":
            score = f"validation score (val_{metric}, or a cv=tscv run's cv_val_{metric}_mean)"
            return (_none_of(found.n_found, where, f"has a {score}", f"has no {score}")
                    + f"{skipped}: {why} -> report runs that scored a "
                    "validation split, or drop --split val")
        return (_none_of(found.n_found, where, f"has test_{metric}", f"has no test_{metric}")
                + f"{skipped}: {why} -> report runs that scored the test split")
    return (_none_of(found.n_found, where, "can be used", "cannot be used")
            + " (see the warnings above)")


def _none_of(n_found: int, where: str, has: str, lacks: str) -> str:
    """``none of the 3 finished runs under <where> <has>``, or for a single run ``the only
    finished run under <where> <lacks>`` (``none of the 1 run`` reads wrong)."""
    if n_found == 1:
        return f"the only finished run under {where} {lacks}"
    return f"none of the {counted(n_found, 'finished run')} under {where} {has}"


def _cv_key(split: str, metric: str) -> str:
    """`` (or a cv=tscv run's cv_val_<metric>_mean)`` in a validation report."""
    return f" (or a cv=tscv run's cv_val_{metric}_mean)" if split == "val" else ""


def _warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def _error(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


@quiet_when_stdout_closes
def entry() -> None:
    sys.exit(main())
