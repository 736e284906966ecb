"""Summarise a finished ``tsbench-tune`` folder as Markdown for ``benchmarks/tune_results.md``.

    python benchmarks/tune_summary.py outputs/tune/etth1_96

Prints the settings, each search stage's trials (ended, full budget, pruned and at which
epoch, failed, best objective: validation or CV MSE, trial seconds), the best full-budget
configurations, the retrained runs, (g)'s refits, and the final scores of report.json (the
one test evaluation), scaled and, where report.json holds them, in the data's own units.

    python benchmarks/tune_summary.py outputs/tune/ili_24_v4 --rank-check

also scores every full-budget run on the test split, after the fact and for the record
only (nothing in the recipe reads it): how well the objective the recipe chose by ranked
the runs for the test period (Spearman's rank correlation), and each refit alone.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from scipy.stats import spearmanr

from tsbench.column_format import column_format
from tsbench.rundir import holdout_model_dir, read_metrics
from tsbench.search.names import OK, PRUNED, RECORD_COLUMNS
from tsbench.tune.ensemble import score_runs
from tsbench.tune.recipe import read_trials
from tsbench.tuning_files import ORIGINAL_SCORES

SEARCHES = {"d_random": "(d) random search", "e_bayes": "(e) Bayesian search"}


def search_rows(out: Path) -> list[str]:
    lines = ["| stage | ended | full budget | pruned (at epoch: count) | failed | best objective "
             "| trial s (sum) |", "|---|---:|---:|---|---:|---:|---:|"]
    for stage, label in SEARCHES.items():
        rows = read_trials(out / stage)
        done = [r for r in rows if r["status"] == OK]
        pruned = Counter(int(r["pruned_at_epoch"]) for r in rows if r["status"] == PRUNED)
        failed = sum(r["status"] not in (OK, PRUNED) for r in rows)
        best = min((float(r["objective"]) for r in done), default=float("nan"))
        seconds = sum(float(r["seconds"] or 0) for r in rows)
        at = ", ".join(f"{e}: {n}" for e, n in sorted(pruned.items())) or "-"
        lines.append(f"| {label} | {len(rows)} | {len(done)} | {sum(pruned.values())} ({at}) | "
                     f"{failed} | {best:.4f} | {seconds:,.0f} |")
    return lines


def top_rows(out: Path, k: int) -> list[str]:
    found = [(float(r["objective"]), stage, r) for stage in SEARCHES
             for r in read_trials(out / stage) if r["status"] == OK]
    found.sort(key=lambda item: item[0])
    if not found:
        return ["(no full-budget trial)"]
    params = [c for c in found[0][2] if c not in RECORD_COLUMNS]
    lines = ["| objective | stage | " + " | ".join(params) + " |",
             "|---:|---|" + "---|" * len(params)]
    for value, stage, row in found[:k]:
        cells = [_short(row[p]) for p in params]
        lines.append(f"| {value:.4f} | {stage} | " + " | ".join(cells) + " |")
    return lines


def retrain_rows(out: Path) -> list[str]:
    """(f)'s retrained runs: objective, epochs (best epoch) and training seconds."""
    runs = sorted((out / "f_retrain").glob("*/seed_*/metrics.json"))
    if not runs:
        return ["none: the budget was spent (or kept for (g)'s refits) before any retraining"]
    lines = ["| run | objective | epochs (best) | train s |", "|---|---:|---:|---:|"]
    for path in runs:
        m = json.loads(path.read_text())  # cross-validated: epochs of every fold, median best
        best = m.get("best_epoch", m.get("cv_best_epoch_median"))
        lines.append(f"| {path.parent.relative_to(out)} | {m['objective']:.4f} | "
                     f"{m['epochs']} ({best:g}) | {m['train_seconds']:,.0f} |")
    return lines


def refit_rows(out: Path, alone: bool) -> list[str]:
    """(g)'s refits on the train+val rows: epochs, seed and training seconds; with ``alone``
    also each one's own test MSE (after the fact: (g) scores them only averaged)."""
    runs = sorted(p.parent for p in (out / "g_refit").rglob("metrics.json"))
    lines = ["| refit | epochs | seed | train s |" + (" test MSE alone |" if alone else ""),
             "|---|---:|---:|---:|" + ("---:|" if alone else "")]
    for run in runs:
        m = read_metrics(run)
        test = f" {score_runs([run], ['test'])['test_mse']:.4f} |" if alone else ""
        lines.append(f"| {run.relative_to(out)} | {m['epochs']} | {m['seed']} | "
                     f"{m['train_seconds']:,.0f} |{test}")
    return lines


