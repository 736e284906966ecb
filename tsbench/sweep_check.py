"""The values a multirun sweeps, checked before its first trial.

Each option of a list or ``choice(...)``, each value of an integer ``range(...)`` (its ends
where it holds more than :data:`RANGE_VALUES`) and both ends of an ``interval(...)``, swept
on the command line or in a preset's ``hydra.sweeper.params``, go through
:func:`tsbench.training.run.validate_config`, one at a time, and a model hyperparameter's
through the model's own constructor, and a window length or a ``cv=tscv`` fold setting
(``cv.n_splits``, ``cv.test_size``, ``cv.gap``, ``cv.max_train_size``) through the splits of
the data (read once): a sweep whose trials would fail one by one (``optim.lr=interval(-1,1)``,
``seq_len=96,abc``, ``model.dropout=interval(0,1.5)``, ``pred_len=24,500`` on ILI,
``cv.n_splits=3,300`` on Exchange, the even values of ``model.kernel_size=range(1,50)``) is
refused in one line naming every value that fails, before any folder (where several swept
settings fail, a line for each, at once). A value is refused only where it fails beside every
combination of the other swept values, a swept config group's options included (the
command is composed at each combination of them), that a search's
``hydra.sweeper.constraints`` let through (``strategy.step=choice(24,48)`` with
``pred_len=choice(24,96)`` is a search whose constraints may keep 48 to 96; one whose
constraints exclude a value never launches it). A plain multirun (Hydra's basic sweeper,
``search=grid``) runs every combination: each of them, its grid points, is checked too.
Where there are too many combinations to try them all, nothing is refused (the trials
judge); the options' spelling is :mod:`tsbench.settings_check`'s.

The settings every job shares are checked once too, on the first job's config: its data
file read (unreadable, or without its ``dataset.target`` column) and, where the sweep sets
no window, fold or data setting, its windows and folds fitted to it (``cv.n_splits=7`` on
too few rows): the error each job would stop with, said once before any job and folder.

A search preset's look-backs are judged against the series too (:mod:`tsbench.lookback_fit`):
a refused one's fix is the look-backs ``tsbench-analyze`` suggests for it, and those that
fit but do not suit it (too long for half of the training rows to start a window, shorter
than two cycles) are a warning, returned for the command to print before any job; the
command line's own look-backs (pasted) get the same warning where too long for half of
the training rows.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from hydra import compose, initialize_config_module
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, RangeSweep, ValueType
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from skopt.space import Categorical

from tsbench.config_values import UnresolvedSetting, flag, whole
from tsbench.data.loading import Series, load_series
from tsbench.data.splits import benchmark_borders, check_split_length
from tsbench.errors import Checks, ConfigError, DataError, TsbenchError
from tsbench.lookback_fit import LookbackFit, lookback_fit, unsuited
from tsbench.models.build import build_model
from tsbench.models.recursive import strategy_step
from tsbench.resolvers import data_name
from tsbench.search.constraints import Constraint, compile_constraint
from tsbench.search.names import is_search
from tsbench.search.space import Scalar, dimension_of, format_value, plain, sweep_lines
from tsbench.search.validate import config_groups
from tsbench.settings_check import at_first_values, missing_setting, unknown_setting
from tsbench.training.crossval import fold_blocks
from tsbench.training.run import validate_config

#: Combinations of the other swept settings' values a value is tried with, at most.
COMBINATIONS = 256
#: Combinations of swept config groups' options composed, at most.
GROUP_COMBINATIONS = 16
#: Values of a unit-step integer range checked one by one, at most (else its ends).
RANGE_VALUES = 256
#: Grid points of a plain multirun checked, at most (else its values alone).
GRID_POINTS = 256
#: Swept settings whose value no other setting's check reads: a seed's many values repeat
#: the grid's points rather than make new ones.
INERT = ("seed",)
#: Values that fail named in a refusal, at most.
SHOWN = 12


def sweep_values(override: Override) -> list[Scalar]:
    """The values of ``override`` to check: every option of a list or choice, every value of
    an integer range (both ends of a longer one than :data:`RANGE_VALUES`: a kernel size
    must be odd, so its ends say nothing of the values between), both ends of an interval,
    or its one value."""
    if not override.is_sweep_override():
        return [override.value()]  # type: ignore[list-item]
    dimension = dimension_of(override)
    if isinstance(dimension, Categorical):
        return [plain(v) for v in dimension.categories]
    if isinstance(override.value(), RangeSweep) and dimension.high - dimension.low < RANGE_VALUES:
        return [plain(v) for v in override.sweep_iterator()]
    return [plain(dimension.low), plain(dimension.high)]


@dataclass(frozen=True)
class Swept:
    """One swept setting: its values to check, where the sweep was written, whether it is
    a preset's (``hydra.sweeper.params``), whether its values are a list (each one
    checked, not an interval's ends) written ``a,b`` rather than ``choice(a,b)``, and the
    end of an integer range whose every value is checked."""

    values: list[Scalar]
    where: str
    preset: bool = False
    listed: bool = False
    simple: bool = False
    stop: int | None = None  # an integer range's (exclusive) end, each value checked


@dataclass(frozen=True)
class World:
    """The command composed with one option of each swept config group (``config`` None
    where that combination does not compose: its trials say why)."""

    options: dict[str, Scalar]
    config: DictConfig | None


def check_sweep(config: DictConfig, overrides: list[str], config_name: str = "config"
                ) -> list[str]:
    """Raise the :class:`ConfigError` that every trial of the sweep ``overrides`` (with
    ``config``, their composition at the sweeps' first values, Hydra's included) would fail
    with at some swept value (see the module docstring), each swept setting's at once
    (:class:`~tsbench.errors.Refusals`) where several fail. This machine's GPUs are not
    checked (a launcher may run the trials elsewhere), and a value whose check fails to
    resolve an interpolation is left to its trials. Returns the warning for swept
    look-backs that the data does not suit (:func:`_unsuited_lookbacks`)."""
    swept = _swept(config, overrides)
    groups = config_groups(config)
    options = {key: s.values for key, s in swept.items() if key in groups}
    worlds = _worlds(overrides, options, config_name) if options else [World({}, config)]
    if worlds is None:
        return []
    settings = [key for key in swept if key not in groups]
    sweeper = OmegaConf.select(config, "hydra.sweeper", default=None) or {}
    data = Data(is_search(True, sweeper))
    refused = Checks()
    with refused.check():
        _check_shared(worlds, list(swept), data)
    admitted = _admitted(sweeper.get("constraints") or [] if data.search else [])
    for key in swept:
        with refused.check():
            _check_values(worlds, swept, key, [k for k in settings if k != key], data,
                          admitted)
    if not data.search and not refused.errors:  # a grid point's error is a value's too
        with refused.check():
            _check_grid(worlds, [(k, swept[k].values) for k in settings], data)
    refused.raise_all()
    said = _unsuited_lookbacks(worlds, swept, data)
    return [said] if said else []


def _check_values(worlds: list[World], swept: dict[str, Swept], key: str, others: list[str],
                  data: Data, admitted: Callable[[DictConfig], bool]) -> None:
    """Raise the error naming the values of the swept ``key`` that fail beside every
    combination of the ``others`` swept settings' values that the constraints ``admitted``
    (:func:`_fails_everywhere`), with the fix: the values that fit, or for a preset's
    look-backs the data's own (:class:`~tsbench.lookback_fit.LookbackFit`)."""
    sweep = swept[key]
    combinations = [(k, swept[k].values) for k in others]
    errors = [_fails_everywhere(worlds, key, value, combinations, data, admitted)
              for value in sweep.values]
    failed = [v for v, error in zip(sweep.values, errors, strict=True) if error]
    error = next((error for error in errors if error), None)
    if error is None:
        return
    fit = [v for v, e in zip(sweep.values, errors, strict=True) if e is None
           ] if isinstance(error, Unfit) or sweep.stop is not None else []
    values = ",".join(format_value(v) for v in failed[:SHOWN])
    more = f",... ({len(failed)} values)" if len(failed) > SHOWN else ""
    suited = _fit(worlds, swept, data) if key == "seq_len" and sweep.preset and isinstance(
        error, Unfit) else None  # a preset's look-backs: the data's own, else those that
    if suited is not None:  # leave half of the training rows a window (pasted, no warning)
        fit = [v for v in fit if isinstance(v, int) and v <= suited.half] or fit
        candidates = suited.suggestion.candidates
        if not fit and candidates and _fails_everywhere(
                worlds, key, min(candidates), combinations, data, admitted):
            suited = None  # no look-back fits (pred_len=96 beside a 74-row val split): the
            # run's own fix, not look-backs to paste
    fix = (suited.analyzed() if suited else None) or _sweep_fix(key, sweep, fit, error.fix)
    raise ConfigError(error.field, f"{error.problem} (at {key}={values}{more} of "
                      f"{sweep.where})", fix)


