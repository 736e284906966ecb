"""From cells to the report: per-cell spread over seeds, protocol flags, paired tests
against a baseline (Holm-adjusted over the whole report), and average ranks with the
Friedman test and the critical difference over the (dataset, horizon) blocks
(:mod:`tsbench.report.ranking`).

What a paired test compares: the per-window test error in the report's metric of each run
(``test_window_mse.npy``, ``test_window_mae.npy``) averaged over the cell's seeds, window by
window, against the same for the baseline cell. That is the expected error of one training
run on each window, not the error of the seed-averaged forecast (the forecasts themselves
are not saved). The spread of each cell's seeds is part of the test's variance
(:func:`tsbench.report.stats.with_seed_variance`): it compares the training procedures, not
the runs that happened to train; a trained cell with one seed gives no such spread, and
the report says so.

A validation report (``split="val"``, :mod:`tsbench.report.validation`) does the same on
each run's validation score and per-window validation errors: a holdout run's val split, a
cv=tscv run's folds' validation blocks, each protocol's runs tables of their own, ranked
on one protocol alone; no published number (those are test scores).

In original units (``units="original"``, :mod:`tsbench.report.units`) all of it reads each
run's scores and per-window errors in the data's own units (``test_mse_orig``,
``test_window_mse_orig.npy``), and no published number (scaled) stands beside a cell.

A published number stands beside a cell only where the cell's protocol matches the one the
published numbers share (:func:`tsbench.report.compare.off_published`). Where it left the
last test windows unscored (a paper's drop_last), the difference from it is the cell's
mean over the windows it scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tsbench.report import published, stats, validation
from tsbench.report.collect import (
    FOUND_LR,
    FOUND_LR_KEYS,
    TRAINING_KEYS,
    Cell,
    Run,
    applied_finder,
    flatten,
    found_lr,
    found_rates,
    short,
)
from tsbench.report.compare import flags, off_published
from tsbench.report.flat import FLAT_FLAG, SCALED, flat_flag
from tsbench.report.more_seeds import more_seeds_command
from tsbench.report.ranking import Ranking, rank
from tsbench.report.units import ORIGINAL, SCALED_UNITS, score_metric
from tsbench.rundir import WINDOW_ERRORS

#: Verdicts of a paired test against the baseline.
BETTER, WORSE, SAME, BASELINE = "better", "worse", "indistinguishable", "baseline"


@dataclass
class Row:
    """One cell of the report with everything shown about it."""

    cell: Cell
    spread: stats.Spread
    reference: published.Reference | None  # the published number beside the cell
    flags: list[str]
    has_card: bool
    withheld: list[str] = field(default_factory=list)  # why a published number is not shown
    best: bool = False
    test: stats.PairedTest | None = None
    p_holm: float | None = None
    verdict: str = ""  # BETTER, WORSE, SAME, BASELINE or "" (no test: see ``note``)
    note: str = ""
    # the cell's mean over the test windows the published number scored, where it left
    # some unscored (drop_last) and the runs saved their per-window errors
    on_published_windows: float | None = None
    # how the cell trained otherwise than the paper's preset (:func:`other_settings`)
    other_settings: str | None = None

    @property
    def published(self) -> float | None:
        return None if self.reference is None else self.reference.value

    @property
    def delta(self) -> float | None:
        """(mean - published) / published, the mean over the windows the published number
        scored where it left some unscored (:attr:`on_published_windows`)."""
        ref = self.published
        if ref is None:
            return None
        mean = self.spread.mean if self.on_published_windows is None else (
            self.on_published_windows)
        return (mean - ref) / ref

    @property
    def published_windows(self) -> int | None:
        """How many windows :attr:`delta` compares on, where not every one."""
        if self.on_published_windows is None or self.reference is None:
            return None
        return int(self.cell.runs[0].metrics["n_test_windows"]) - self.reference.unscored

    @property
    def published_elsewhere(self) -> bool:
        """Whether the published number was obtained at another look-back than the cell's
        (an unknown look-back, of a run saved without it, is no difference)."""
        own = self.cell.runs[0].config.get("seq_len")
        lookback = None if self.reference is None else self.reference.seq_len
        return None not in (own, lookback) and own != lookback

    @property
    def fewer_epochs(self) -> bool:
        """Whether the cell's runs could train for fewer epochs (``trainer.max_epochs``) than
        the published number's (an unknown budget is no difference)."""
        own = self.cell.runs[0].config.get("trainer.max_epochs")
        budget = None if self.reference is None else self.reference.epochs
        return None not in (own, budget) and own < budget  # type: ignore[operator]


