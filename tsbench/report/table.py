"""The report as Markdown, LaTeX or CSV text (the HTML page is :mod:`tsbench.report.html`)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from tsbench.column_format import column_format
from tsbench.counted import counted
from tsbench.report import published
from tsbench.report.build import BASELINE, Ranking, Report, Row
from tsbench.report.compare import REFIT, cell_facts
from tsbench.report.flat import FLAT_FLAG, SCALED, flat_lines
from tsbench.report.mixed_scales import mixed_scale_lines
from tsbench.report.stats import TOLD_APART, told_apart
from tsbench.report.units import ORIGINAL, PUBLISHED_SCALED
from tsbench.report.validation import SPLIT_NAMES, protocol
from tsbench.search.names import TRIALS_FILE

FORMATS = ("markdown", "latex", "csv", "html")


def test_name(metric: str, split: str = "test") -> str:
    """What the paired test compares, on ``metric`` (as a sentence names it: ``MSE in
    original units``) over ``split``'s windows."""
    windows = ("" if split == "test" else " (a cv=tscv cell's: every fold's validation "
               "windows in time order, each scored by its fold's model)")
    return (f"Diebold-Mariano test on the per-window {SPLIT_NAMES[split]} {metric}"
            f"{windows} averaged over each cell's seeds, with a weighted-periodogram (Daniell) "
            "HAC variance and Student-t reference of fixed-smoothing asymptotics (Coroneo & "
            "Iacone 2020): consecutive windows overlap, so their errors are not independent "
            "pairs; each cell's spread over its seeds joins the variance")


def number_format(report: Report) -> str:
    """How a table writes its scores, means and their ± and intervals alike: 4 decimals
    scaled (z-scores, near 1); in original units (the data's own, of any size)
    :func:`~tsbench.column_format.column_format` of its means, the same for every number of
    the column (``31.630`` beside ``37.043``, ``18.048 ± 0.069``)."""
    if report.units != ORIGINAL:
        return ".4f"
    return column_format(row.spread.mean for row in report.rows)


def value_text(row: Row, fmt: str = ".4f") -> str:
    """``0.3735 ± 0.0031 (3)``; ``0.0811 (3 seeds, identical)`` where every seed gave the
    same score (no spread to show: the seeds replicate nothing)."""
    if row.spread.identical:
        return f"{row.spread.mean:{fmt}} ({row.spread.n} seeds, identical)"
    spread = "" if row.spread.std is None else f" ± {row.spread.std:{fmt}}"
    return f"{row.spread.mean:{fmt}}{spread} ({row.spread.n})"


def ci_text(row: Row, fmt: str = ".4f") -> str:
    """``[low, high]``; ``[0 (clipped), high]`` where the t-interval went below 0; ``–``
    without one (one seed, or seeds that agree exactly)."""
    ci = row.spread.ci
    if ci is None:
        return "–"
    low = f"{ci[0]:g} (clipped)" if row.spread.clipped else f"{ci[0]:{fmt}}"
    return f"[{low}, {ci[1]:{fmt}}]"


#: The rows of a dataset that all of its tables score, by the report's split.
SHARED_ROWS = {"test": "its test period", "val": "its validation rows"}


def per_dataset(split: str) -> str:
    """Why tables of one dataset are not independent evidence for the rank test."""
    return (f"tables of one dataset, its horizons or settings, share {SHARED_ROWS[split]} and "
            "overlapping target rows, so they are not independent")


def one_dataset(split: str) -> str:
    """Said where every ranked table is of one dataset: the ranks describe it, no test."""
    return (f"No significance can be claimed across these tables: {per_dataset(split)} (one "
            "dataset's evidence, not one per table); the Friedman test and critical "
            "difference run over datasets (each ranking the models by their mean rank "
            "over its tables) and need 2 or more, so these ranks only describe this dataset -> "
            "report 2 or more datasets to test the ranks")


#: How to run more seeds of a configuration: a plain multirun, never a search over them.
MORE_SEEDS = ("as a plain multirun into a folder of its own, then report it beside the "
              "first (never with search=...: a search would choose among the seeds on "
              "validation)")
