"""Check a tuning run's command before any stage starts: its config composes, its settings
are possible, its dataset reads and splits, and its model builds. A typo in a column name
then ends ``tsbench-tune`` at once, with the error stage (a) would have given minutes later
and no output folder; so does a misspelt or impossible ``recipe.search`` or model tuning
space (``search/<model>_tune.yaml``) that does not compose, which the searches (d) and (e)
would otherwise meet an hour in (or, for a space, take for none)."""

from __future__ import annotations

import shlex

from hydra import compose, initialize_config_module
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from tsbench.data.loading import load_series
from tsbench.data.splits import benchmark_borders
from tsbench.data.unusual_validation import naive_mse_ratio, unusual_validation_warning
from tsbench.errors import ConfigError, TsbenchError, each, together
from tsbench.hidden_configs import check_hidden_configs, searchpath_of
from tsbench.models.build import model_for
from tsbench.preset_check import preset_beats_option, preset_replaced
from tsbench.resolvers import register_resolvers
from tsbench.resume_check import csv_digest
from tsbench.settings_check import (
    at_first_values,
    check_settings,
    missing_setting,
    near_setting,
    parse_each,
    target_not_alone,
    unknown_option,
    unknown_setting,
)
from tsbench.sweep_check import check_sweep, sweep_values
from tsbench.training.crossval import fold_blocks
from tsbench.training.model_check import check_forecast_shape, trains_on_cpu
from tsbench.training.run import validate_config
from tsbench.training.train_and_score import make_data
from tsbench.tune.state import DATA_KEY


def compose_command(overrides: list[str], hydra_config: bool = False) -> DictConfig:
    """The config a ``tsbench`` run with ``overrides`` composes (with ``hydra_config``, also
    Hydra's, whose ``hydra.runtime.choices`` name the groups' options a preset chose), or
    the :class:`TsbenchError` naming the override Hydra could not read (in tsbench's words,
    :func:`parse_each`) or compose. The overrides are the stages' ``tsbench`` ones, so the
    fix of an error Hydra alone words names the ``tsbench`` command that shows it (and the
    config, once fixed): ``tsbench-tune`` has no ``--cfg``."""
    register_resolvers()
    parse_each(overrides)
    try:
        with initialize_config_module("tsbench.conf", version_base="1.3"):
            return compose("config", overrides=overrides, return_hydra_config=hydra_config)
    except (HydraException, OmegaConfBaseException) as exc:
        said = " ".join(str(exc).split())
        near = near_setting(overrides, missing_setting(exc))
        raise unknown_option(exc) or unknown_setting(exc, near=near) or TsbenchError(
            f"{said} -> check the command's overrides, which every stage gives tsbench: "
            f"{shlex.join(['tsbench', *overrides, '--cfg', 'job'])} says the same, and "
            "prints the config they compose once fixed (tsbench --help lists the config "
            "groups)") from None


def composed(overrides: list[str]) -> DictConfig | None:
    """The config ``overrides`` compose, for :func:`data_settings` and
    :func:`command_warnings` alike; None where they do not (:func:`check_command` says why)."""
    try:
        return compose_command(overrides)
    except TsbenchError:
        return None


def data_settings(cfg: DictConfig | None) -> dict[str, str]:
    """``{DATA_KEY: <sha256>}`` for a command on a CSV file (``cfg``: its config), which a
    resumed folder must find unchanged (its stages ran on the file as it was); nothing for
    a published dataset (checked against its own digest when loaded) or no config."""
    digest = None if cfg is None else csv_digest(cfg.dataset)
    return {} if digest is None else {DATA_KEY: digest}


def command_warnings(overrides: list[str], cfg: DictConfig | None) -> list[str]:
    """The warnings ``tsbench`` gives for ``overrides`` (``cfg``: their config; a preset's
    choice replaced, an option a preset sets again, a target named under ``features=M``),
    which every stage would give in its log alone; none without a config."""
    if cfg is None:
        return []
    return [*preset_replaced(overrides, cfg), *preset_beats_option(overrides, cfg),
            *target_not_alone(overrides, cfg)]


def validation_warning(cfg: DictConfig | None) -> str | None:
    """The line :func:`unusual_validation_warning` gives for the command's series and
    horizon (``cfg``: its config), read from its training and validation rows only; None
    without a config or where the series does not load or split (:func:`check_command`
    says why)."""
    if cfg is None:
        return None
    try:  # a series that does not load or split: check_command's error, next
        return unusual_validation_warning(naive_mse_ratio(
            load_series(cfg.dataset), int(cfg.pred_len), str(cfg.features) in ("S", "MS")))
    except TsbenchError:
        return None