def _fit(worlds: list[World], swept: dict[str, Swept], data: Data) -> LookbackFit | None:
    """The :class:`~tsbench.lookback_fit.LookbackFit` of the series every job reads at one
    horizon, for a holdout sweep; None where a job's data, horizon or folds are swept (no
    one series and horizon to judge by) or cannot be read (the jobs say why)."""
    config = worlds[0].config
    if config is None or any(k == s or k.startswith(f"{s}.") for k in swept
                             for s in SHAPING if s != "seq_len"):
        return None
    try:
        if config.cv.name != "holdout":  # folds and refits train on other rows
            return None
        series = data.series(config.dataset)
        return None if series is None else lookback_fit(
            series, data_name(config.dataset), whole(config.pred_len, "pred_len"),
            str(config.features))
    except (OmegaConfBaseException, UnresolvedSetting, TsbenchError):
        return None


def _unsuited_lookbacks(worlds: list[World], swept: dict[str, Swept], data: Data
                       ) -> str | None:
    """The warning for swept ``seq_len`` values that the data does not suit
    (:func:`~tsbench.lookback_fit.unsuited`): a search preset's (``hydra.sweeper.params``,
    which the command line does not replace), or the command line's, held to the half rule
    alone; None where they suit it or cannot be judged."""
    sweep = swept.get("seq_len")
    if sweep is None:
        return None
    fit = _fit(worlds, swept, data)
    values = [v for v in sweep.values if isinstance(v, int) and not isinstance(v, bool)]
    return unsuited(values, sweep.where, fit, sweep.preset) if fit is not None and values \
        else None