#: Said once under a report with a clipped interval.
CLIPPED = ("95 % CI [0 (clipped), ...]: the t-interval over the seeds reached below 0, which "
           "an error cannot, so its lower end is shown at 0; the interval still covers the "
           "mean 95 % of the time (only impossible values were cut), but its lower end is no "
           "estimate: too few seeds (or too spread) for a useful interval -> run more seeds.")


def verdict_text(row: Row) -> str:
    """``better (p=0.003, df 10)``, ``baseline``, or why there is no test."""
    if row.verdict == BASELINE:
        return BASELINE
    if row.test is not None and row.p_holm is not None:
        return f"{row.verdict} ({_p(row.p_holm)}, df {row.test.df})"
    return f"– ({row.note})" if row.note else "–"


def protocol_text(row: Row, split: str = "test") -> str:
    """What sets the cell's protocol apart (``same``: nothing), and, on the test split,
    whether its model was refit on the train+val rows before scoring it."""
    if row.flags:
        text = "⚠ " + "; ".join(row.flags)
    else:
        text = "same" if row.has_card else "no card (saved before protocol.json)"
    refit = split == "test" and REFIT in (cell_facts(row.cell)["cross-validation"] or "")
    return f"{text}, {REFIT}" if refit else text


def _p(p: float, space: str = "") -> str:
    """``p=0.012`` or ``p<0.001`` (``space=" "``: ``p = 0.012``)."""
    return f"p{space}<{space}0.001" if p < 0.001 else f"p{space}={space}{p:.3f}"


def header(report: Report) -> list[str]:
    """The table's columns; a validation report's has no published number (those are
    test scores), nor has an original-unit one (those are scaled)."""
    metric = report.metric_text + (", scaled" if report.metric in SCALED
                                   and report.units != ORIGINAL else "")
    columns = ["dataset", "pred_len", "model",
               f"{SPLIT_NAMES[report.split]} {metric} (mean ± std, n)", "95 % CI (t)"]
    if report.shows_published:
        columns += ["published", "Δ vs published"]
    if report.baseline:
        columns.append(f"vs {report.baseline} (Holm p)")
    return [*columns, "protocol"]


def published_text(row: Row) -> str:
    """The published number, with its look-back where the cell's differs, its epochs where
    the cell's budget is smaller, and the test windows it left unscored where it did."""
    ref = row.reference
    if ref is None:
        return "–"
    marks = [f"L={ref.seq_len}"] if row.published_elsewhere else []
    if row.fewer_epochs:
        marks.append(f"{ref.epochs} epochs")
    if row.other_settings:
        marks.append("other settings")
    if ref.unscored:
        marks.append(unscored_text(ref.unscored))
    return f"{ref.value:.3f}" + (f" ({', '.join(marks)})" if marks else "")


def unscored_text(windows: int) -> str:
    """The mark of a published number that leaves its last ``windows`` test windows out."""
    return f"{counted(windows, 'window')} unscored"


def delta_text(row: Row) -> str:
    """``+1.2 %``; where not over every window (the published number's first ones), the
    mean it compares and over how many: ``-11.2 % (1.967 on the first 160)``, a mean the
    table's column, over every window, does not show."""
    if row.delta is None:
        return "–"
    windows = row.published_windows
    return f"{100 * row.delta:+.1f} %" + ("" if windows is None else (
        f" ({row.on_published_windows:.4g} on the first {windows})"))


def cells(row: Row, report: Report) -> list[str]:
    fmt = number_format(report)
    out = [row.cell.dataset, str(row.cell.pred_len), row.cell.label, value_text(row, fmt),
           ci_text(row, fmt)]
    if report.shows_published:
        out += [published_text(row), delta_text(row)]
    if report.baseline:
        out.append(verdict_text(row))
    return [*out, protocol_text(row, report.split)]


