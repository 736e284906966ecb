"""best.yaml, the command that reproduces the best trial, the per-trial log line and the
sweep's closing summary, with the parameters whose best trials sit at one end of the searched
range. Only trials that ran their full budget are candidates for best."""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ValueType
from hydra.errors import HydraException
from skopt.space import Dimension

from tsbench.atomic import write_with
from tsbench.counted import counted, noun_for, word_for
from tsbench.rundir import CONFIG, HYDRA_RECORD, METRICS, PROTOCOL
from tsbench.search.composition import Compose
from tsbench.search.names import BEST_FILE, FAILED, PRUNED
from tsbench.search.seeds import seeds_command
from tsbench.search.space import Scalar, SearchSpace, describe, format_value, position
from tsbench.search.trials import Trial, trial_label
from tsbench.yaml_load import load_yaml


def best_trial(trials: Sequence[Trial], maximize: bool) -> Trial | None:
    """The full-budget trial with the best objective (the earliest on ties)."""
    finished = [t for t in trials if t.ok and t.in_space]
    if not finished:
        return None
    sign = -1.0 if maximize else 1.0
    return min(finished, key=lambda t: (sign * t.objective, t.number))  # type: ignore[operator]


@dataclass(frozen=True)
class WarmStart:
    """The trials a sweep was warm-started with (those told the optimizer) and their file."""

    file: Path
    trials: tuple[Trial, ...]


def better_warm(trials: Sequence[Trial], warm: WarmStart | None, maximize: bool
                ) -> Trial | None:
    """The warm-start file's best full-budget trial where it beats every full-budget trial
    of this sweep (or this sweep has none); None otherwise."""
    if warm is None:
        return None
    theirs, ours = best_trial(warm.trials, maximize), best_trial(trials, maximize)
    if theirs is None or ours is None:
        return theirs
    sign = -1.0 if maximize else 1.0
    return theirs if sign * theirs.objective < sign * ours.objective else None  # type: ignore[operator]


def warm_text(space: SearchSpace, trial: Trial, warm: WarmStart) -> str:
    """``0.0258 (trial 7 of <file>: seq_len=336, lr=0.00231)``: a warm-start trial named."""
    params = ", ".join(f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}"
                       for name, value in space.values(trial.point).items())
    return f"{trial.objective:.6g} (trial {trial.number} of {warm.file}: {params})"


#: A range-edge finding: the best full-budget trials it looks at, how many trials ran their
#: full budget before it says anything, and the outer share of a range that is its end.
EDGE_BEST, EDGE_MIN_TRIALS, EDGE_ZONE = 3, 6, 0.1


def range_edges(dimensions: Mapping[str, Dimension],
                best_first: Sequence[Mapping[str, Scalar]]) -> dict[str, str]:
    """``{parameter: "low" | "high"}`` for each parameter whose :data:`EDGE_BEST` best
    points (of ``best_first``, full-budget points best first) all sit in the outer
    :data:`EDGE_ZONE` of one end of its range: the best value may lie beyond it. Nothing
    before :data:`EDGE_MIN_TRIALS` points (the best few of fewer are near any value by
    chance), and nothing for a choice without order (:func:`position`)."""
    if len(best_first) < EDGE_MIN_TRIALS:
        return {}
    edges = {}
    for name, dimension in dimensions.items():
        places = [position(dimension, point[name]) for point in best_first[:EDGE_BEST]]
        if any(p is None for p in places):
            continue
        if all(p <= EDGE_ZONE for p in places):  # type: ignore[operator]
            edges[name] = "low"
        elif all(p >= 1.0 - EDGE_ZONE for p in places):  # type: ignore[operator]
            edges[name] = "high"
    return edges