def _admitted(texts: list[str]) -> Callable[[DictConfig], bool]:
    """Whether a trial's config meets the search's constraints (``texts``; one that does
    not compile is the sweeper's to refuse, and a value that cannot be read the trial's)."""
    constraints: list[Constraint] = []
    for text in texts:
        with contextlib.suppress(ConfigError):
            constraints.append(compile_constraint(str(text)))

    def admitted(trial: DictConfig) -> bool:
        try:
            return all(c.holds({f: OmegaConf.select(trial, f) for f in c.fields})
                       for c in constraints)
        except OmegaConfBaseException:
            return True

    return admitted


def _check_grid(worlds: list[World], swept: list[tuple[str, list[Scalar]]], data: Data
                ) -> None:
    """Raise the first error of a grid point (a combination of every swept value, each
    config group's option included) where some fail: a plain multirun runs each of them.
    Not checked beyond :data:`GRID_POINTS` (a swept :data:`INERT` setting, checked value by
    value, repeats the points at each of its values, not counted); a model's constructor is
    heard only about the swept settings (it gets one channel, no calendar)."""
    inert = [key for key, _ in swept if key in INERT]
    swept = [(key, values) for key, values in swept if key not in INERT]
    keys = [key for key, _ in swept]
    points = list(itertools.product(*(values for _, values in swept)))
    if len(points) * len(worlds) > GRID_POINTS:
        return
    failed = []
    for world in worlds:
        trial = world.config  # updated in place: every swept setting set at each point
        if trial is None:
            continue
        for point in points:
            for key, value in zip(keys, point, strict=True):
                OmegaConf.update(trial, key, value, force_add=True)
            try:
                validate_config(trial, here=False)
                _build(trial, keys)
                for key in keys:
                    _fit_the_data(trial, key, data)
            except (OmegaConfBaseException, UnresolvedSetting):
                continue
            except ConfigError as error:
                failed.append((" ".join(f"{k}={format_value(v)}" for k, v in
                                        [*world.options.items(), *zip(keys, point, strict=True)]),
                               error))
    if failed:
        shown, error = failed[0]
        each = f" at every {' and '.join(inert)}" if inert else ""
        raise ConfigError(error.field, f"{error.problem} (at {shown}, {len(failed)} of the "
                          f"{len(points) * len(worlds)} grid points fail{each})",
                          "a plain multirun runs every combination of its values: run those "
                          "that fit together in multiruns of their own, or search them with "
                          "hydra/sweeper=skopt and hydra.sweeper.constraints")


