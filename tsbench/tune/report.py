"""A finished tuning run's ``report.md``, from the summary ``report.json`` holds."""

from __future__ import annotations

import shlex
from typing import Any

from tsbench.counted import counted
from tsbench.tune.progress import clock
from tsbench.tuning_files import result_header, result_rows


def as_overrides(params: dict[str, Any]) -> str:
    """A configuration as the Hydra overrides that run it: ``key=value ...``, quoted for a
    shell where a value needs it."""
    return " ".join(shlex.quote(f"{k}={v}") for k, v in params.items())


def _settings(overrides: list[str]) -> str:
    """The command's overrides as the baseline ran them, where the defaults are not theirs."""
    if not overrides:
        return "none: the config's defaults"
    return f"`{' '.join(overrides)}`; the model's defaults, or its preset's, elsewhere"


def render_report(summary: dict[str, Any]) -> str:
    """``report.md``'s Markdown for ``summary``: the stages, the choice and its test scores
    beside the baseline's."""
    lr = summary["lr"]
    weights = summary["ensemble_weights"]
    selection = summary.get("selection", "validation")
    objective = "val MSE" if selection == "validation" else "CV val MSE"
    lines = [
        "# tsbench-tune report", "",
        f"Command: `{summary['command']}`  ",
        # tune.json's clock, not the command's wall time: it starts once the folder is locked
        f"Time spent: {clock(summary['wall_seconds'])} (stages (a)-(g) by tune.json's clock, "
        "every session summed; the start-up and checks before stage (a) not counted)  ",
        f"Learning-rate finder suggestion: {lr['suggestion']:.3g}; searched "
        + (f"as recipe.search says: `{lr['replaced_by']}`  " if "replaced_by" in lr else
           f"{lr['low']:.3g} to {lr['high']:.3g} (log scale)  "),
        f"Look-back candidates searched: {summary['lookbacks']}  ",
        "Searches: " + "; ".join(f"{stage}: {counted(s['trials'], 'trial')}, "
                                 f"{s['full_budget']} at full budget"
                                 for stage, s in summary["stages"].items()) + "  ",
        *([f"**Short budget: {summary['short_budget']}**  "] if "short_budget" in summary
          else []),
        f"Selection objective: MSE on {selection}  ",
        *([f"**Warning: {summary['unusual_validation']}**  "]
          if "unusual_validation" in summary else []),
        *([f"Baseline: the command's own settings ({_settings(summary['overrides'])}), "
           "trained as a trial is: what the searches start from, not a naive forecast (for "
           "that reference, run `model=seasonal_naive` on the same data)  "]
          if "overrides" in summary else []),
        f"Scores: MSE and MAE of {summary['scored']}, on the training "
        "rows' scaler (the published convention), and in the data file's own units (the "
        "forecasts and actuals inverse-transformed with that scaler)",
        "", *result_header(objective), *result_rows(summary),
    ]
    results = summary["results"]
    lines += ["", f"Top configurations (the search trial's {objective}, scaled; every trial "
              f"also ran with `{' '.join(summary.get('trial_overrides', []))}`: the learning "
              "rate it trained at moved with its batch size):", ""]
    if not summary["top_configs"]:
        lines.append("- none: no search trial ran its full budget")
    lines += [f"- {cfg['objective']:.4f}: `"
              + as_overrides({k: v for k, v in sorted(cfg.items()) if k != "objective"}) + "`"
              for cfg in summary["top_configs"]]
    if "range_edges" in summary:
        lines += ["", summary["range_edges"][:1].upper() + summary["range_edges"][1:]
                  if summary["range_edges"] else "No searched parameter has its best "
                  "configurations at one end of its range."]
    lines += ["", f"Best single run: `{summary['best_single']}`", "",
              f"Ensemble: picked greedily by the objective ({objective}) from the "
              f"{len(summary['members'])} candidates (the baseline, the top configurations' "
              "search trials and their retrained runs; weight: run):", ""]
    lines += [f"- {w:.3f}: `{m}`" for m, w in sorted(weights.items())]
    lines += ["", "Stages (a)-(f) read only the training and validation splits; the test "
              f"split was scored once, in stage (g), for the {len(results)} rows above, all "
              "chosen before it was read (a refit row's objective is its choice's: a refit "
              "has no validation rows left)."]
    if selection != "validation":
        lines += ["Scored models: each run's last fold, trained on the published training "
                  "rows (val MSE: the published validation split)."]
    if summary.get("refit_epochs"):
        seeds = summary.get("refit_seeds", {})
        lines += ["Rows marked refit: the same choices trained again on the training and "
                  "validation rows for each run's validation-chosen epoch count, with its own "
                  "seed and `recipe.refit_seeds` (a run's share split evenly over its seeds' "
                  "forecasts; scaler and scores on the training rows' scale, as the other rows, "
                  "which train on the training rows only). Epochs and seeds: " + ", ".join(
                      f"`{m}` {e} {seeds.get(m, '')}".rstrip()
                      for m, e in sorted(summary["refit_epochs"].items()))]
    return "\n".join([*lines, ""])