def published_lines(report: Report) -> list[str]:
    """Where published numbers are left out or come from another source, said once."""
    lines = [PUBLISHED_SCALED] if report.published_scaled else []
    withheld: dict[str, list[str]] = {}
    for row in report.rows:
        if row.withheld:
            withheld.setdefault("; ".join(row.withheld), []).append(
                f"{row.cell.label} at {row.cell.dataset}/{row.cell.pred_len}")
    if withheld:
        shared = ", ".join(f"{k} {v}" for k, v in published.protocol().items())
        cells = "; ".join(f"{why}: {', '.join(where)}" for why, where in withheld.items())
        lines.append(f"Published numbers were obtained with {shared}; none is shown beside a "
                     f"cell whose protocol differs ({cells}).")
    if any(row.fewer_epochs for row in report.rows):
        lines.append("Published (N epochs): that number was trained for up to N epochs, more "
                     "than the cell's trainer.max_epochs allowed; part of a gap may be the "
                     "budget's.")
    others = [f"{row.cell.label} at {row.cell.dataset}/{row.cell.pred_len}: "
              f"{row.other_settings}" for row in report.rows if row.other_settings]
    if others:
        lines.append("Published (other settings): the paper's figure came with its training "
                     "settings (its preset: model size, optimizer and schedule, batch size, "
                     "learning rate), which these cells did not use; part of a gap may be "
                     f"theirs. {'; '.join(others)}.")
    reruns: dict[str, list[str]] = {}
    for row in report.rows:
        if row.reference is not None and row.reference.all_windows:
            reruns.setdefault(row.reference.source, []).append(
                f"{row.cell.label} at {row.cell.dataset}/{row.cell.pred_len}")
    if reruns:
        said = "; ".join(f"{published.source_text(source)}: {', '.join(where)}"
                         for source, where in reruns.items())
        lines.append("Published (re-run): where someone re-ran a paper's official code "
                     "scoring every test window, as tsbench does, that re-run is the "
                     f"reference, not the paper's own figure ({said}).")
    if any(r.reference is not None and r.reference.unscored for r in report.rows):
        rerun_cells = ", ".join(where for cells in reruns.values() for where in cells)
        lines.append("Published (N windows unscored): the paper's figure, whose test loader "
                     "dropped its last incomplete batch of test windows (drop_last); tsbench "
                     "scores every window. Δ vs published then compares the cell's mean over "
                     "the same first windows (first N: from its per-window errors; without "
                     "them, its mean over every window, and part of a gap may be the "
                     "protocol's)." + (f" Where someone re-ran the official code on every "
                                       f"window, as for {rerun_cells}, that re-run is the "
                                       "reference." if reruns else ""))
    return lines


def search_lines(report: Report) -> list[str]:
    """Where the report lists several trials of one search, or several jobs of a plain
    multirun that are configurations of one model in one table (a grid over its settings;
    jobs in tables of their own compare nothing), the honest way to pick among them, said
    once per sweep: by validation, not by the test scores here."""
    tables: dict[Path, dict[tuple, set[str]]] = {}
    searched: dict[Path, frozenset[str]] = {}
    for row in report.rows:
        for run in row.cell.runs:
            if run.swept or run.gridded:
                table = (row.cell.dataset, row.cell.pred_len) if run.swept else (
                    row.cell.dataset, row.cell.pred_len, row.cell.model)
                tables.setdefault(run.path.parent, {}).setdefault(table, set()).add(
                    f"{row.cell.label} at {row.cell.dataset}/{row.cell.pred_len}")
                searched[run.path.parent] = run.swept or run.gridded
    lines = []
    for sweep, by_table in sorted(tables.items()):
        search = (sweep / TRIALS_FILE).is_file()
        rows = sum(len(labels) for labels in by_table.values() if search or len(labels) > 1)
        if rows < 2:
            continue
        keys = ", ".join(sorted(searched[sweep]))
        if search:
            lines.append(f"{rows} rows are trials of the search in {sweep} (it searched "
                         f"{keys}): choosing among them by these test scores is selection on "
                         "test -> take the configuration the search chose on validation "
                         f"({sweep / 'best.yaml'}) and report that run")
        else:
            lines.append(f"{rows} rows are jobs of the multirun in {sweep} (it swept "
                         f"{keys}): choosing among them by these test scores is selection on "
                         "test -> choose by their val_mse (metrics.json), or search with "
                         "hydra/sweeper=skopt, which chooses on validation, and report the "
                         "chosen configuration alone")
    return lines