def edge_note(edges: Mapping[str, str], dimensions: Mapping[str, Dimension],
              best_first: Sequence[Mapping[str, Scalar]], fix: str) -> str:
    """One sentence naming each parameter of ``edges``, its best values and its range."""
    found = "; ".join(
        f"{name} at the {end} end of {describe(dimensions[name])} ("
        + ", ".join(f"{point[name]:.3g}" if isinstance(point[name], float) else str(point[name])
                    for point in best_first[:EDGE_BEST]) + ")"
        for name, end in edges.items())
    return (f"the best {EDGE_BEST} trials sit at one end of a searched range, so the best "
            f"value may lie beyond it: {found} -> {fix}")


def sweep_edges(space: SearchSpace, trials: Sequence[Trial],
                maximize: bool) -> tuple[dict[str, str], str]:
    """:func:`range_edges` of a sweep's full-budget trials, and its :func:`edge_note` ("" when
    none)."""
    sign = -1.0 if maximize else 1.0
    ranked = sorted((t for t in trials if t.ok and t.in_space),
                    key=lambda t: (sign * t.objective, t.number))  # type: ignore[operator]
    dimensions = dict(zip(space.names, space.dimensions, strict=True))
    best_first = [space.values(t.point) for t in ranked]
    edges = range_edges(dimensions, best_first)
    fix = "widen it and resume with hydra.sweeper.resume=force: the trials so far are kept"
    return edges, edge_note(edges, dimensions, best_first, fix) if edges else ""


#: How close to the best full-budget objective a pruned trial's (relative) makes it a near miss.
NEAR_MISS = 0.01


def near_misses(trials: Sequence[Trial], maximize: bool) -> str:
    """The warning about pruned trials whose objective at their stop was already within
    :data:`NEAR_MISS` of the best full-budget trial's (or better): a trial's best loss so far
    only improves with more epochs, so each might have beaten it ("" when none). Those the
    pruning rule stopped are named apart from those ``max_seconds`` stopped, which a resume
    trains to their budget."""
    best = best_trial(trials, maximize)
    if best is None or best.objective is None:
        return ""
    sign = -1.0 if maximize else 1.0
    bar = sign * best.objective + NEAR_MISS * abs(best.objective)
    near = sorted((t for t in trials if t.status == PRUNED and t.in_space
                   and sign * t.objective <= bar),  # type: ignore[operator]
                  key=lambda t: (sign * t.objective, t.number))  # type: ignore[operator]
    said = []
    for clock, fix in ((False, "rerun their points at full budget (their values are in "
                                "trials.csv), or prune later (raise "
                                "hydra.sweeper.pruner.min_epochs)"),
                       (True, "resume the sweep (hydra.sweeper.resume=true): it trains them "
                              "to their budget first")):
        group = [t for t in near if t.stopped_by_clock == clock]
        if not group:
            continue
        named = ", ".join(f"{t.number} ({t.objective:.6g} at epoch {t.pruned_at_epoch})"
                          for t in group[:5]) + (", ..." if len(group) > 5 else "")
        who = "max_seconds" if clock else "the rule"
        said.append(f"{counted(len(group), 'pruned trial')} came within {NEAR_MISS:.0%} of "
                    f"the best full-budget objective {best.objective:.6g} (trial "
                    f"{best.number}) before {who} stopped {word_for(len(group), 'it', 'them')}"
                    f": {noun_for(len(group), 'trial')} {named}; with more epochs "
                    f"{word_for(len(group), 'it', 'they')} might have beaten it -> {fix}")
    return "; ".join(said)


def no_full_budget(trials: Sequence[Trial], warm_best: bool = False) -> str:
    """The warning of a sweep whose trials were pruned or failed, none running its full
    budget: it has no best trial, so no best.yaml, or (``warm_best``) one that names the
    warm-start file's best alone ("" otherwise)."""
    pruned = sum(t.status == PRUNED for t in trials)
    if not pruned or any(t.ok for t in trials):
        return ""
    written = ("best.yaml names the warm-start file's best alone" if warm_best
               else "no best.yaml")
    return (f"none of the {len(trials)} trials ran its full budget ({pruned} pruned), so there "
            f"is no best trial and {written} -> resume with more time (hydra.sweeper."
            "max_seconds) or prune later (raise hydra.sweeper.pruner.min_epochs)")


