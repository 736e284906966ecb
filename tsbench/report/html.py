"""The report as one self-contained HTML page: every picture is a data URI, no script,
no font or style sheet from elsewhere, so the file opens anywhere without a server or a
network. Narrow screens get one card per row instead of a wide table."""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path

from tsbench.counted import counted
from tsbench.report import plots, search_trials
from tsbench.report.build import BETTER, WORSE, Report, Row
from tsbench.report.collect import Cell, reads_look_back
from tsbench.report.compare import FACTS, cell_facts
from tsbench.report.search_trials import SearchTable
from tsbench.report.table import (
    ci_text,
    code_spans,
    delta_text,
    header,
    number_format,
    protocol_text,
    published_text,
    summary_lines,
    test_name,
    value_text,
    verdict_text,
)
from tsbench.report.units import SCALED_UNITS
from tsbench.report.validation import SPLIT_NAMES
from tsbench.rundir import FORECAST_PLOT

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1150px;padding:12px;line-height:1.45;color:#1d1d1d;background:#fff}
h1{font-size:1.5em;margin:.3em 0}h2{font-size:1.25em;margin-top:1.6em}
h3{font-size:1.05em;margin:1.2em 0 .4em}
img{max-width:100%;height:auto;display:block;margin:.5em 0}
.wide{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border-bottom:1px solid #ddd;padding:5px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}
tr.main td{border-bottom:none}
tr.cardrow td{padding:0 6px 5px;font-size:13px}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.best td.value{font-weight:700}
.better{color:#07631a;font-weight:600}.worse{color:#a4000f;font-weight:600}
.flag{color:#9a4a00}
.muted{color:#666;font-size:.9em}
details summary{cursor:pointer;color:#0645ad;font-size:13px}
dl.card{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:.4em 0}
dl.card dt{font-weight:600}dl.card dd{margin:0;word-break:break-word}
pre{white-space:pre-wrap;word-break:break-all;font-size:12px;background:#f7f7f7;padding:6px}
figure{margin:1em 0}figcaption{font-size:.9em;color:#444}
@media (max-width:700px){
 table.results thead{display:none}
 table.results tr{display:block;border:1px solid #ccc;border-radius:6px;margin:0 0 12px;
  padding:4px 6px}
 table.results td{display:flex;justify-content:space-between;gap:10px;border:none;
  padding:3px 0;text-align:right;white-space:normal}
 table.results td::before{content:attr(data-label);font-weight:600;text-align:left}
 table.results tr.main{margin:0;border-bottom:none;border-radius:6px 6px 0 0}
 table.results tr.cardrow{margin:0 0 12px;border-top:none;border-radius:0 0 6px 6px}
 table.results tr.cardrow td{display:block;text-align:left}
 table.results tr.cardrow td::before{content:none}
 dl.card{grid-template-columns:1fr}
}
"""


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


#: A page's start, up to its heading.
HEAD = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">', "<title>tsbench report</title>",
        f"<style>{STYLE}</style></head><body>", "<h1>tsbench report</h1>"]


def render_html(report: Report, sources: list[str], n_runs: int,
                searches: list[SearchTable] | tuple[()] = ()) -> str:
    """The whole page for ``report`` built from ``n_runs`` runs found under ``sources``,
    and the validation tables of the ``searches`` there after it."""
    metric = report.metric_words
    split = SPLIT_NAMES[report.split]
    parts = [
        *HEAD,
        f'<p class="muted">{split.capitalize()} {escape(metric)} of {counted(n_runs, "run")} '
        f"in {counted(len(report.rows), 'cell')}, read from {escape(', '.join(sources))}. "
        "A cell is one configuration "
        "over seeds; bold: the lowest mean among the cells of its table whose protocol "
        "matches.</p>",
        "<h2>Results</h2>",
    ]
    for (dataset, pred_len), rows in report.tables().items():
        parts.append(f"<h3>{escape(dataset)}, pred_len {pred_len}</h3>")
        parts.append(_table(report, rows))
    parts.append("<h2>Statistics</h2>")
    parts += [f"<p>{_with_code(line)}</p>" for line in summary_lines(report)]
    if not report.baseline:
        parts.append(f'<p class="muted">No paired tests: give <code>--baseline MODEL</code> '
                     f"(the {escape(test_name(metric, report.split))}).</p>")
    if report.ranking is not None:
        parts.append(_figure(plots.cd_diagram(report.ranking),
                             plots.cd_caption(report.ranking)))
    by_horizon = plots.metric_by_horizon(report)
    if by_horizon is not None:
        parts.append(f"<h2>{split.capitalize()} {escape(metric)} by horizon</h2>")
        parts.append(_figure(by_horizon, f"Mean {split} {metric} over seeds with its 95 % "
                                         "t-interval, per model, where it has one comparable "
                                         "configuration at a horizon."))
    parts.append("<h2>A forecast per model</h2>")
    parts += _forecasts(report) if report.split == "test" else [
        '<p class="muted">Left out of a validation report: a run draws its forecast picture on '
        "the test windows where it scored them.</p>"]
    parts += [_search_section(table) for table in searches]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def searches_page(searches: list[SearchTable], sources: list[str]) -> str:
    """A page of the searches' validation tables alone (no run scored a results table)."""
    parts = [*HEAD, f'<p class="muted">The trials of {counted(len(searches), "search")}, '
             f"read from {escape(', '.join(sources))}: validation scores only.</p>",
             *(_search_section(table) for table in searches), "</body></html>"]
    return "\n".join(parts) + "\n"


def _search_section(table: SearchTable) -> str:
    """A search's trials: their table, the best's val MSE in bold, and what it is not."""
    labels = search_trials.header(table)
    numeric = dict(zip(search_trials.TAIL[:3], ("num value", "num", "num"), strict=True))
    out = [f"<h2>Search trials (validation only): {escape(str(table.folder))}</h2>",
           '<div class="wide"><table class="results"><thead><tr>',
           *(f"<th>{escape(label)}</th>" for label in labels), "</tr></thead><tbody>"]
    for row in table.rows:
        out.append(f'<tr class="{"best " if row.best else ""}main">')
        out += [f'<td class="{numeric.get(label, "")}" data-label="{escape(label)}">'
                f"{escape(text)}</td>"
                for text, label in zip(search_trials.cells(row), labels, strict=True)]
        out.append("</tr>")
    out.append("</tbody></table></div>")
    out += [f"<p>{escape(line)}</p>" for line in search_trials.caption(table)]
    return "".join(out)


def _table(report: Report, rows: list[Row]) -> str:
    """The table of one dataset and horizon; under each row, a details row with its card."""
    labels = header(report)[2:]  # dataset and pred_len are the section's title
    out = ['<div class="wide"><table class="results"><thead><tr>']
    out += [f"<th>{escape(label)}</th>" for label in labels]
    out.append("</tr></thead><tbody>")
    for row in rows:
        fmt = number_format(report)
        values = [(row.cell.label, ""), (value_text(row, fmt), "num value"),
                  (ci_text(row, fmt), "num")]
        if report.shows_published:
            values += [(published_text(row), "num"), (delta_text(row), "num")]
        if report.baseline:
            values.append((verdict_text(row), {BETTER: "better", WORSE: "worse"}.get(
                row.verdict, "")))
        values.append((protocol_text(row, report.split), "flag" if row.flags else ""))
        out.append(f'<tr class="{"best " if row.best else ""}main">')
        out += [f'<td class="{cls}" data-label="{escape(label)}">{escape(text)}</td>'
                for (text, cls), label in zip(values, labels, strict=True)]
        out.append(f'</tr><tr class="cardrow"><td colspan="{len(labels)}">'
                   f"{_card(row, report.units)}</td></tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _card(row: Row, units: str = SCALED_UNITS) -> str:
    """The cell's protocol card: the compared facts, its seeds and runs, one full
    protocol.json, in a details element; in a report of other ``units`` than the run's
    headline scores, the metric scale names both."""
    shared = {**cell_facts(row.cell), "seq_len": look_back(row.cell)}
    shared["metric scale"] = scale_text(shared["metric scale"], units)
    facts = "".join(f"<dt>{escape(name)}</dt><dd>{escape(shared[name] or 'unknown')}</dd>"
                    for name in FACTS)
    seeds = ", ".join(str(r.seed) for r in row.cell.runs)
    runs = "<br>".join(escape(str(r.path)) for r in row.cell.runs)
    first = next((r for r in row.cell.runs if r.card is not None), None)
    full = ("" if first is None else
            f"<details><summary>protocol.json of seed {first.seed}</summary>"
            f"<pre>{escape(json.dumps(first.card, indent=1, sort_keys=True))}</pre></details>")
    return (f"<details><summary>protocol card: {escape(row.cell.label)}</summary>"
            f'<dl class="card">{facts}<dt>seeds</dt><dd>{escape(seeds)}</dd>'
            f"<dt>runs</dt><dd>{runs}</dd></dl>{full}</details>")


def scale_text(headline: str | None, units: str) -> str | None:
    """A card's metric scale as a report in ``units`` shows it: the run's headline scale
    (``scaled``), or where the report reads other units, both (``run's headline scale:
    scaled; this report: original units``)."""
    if units == SCALED_UNITS:
        return headline
    return f"run's headline scale: {headline or 'unknown'}; this report: {units} units"


def look_back(cell: Cell) -> str | None:
    """The card's seq_len: ``36, fixed`` (its value, and how it was chosen); ``not read``
    where the model forecasts alike whatever its look-back (a naive or classical one, as
    :func:`reads_look_back` reads it); None (unknown) where a run saved before cards does
    not say how it was chosen."""
    run = cell.runs[0]
    if not reads_look_back(run):
        return "not read"
    how = cell_facts(cell)["seq_len"]
    return None if how is None else f"{run.config.get('seq_len')}, {how}"


def _figure(png: bytes, caption: str) -> str:
    return (f'<figure><img src="{data_uri(png)}" alt="{escape(caption)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _forecasts(report: Report) -> list[str]:
    """The forecast picture of one run per model: its first seed in its first table."""
    shown: dict[str, Path] = {}
    for row in report.rows:
        for run in row.cell.runs:
            if row.cell.model not in shown and (run.path / FORECAST_PLOT).is_file():
                shown[row.cell.model] = run.path
    if not shown:
        return ['<p class="muted">No run has a forecast picture.</p>']
    return [_figure((path / FORECAST_PLOT).read_bytes(), f"{model}: {path}")
            for model, path in sorted(shown.items())]


def _with_code(text: str) -> str:
    """``text`` escaped for HTML, its backtick-quoted commands in ``<code>``."""
    return "".join(f"<code>{escape(part)}</code>" if code else escape(part)
                   for part, code in code_spans(text))