def validation_lines(report: Report) -> list[str]:
    """What a validation report's numbers are, and what it leaves out, said once."""
    tables = {protocol(row.cell.runs[0]) for row in report.rows}
    lines = [f"Validation scores, no test score: each row's {report.metric_words} is a "
             f"holdout run's on its val split (val_{report.score_metric}), a cv=tscv run's "
             f"mean over its folds' validation blocks (cv_val_{report.score_metric}_mean); "
             "mean ± std "
             "and the t-interval are over seeds. Each validation protocol is a table of its "
             f"own ({'; '.join(sorted(tables))}): their numbers are never compared or ranked "
             "together. Left out: published numbers (they are test scores). These numbers "
             "are for choosing configurations; report the chosen one on test (the default "
             "--split test)."]
    untested = [f"{row.cell.label} at {row.cell.dataset}/{row.cell.pred_len}"
                for row in report.rows if row.note.startswith("not tested: no readable")]
    if untested:
        lines.append(f"Paired tests left out where a cell's runs saved no per-window "
                     f"validation errors, so the test has no windows to pair: "
                     f"{'; '.join(untested)}.")
    return lines


def flag_lines(report: Report) -> list[str]:
    """What each kind of ⚠ in the protocol column means, said once where one is shown."""
    shown = [flag for row in report.rows for flag in row.flags]
    lines = []
    if any("(table: " in flag for flag in shown):
        lines.append("⚠ <fact> <value> (table: <reference>): the cell's protocol differs in "
                     "that fact from its table's reference value (the --baseline cell's, else "
                     "the value most of the table's cells share; on a tie, on a dataset with "
                     "published numbers, the papers' protocol), so its number measures "
                     "something else: it is not bolded, tested or ranked; 'same': no such "
                     "difference.")
    if any(flag.endswith("(differs)") for flag in shown):
        lines.append("⚠ ... (differs): the table's cells disagree on that fact and no "
                     "baseline or majority says which value is the table's, so none of them is "
                     "bolded, tested or ranked -> name the reference cell with --baseline")
    if any(flag.startswith(("features ", "scored columns ")) for flag in shown):
        lines.append("⚠ features / scored columns: features=M scores every channel, S and MS "
                     "the target alone, so an M cell's errors and an S or MS cell's are of "
                     "other series and never compared, whichever is the reference (S and MS "
                     "cells are compared with each other) -> compare M cells among "
                     "themselves, and S and MS cells among themselves (--baseline naming one "
                     "of them, or a report of their run folders alone).")
    if any(flag.startswith(FLAT_FLAG) for flag in shown):
        lines.append("⚠ scaled scores distorted by <channel>: its runs' cards flag a channel "
                     "(near-)constant over a scaler's training rows (the ⚠ Scaled scores "
                     "line), whose scaled errors outweigh the rest, so the cell is not bolded, "
                     "tested or ranked in scaled units -> compare it with --units original, "
                     "which keeps it in.")
    if any(flag.endswith("(selection on test)") for flag in shown):
        lines.append("⚠ seq_len searched on ... (selection on test): its look-back was "
                     "chosen on a split named test, so its test score is optimistic: it is not "
                     "bolded, tested or ranked -> search seq_len on val or cv folds.")
    return lines


def caveat_lines(report: Report) -> list[str]:
    """The line on cells whose scaled scores a flat training channel distorts
    (:func:`flat_lines`); in original units, which no scaler's spread enters, the line on
    features=M cells that one wide channel carries (:func:`mixed_scale_lines`)."""
    return mixed_scale_lines(report) if report.units == ORIGINAL else flat_lines(report)