def check_command(overrides: list[str]) -> None:
    """Raise the :class:`TsbenchError` a ``tsbench`` run with ``overrides`` would fail with
    before training, or one naming the override Hydra could not compose, or one for a model
    without training (a classical baseline: no learning rate, epochs or space to tune)."""
    cfg = compose_command(overrides)
    if cfg.tune.lr_find:  # a preset's or config file's: the command's own is refused
        raise TsbenchError(
            f"tune.lr_find: {cfg.tune.lr_find} in the composed config (a preset or config "
            "file sets it): every stage would run its own range test and train at its "
            "suggestion, not at the learning rate searched or chosen -> add "
            "tune.lr_find=false to the command ((b) runs the range test)")
    validate_config(cfg)
    series = load_series(cfg.dataset)
    borders = benchmark_borders(len(series.values), series.split, int(cfg.seq_len),
                                series.train_frac, series.test_frac)
    if cfg.cv.name == "tscv":  # the first fold's training rows: the fewest a training gets
        blocks = fold_blocks(borders.val[1], int(cfg.seq_len), int(cfg.pred_len), cfg.cv,
                             val_rows=borders.val[1] - borders.train[1])
        ranges = {"train": blocks[0][0]}
    else:  # the splits' windows, as the run makes them
        ranges = {"train": borders.train, "val": borders.val}
    model = model_for(cfg, series)
    data = make_data(cfg, series, ranges, with_marks=model.uses_time_features)
    if not model.trainable:
        raise TsbenchError(
            f"model={cfg.model.name}: a model without training; tsbench-tune tunes a trained "
            "model's learning rate, epochs and hyperparameters -> tune model=patchtst, "
            "itransformer, dlinear or your own trained model, and score the classical "
            "baselines with tsbench -m model=naive,seasonal_naive,ets,theta,arima")
    # a user's model: its output shape, before stage (a)
    check_forecast_shape(model, data, trains_on_cpu(str(cfg.trainer.accelerator)))


def check_search(overrides: list[str], search: list[str]) -> None:
    """Raise the error that trials of the searches (d) and (e) would fail with, for each
    ``recipe.search`` line before any stage runs: a misspelt setting or option, a space
    that does not parse, a value tsbench refuses (each option of a choice, each end of an
    interval, the others at the command's values). A value valid only beside other
    searched values (a patch length longer than the command's look-back) is the search's
    constraints' to judge, not checked here."""
    parser = OverridesParser.create()
    for line in map(str, search):
        override = _parsed(parser, line)
        try:
            sweep_values(override)
        except ConfigError as error:
            raise TsbenchError(f"recipe.search: {error}") from None
        command = [*overrides, line]
        try:  # spelling first (a group's options each), then the values
            config = check_settings(command) or compose_command(
                at_first_values(parser.parse_overrides(command)), hydra_config=True)
            check_sweep(config, command)
        except TsbenchError as error:
            raise together([TsbenchError(f"recipe.search: {line}: {e}")
                            for e in each(error)]) from None


def has_tuning_space(overrides: list[str], space: str, named: bool = False) -> bool:
    """Whether the config group ``search`` has the option ``space`` (``<model>_tune`` or
    ``recipe.space``): tsbench's own (``tsbench/conf/search/``) or one in a folder of the
    command's ``hydra.searchpath`` (``file://conf`` holding ``search/<space>.yaml``); the
    error naming that file when it exists but does not compose (a searched space left out
    silently would cost a day), or when it is missing and was ``named`` by the recipe."""
    try:
        compose_command([*overrides, f"search={space}"])
    except TsbenchError as error:
        if str(error).startswith(f"search: no option '{space}'") and not named:
            return False
        field = "recipe.space" if named else f"search/{space}.yaml"
        raise TsbenchError(f"{field} (the space the searches (d) and (e) tune in): "
                           f"{error}") from None
    return True


def check_tuning_space(overrides: list[str], space: str | None) -> None:
    """Raise the error :func:`has_tuning_space` gives when the tuning space (``space``, or
    the command's model's, ``<model>_tune``) does not compose, or when a config of
    ``hydra.searchpath``'s folders is hidden by tsbench's own (:mod:`tsbench.hidden_configs`:
    a user's ``search/<model>_tune.yaml`` would never be read). Its values are not checked
    one by one: the space's constraints and the look-backs of (c) decide which combinations
    run (a patch length of 32 is fine at a searched look-back of 96, not at the command's
    24)."""
    config = compose_command(overrides, hydra_config=True)
    check_hidden_configs(searchpath_of(config), "recipe.space")
    has_tuning_space(overrides, space or f"{config.hydra.runtime.choices.model}_tune",
                     named=space is not None)


def _parsed(parser: OverridesParser, line: str) -> Override:
    try:
        return parser.parse_overrides([line])[0]
    except HydraException as error:
        said = str(error).strip().splitlines()[0]
        raise TsbenchError(f"recipe.search: cannot parse {line!r}: {said} -> write each "
                           "search as key=choice(...) or key=interval(low,high), e.g. "
                           "'model.dropout=interval(0.0,0.3)'") from None