@dataclass
class Report:
    rows: list[Row]
    metric: str
    baseline: str | None
    alpha: float
    n_tests: int = 0
    ranking: Ranking | None = None
    ranking_note: str = ""
    baseline_hint: str = ""  # how to name the baseline where the model has several cells
    # tables without a row of the --baseline label, and the cell that stood in for it
    stand_ins: list[str] = field(default_factory=list)
    # tested cells of a trained model with one seed: their spread over seeds is untested
    one_seed: list[str] = field(default_factory=list)
    # tests not significant on few df, which the cells' few seeds cut or bound (:func:`_few`)
    few_seeds: list[str] = field(default_factory=list)
    # tests not significant on few df that the test windows bound, not the seeds
    # (:func:`_few_windows`)
    few_windows: list[str] = field(default_factory=list)
    # ``<dataset>/<pred_len> <label>: <command>`` that runs more seeds of such cells
    one_seed_commands: list[str] = field(default_factory=list)
    few_seeds_commands: list[str] = field(default_factory=list)
    split: str = "test"  # the split whose scores it reports (:data:`validation.SPLITS`)
    units: str = SCALED_UNITS  # the scores' units (:mod:`tsbench.report.units`)
    # cells of an original-unit report whose published number (scaled) is left out
    published_scaled: int = 0

    @property
    def score_metric(self) -> str:
        """The metric as metrics.json keys and window files name it (``mse_orig``)."""
        return score_metric(self.metric, self.units)

    @property
    def metric_text(self) -> str:
        """The metric as headings name it: ``MSE``, or ``MSE, original units``."""
        return self.metric.upper() + (", original units" if self.units == ORIGINAL else "")

    @property
    def metric_words(self) -> str:
        """The metric as a sentence names it: ``MSE``, or ``MSE in original units``."""
        return self.metric_text.replace(", ", " in ")

    @property
    def shows_published(self) -> bool:
        """Whether its table has the published columns: a test report in scaled units."""
        return self.split == "test" and self.units == SCALED_UNITS

    def tables(self) -> dict[tuple[str, int], list[Row]]:
        out: dict[tuple[str, int], list[Row]] = {}
        for row in self.rows:
            out.setdefault((row.cell.dataset, row.cell.pred_len), []).append(row)
        return out


