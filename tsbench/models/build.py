"""From a model config (``conf/model/<name>.yaml``) to a model instance."""

from __future__ import annotations

import importlib
import inspect
import types
import typing
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from tsbench.code_digest import model_source
from tsbench.data.loading import Series
from tsbench.data.timefeatures import seasonal_period
from tsbench.errors import ConfigError, closest_all, either
from tsbench.models.base import ForecastModel
from tsbench.models.contract import CHECK_MODEL, error_line
from tsbench.models.history import HistoryModel
from tsbench.models.recursive import RecursiveForecaster, strategy_step

#: Keys of a model config that are not constructor arguments.
NON_ARGS = ("_target_", "name", "compile")
#: Constructor arguments tsbench fills in from the top-level config and the data.
FILLED_IN = ("self", "seq_len", "pred_len", "n_vars", "n_marks")


def model_class(model_cfg: Any) -> type[ForecastModel]:
    """The class named by ``model._target_``, checked to be a :class:`ForecastModel`."""
    target = str(model_cfg.get("_target_", ""))
    module_name, _, name = target.rpartition(".")
    fix = "point it at a ForecastModel subclass, e.g. mypkg.models.MyModel"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and (module_name + ".").startswith(error.name + "."):
            raise ConfigError(
                "model._target_", f"cannot import '{target}': no module named "
                f"'{error.name}'", "put the model's file on the Python path (PYTHONPATH=. "
                f"for one in the working directory), or {fix}") from None
        raise ConfigError("model._target_", f"importing {module_name} raised "
                          f"{error_line(error, __file__)}", "fix that import") from None
    except (ValueError, TypeError):  # an empty or relative module name
        raise ConfigError("model._target_", f"cannot import '{target}'", fix) from None
    except Exception as error:  # noqa: BLE001 - any fault of the module's own code
        raise ConfigError("model._target_", f"importing {module_name} raised "
                          f"{error_line(error, __file__)}", "fix the module") from None
    cls = getattr(module, name, None)
    if cls is None:
        meant = closest_all(name, module_models(module))
        raise ConfigError("model._target_", f"{module_name} has no '{name}'", (
            f"did you mean {either([f'{module_name}.{m}' for m in meant])}? Else {fix}"
            if meant else fix))
    if not (isinstance(cls, type) and issubclass(cls, ForecastModel)):
        raise ConfigError("model._target_", f"{target} is not a tsbench ForecastModel",
                          "subclass tsbench.models.base.ForecastModel")
    model_source(cls)  # a user's model file's digest as just imported: what runs, not a later edit
    return cls


def module_models(module: types.ModuleType) -> list[str]:
    """The names of the :class:`ForecastModel` subclasses that ``module`` defines, in their
    order there: what a misspelt class name in ``model._target_`` may have meant."""
    return [name for name, value in vars(module).items() if isinstance(value, type)
            and issubclass(value, ForecastModel) and value.__module__ == module.__name__]


def check_model_settings(model_cfg: Any) -> tuple[type[ForecastModel], dict[str, Any]]:
    """The model class of ``model_cfg`` and its hyperparameters, checked before any data is
    read: the class imports, its constructor takes what tsbench fills in and what the config
    sets, and each annotated hyperparameter holds a value of its type (``model.period:
    null``, filled in from the data, aside)."""
    cls = model_class(model_cfg)
    params = OmegaConf.to_container(model_cfg, resolve=True) if isinstance(
        model_cfg, DictConfig) else dict(model_cfg)
    kwargs = {k: v for k, v in params.items() if k not in NON_ARGS}
    accepted = inspect.signature(cls.__init__).parameters
    check_constructor(cls, accepted, kwargs)
    for key in kwargs:
        if key == "revin" and key not in accepted:  # the contract's, not a misspelling
            raise ConfigError(
                "model.revin", f"{cls.__name__}.__init__ takes no revin, which every tsbench "
                "model takes (the model contract)", f"add revin: bool = False to its "
                f"__init__ (a model without RevIN may ignore it); {CHECK_MODEL}"
                f"({cls.__name__}, ...) checks the whole contract")
        if key not in accepted:
            names = sorted(set(accepted) - set(FILLED_IN) - {"self"})
            raise ConfigError(f"model.{key}", f"{cls.__name__} has no such hyperparameter",
                              f"use one of {names}" if names else "drop it from the model's "
                              f"YAML: {cls.__name__}.__init__ takes none")
    check_types(cls, {k: v for k, v in kwargs.items() if not (k == "period" and v is None)})
    return cls, kwargs


def build_model(model_cfg: Any, seq_len: int, pred_len: int, n_vars: int, n_marks: int = 0,
                freq: str | None = None) -> ForecastModel:
    """Instantiate the model of ``model_cfg`` (:func:`check_model_settings` first).
    ``model.period: null`` means the natural seasonal period of ``freq``, the data's
    frequency (24 for hourly data, 52 for weekly)."""
    cls, kwargs = check_model_settings(model_cfg)
    if "n_marks" in inspect.signature(cls.__init__).parameters:
        kwargs["n_marks"] = n_marks
    if "period" in kwargs and kwargs["period"] is None:
        kwargs["period"] = _season(freq)
    try:
        return cls(seq_len=seq_len, pred_len=pred_len, n_vars=n_vars, **kwargs)
    except (TypeError, ValueError, AttributeError, RuntimeError) as error:
        settings = ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if k != "n_marks")
        raise ConfigError("model", f"{cls.__name__}({settings}) raised "
                          f"{error_line(error, __file__)}", "check the model's settings "
                          "(tsbench --cfg job shows them), or fix its __init__") from None