def _sweep_fix(key: str, sweep: Swept, fit: list[Scalar], fix: str) -> str:
    """The fix for a swept window length that the data does not fit at some of its values:
    the sweep of the values that ``fit`` (a list's), as the command line gives it (where it
    replaces the preset's entry of the same key); else the run's own ``fix``, where it
    names the key, with the way to change a preset's values."""
    where = " on the command line, in place of the preset's" if sweep.preset else ""
    if sweep.stop is not None and fit:
        progression = _range_text(fit, sweep.stop)
        if progression is not None:
            return f"sweep only the values that fit: {key}={progression}{where}"
    if (sweep.listed or sweep.stop is not None) and fit:
        values = ",".join(format_value(v) for v in fit)
        if len(fit) > 1 and sweep.simple:
            line = f"{key}={values}"
        elif len(fit) > 1 or sweep.preset:  # one value would replace a preset's sweep
            line = f"{key}=choice({values})"
        else:
            line = f"{key}={values}"
        return f"sweep only the values that fit: {line}{where}"
    if sweep.preset and re.search(rf"\b{re.escape(key)}\b", fix):
        return f"{fix} (the sweep's values: {key}=<values>{where})"
    return fix


def _range_text(values: list[Scalar], stop: int) -> str | None:
    """``range(...)`` of ``values`` (a range's, in its order) where they are evenly spaced,
    ending at ``stop`` where that range holds them; else None."""
    ints = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    if len(ints) < 2 or len(ints) < len(values):
        return None
    first, step = ints[0], ints[1] - ints[0]
    if list(range(first, ints[-1] + step, step)) != ints:
        return None
    end = stop if list(range(first, stop, step)) == ints else ints[-1] + step
    return f"range({first},{end})" if step == 1 else f"range({first},{end},{step})"


def fixed_params(config: DictConfig, overrides: list[str]) -> list[str]:
    """A warning for each sweep of ``hydra.sweeper.params`` (a preset's, ``search=grid``)
    that a single value on the command line replaces: the sweep then runs that value alone,
    which is easily missed (the grid shrinks, the search searches one dimension less)."""
    params = dict(OmegaConf.select(config, "hydra.sweeper.params", default=None) or {})
    parser = OverridesParser.create()
    said = []
    for line in overrides:
        key = line.split("=", 1)[0]
        if key not in params:
            continue
        try:
            mine, theirs = (parser.parse_override(text)
                            for text in (line, f"{key}={params[key]}"))
        except HydraException:  # a sweep the sweeper refuses: the sweeper says
            continue
        if theirs.is_sweep_override() and not mine.is_sweep_override():
            said.append(f"{line} replaces the sweep hydra.sweeper.params {key}: "
                        f"{params[key]}, so every trial runs {line} -> to sweep values of "
                        f"your own give them as a sweep ({key}=a,b), or drop {line}")
    return said


def _swept(config: DictConfig, overrides: list[str]) -> dict[str, Swept]:
    """Each swept setting or config group (Hydra's own left out), by key: the command line's
    sweeps and the sweeper's ``params`` that the command line does not replace."""
    params = dict(OmegaConf.select(config, "hydra.sweeper.params", default=None) or {})
    preset = dict(params)
    for line in overrides:
        preset.pop(line.split("=", 1)[0], None)
    parser = OverridesParser.create()
    swept: dict[str, Swept] = {}
    for written, line in sweep_lines(params, overrides).items():
        try:
            override = parser.parse_override(line)
            values = sweep_values(override)
        except (HydraException, ConfigError):  # a sweep the sweeper refuses: the sweeper says
            continue
        key = override.get_key_element().lstrip("+")
        if override.is_sweep_override() and not key.startswith("hydra"):
            where = (f"hydra.sweeper.params {written}: {preset[written]}" if written in preset
                     else f"the sweep {line}")
            span = override.value()
            stop = span.stop if isinstance(span, RangeSweep) and all(
                isinstance(v, int) for v in (span.start, span.stop, span.step)) and len(
                range(span.start, span.stop, span.step)) == len(values) else None
            swept[key] = Swept(values, where, written in preset,
                               isinstance(dimension_of(override), Categorical),
                               override.value_type == ValueType.SIMPLE_CHOICE_SWEEP, stop)
    return swept