def build(cells: list[Cell], metric: str = "mse", baseline: str | None = None,
          alpha: float = 0.05, split: str = "test", units: str = SCALED_UNITS) -> Report:
    """The report of ``cells`` on ``split`` (``test_<metric>``; for ``val``, each run's
    validation score: :func:`validation.score_key`), in ``units`` (``test_<metric>_orig``
    for ``original``, without published numbers: those are scaled)."""
    report = Report([], metric, baseline, alpha, split=split, units=units)
    scored = report.score_metric
    cut: list[tuple[str, Row, Cell]] = []  # tests the seeds' spread limits, with their table
    tested: list[tuple[str, Row, Cell]] = []  # every other test of a row, as ``cut``
    by_table: dict[tuple[str, int], list[Cell]] = {}
    for cell in cells:
        by_table.setdefault((cell.dataset, cell.pred_len), []).append(cell)
    for (dataset, pred_len), table_cells in sorted(by_table.items()):
        bases = _baselines(table_cells, baseline)
        if bases and baseline not in (bases[0].label, bases[0].model):
            report.stand_ins.append(f"{dataset}/{pred_len} '{bases[0].label}'")
        reference = bases[0] if len(bases) == 1 else None
        flagged = flags(table_cells, reference)
        if units == SCALED_UNITS and metric in SCALED:  # original units: no scaler enters
            for cell in table_cells:
                if flag := flat_flag(cell, split):
                    flagged[id(cell)].append(flag)
        rows = []
        for cell in table_cells:
            key = validation.score_key(cell.runs[0], split, scored)
            ref = None if split != "test" else published.reference(cell.model, dataset,
                                                                   pred_len, metric)
            if ref is not None and not report.shows_published:
                report.published_scaled += 1
                ref = None
            withheld = [] if ref is None else off_published(cell)
            row = Row(cell, stats.t_interval(cell.values(key), lowest=0.0),
                      None if withheld else ref,
                      flagged[id(cell)], all(r.card is not None for r in cell.runs), withheld)
            row.on_published_windows = _on_published_windows(row, metric)
            row.other_settings = other_settings(row)
            rows.append(row)
        comparable = [r for r in rows if not r.flags]
        # bold beside flagged cells only where it beat a comparable one (else it reads as if
        # it beat the flagged ones, which score something else)
        if len(comparable) > 1 or len(comparable) == len(rows):
            low = min(r.spread.mean for r in comparable)
            for row in comparable:
                row.best = row.spread.mean == low
        if baseline is not None:
            one_seed, cut_rows = _paired_tests(rows, baseline, bases, pred_len, scored, split)
            report.one_seed += [f"{dataset}/{pred_len} {c.label}" for c in one_seed]
            report.one_seed_commands += [
                f"{dataset}/{pred_len} {c.label}: {more_seeds_command(c, ONE_SEED_MORE)}"
                for c in one_seed]
            cut += [(f"{dataset}/{pred_len}", row, bases[0]) for row in cut_rows]
            tested += [(f"{dataset}/{pred_len}", row, bases[0]) for row in rows
                       if row.test is not None and row not in cut_rows
                       and all(row.cell is not c for c in one_seed)]
            if len(bases) > 1 and not report.baseline_hint:
                report.baseline_hint = (f"--baseline {baseline}: {len(bases)} {baseline} "
                                        f"configurations share a table, so none is its "
                                        f"baseline -> name one by its row's label, e.g. "
                                        f"--baseline '{bases[0].label}'")
        report.rows += rows
    _adjust(report)
    report.few_seeds, report.few_seeds_commands = _few(cut)
    report.few_windows = _few_windows(tested)
    report.ranking, report.ranking_note = rank(report.tables(), alpha, split)
    return report


#: Up to this many degrees of freedom, a test's t reference is wide enough that only a
#: large gap is significant (t's 97.5 % quantile: 2.23 at 10 df, 4.30 at 2; 2.04 at 30).
FEW_DF = 10
#: How many seeds in all the commands to run more seeds aim at: of a cell with one seed,
#: of a cell in a test that few seeds left without a verdict.
ONE_SEED_MORE, FEW_SEEDS_MORE = 3, 5


def _few(cut: list[tuple[str, Row, Cell]]) -> tuple[list[str], list[str]]:
    """Of the tests whose degrees of freedom the seeds' spread cut below the windows' own
    or whose variance is mostly that spread (``cut``: table, tested row, baseline cell),
    those that few seeds plausibly left without a verdict: indistinguishable on at most
    :data:`FEW_DF` df (``ili/24 dlinear vs naive: df 1, 2 and 2 seeds``); and the commands
    that run more seeds of their cells that train."""
    few, commands, seen = [], [], set()
    for table, row, base in cut:
        if row.verdict != SAME or row.test is None or row.test.df > FEW_DF:
            continue
        few.append(f"{table} {row.cell.label} vs {base.label}: df {row.test.df}, "
                   f"{len(row.cell.runs)} and {len(base.runs)} seeds"
                   f"{_untrained_side(row.cell, base)}")
        for cell in (row.cell, base):
            if _trained(cell) and (table, cell.label) not in seen:
                seen.add((table, cell.label))
                commands.append(f"{table} {cell.label}: "
                                f"{more_seeds_command(cell, FEW_SEEDS_MORE)}")
    return few, commands