def check_types(cls: type, kwargs: dict[str, Any]) -> None:
    """Each hyperparameter whose ``__init__`` annotation is ``int``, ``float`` or ``bool``
    (or one of them or None) holds such a value: ``model.d_model=16.5`` or
    ``model.revin=maybe`` is named here, not met as a tensor error or a string taken as
    true. Other annotations, and none, are the constructor's to check."""
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # noqa: BLE001 - an annotation that does not resolve: no check
        return
    for key, value in kwargs.items():
        kinds = _plain_kinds(hints.get(key))
        if kinds is None or _is_kind(value, kinds):
            continue
        wanted = " or ".join(KIND_NAMES[k] for k in kinds)
        raise ConfigError(f"model.{key}", f"must be {wanted}, got {value!r}",
                          f"give model.{key} as {wanted}")


#: How a constructor annotation's type is asked for in an error.
KIND_NAMES = {int: "a whole number", float: "a number", bool: "true or false",
              type(None): "null"}


def _plain_kinds(hint: Any) -> tuple[type, ...] | None:
    """``hint``'s types when each is int, float, bool or None (``float | None``), else None."""
    kinds = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union,
                                                                 types.UnionType) else (hint,)
    return kinds if kinds and all(k in KIND_NAMES for k in kinds) else None


def _is_kind(value: Any, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in kinds
    if isinstance(value, int):
        return int in kinds or float in kinds
    if isinstance(value, float):
        return float in kinds
    return value is None and type(None) in kinds


def check_constructor(cls: type, accepted: Any, kwargs: dict[str, Any]) -> None:
    """``cls.__init__`` takes what tsbench fills in (``seq_len``, ``pred_len``, ``n_vars``),
    and the model config sets every argument it requires: a :class:`ConfigError` naming
    the argument, not the ``TypeError`` of the call."""
    if any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        return  # **kwargs: the call says
    target = f"{cls.__module__}.{cls.__qualname__}"
    missing = [arg for arg in ("seq_len", "pred_len", "n_vars") if arg not in accepted]
    if missing:
        takes = ", ".join(name for name in accepted if name != "self")
        raise ConfigError(
            "model._target_", f"{target}.__init__({takes}) takes no "
            f"{_either(missing)}: tsbench builds every model with "
            "seq_len, pred_len and n_vars (from the config and the data) plus the model "
            "config's hyperparameters",
            f"name them so: __init__(self, seq_len, pred_len, n_vars, ..., revin=False); "
            f"{CHECK_MODEL}({cls.__name__}, ...) checks the whole model contract")
    for arg, param in accepted.items():
        if (arg not in FILLED_IN and arg not in kwargs and param.default is param.empty
                and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD)):
            raise ConfigError(f"model.{arg}", f"{target}.__init__ requires '{arg}', which "
                              "the model config does not set",
                              f"add '{arg}: <value>' to the model's YAML, or give "
                              f"+model.{arg}=<value> on the command line")


def _either(names: list[str]) -> str:
    """'a', 'b' or 'c'."""
    quoted = [repr(name) for name in names]
    return " or ".join([", ".join(quoted[:-1]), quoted[-1]] if len(quoted) > 1 else quoted)


def reads_target_alone(cfg: Any) -> bool:
    """Whether a run's model reads the target channel alone: with ``features=S``, and with
    ``features=MS`` for a classical model, which fits and forecasts each channel on its own
    (its protocol card's ``dataset.channels`` says the same)."""
    return cfg.features == "S" or (cfg.features == "MS"
                                   and issubclass(model_class(cfg.model), HistoryModel))


def model_for(cfg: Any, series: Series) -> ForecastModel:
    """The model of a run config (``cfg.model`` at ``cfg.seq_len``/``cfg.pred_len``) sized
    for ``series``: its channels (one with ``features=S``; with ``features=MS``, one for a
    classical model, which fits and forecasts each channel on its own, so the scored target
    alone) and calendar features; with ``strategy=recursive``, built for ``strategy.step``
    and rolled out to ``pred_len``."""
    n_vars = 1 if reads_target_alone(cfg) else series.values.shape[1]
    n_marks = series.time_features(slice(0, 1)).shape[1]
    step = strategy_step(cfg)
    model = build_model(cfg.model, int(cfg.seq_len), step or int(cfg.pred_len), n_vars, n_marks,
                        freq=series.freq)
    if step is None:
        return model
    if isinstance(model, HistoryModel):
        raise ConfigError("strategy", f"model={cfg.model.name} forecasts every origin from the "
                          "whole history; it has no step model to roll out",
                          "use strategy=direct for the classical baselines")
    return RecursiveForecaster(model, int(cfg.pred_len))


def _season(freq: str | None) -> int:
    """The seasonal period that ``model.period: null`` stands for."""
    if freq is None:
        raise ConfigError("model.period", "is null (from the data), but no data frequency "
                          "was given", "set model.period=<steps per season>")
    period = seasonal_period(freq)
    if period is None:
        raise ConfigError("model.period", f"is null (from the data), but the data's "
                          f"frequency {freq} has no whole-number seasonal period",
                          "set model.period=<steps per season>")
    return period


def count_parameters(model: torch.nn.Module) -> int:
    """Trainable weights, or the values a classical model estimated from the training rows."""
    if isinstance(model, HistoryModel):
        return model.n_fitted_params
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
