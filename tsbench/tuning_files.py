"""A tsbench-tune folder's records, in one place and importing only the shared column
format: their names, and the rows of the result table ``report.json`` holds. tsbench-tune
writes them; the report, the forecast and the output guard read them."""

from tsbench.column_format import column_format

#: The settings and finished stages of a tuning folder (its mark: a folder holding it is one).
STATE_FILE = "tune.json"
#: A finished tuning run's summary (its choices and their test scores), and its Markdown.
SUMMARY_FILE, REPORT_FILE = "report.json", "report.md"
#: The rows of a tuning run's result table, in order (a refit row after the three).
CHOICES = ("baseline", "best single", "ensemble")
#: A result row's test scores in the data file's own units (the scaled ones' twins).
ORIGINAL_SCORES = ("test_mse_orig", "test_mae_orig")


def result_header(objective: str) -> list[str]:
    """The result table's two header lines, its objective column named ``objective``; the
    test scores scaled (the published convention), then in the data file's own units."""
    return [f"| | members | objective ({objective}) | val MSE | test MSE | test MAE | "
            "test MSE (original units) | test MAE (original units) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]


def result_rows(summary: dict) -> list[str]:
    """The Markdown rows of ``summary``'s result table (:func:`result_header`): the choices
    in :data:`CHOICES` order, their refits after them. The scaled scores have 4 decimals;
    each column in original units (the data's, of any size) the format of the report's such
    columns, :func:`~tsbench.column_format.column_format`. A row of a ``report.json`` older
    than its objective (tsbench before 2026-12-02) or its test scores in original units
    (before 2026-12-07) says ``(not saved)``; a refit has no validation rows left
    (``(trained on)``)."""
    members = {"baseline": 1, "best single": 1,
               "ensemble": len(summary.get("ensemble_weights") or {})}

    def order(name: str) -> tuple[bool, int]:
        base = name.removesuffix(" refit")
        return name != base, CHOICES.index(base) if base in CHOICES else len(CHOICES)

    results = summary["results"]
    formats = {"objective": ".4f", **{key: column_format(s[key] for s in results.values()
                                                         if key in s) for key in ORIGINAL_SCORES}}
    rows = []
    for name in sorted(results, key=order):
        scores = results[name]
        val = f"{scores['val_mse']:.4f}" if "val_mse" in scores else "(trained on)"
        saved = {key: f"{scores[key]:{spec}}" if key in scores else "(not saved)"
                 for key, spec in formats.items()}
        rows.append(f"| {name} | {members.get(name.removesuffix(' refit'), '?')} | "
                    f"{saved['objective']} | {val} | {scores['test_mse']:.4f} | "
                    f"{scores['test_mae']:.4f} | {saved['test_mse_orig']} | "
                    f"{saved['test_mae_orig']} |")
    return rows