def _few_windows(tested: list[tuple[str, Row, Cell]]) -> list[str]:
    """Of the tests whose degrees of freedom the windows bound (the seeds' spread cut none:
    ``tested``, as :func:`_few`'s ``cut``), those indistinguishable on at most
    :data:`FEW_DF` df (``ili/24 small_mlp vs dlinear: df 2 from 170 windows``, the windows
    the test paired: the report's split's): more seeds cannot tell such a pair apart, only
    a longer period could."""
    return [f"{table} {row.cell.label} vs {base.label}: df {row.test.df} from "
            f"{row.test.n} windows"
            for table, row, base in tested
            if row.verdict == SAME and row.test is not None and row.test.df <= FEW_DF]


def _baselines(cells: list[Cell], baseline: str | None) -> list[Cell]:
    """The cells ``--baseline`` names in one table: the row of that label, else the cells
    of that model. A label is its own table's (it names the keys that tell that table's
    cells apart), so where no row has it, the one cell of the label's model whose config
    agrees with every ``key=value`` of the label stands in, else the model's one cell."""
    if baseline is None:
        return []
    named = [c for c in cells if baseline in (c.label, c.model)]
    if named or " (" not in baseline:
        return named
    name, _, inner = baseline.partition(" (")
    model = [c for c in cells if c.model == name]
    pairs = [part.partition("=")[::2] if "=" in part.split(": ")[0] else
             (f"protocol: {part.partition(': ')[0]}", part.partition(": ")[2])
             for part in inner.removesuffix(")").split(", ")]
    agreeing = [c for c in model if all(_agrees(c, k, v) for k, v in pairs)]
    if len(agreeing) == 1:
        return agreeing
    return model if len(model) == 1 else []


def _agrees(cell: Cell, key: str, value: str) -> bool:
    """Whether a cell's config has ``key`` (or, for a config group, ``key.name``) as a
    label writes it: ``value`` to every digit or to 6 significant ones. ``lr found=...``
    agrees with a cell whose runs all trained at the finder's suggestion, whatever rate it
    found there: the rate is the finder's outcome on that table's data, not a setting."""
    if key == FOUND_LR:
        return all(map(applied_finder, cell.runs))
    config = cell.config
    key = key if key in config else f"{key}.name"
    return key in config and value in (short(config, key), short(config, key, 6))


#: The settings a paper's preset trains with that a cell's runs are held to: the model,
#: optimizer and schedule, batch, early stopping, clipping, a range test applied
#: (:data:`TRAINING_KEYS`; the epoch budget has its own mark, the look-back its ``L=``),
#: and a limit on batches. Not how fast or where it runs (accelerator, precision,
#: fast kernels, compile: the same math).
PRESET_KEYS = ("model.", "trainer.limit_train_batches",
               *(k for k in TRAINING_KEYS if k != "trainer.max_epochs"))
NOT_PRESET = ("model.compile",)


