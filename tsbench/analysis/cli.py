"""``tsbench-analyze``: dominant periods of a dataset's training rows and the look-backs
they suggest; writes ``acf.png`` and ``lookback.yaml`` into the Hydra output directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import hydra
import yaml
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from tsbench.analysis.lookback import (
    channel_options,
    one_run_lookback,
    period_settings,
    search_override,
    split_rows,
    suggest,
)
from tsbench.analysis.periodicity import Period, acf, dominant_periods
from tsbench.analysis.plots import plot_acf
from tsbench.atomic import write_text
from tsbench.closed_stdout import quiet_when_stdout_closes
from tsbench.config_values import check_interpolations, number, whole
from tsbench.data.loading import check_features, load_series
from tsbench.data.unusual_validation import naive_mse_ratio, unusual_validation_warning
from tsbench.errors import ConfigError, TsbenchError, too_small
from tsbench.quiet import quiet_dependencies
from tsbench.resolvers import data_name, register_resolvers
from tsbench.rundir import ACF_PLOT, LOOKBACK, remove_refused
from tsbench.settings_check import check_settings, command_overrides, refuse_a_file
from tsbench.tune_stage import tune_stage
from tsbench.user_paths import home_in_overrides

register_resolvers()


#: The whole-number settings: the least each may be, what it gives and a valid value.
_COUNTS = {"pred_len": (1, "the horizon in time steps", 96),
           "max_lookback": (4, "the longest look-back to suggest", 720),
           "n_periods": (1, "the periods to report at most", 3),
           "acf_lags": (1, "the lags to draw", 400)}


def _check(cfg: Any) -> None:
    """Refuse a setting out of its range, each with a valid value."""
    for key, (least, what, example) in _COUNTS.items():
        if whole(cfg[key], key) < least:
            raise too_small(key, cfg[key], least, what, example)
    if not 0 <= number(cfg.min_strength, "min_strength") <= 1:  # an autocorrelation
        raise ConfigError("min_strength", f"must lie between 0 and 1 (a seasonal "
                          f"autocorrelation), got {cfg.min_strength}",
                          "give the least strength a period counts from, e.g. "
                          "min_strength=0.1")
    if number(cfg.min_prominence, "min_prominence") < 0:
        raise too_small("min_prominence", cfg.min_prominence, 0, "the least ratio of a "
                        "period's spectral line to its neighbourhood", 20)
    check_features(cfg.features)


def analyze(cfg: Any, out_dir: Path) -> dict[str, Any]:
    """Analyze ``cfg.dataset``'s training rows; write the plot and the YAML report."""
    _check(cfg)
    series = load_series(cfg.dataset)
    borders = split_rows(series)
    start, end = borders.train
    train = series.values[start:end]
    pred_len, max_lookback = int(cfg.pred_len), int(cfg.max_lookback)
    for split in ("val", "test"):  # no run can forecast further than a split holds
        rows = borders[split][1] - borders[split][0]
        if pred_len > rows:
            raise ConfigError("pred_len", f"{pred_len} is longer than the {split} split's "
                              f"{rows} rows to forecast", f"use pred_len <= {rows}")
    settings = period_settings(cfg)
    target_only = cfg.features in ("S", "MS")
    scored = train[:, -1:] if target_only else train  # the target last, as suggest reads
    suggestion = suggest(series, pred_len, str(cfg.features), **settings)
    overall = suggestion.periods
    options = channel_options(**settings)
    channels = {
        name: dominant_periods(train[:, j], **options) for j, name in enumerate(series.columns)
    }
    report = {
        "dataset": data_name(cfg.dataset),
        "freq": series.freq,
        "training_rows": [start, end],
        "pred_len": pred_len,
        "features": str(cfg.features),
        "max_lookback": max_lookback,
        **_periods(overall),
        "channels": {name: _periods(found) for name, found in channels.items()},
        "candidates": suggestion.candidates,
        "longest_lookback": suggestion.longest,  # the longest seq_len searched
    }
    lags = min(int(cfg.acf_lags), len(train) - 1)
    # the channels whose periods are marked: the target alone with features S or MS
    names = series.columns[-1:] if target_only else series.columns
    title = (f"ACF of {report['dataset']}" + (f" (target {names[0]})" if target_only else "")
             + f", training rows {start}-{end}")
    plot_acf(
        acf(scored, lags),
        names,
        overall,
        title,
        f"time steps, freq={series.freq}",
        out_dir / ACF_PLOT,
    )
    # read after the training rows' analysis, and only into the console's line: the files
    # come from the training rows alone
    report["validation_ratio"] = naive_mse_ratio(series, pred_len, target_only)
    text = yaml.safe_dump({k: v for k, v in report.items() if k != "validation_ratio"},
                          sort_keys=False, default_flow_style=None)
    write_text(out_dir / LOOKBACK, text)
    return report