def summary_lines(report: Report) -> list[str]:
    """Trials of a search, published numbers left out, what the test was, how many were
    corrected together, and the ranking."""
    lines = ([*search_lines(report), *published_lines(report)] if report.split == "test"
             else validation_lines(report))
    lines += caveat_lines(report)
    if any(row.spread.clipped for row in report.rows):
        lines.append(CLIPPED)
    lines += flag_lines(report)
    if report.baseline and not report.n_tests:
        lines.append(f"Paired tests against {report.baseline}: none made (each row says why).")
    elif report.baseline:
        lines.append(f"Paired tests against {report.baseline}: "
                     f"{test_name(report.metric_words, report.split)}. "
                     f"Holm-adjusted over the {counted(report.n_tests, 'test')} of this "
                     "report; "
                     f"better/worse at α = {report.alpha}. df: the test's degrees of freedom, "
                     "2m for the m lowest Fourier frequencies in its variance, at most "
                     "n / (4 pred_len) for n windows: overlapping windows hold few independent "
                     "stretches, and with few degrees of freedom only a large difference is "
                     "significant; with several seeds, each cell's spread over its seeds is "
                     "part of the variance (Welch-Satterthwaite df), so a seed that trained "
                     "well does not read as a better model.")
        if report.one_seed:
            lines.append(f"One seed of a trained model, so its spread over seeds is not in "
                         f"the test (it compares that run): {'; '.join(report.one_seed)} -> "
                         f"run more seeds of each to compare the models, {MORE_SEEDS}: "
                         f"{'; '.join(report.one_seed_commands)}.")
        if report.few_seeds:
            lines.append(f"Few seeds: these tests are indistinguishable on few degrees of "
                         f"freedom, their variance mostly the cells' spread over their seeds "
                         f"(each cell's seeds less 1), where only a very large gap is "
                         f"significant, so few seeds may hide a real difference (another "
                         f"metric's table may tell the pair apart): "
                         f"{'; '.join(report.few_seeds)} -> run more seeds of each model that "
                         f"trains, {MORE_SEEDS}: {'; '.join(report.few_seeds_commands)}.")
        if report.few_windows:
            split = SPLIT_NAMES[report.split]
            lines.append(f"Few windows: these tests are indistinguishable on few degrees of "
                         f"freedom that the {split} windows bound (at most n / (4 pred_len) "
                         f"for n windows), not the seeds, so only a very large gap is "
                         f"significant and more seeds will not tell the pair apart: "
                         f"{'; '.join(report.few_windows)} -> read such a pair as not told "
                         f"apart by this {split} period, not as equal (another metric's "
                         f"table, or a shorter pred_len with more windows per horizon, may "
                         f"tell).")
    if report.baseline_hint:
        lines.append(f"{report.baseline_hint}.")
    if report.stand_ins:
        lines.append(f"--baseline '{report.baseline}' names a row of other tables; the "
                     f"baseline of each table without it: {'; '.join(report.stand_ins)} (the "
                     "one cell of that model whose settings agree with the label's, else its "
                     "only cell).")
    lines.append(ranking_line(report))
    return lines


