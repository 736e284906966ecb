"""The tuning recipe as stages of ordinary tsbench commands, all in one directory.

(a) baseline with the preset's defaults, (b) learning-rate finder, (c) look-back
candidates from the data's periodicity, (d) random search, (e) Bayesian search
warm-started from the best random trials, (f) the top-k configurations retrained with
several seeds, (g) one final test evaluation of baseline, best single model and ensemble
(the retrained runs picked greedily, with replacement, by validation MSE).
Stages (a)-(f) run with ``score_test=false``: their runs never window the test split and
each records ``splits_read`` in its metrics.json; every selection uses validation scores.
"""

from __future__ import annotations

import csv
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tsbench.atomic import write_json, write_text
from tsbench.errors import TsbenchError
from tsbench.tune.ensemble import error_gram, greedy_weights, score_runs

log = logging.getLogger("tsbench.tune")
SEARCH_PRESETS = Path(__file__).resolve().parents[1] / "conf" / "search"


class StageFailed(TsbenchError):
    """A stage's command exited non-zero."""


def run_stage(name: str, argv: list[str], out_dir: Path) -> None:
    """Run one stage's command, keeping its output in ``<out_dir>/<name>.log``."""
    log.info("stage %s: %s", name, " ".join(argv))
    with open(out_dir / f"{name}.log", "w") as handle:
        proc = subprocess.run(argv, stdout=handle, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise StageFailed(
            f"stage {name} failed (exit {proc.returncode}); see {out_dir / f'{name}.log'}"
        )


def tsbench(*args: str) -> list[str]:
    return [sys.executable, "-m", "tsbench", *args]


def spread(values: list[int], n: int) -> list[int]:
    """At most ``n`` values evenly spread over ``values`` (ends included)."""
    if len(values) <= n:
        return values
    picks = (
        {values[round(i * (len(values) - 1) / (n - 1))] for i in range(n)}
        if n > 1
        else {values[len(values) // 2]}
    )
    return sorted(picks)


def lr_range(suggestion: float, min_loss_lr: float, span: float) -> tuple[float, float]:
    """The searched learning rates: ``suggestion / span`` up to ``suggestion * span``, or up
    to a tenth of the rate at the range test's loss minimum where that is higher (fastai's
    rule of thumb; the steepest-descent suggestion often sits at the start of the fall)."""
    return suggestion / span, max(suggestion * span, min_loss_lr / 10.0)


def read_ok_trials(path: Path) -> list[dict[str, str]]:
    with open(path) as handle:
        return [row for row in csv.DictReader(handle) if row["status"] == "ok"]


def params_of(row: dict[str, str]) -> dict[str, str]:
    """The searched parameters of a trials.csv row."""
    fixed = {"trial", "job", "status", "objective", "seconds", "job_dir", "error"}
    return {k: v for k, v in row.items() if k not in fixed}


def run_recipe(overrides: list[str], recipe: Any, out_dir: Path) -> dict[str, Any]:
    """Run stages (a)-(g) for the tsbench ``overrides`` (dataset=, model=, pred_len=, ...)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    base = [*overrides, "score_test=false", "trainer.progress_bar=false"]
    model = next((o.split("=", 1)[1] for o in overrides if o.startswith("model=")), "patchtst")

    # (a) baseline, (b) learning-rate finder
    run_stage("a_baseline", tsbench(*base, f"hydra.run.dir={out_dir / 'a_baseline'}"), out_dir)
    run_stage(
        "b_lr_find",
        tsbench(
            *base,
            "tune.lr_find=true",
            "tune.lr_find_apply=false",
            "trainer.max_epochs=1",
            f"hydra.run.dir={out_dir / 'b_lr_find'}",
        ),
        out_dir,
    )
    found_lr = json.loads((out_dir / "b_lr_find" / "lr_find.json").read_text())
    lr = float(found_lr["suggestion"])
    lr_low, lr_high = lr_range(lr, float(found_lr["min_loss_lr"]), float(recipe.lr_span))

    # (c) look-back candidates from the training rows' periodicity
    data_args = [o for o in overrides if o.startswith(("dataset", "pred_len"))]
    run_stage(
        "c_lookback",
        [
            sys.executable,
            "-m",
            "tsbench.analysis.cli",
            *data_args,
            f"max_lookback={int(recipe.max_seq_len)}",
            f"hydra.run.dir={out_dir / 'c_lookback'}",
        ],
        out_dir,
    )
    found = yaml.safe_load((out_dir / "c_lookback" / "lookback.yaml").read_text())
    lookbacks = spread(sorted(int(v) for v in found["candidates"]), int(recipe.n_lookbacks))

    # (d) random search, (e) Bayesian search warm-started from the best random trials
    preset = (
        f"search={model}_bo"
        if (SEARCH_PRESETS / f"{model}_bo.yaml").is_file()
        else ("hydra/sweeper=skopt")
    )
    space = [
        f"seq_len=choice({','.join(map(str, lookbacks))})",
        f"optim.lr=tag(log,interval({lr_low:.3g},{lr_high:.3g}))",
    ]
    searched = ("seq_len=", "optim.lr=")
    search = [
        preset,
        *[o for o in base if not o.startswith(searched)],
        *space,
        f"trainer.max_epochs={int(recipe.search_epochs)}",
        "logger=none",
        f"hydra.sweeper.random_state={int(recipe.random_state)}",
        f"hydra.sweeper.n_jobs={int(recipe.n_jobs)}",
    ]
    random_dir, bayes_dir = out_dir / "d_random", out_dir / "e_bayes"
    run_stage(
        "d_random",
        tsbench(
            "-m",
            *search,
            "hydra.sweeper.mode=random",
            f"hydra.sweeper.n_trials={int(recipe.random_trials)}",
            f"hydra.sweeper.n_initial_points={int(recipe.random_trials)}",
            f"hydra.sweep.dir={random_dir}",
        ),
        out_dir,
    )
    ranked = sorted(read_ok_trials(random_dir / "trials.csv"), key=lambda r: float(r["objective"]))
    warm = out_dir / "e_warm_start.csv"
    _write_rows(warm, ranked[: int(recipe.warm_start_top)])
    run_stage(
        "e_bayes",
        tsbench(
            "-m",
            *search,
            "hydra.sweeper.mode=bayes",
            f"hydra.sweeper.n_trials={int(recipe.bayes_trials)}",
            "hydra.sweeper.n_initial_points=1",
            f"hydra.sweeper.warm_start={warm}",
            f"hydra.sweep.dir={bayes_dir}",
        ),
        out_dir,
    )

    # (f) the top-k distinct configurations, retrained with several seeds
    every = ranked + read_ok_trials(bayes_dir / "trials.csv")
    top: list[dict[str, str]] = []
    for row in sorted(every, key=lambda r: float(r["objective"])):
        if params_of(row) not in [params_of(t) for t in top]:
            top.append(row)
        if len(top) == int(recipe.top_k):
            break
    seeds = ",".join(str(int(s)) for s in recipe.seeds)
    members: list[Path] = []
    for rank, row in enumerate(top, start=1):
        sweep = out_dir / "f_top" / str(rank)
        params = params_of(row)
        kept = [o for o in base if o.split("=", 1)[0] not in params]
        run_stage(
            f"f_top{rank}",
            tsbench(
                "-m",
                *kept,
                *[f"{k}={v}" for k, v in params.items()],
                f"trainer.max_epochs={int(recipe.search_epochs)}",
                f"seed={seeds}",
                f"hydra.sweep.dir={sweep}",
            ),
            out_dir,
        )
        members += sorted(p.parent for p in sweep.glob("*/metrics.json"))
    val = {m: json.loads((m / "metrics.json").read_text())["val_mse"] for m in members}
    best_single = min(members, key=val.__getitem__)
    # The ensemble: members picked greedily (with replacement) by validation MSE.
    counts = greedy_weights(error_gram(members, "val"))
    picked = {m: c for m, c in zip(members, counts, strict=True) if c}

    # (g) the one test evaluation
    entries = {
        "baseline": ([out_dir / "a_baseline"], None),
        "best single": ([best_single], None),
        "ensemble": (list(picked), list(picked.values())),
    }
    results = {name: score_runs(dirs, ["val", "test"], weights)
               for name, (dirs, weights) in entries.items()}
    summary = {
        "overrides": overrides,
        "lr_suggested": lr,
        "lr_searched": [lr_low, lr_high],
        "lookbacks": lookbacks,
        "top_configs": [{**params_of(r), "val_mse": float(r["objective"])} for r in top],
        "members": [str(m) for m in members],
        "ensemble_weights": {str(m): c / sum(counts) for m, c in picked.items()},
        "best_single": str(best_single),
        "results": results,
        "splits_read": {"a-f": ["train", "val"], "g": ["train", "val", "test"]},
    }
    write_json(out_dir / "report.json", summary)
    write_text(out_dir / "report.md", render_report(summary))
    return summary


def _write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["trial"])
        writer.writeheader()
        writer.writerows(rows)


def render_report(summary: dict[str, Any]) -> str:
    lines = [
        "# tsbench-tune report",
        "",
        f"Overrides: `{' '.join(summary['overrides'])}`  ",
        f"Learning-rate finder suggestion: {summary['lr_suggested']:.3g}; searched "
        f"{summary['lr_searched'][0]:.3g} to {summary['lr_searched'][1]:.3g} (log scale)  ",
        f"Look-back candidates searched: {summary['lookbacks']}",
        "",
        "| | members | val MSE | test MSE | test MAE |",
        "|---|---:|---:|---:|---:|",
    ]
    counts = {"baseline": 1, "best single": 1, "ensemble": len(summary["ensemble_weights"])}
    for name, scores in summary["results"].items():
        lines.append(
            f"| {name} | {counts[name]} | {scores['val_mse']:.4f} | "
            f"{scores['test_mse']:.4f} | {scores['test_mae']:.4f} |"
        )
    lines += ["", "Top configurations (validation MSE of the search trial):", ""]
    lines += [f"- {cfg}" for cfg in summary["top_configs"]]
    lines += ["", f"Ensemble: picked greedily by validation MSE from the "
              f"{len(summary['members'])} retrained runs (weight: run):", ""]
    lines += [f"- {w:.3f}: `{m}`" for m, w in summary["ensemble_weights"].items()]
    lines += [
        "",
        "Stages (a)-(f) read only the training and validation splits; the test "
        "split was scored once, in stage (g), for the three rows above.",
        "",
    ]
    return "\n".join(lines)