def other_settings(row: Row, shown: int = 4) -> str | None:
    """``trained unlike experiment=<preset>: optim.lr=0.0001 (preset 0.01), data.batch_size=128
    (preset 32)``, each with the preset's value (the first
    ``shown``): the :data:`PRESET_KEYS` of the cell's runs that differ from the paper's
    preset behind its published number at the cell's horizon, the rate a cell of finder
    runs trained at (``lr found=0.00794``) for their ``optim.lr``, which they did not train
    at (:func:`tsbench.report.collect.applied_finder`); None where they trained as it
    (a setting the runs' tsbench lacked is unknown) or tsbench ships no preset of that paper
    and dataset."""
    preset = None if row.reference is None else published.preset_of(row.reference,
                                                                     row.cell.dataset)
    if preset is None:
        return None
    own = flatten(published.preset_config(preset, row.cell.pred_len))
    config = row.cell.runs[0].config
    finder = all(map(applied_finder, row.cell.runs))  # trained at the rate found instead
    changed = []
    for key in sorted(own):
        if key not in config or not key.startswith(PRESET_KEYS) or key.startswith(NOT_PRESET):
            continue
        if finder and key in FOUND_LR_KEYS:
            if found_rates(row.cell) != [own[key]]:
                changed.append(f"{FOUND_LR}={found_lr(row.cell)} (preset "
                               f"{key}={short(own, key)})")
        elif config[key] != own[key]:  # as the command line writes them: null, not None
            changed.append(f"{key}={short(config, key)} (preset {short(own, key)})")
    if not changed:
        return None
    more = f" and {len(changed) - shown} more" if len(changed) > shown else ""
    return f"trained unlike experiment={preset}: {', '.join(changed[:shown])}{more}"


def _on_published_windows(row: Row, metric: str) -> float | None:
    """The cell's seed-mean ``metric`` over the first windows, those its published number
    scored, where that number left the last ones unscored (None otherwise, or without
    per-window errors). Every window holds as many values, so their mean is the score."""
    if row.reference is None or not row.reference.unscored:
        return None
    errors = seed_window_errors(row.cell, metric)[0]
    if errors is None or errors.shape[1] <= row.reference.unscored:
        return None
    return float(errors[:, : errors.shape[1] - row.reference.unscored].mean())


def seed_window_errors(cell: Cell, metric: str, split: str = "test"
                       ) -> tuple[np.ndarray | None, str]:
    """The cell's per-window ``metric`` on ``split`` (for ``val``:
    :func:`validation.window_errors`), one row per seed, or None and why not."""
    def read(run: Run, name: str) -> np.ndarray | None:
        return (run.window_errors(name, "test") if split == "test"
                else validation.window_errors(run, name))

    arrays = [read(run, metric) for run in cell.runs]
    if any(a is None for a in arrays):
        scaled = metric.removesuffix("_orig")
        if scaled != metric and all(read(r, scaled) is not None for r in cell.runs):
            return None, (f"not tested: no {WINDOW_ERRORS.format(split=split, metric=metric)}"
                          " (a run saved before runs wrote per-window errors in original "
                          "units; rerun it, or drop --units original)")
        if metric != "mse" and all(read(r, "mse") is not None for r in cell.runs):
            return None, (f"not tested: no {WINDOW_ERRORS.format(split=split, metric=metric)}"
                          f" (a run saved before runs wrote per-window {metric.upper()}; "
                          f"rerun it, or report --metric mse)")
        return None, ("no readable per-window errors (a run saved before they were?)"
                      if split == "test" else _no_val_windows(cell, metric))
    counts = ([int(r.metrics.get("n_test_windows", -1)) for r in cell.runs] if split == "test"
              else [n for r in cell.runs if (n := validation.n_windows(r)) is not None])
    sizes = {int(a.size) for a in arrays} | set(counts)
    if len(sizes) > 1:
        return None, "its per-window error files do not match its window counts"
    errors = np.stack(arrays).astype(np.float64)
    if not np.isfinite(errors).all():
        bad = int(np.sum(~np.isfinite(errors)))
        return None, (f"not tested: {bad} of its per-window errors "
                      f"{'is' if bad == 1 else 'are'} not finite (a run that diverged?)")
    return errors, ""


def _no_val_windows(cell: Cell, metric: str) -> str:
    """Why a cell has no per-window validation errors: the files its runs lack."""
    name = WINDOW_ERRORS.format(split="val", metric=metric)
    where = (f"fold_<k>/{name} of every fold" if validation.kind(cell.runs[0]) == validation.CV
             else name)
    return f"not tested: no readable {where} (a run saved before runs wrote them?)"