def final_rows(report: dict) -> list[str]:
    """(g)'s scores of each row: scaled, and in the data file's own units (each such column
    formatted as report.md's; ``(not saved)`` in a report.json before 2026-12-07)."""
    lines = ["| | objective | val MSE | val MAE | test MSE | test MAE | test MSE (original "
             "units) | test MAE (original units) | test windows |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    results = report["results"]
    formats = {key: column_format(s[key] for s in results.values() if key in s)
               for key in ORIGINAL_SCORES}
    for name, s in results.items():
        objective = s.get("objective", s.get("val_mse"))  # runs before cv_folds chose on val
        val = (f"{s['val_mse']:.4f} | {s['val_mae']:.4f}" if "val_mse" in s
               else "trained on | trained on")  # refits train on the validation rows
        original = " | ".join(f"{s[key]:{spec}}" if key in s else "(not saved)"
                              for key, spec in formats.items())
        lines.append(f"| {name} | {objective:.4f} | {val} | {s['test_mse']:.4f} | "
                     f"{s['test_mae']:.4f} | {original} | {s['n_test_windows']} |")
    return lines


def full_budget_runs(out: Path) -> list[Path]:
    """The baseline, every search trial that ran its full budget, every retrained run."""
    runs = [out / "a_baseline"]
    runs += [out / stage / r["job_dir"] for stage in SEARCHES for r in read_trials(out / stage)
             if r["status"] == OK]
    return runs + sorted(p.parent for p in (out / "f_retrain").glob("*/seed_*/metrics.json"))


def rank_rows(out: Path) -> list[str]:
    """Each full-budget run's objective beside the test MSE of its scored model (the run, or
    its last fold when cross-validated), best objective first, and Spearman's rho."""
    found = []
    for run in full_budget_runs(out):
        test = score_runs([holdout_model_dir(run)], ["test"])["test_mse"]
        found.append((read_metrics(run)["objective"], test, run))
    found.sort(key=lambda item: item[0])
    rho = spearmanr([f[0] for f in found], [f[1] for f in found]).statistic
    by_test = sorted(f[1] for f in found)
    lines = [f"{len(found)} full-budget runs; Spearman's rho of objective and test MSE: "
             f"{rho:.2f}; lowest test MSE of any: {by_test[0]:.4f}", "",
             "| run | objective | test MSE | test rank |", "|---|---:|---:|---:|"]
    for objective, test, run in found:
        lines.append(f"| {_relative(run, out)} | {objective:.4f} | {test:.4f} | "
                     f"{by_test.index(test) + 1} |")
    return lines


def _short(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    return f"{number:.3g}" if not number.is_integer() else str(int(number))


def _relative(run: Path, out: Path) -> Path:
    """``run`` inside the tune folder ``out``, relative to it where it is."""
    for base in (out, out.resolve()):
        if run.is_relative_to(base):
            return run.relative_to(base)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the tsbench-tune folder (out=)")
    parser.add_argument("--top", type=int, default=8, help="best configurations listed")
    parser.add_argument("--rank-check", action="store_true",
                        help="also score every full-budget run on test (for the record)")
    args = parser.parse_args()
    out: Path = args.out
    if not (out / "report.json").is_file():
        what = "an unfinished tsbench-tune run (no report.json yet)" if (
            out / "tune.json").is_file() else "not a tsbench-tune folder (no tune.json)"
        parser.error(f"{out} is {what} -> give the folder of a finished run; the same "
                     "tsbench-tune command finishes an unfinished one")
    report = json.loads((out / "report.json").read_text())
    state = json.loads((out / "tune.json").read_text())
    lr = report["lr"]
    print(f"Overrides: `{' '.join(report['overrides'])}`  ")
    print(f"Recipe: `{json.dumps(state['settings']['recipe'])}`  ")
    print(f"Time spent by tune.json's clock (stages a-g; not the command's wall time, which "
          f"adds its start-up): {report['wall_seconds']:,.0f} s  ")
    print(f"Learning rate: range-test suggestion {lr['suggestion']:.3g}, searched "
          f"{lr['low']:.3g} to {lr['high']:.3g}  ")
    print(f"Look-backs searched: {report['lookbacks']}  ")
    print(f"Objective: MSE on {report.get('selection', 'validation')}\n")
    for block in (search_rows(out), ["", f"Best full-budget trials (top {args.top}):", ""],
                  top_rows(out, args.top), ["", "Retrained runs (f):", ""], retrain_rows(out),
                  ["", "Refits (g) on the train+val rows" + (
                      " (test MSE alone: after the fact, for the record)" if args.rank_check
                      else "") + ":", ""], refit_rows(out, args.rank_check),
                  ["", "Final scores (g), every window:", ""], final_rows(report)):
        print("\n".join(block))
    print("\nEnsemble members (weight: run):")
    for run, weight in report["ensemble_weights"].items():
        print(f"- {weight:.3f}: `{_relative(Path(run), out)}`")
    if args.rank_check:
        print("\nAfter the fact, for the record (no choice used it): every full-budget run's "
              "objective and test MSE, every test window:\n")
        print("\n".join(rank_rows(out)))


if __name__ == "__main__":
    main()
