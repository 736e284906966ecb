"""Render aggregated cells as Markdown, LaTeX or CSV, with published numbers beside them."""

from __future__ import annotations

import csv
import io

from tsbench.report.collect import Cell
from tsbench.report.published import published

FORMATS = ("markdown", "latex", "csv")


def rows(cells: dict[tuple[str, str, int], Cell], metric: str = "mse") -> list[dict]:
    """One row per (dataset, pred_len, model): mean, std, n, published, relative delta,
    and whether it is the best mean of its (dataset, pred_len)."""
    key = f"test_{metric}"
    out = []
    for (dataset, model, pred_len), cell in sorted(cells.items(), key=lambda kv: (
            kv[0][0], kv[0][2], kv[0][1])):
        if cell.count(key) == 0:
            continue
        ref = published(model, dataset, pred_len, metric)
        mean = cell.mean(key)
        out.append({
            "dataset": dataset, "pred_len": pred_len, "model": model, "mean": mean,
            "std": cell.std(key), "n": cell.count(key), "published": ref,
            "delta": None if ref is None else (mean - ref) / ref,
        })
    for row in out:
        group = [r["mean"] for r in out
                 if (r["dataset"], r["pred_len"]) == (row["dataset"], row["pred_len"])]
        row["best"] = row["mean"] == min(group)
    return out


def render(table: list[dict], fmt: str = "markdown", metric: str = "mse") -> str:
    if fmt == "csv":
        buffer = io.StringIO()
        fields = ["dataset", "pred_len", "model", "mean", "std", "n", "published", "delta", "best"]
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        writer.writerows(table)
        return buffer.getvalue()
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}': use one of {FORMATS}")
    latex = fmt == "latex"
    header = ["dataset", "pred_len", "model", f"test {metric.upper()} (mean ± std, n)",
              "published", "Δ vs published"]
    lines = []
    for row in table:
        spread = "" if row["std"] is None else f" ± {row['std']:.4f}"
        value = f"{row['mean']:.4f}{spread} ({row['n']})"
        if row["best"]:
            value = f"\\textbf{{{value}}}" if latex else f"**{value}**"
        ref = "–" if row["published"] is None else f"{row['published']:.3f}"
        delta = "–" if row["delta"] is None else f"{100 * row['delta']:+.1f} %"
        lines.append([row["dataset"], str(row["pred_len"]), row["model"], value, ref, delta])
    if latex:
        body = [" & ".join(c.replace("±", "$\\pm$").replace("%", "\\%").replace("_", "\\_")
                           for c in line) + " \\\\" for line in lines]
        return "\n".join(["\\begin{tabular}{lrlllr}", "\\toprule",
                          " & ".join(header).replace("±", "$\\pm$").replace("_", "\\_")
                          .replace("Δ", "$\\Delta$") + " \\\\", "\\midrule", *body,
                          "\\bottomrule", "\\end{tabular}"]) + "\n"
    sep = ["---", "---:", "---", "---:", "---:", "---:"]
    return "\n".join("| " + " | ".join(line) + " |" for line in [header, sep, *lines]) + "\n"