def _worlds(overrides: list[str], options: dict[str, list[Scalar]],
            config_name: str) -> list[World] | None:
    """The command composed at each combination of the swept groups' ``options`` (the other
    sweeps at their first values), or None where there are more than
    :data:`GROUP_COMBINATIONS`."""
    parsed = [o for o in OverridesParser.create().parse_overrides(overrides)
              if o.get_key_element().lstrip("+") not in options]
    single = at_first_values(parsed)
    combinations = list(itertools.islice(itertools.product(*options.values()),
                                         GROUP_COMBINATIONS + 1))
    if len(combinations) > GROUP_COMBINATIONS:
        return None
    worlds, missing = [], {}
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        for combination in combinations:
            chosen = dict(zip(options, combination, strict=True))
            lines = [f"{key}={format_value(value)}" for key, value in chosen.items()]
            try:
                config = compose(config_name, overrides=[*single, *lines],
                                 return_hydra_config=True)
            except (HydraException, OmegaConfBaseException) as error:
                config = None
                setting = missing_setting(error)
                if setting is not None and setting.split(".")[0] in chosen:
                    missing.setdefault(setting, (chosen, error))
            worlds.append(World(chosen, config))
    for setting, (chosen, error) in missing.items():  # a setting of some options only
        group = setting.split(".")[0]
        having = [str(w.options[group]) for w in worlds if w.config is not None
                  and w.options[group] != chosen[group]]
        raise unknown_setting(error, {group: [str(chosen[group]), *dict.fromkeys(having)]}
                              ) or ConfigError(setting, "cannot be set")
    return worlds


def _fails_everywhere(worlds: list[World], key: str, value: Scalar,
                      others: list[tuple[str, list[Scalar]]], data: Data,
                      admitted: Callable[[DictConfig], bool]) -> ConfigError | None:
    """The error of ``key=value`` if it fails in every world that can hold it (one with
    that option, for a config group) beside every combination of ``others`` that is
    ``admitted`` (a search's constraints): the first naming ``key`` where one does (beside
    ``optim.lr=-1``, ``seq_len=500``'s own; the rate's is its own line), else the first;
    None if one passes, cannot be checked, none is admitted, or was not tried (over
    :data:`COMBINATIONS`)."""
    first: ConfigError | None = None
    for world in worlds:
        if world.options.get(key, value) != value:
            continue
        if world.config is None:
            return None
        for trial in _trials(world, key, value, others):
            if not admitted(trial):
                continue
            try:
                validate_config(trial, here=False)
                _build(trial, [key])
                _fit_the_data(trial, key, data)
            except (OmegaConfBaseException, UnresolvedSetting):  # e.g. a preset's resolver:
                return None  # the trial will tell
            except ConfigError as error:
                if first is None or first.field != key == error.field:
                    first = error
                continue
            return None
        if math.prod(len(v) for _, v in others) > COMBINATIONS:
            return None
    return first


def _build(trial: DictConfig, keys: list[str]) -> None:
    """Build the model of ``trial`` when one of ``keys`` is one of its hyperparameters: its
    own checks (``model.hidden`` >= 1, ``d_model`` divisible by ``n_heads``) are met here,
    not trial by trial. The data is not read: the model gets one channel and no calendar,
    so only an error naming one of ``keys`` counts."""
    if not any(key.startswith("model.") for key in keys):
        return
    step = strategy_step(trial)
    try:
        build_model(trial.model, whole(trial.seq_len, "seq_len"),
                    step or whole(trial.pred_len, "pred_len"), n_vars=1, freq="h")
    except ConfigError as error:
        if error.field in keys:
            raise


@dataclass
class Data:
    """The series a sweep's trials read, each read once (by its dataset config), and whether
    they score the test split where ``score_test`` is null (not in a search's trials)."""

    search: bool
    loaded: dict[str, Series | TsbenchError] = field(default_factory=dict)

    def series(self, dataset: DictConfig) -> Series | None:
        """The series of ``dataset``; None where it cannot be read (its trials say why),
        tried once too."""
        try:
            return self.read(dataset)
        except TsbenchError:
            return None

    def read(self, dataset: DictConfig) -> Series:
        """The series of ``dataset``, or the error reading it raised (once: kept)."""
        source = OmegaConf.to_yaml(dataset)
        if source not in self.loaded:
            try:
                self.loaded[source] = load_series(dataset)
            except TsbenchError as error:
                self.loaded[source] = error
        found = self.loaded[source]
        if isinstance(found, TsbenchError):
            raise found
        return found