def closing_warnings(space: SearchSpace, trials: Sequence[Trial], maximize: bool,
                     warm_best: bool = False) -> list[str]:
    """What a sweep warns of when it ends: best trials at a range's edge
    (:func:`sweep_edges`), pruned near misses (:func:`near_misses`) and no trial at its
    full budget (:func:`no_full_budget`; ``warm_best``: a warm-start trial is named)."""
    return [w for w in (sweep_edges(space, trials, maximize)[1], near_misses(trials, maximize),
                        no_full_budget(trials, warm_best)) if w]


def program() -> str:
    """How this process was started: ``tsbench``, ``python -m pkg`` or ``python script``."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "__main__.py":
        return f"python -m {argv0.parent.name}"
    if argv0.suffix == ".py":
        return f"python {shlex.quote(str(argv0))}"
    return argv0.name


#: Hydra overrides of a sweep that are about sweeping and launching: not carried into the
#: command that reruns one trial.
SWEEP_ONLY = ("hydra.sweeper", "hydra.launcher", "hydra.sweep.", "hydra/sweeper",
              "hydra/launcher", "hydra.mode", "hydra.run.dir")


def reproduce_command(space: SearchSpace, trial: Trial, run_dir: Path | None = None) -> str:
    """A single-run command (``hydra.mode=RUN``) with the trial's exact overrides, the
    sweep's Hydra overrides that shape a run (``hydra.searchpath`` to a user's own configs,
    ``hydra.job.env_set``, ...; :func:`run_hydra_overrides`) and what its run recorded of
    the search (:func:`search_marks`). The sweep's ``PYTHONPATH`` leads it: a user's own
    model module is found only there. Relative folders and files (``PYTHONPATH=.``,
    ``hydra.searchpath=[file://conf]``, ``dataset.path=sales.csv``) are written absolute,
    so that it reruns from any working directory. A tsbench trial's ``score_test`` (false in
    tsbench-tune's searches) is left out: the rerun scores the test split, once."""
    overrides = [*rerun_overrides(space, trial, run_dir), "hydra.mode=RUN"]
    return " ".join([*python_path(), program(), *(shlex.quote(o) for o in overrides)])


def rerun_overrides(space: SearchSpace, trial: Trial, run_dir: Path | None) -> list[str]:
    """The overrides of :func:`reproduce_command` but its ``hydra.mode``."""
    recorded = [] if run_dir is None else [*run_hydra_overrides(run_dir), *search_marks(run_dir),
                                           *refit_mark(run_dir)]
    overrides = [*map(absolute_paths, space.overrides(trial.point)),
                 *map(absolute_paths, recorded)]
    if run_dir is not None and (run_dir / PROTOCOL).is_file():  # a tsbench trial: its rerun
        overrides = [o for o in overrides  # scores the test split once (score_test=false
                     if o.split("=", 1)[0].lstrip("+~") != "score_test"]  # kept a search's)
    return overrides


def more_seeds_command(space: SearchSpace, trial: Trial, run_dir: Path,
                       compose: Compose) -> str:
    """The plain multirun (Hydra's basic sweeper) that runs more seeds of the trial's
    configuration: :func:`reproduce_command`'s overrides with the search preset's settings
    in place of the preset, whose sweeper would search the seed (``compose``: the sweep's
    Hydra; :func:`tsbench.search.seeds.seeds_command`)."""
    return seeds_command([*python_path(), program()], rerun_overrides(space, trial, run_dir),
                         compose)


def _hydra_record(run_dir: Path) -> dict:
    """The ``hydra`` block of a job folder's ``.hydra/hydra.yaml``; empty where it has
    none or it does not read."""
    try:
        return load_yaml((run_dir / HYDRA_RECORD).read_text())["hydra"] or {}
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return {}


def python_path() -> list[str]:
    """``PYTHONPATH=<its folders, absolute>`` to lead a command that reruns this one (a
    user's own model module is found only there); nothing where it is not set."""
    path = os.pathsep.join(os.path.abspath(p) for p in
                           os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
    return [f"PYTHONPATH={shlex.quote(path)}"] if path else []


def absolute_paths(override: str, start: str | None = None) -> str:
    """``override`` with a relative file or folder in it made absolute (from ``start``, the
    folder its command ran in; by default this process's): the value of a
    :data:`PATH_SETTINGS` key, each ``file://`` folder of a search path."""
    return _absolute_files(_absolute_path_setting(override, start), start)


#: Settings whose value is a file or folder, read relative to the working directory.
PATH_SETTINGS = ("dataset.path", "logger.dir")
_PARSER = OverridesParser.create()
_CHOICES = (ValueType.SIMPLE_CHOICE_SWEEP, ValueType.CHOICE_SWEEP)


def _absolute_path_setting(override: str, start: str | None) -> str:
    """``override`` of a :data:`PATH_SETTINGS` key with its path made absolute and normal
    (``..`` and ``.`` resolved, quoted only where Hydra needs it): one file, one spelling;
    each path of a sweep over paths (``a.csv,b.csv``, ``choice(a.csv,b.csv)``) alike."""
    key, sep, value = override.partition("=")
    if not sep or key.lstrip("+~") not in PATH_SETTINGS:
        return override
    try:
        parsed = _PARSER.parse_override(override)
    except HydraException:  # e.g. a bare ~: one path, as written
        parsed = None
    if parsed is not None and parsed.value_type in _CHOICES:
        paths = [_absolute_value(str(getattr(v, "text", v)), start)
                 for v in parsed.value().list]  # type: ignore[union-attr]
        listed = ",".join(paths) if parsed.value_type == ValueType.SIMPLE_CHOICE_SWEEP else (
            f"choice({','.join(paths)})")
        return f"{key}={listed}"
    return f"{key}={_absolute_value(value, start)}"


def _absolute_value(value: str, start: str | None) -> str:
    """One path setting's ``value`` made absolute from ``start`` (as written where it is
    none, null or an interpolation), quoted where Hydra needs it."""
    bare = value.strip("'\"")
    if not bare or "${" in bare or bare == "null":
        return value
    return format_value(_absolute(os.path.expanduser(bare), start))


def _absolute_files(override: str, start: str | None) -> str:
    """``override`` with each relative ``file://`` folder (a search path) made absolute."""
    return re.sub(r"file://(?!/)([^,\]\s'\"]+)",
                  lambda found: f"file://{_absolute(found[1], start)}", override)


def _absolute(path: str, start: str | None) -> str:
    """``path`` made absolute from the folder ``start`` (None: the working directory)."""
    return os.path.abspath(os.path.join(start, path) if start else path)


def run_hydra_overrides(run_dir: Path) -> list[str]:
    """The Hydra overrides a trial was launched with (its ``.hydra/hydra.yaml``) less those
    about the sweep (:data:`SWEEP_ONLY`); none for a job folder without that file."""
    try:
        lines = _hydra_record(run_dir)["overrides"]["hydra"] or []
    except (KeyError, TypeError):
        return []
    return [str(line) for line in lines if not str(line).lstrip("~+").startswith(SWEEP_ONLY)]


def search_marks(run_dir: Path) -> list[str]:
    """Overrides that carry a trial's search into its rerun: a tsbench run whose look-back
    was searched says so in its protocol card (``protocol.json``), and a rerun of the best
    trial must too (``seq_len_searched_on``), or its card says the look-back was fixed. None
    for a run without that card (another Hydra app)."""
    try:
        policy = json.loads((run_dir / PROTOCOL).read_text())["seq_len"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    split = policy.get("searched_on") if policy.get("policy") == "searched" else None
    if not split:
        return []
    plain = re.fullmatch(r"[\w.-]+", str(split))
    return [f"seq_len_searched_on={split}" if plain else f'seq_len_searched_on="{split}"']


def refit_mark(run_dir: Path) -> list[str]:
    """``cv.refit=true`` for a tsbench trial cross-validated without it: its rerun trains
    the same folds (the same objective), then scores the chosen configuration on the test
    split once, which a search's trial did not. None for other runs."""
    try:
        cv = load_yaml((run_dir / CONFIG).read_text())["cv"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return []
    return ["cv.refit=true"] if cv.get("name") == "tscv" and not cv.get("refit") else []


def write_best(
    path: Path,
    space: SearchSpace,
    trials: Sequence[Trial],
    maximize: bool,
    compose: Compose,
    warm: WarmStart | None = None,
) -> Trial | None:
    """Write ``best.yaml`` atomically; return this sweep's best trial (None if none ran
    its full budget). ``compose`` is the sweep's Hydra, which reads its preset's settings
    for the seeds command (:func:`more_seeds_command`). Its main block is this sweep's best
    trial; a warm-start trial better than all of them leads it as ``warm_start_best``
    (:func:`warm_block`). A sweep without a best trial of its own (it ran none, the warm
    start having tried its points, or each was pruned or failed) writes the warm-start
    block and its trial counts alone, where a warm-start trial is its best, else
    nothing."""
    best = best_trial(trials, maximize)
    better = better_warm(trials, warm, maximize)
    if better is None or warm is None:
        if best is None:
            return None
        content = {}
    else:
        content = {"warm_start_best": warm_block(space, better, warm, alone=best is None)}
    direction = {"direction": "maximize" if maximize else "minimize"}
    counts = {
        "trials_finished": sum(t.ok for t in trials),
        "trials_pruned": sum(t.status == PRUNED for t in trials),
        "trials_failed": sum(t.status == FAILED for t in trials),
    }
    if best is None:
        content |= direction | counts
    else:
        content |= {
            "objective": best.objective,
            **direction,
            "trial": best.number,
            "job": best.job,
            "job_dir": best.job_dir,
            "params": space.values(best.point),
            "overrides": space.overrides(best.point),
            "command": reproduce_command(space, best, path.parent / best.job_dir),
            "seeds_command": more_seeds_command(space, best, path.parent / best.job_dir,
                                                compose),
            **counts,
            "at_range_edge": sweep_edges(space, trials, maximize)[0],
        }

    def write(handle: IO[str]) -> None:
        yaml.safe_dump(content, handle, sort_keys=False, width=10_000)

    write_with(path, write)
    return best


def warm_run_dir(trial: Trial, warm: WarmStart) -> Path | None:
    """The job folder of a warm-start trial: its ``job_dir`` as recorded (absolute), or
    beside the file (a sweep's own trials.csv names its jobs' folders relative to it);
    None where no such folder exists (a file written by hand, or by tsbench-tune of an
    older version, which named them relative to another sweep)."""
    if not trial.job_dir:
        return None
    run_dir = warm.file.parent / trial.job_dir  # an absolute job_dir stays itself
    return run_dir if run_dir.is_dir() else None


def warm_block(space: SearchSpace, trial: Trial, warm: WarmStart, alone: bool = False
               ) -> dict:
    """best.yaml's ``warm_start_best``: the warm-start trial better than every trial of
    this sweep (``alone``: this sweep has none that ran its full budget), its file and the
    command that reruns it (with what its job folder recorded of its run, where that
    folder is found: :func:`warm_run_dir`)."""
    run_dir = warm_run_dir(trial, warm)
    than = ("this sweep has no trial that ran its full budget (its counts below)" if alone
            else "a trial of the warm-start file is better than every trial of this sweep "
                 "(below)")
    return {
        "note": f"{than}: this is the best configuration known -> run its command",
        "objective": trial.objective,
        "file": str(warm.file),
        "trial": trial.number,
        "job_dir": None if run_dir is None else str(run_dir.resolve()),
        "params": space.values(trial.point),
        "overrides": space.overrides(trial.point),
        "command": reproduce_command(space, trial, run_dir),
    }


def trial_line(
    trial: Trial, ended: int, n_trials: int, best: Trial | None, elapsed: float,
    warm_best: Trial | None = None,
) -> str:
    """``trial i (Hydra job #j): value=... best=... ended=k/N elapsed=...`` for one ended
    trial. ``i`` is the trial's number, ``j`` its job's (Hydra's launch line ``#j : ...``,
    on joblib the sweep's ``started`` line:
    :func:`~tsbench.search.trials.trial_label`), ``k`` how many trials of the sweep have
    ended with it (trials end out of order when several run at once). ``best`` is the
    warm-start file's where ``warm_best`` (:func:`better_warm`) beats this sweep's. A
    failure's error is logged just before."""
    if trial.status == PRUNED:
        value = f"{trial.objective:.6g} pruned at epoch {trial.pruned_at_epoch}"
    else:
        value = f"{trial.objective:.6g}" if trial.ok else "failed"
    best_text = "none" if best is None else f"{best.objective:.6g}"
    if warm_best is not None:
        best_text = f"{warm_best.objective:.6g} (warm start)"
    return (f"{trial_label(trial.number, trial.job)}: value={value} best={best_text} "
            f"ended={ended}/{n_trials} elapsed={elapsed:.1f}s")


def summary(trials: Sequence[Trial], best: Trial | None, warm_note: str = "",
            test_note: str = "") -> str:
    """The closing line: how many trials finished, were pruned or failed, and the best;
    ``warm_note`` names a better warm-start trial (:func:`warm_text`), whose command is in
    this sweep's best.yaml (:func:`write_best`: also where this sweep has no best trial);
    ``test_note`` says how the best one's test score is had (:func:`test_split_note`)."""
    ok = sum(t.ok for t in trials)
    pruned = sum(t.status == PRUNED for t in trials)
    failed = [t for t in trials if t.status == FAILED]
    line = (f"sweep done: {counted(len(trials), 'trial')}, {ok} ran their full budget, "
            f"{pruned} pruned")
    line += f", {len(failed)} failed"
    if failed:
        jobs = ", ".join(f"{t.number} (Hydra job #{t.job}"
                         f"{f', in {t.job_dir}/' if t.job_dir else ''})" for t in failed[:10])
        line += f" (trials {jobs}{', ...' if len(failed) > 10 else ''}: see their logs)"
    best_text = "none" if best is None else f"{best.objective:.6g} (trial {best.number})"
    if warm_note:
        beats = "is better than this sweep's" if trials else "stands: this sweep ran no trial"
        best_text += (f"; the warm-start file's best, {warm_note}, {beats} -> best.yaml's "
                      "warm_start_best gives its command")
    return f"{line}; best {best_text}{test_note}"


def test_split_note(best: Trial | None, sweep_dir: Path) -> str:
    """Where the best trial is a tsbench run that did not score the test split (a search's
    trials score validation alone): that best.yaml's command, which leaves a search's
    ``score_test`` out (:func:`rerun_overrides`), trains it and scores the test split.
    Nothing for another program's trial, or one that scored the test split itself."""
    if best is None or not best.job_dir:
        return ""
    run_dir = sweep_dir / best.job_dir
    try:
        scored = "test_mse" in json.loads((run_dir / METRICS).read_text())
    except (OSError, ValueError):
        return ""  # not a tsbench run's folder (its protocol card is checked below)
    if scored or not (run_dir / PROTOCOL).is_file():
        return ""
    return (f"; trials score validation only, not the test split -> best.yaml's command "
            f"({sweep_dir / BEST_FILE}) trains this configuration and scores it on test")