def _periods(found: list[Period]) -> dict[str, list]:
    return {"periods": [p.period for p in found], "strengths": [p.strength for p in found]}


def table(report: dict[str, Any]) -> str:
    """A short console summary of ``report``."""
    start, end = report["training_rows"]
    rows = [(name, entry) for name, entry in report["channels"].items()]
    rows.append(("overall" if report["features"] == "M" else "target", report))
    width = max(8, *(len(name) for name, _ in rows))
    lines = [
        f"tsbench-analyze: {report['dataset']}, training rows {start}-{end}",
        f"{'channel':<{width}}  {'periods':<14}  strengths",
    ]
    for name, entry in rows:
        periods = ", ".join(str(p) for p in entry["periods"]) or "-"
        strengths = ", ".join(f"{s:.2f}" for s in entry["strengths"]) or "-"
        lines.append(f"{name:<{width}}  {periods:<14}  {strengths}")
    candidates = report["candidates"]
    if not report["periods"]:
        where = "overall" if report["features"] == "M" else "in the target"
        several = where == "overall" and len(report["channels"]) > 1
        lines.append(f"no period found {where}, so no look-back candidates (weaker cycles "
                     "show with lower min_prominence or min_strength"
                     + (", the target's alone with features=S" if several else "") + ")")
    elif not candidates:
        lines.append(
            f"look-back candidates for pred_len={report['pred_len']} (0): none: two cycles of "
            f"period {min(report['periods'])} are longer than the longest look-back that fits, "
            f"{report['longest_lookback']} (half the training rows less pred_len, at most "
            "max_lookback) -> lower pred_len, or raise max_lookback"
        )
    else:
        lines += [
            f"look-back candidates for pred_len={report['pred_len']} ({len(candidates)}): "
            + " ".join(str(c) for c in candidates),
            f"to search a few (the shortest doubled), paste {search_override(candidates)}; "
            f"for one run, seq_len={one_run_lookback(candidates)}",
        ]
    return "\n".join(lines)


@hydra.main(version_base="1.3", config_path="../conf", config_name="analyze")
@quiet_when_stdout_closes  # inside Hydra, which reports a task's error as a traceback
def main(cfg: DictConfig) -> None:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        report = analyze(cfg, out_dir)
    except TsbenchError as exc:
        remove_refused(out_dir, f"{HydraConfig.get().job.name}.log")  # no half-written results
        print(f"tsbench-analyze: error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(table(report) + f"\ntsbench-analyze: outputs in {out_dir}", flush=True)
    # tsbench-tune said it once before its stages: its stage (c) log would repeat it
    warning = None if tune_stage() else unusual_validation_warning(report.get("validation_ratio"))
    if warning:  # on stderr, as tsbench's warnings: the table stays alone on stdout
        print(f"tsbench-analyze: warning: {warning}", file=sys.stderr, flush=True)


@quiet_when_stdout_closes
def entry() -> None:
    quiet_dependencies()
    sys.argv[1:] = home_in_overrides(sys.argv[1:])  # before Hydra parses them
    args = command_overrides(sys.argv[1:])
    try:  # a misspelt setting or option, or one out of range, in one line, before Hydra
        # makes any folder
        if args is not None:
            refuse_a_file(list(args.overrides), "tsbench-analyze")
            config = check_settings(list(args.overrides), "analyze", "tsbench-analyze")
            if config is not None and not args.cfg:  # out of range: no folder made either
                check_interpolations(config, "tsbench-analyze")
                _check(config)
    except TsbenchError as exc:
        print(f"tsbench-analyze: error: {exc}", file=sys.stderr)
        sys.exit(2)
    main()


if __name__ == "__main__":
    entry()