class Unfit(ConfigError):
    """A window length the data does not fit (:func:`_fit_the_data`)."""


#: Settings the data must fit: the window lengths and, in a ``cv=tscv`` trial, its folds'.
FITTED = ("seq_len", "pred_len", "cv.n_splits", "cv.test_size", "cv.gap", "cv.max_train_size")


def _fit_the_data(trial: DictConfig, key: str, data: Data) -> None:
    """When ``key`` is one of :data:`FITTED`, the trial's look-back fits the training rows
    and, in a holdout trial, each split it reads holds a window of it, and in a ``cv=tscv``
    trial its folds fit the train+val rows, as the run's own checks say
    (``pred_len=24,500`` on ILI's 966 rows, ``cv.n_splits=3,300`` on Exchange's: the second
    job failed after the first had run)."""
    if key not in FITTED:
        return
    series = data.series(trial.dataset)
    if series is None:
        return
    seq_len, pred_len = whole(trial.seq_len, "seq_len"), whole(trial.pred_len, "pred_len")
    try:
        borders = benchmark_borders(len(series.values), series.split, seq_len,
                                    series.train_frac, series.test_frac)
        if trial.cv.name == "tscv":
            fold_blocks(borders.val[1], seq_len, pred_len, trial.cv,
                        val_rows=borders.val[1] - borders.train[1])
            return
        if trial.cv.name != "holdout":  # a refit: its run's checks say
            return
        ranges = {"train": borders.train, "val": borders.val}
        score_test = trial.score_test
        if flag(score_test, "score_test") if score_test is not None else not data.search:
            ranges["test"] = borders.test
        for split, (start, end) in ranges.items():
            horizon = strategy_step(trial) or pred_len if split == "train" else pred_len
            check_split_length(split, start, end, seq_len, horizon)
    except ConfigError as error:
        raise Unfit(error.field, error.problem, error.fix) from None
    except DataError as error:
        problem, _, fix = str(error).partition(" -> ")
        raise Unfit(key, problem, fix) from None


#: Settings (and config groups) whose value a job's data and folds depend on: where the
#: sweep sets one, its values are checked one by one, not the first job's alone.
SHAPING = ("dataset", "cv", "strategy", "seq_len", "pred_len", "score_test", "features")


def _check_shared(worlds: list[World], swept: list[str], data: Data) -> None:
    """Raise the error every job would stop with at a setting they share: the data file
    unreadable or without its target column (``dataset.*`` not swept), or the folds or
    windows not fitting it (nothing of :data:`SHAPING` swept), as each job's own checks
    say; read once, before any job. A swept config group's options may set those settings
    (an experiment preset): refused only where every option's composition fails."""
    def sets(prefix: str) -> bool:
        return any(k == prefix or k.startswith(f"{prefix}.") for k in swept)

    first: TsbenchError | None = None
    for world in worlds:
        if world.config is None:
            return
        try:
            if not sets("dataset"):
                data.read(world.config.dataset)
            if not any(sets(key) for key in SHAPING):
                _fit_the_data(world.config, "seq_len", data)
        except (OmegaConfBaseException, UnresolvedSetting):  # a preset's resolver: the job's
            return
        except TsbenchError as error:
            first = first or error
            continue
        return
    if first is not None:
        raise first


def _trials(world: World, key: str, value: Scalar,
            others: list[tuple[str, list[Scalar]]]) -> Iterator[DictConfig]:
    """``world``'s config with ``key=value`` and each combination of ``others`` set, the
    first :data:`COMBINATIONS` of them: the world's own config, updated in place (each
    swept setting is set anew for each trial, ``key`` or one of ``others``)."""
    trial = world.config
    assert trial is not None
    if key not in world.options:
        OmegaConf.update(trial, key, value, force_add=True)
    for combination in itertools.islice(itertools.product(*(v for _, v in others)),
                                        COMBINATIONS):
        for (other, _), other_value in zip(others, combination, strict=True):
            OmegaConf.update(trial, other, other_value, force_add=True)
        yield trial