def ranking_line(report: Report) -> str:
    """The average ranks and what they show: the Friedman test and critical difference over
    the datasets (tables of one dataset are not independent), or why there is none."""
    ranking = report.ranking
    if ranking is None:
        return f"Average ranks: none ({report.ranking_note})."
    ranks = ", ".join(f"{m} {r:.2f}" for r, m in sorted(zip(ranking.ranks, ranking.models,
                                                            strict=True)))
    blocks = ", ".join(f"{d}/{h}" for d, h in ranking.blocks)
    left = f"; {report.ranking_note}" if report.ranking_note else ""
    ranked = (f"Average ranks (1 = best {SPLIT_NAMES[report.split]} {report.metric_words}) "
              f"over {len(ranking.blocks)} tables ({blocks})")
    same = "".join(f"; {line}" for line in ranking.same_data)
    f = ranking.friedman
    if f is None:
        return (f"{ranked}, all of 1 dataset ({ranking.datasets[0]}{same}): {ranks}. "
                f"{one_dataset(report.split)}{left}.")
    unit = "table" if ranking.independent else "dataset"
    if ranking.independent:
        ranked += ", one per dataset"
    else:
        ranked = (f"{ranked}, of {len(ranking.datasets)} datasets"
                  f"{' (' + same[2:] + ')' if same else ''}, ranked per dataset (each dataset "
                  f"ranks the models by their mean rank over its tables: "
                  f"{per_dataset(report.split)}); average ranks over the "
                  f"{len(ranking.datasets)} datasets")
    if f.f is None or f.p_f is None:
        iman = (f"Iman-Davenport F undefined (every {unit} ranks the models in the same order, "
                "so its denominator N(k-1) - χ² is 0" +
                ("" if f.p_exact is not None else "; Friedman's p decides") + ")")
    else:
        iman = f"Iman-Davenport F = {f.f:.2f} ({_p(f.p_f, ' ')})"
    if f.p_exact is not None:
        how = ("exact " + _p(f.p_exact, " ") if not f.draws else
               f"permutation {_p(f.p_exact, ' ')} (from {f.draws} random orders of each "
               f"{unit}'s ranks)")
        iman += (f"; {how} decides ({f.n_blocks} {unit}s of {f.k} models: short of N > 10 "
                 "and k > 5, Demšar's (2006) rule for the χ² and F approximations)")
    k = len(ranking.models)
    cd = _critical_difference(ranking)
    if ranking.significant and math.isinf(ranking.cd):
        verdict = (f"the ranks differ at α = {ranking.alpha}, but with {f.n_blocks} {unit}s "
                   f"even the widest gap of two average ranks ({k - 1}) is not rare enough at "
                   f"α for a critical difference ({_orders(ranking)}): no two models are told "
                   "apart")
    elif ranking.significant and not told_apart(k - 1, ranking.cd):
        verdict = (f"the ranks differ at α = {ranking.alpha}, but the {cd} is more than any "
                   f"two average ranks of {k} models can differ ({k - 1}): with "
                   f"{f.n_blocks} {unit}s it tells no two models apart")
    elif ranking.significant:
        apart = ", ".join(f"{a} vs {b}" for a, b in ranking.told_apart()) or "none here"
        verdict = (f"the ranks differ at α = {ranking.alpha}; {cd}: two models whose average "
                   f"ranks {TOLD_APART} are significantly different ({apart})")
    else:
        unused = (f"no gap of two average ranks is rare enough at α for a critical "
                  f"difference either, {_orders(ranking)}" if math.isinf(ranking.cd) else
                  f"{cd} not applied")
        verdict = (f"the ranks do not differ significantly at α = {ranking.alpha}, so no two "
                   f"models are told apart ({unused})")
    return (f"{ranked}: {ranks}. Friedman χ² = {f.chi2:.2f} ({_p(f.p_chi2, ' ')}), "
            f"{iman}: {verdict}{left}.")


def _critical_difference(ranking: Ranking) -> str:
    """The critical difference as the text names it: Nemenyi's, or (below Demšar's rule of
    thumb) the exact one and what it was found from."""
    if ranking.cd_draws is None:
        return f"Nemenyi critical difference {ranking.cd:.2f}"
    return f"critical difference {ranking.cd:.2f} ({_orders(ranking)})"


def _orders(ranking: Ranking) -> str:
    unit = "table" if ranking.independent else "dataset"
    return (f"exact, from every order of each {unit}'s ranks" if not ranking.cd_draws else
            f"from {ranking.cd_draws} random orders of each {unit}'s ranks")


def render(report: Report, fmt: str = "markdown") -> str:
    if fmt == "csv":
        return _csv(report)
    lines = [cells(row, report) for row in report.rows]
    columns = header(report)
    if fmt == "latex":
        return _latex(report, columns, lines)
    if fmt != "markdown":
        raise ValueError(f"unknown format '{fmt}': use one of {FORMATS}")
    lines = [[cell.replace("|", "\\|") for cell in line] for line in lines]
    for line, row in zip(lines, report.rows, strict=True):
        if row.best:
            line[3] = f"**{line[3]}**"
    numbers = 2 if report.shows_published else 0  # published, Δ vs published
    sep = ["---", "---:", "---", *["---:"] * (2 + numbers)]
    sep += ["---"] * (len(columns) - len(sep))
    table = "\n".join("| " + " | ".join(line) + " |" for line in [columns, sep, *lines])
    return table + "\n\n" + "\n\n".join(summary_lines(report)) + "\n"