def _why_flagged(row: Row, protocol: str) -> str:
    """Why a flagged row is not compared: ``scaled scores are distorted`` where a flat
    channel alone flags it, else ``protocol <protocol>``."""
    if all(flag.startswith(FLAT_FLAG) for flag in row.flags):
        return "scaled scores are distorted"
    return f"protocol {protocol}"


def _paired_tests(rows: list[Row], baseline: str, bases: list[Cell], pred_len: int,
                  metric: str, split: str = "test") -> tuple[list[Cell], list[Row]]:
    """Test each row against the baseline's; returns the tested cells (the baseline's
    included) of a trained model with one seed, whose spread over seeds no test holds, and
    the rows whose test's degrees of freedom the seeds' spread cut below the windows' own
    or whose variance is mostly that spread (where few seeds may leave a gap without a
    verdict: :func:`_few`)."""
    if len(bases) != 1:
        why = (f"no {baseline} run in this table" if not bases
               else f"{len(bases)} {baseline} configurations in this table: none is the "
                    f"baseline")
        for row in rows:
            row.note = why
        return [], []
    base = next(r for r in rows if r.cell is bases[0])
    base.verdict = BASELINE  # the table's reference protocol (a flat channel may flag it)
    if base.flags:
        for row in rows:
            if row is not base:
                row.note = f"not compared: the baseline's {_why_flagged(base, 'is flagged')}"
        return [], []
    base_errors, why = seed_window_errors(base.cell, metric, split)
    one_seed: list[Cell] = []
    cut: list[Row] = []
    for row in rows:
        if row is base:
            continue
        if row.flags:
            row.note = f"not compared: its {_why_flagged(row, 'differs')}"
            continue
        if base_errors is None:
            row.note = f"baseline: {why}"
            continue
        errors, why_not = seed_window_errors(row.cell, metric, split)
        if errors is None:
            row.note = why_not
            continue
        if errors.shape[1] != base_errors.shape[1]:  # windows of other rows: no pairs
            row.note = (f"not tested: {errors.shape[1]} windows, the baseline's "
                        f"{base_errors.shape[1]}")
            continue
        test = stats.diebold_mariano(errors.mean(axis=0), base_errors.mean(axis=0), pred_len)
        row.test = stats.with_seed_variance(test, errors, base_errors, pred_len)
        one_seed += [c for c in (row.cell, base.cell)
                     if len(c.runs) == 1 and _trained(c) and c not in one_seed]
        if row.test.df < test.df or row.test.variance > 2 * test.variance:
            cut.append(row)  # the seeds' spread (seeds - 1 df each) cut the df or is most
            # of the variance (the windows' df may be as few: 2 at one Fourier frequency)
    return one_seed, cut


def _untrained_side(cell: Cell, base: Cell) -> str:
    """`` (naive trains nothing: more seeds of dlinear alone)`` where one side of a test
    trains nothing (its seeds forecast alike, so more of them change nothing)."""
    untrained = [c for c in (cell, base) if not _trained(c)]
    if len(untrained) != 1:
        return ""
    trained = base if untrained[0] is cell else cell
    return f" ({untrained[0].label} trains nothing: more seeds of {trained.label} alone)"


def _trained(cell: Cell) -> bool:
    """Whether the cell's model trains (a model without training records 0 epochs)."""
    return any(int(run.metrics.get("epochs", 1) or 0) > 0 for run in cell.runs)


def _adjust(report: Report) -> None:
    """Holm over every paired test of the report, then each tested row's verdict."""
    tested = [row for row in report.rows if row.test is not None]
    report.n_tests = len(tested)
    if not tested:
        return
    adjusted = stats.holm(np.array([row.test.p_value for row in tested]))
    for row, p in zip(tested, adjusted, strict=True):
        row.p_holm = float(p)
        if p >= report.alpha:
            row.verdict = SAME
        else:
            row.verdict = BETTER if row.test.mean_diff < 0 else WORSE