def code_spans(text: str) -> list[tuple[str, bool]]:
    """``text`` as (part, is code) pieces: the spans between backtick pairs (a command the
    notes quote, Markdown's way) are code; an unpaired backtick is plain text."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an odd number of backticks: no span is sure
        return [(text, False)]
    return [(part, i % 2 == 1) for i, part in enumerate(parts) if part]


#: LaTeX's special characters in text, escaped (``~`` and ``^`` would otherwise be a space
#: and an error; ``{ } $`` would open groups and math).
LATEX_SPECIAL = {"\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "_": "\\_", "#": "\\#",
                 "$": "\\$", "{": "\\{", "}": "\\}", "~": "\\textasciitilde{}",
                 "^": "\\textasciicircum{}"}


def latex_text(text: str) -> str:
    """``text`` for LaTeX: its special characters escaped, its symbols as LaTeX writes them
    (``<`` ``>`` in math mode: text-mode ones print as ¡ ¿), code spans in ``\\texttt``."""
    def plain(part: str) -> str:
        part = "".join(LATEX_SPECIAL.get(c, c) for c in part)
        return (part.replace("±", "$\\pm$").replace("Δ", "$\\Delta$").replace("α", "$\\alpha$")
                .replace("χ²", "$\\chi^2$").replace("⚠", "(!)").replace("–", "--")
                .replace("->", "$\\rightarrow$").replace("<", "$<$").replace(">", "$>$"))
    return "".join(f"\\texttt{{{plain(part)}}}" if code else plain(part)
                   for part, code in code_spans(text))


def _latex(report: Report, columns: list[str], lines: list[list[str]]) -> str:
    body = []
    for line, row in zip(lines, report.rows, strict=True):
        cells_tex = [latex_text(c) for c in line]
        if row.best:
            cells_tex[3] = f"\\textbf{{{cells_tex[3]}}}"
        body.append(" & ".join(cells_tex) + " \\\\")
    numbers = 4 if report.shows_published else 2  # mean, CI, published, Δ vs published
    spec = "lrl" + "r" * numbers + "l" * (len(columns) - 3 - numbers)
    notes = [latex_text(line) for line in summary_lines(report)]
    return "\n".join([f"\\begin{{tabular}}{{{spec}}}", "\\toprule",
                      " & ".join(latex_text(c) for c in columns) + " \\\\", "\\midrule", *body,
                      "\\bottomrule", "\\end{tabular}", "", "\n\n".join(notes)]) + "\n"


CSV_FIELDS = ["dataset", "pred_len", "model", "label", "split", "cv", "validation", "metric",
              "scale", "mean",
              "std", "n", "seeds_identical", "ci_low", "ci_high", "ci_clipped",
              "published", "published_seq_len",
              "published_epochs", "published_source", "published_windows_unscored",
              "published_withheld", "published_other_settings",
              "delta", "delta_windows", "best", "vs_baseline", "dm_statistic", "df", "p_value",
              "p_holm", "protocol_flags"]


def _csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for row in report.rows:
        ci, ref = row.spread.ci, row.reference
        tag = row.cell.runs[0].val_tag  # a validation report's: also its table's dataset
        writer.writerow({
            "dataset": row.cell.dataset.removesuffix(f" [{tag}]"),
            "pred_len": row.cell.pred_len, "model": row.cell.model,
            "label": row.cell.label, "split": report.split,
            "cv": cell_facts(row.cell)["cross-validation"],
            "validation": tag.removeprefix("val: ") if tag else None,
            "metric": report.metric,
            "scale": report.units if report.metric in SCALED else "scale-free",
            "mean": row.spread.mean,
            "std": row.spread.std,
            "n": row.spread.n, "seeds_identical": row.spread.identical,
            "ci_low": None if ci is None else ci[0],
            "ci_high": None if ci is None else ci[1], "ci_clipped": row.spread.clipped,
            "published": row.published,
            "published_seq_len": None if ref is None else ref.seq_len,
            "published_epochs": None if ref is None else ref.epochs,
            "published_source": None if ref is None else ref.source,
            "published_windows_unscored": None if ref is None else ref.unscored,
            "published_withheld": "; ".join(row.withheld),
            "published_other_settings": row.other_settings,
            "delta": row.delta, "delta_windows": row.published_windows, "best": row.best,
            "vs_baseline": row.verdict or row.note,
            "dm_statistic": None if row.test is None else row.test.statistic,
            "df": None if row.test is None else row.test.df,
            "p_value": None if row.test is None else row.test.p_value, "p_holm": row.p_holm,
            "protocol_flags": "; ".join(row.flags),
        })
    return buffer.getvalue()
