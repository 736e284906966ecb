"""Before a run trains a model (or fits and scores one without training): the model's
forecast of two of the run's own training windows has the shape that the loss and
the scores read, ``(batch, pred_len, n_vars)``, ``n_vars`` the modelled channels (one with
``features=S``) and ``pred_len`` the training windows' horizon (``strategy.step`` for a
recursive run, whose step model is checked). A wrong shape would otherwise broadcast
silently into the loss (one channel against three) or fail deep inside training with a
half-written run directory. A forecast holding NaN or inf before any training is refused
too (training would stop at its first epoch as diverged, blaming ``optim.lr``), and so is a
model that trains (``trainable``, the default) without trainable parameters (its optimizer
would get an empty parameter list), or one that does not with them (never trained).

Then, on the first 16 windows of the training split (never a validation or test row), in
eval mode as scoring calls it (:func:`check_own_windows`): the batch of the first 8 is
forecast alike twice (determinism), each window's forecast alone is its forecast in that
batch (batch independence), and the batch's forecast is the same again after the model has
forecast the next 8 (statelessness); then the first ``data.eval_batch_size`` training
windows (at most :data:`EVAL_BATCH_CAP`), forecast in one batch as scoring batches them,
are their forecasts in batches of 8 (batch independence at the size the run scores at: a
model that reads its batch only when it is large passes batches of 8 and 1). A scored
split is batched in window order, so each window's future lies in the later windows'
look-backs: a model that reads the other windows of its batch, or keeps the rows it has
seen, could copy the future into its forecast, and its scores would change with
``data.eval_batch_size`` (or with what it forecast before: a search selecting on validation
scores would pick it). Tolerance: float32 sums in another order (a batched matmul). This
is the shape, finiteness and those three properties alone: the full contract is
:func:`tsbench.models.contract.check_model`. After training, before any split is scored,
the three are checked again on the trained model (:func:`check_trained_windows`): a model
that reads its batch only once trained (a gate across the batch initialised at zero, say)
passes the pass before training. A forecast of those windows holding NaN or inf is refused
before they are compared, as the fault of the forward before training and as a run that
diverged after it (weights that overflow on some windows alone would otherwise read as a
forecast that depends on its batch). A model that reads its batch only in batches larger than
:data:`EVAL_BATCH_CAP` is not seen here: the report tells its runs at two
``data.eval_batch_size`` apart by their scores (:func:`tsbench.report.collect.scores_differ`).

It costs one forward pass of two windows in eval mode under ``torch.no_grad`` (where that
raises, one more as training makes it: train mode, gradients on, and no verdict on the
windows' independence), then four of 8 windows and 8 of one, then the scoring batch's
windows in batches of 8 and in one (0.1 to 0.7 s more on two CPU threads for PatchTST/42
on ETTh1 at the default 128; no verdict where that batch raises, e.g. without
the memory for it on the CPU), and changes nothing about training: the random number
generators' states are restored afterwards (a model may draw in eval mode too), and so is
each module's train/eval mode. (A model whose forward changes other state keeps that
change: lazy modules, ``nn.LazyLinear``, are initialised inside the restored random state,
so their first weights, and the random numbers drawn after them, differ from a run without
the check.) The classical baselines (:class:`~tsbench.models.history.HistoryModel`) have
no per-window forward pass: they forecast every origin of a split at once from its rows,
later ones included. After fitting, before scoring, their forecast of the first training
window from its look-back must not change when its targets, the rows from its origin on,
are reversed and moved up (:func:`check_history_origin`: a forecast reads the rows before
its origin alone; two filtering passes over that window's rows), and their
forecasts of a few windows of the first scored split must have the scores' shape,
``(windows, pred_len, scored channels)``: they fit the scored channels alone (the
filtered history they leave behind is the one scoring reads, so it costs the forecasts of
those windows alone).

The pass runs on the CPU, where the model is built. For a run that trains on the CPU, a
forward that raises there is a fault of the model that training would meet at its first
step: it is reported in one line (the exception, the line of the model's code it came
from, whether ``x_mark`` was None) before the run writes anything. For a run that trains
on a GPU it is not judged (a kernel that needs a GPU): training meets the same error and
reports it as it would without the check.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch.nn.parameter import UninitializedParameter

from tsbench.data.datamodule import ForecastData
from tsbench.errors import ConfigError
from tsbench.models.base import ForecastModel
from tsbench.models.contract import (
    CHECK_MODEL,
    CONSECUTIVE,
    error_line,
    forecasts_agree,
    forward_takes_marks,
)
from tsbench.models.history import HistoryModel
from tsbench.models.recursive import RecursiveForecaster
from tsbench.training.history import history_forecasts

#: The config field the errors name: the class that breaks the contract.
FIELD = "model._target_"
#: Windows the check forecasts: two show the batch dimension; more would cost a GPU run's
#: model a full batch on the CPU.
CHECKED_WINDOWS = 2
#: Most windows of the batch at the run's ``data.eval_batch_size`` that
#: :func:`check_own_windows` forecasts (twice the default of 128): a larger scoring batch is
#: checked at this size, so that a GPU run's large batch costs its model a bounded pass on
#: the CPU.
EVAL_BATCH_CAP = 256


def trains_on_cpu(accelerator: str) -> bool:
    """Whether a run with ``trainer.accelerator`` trains where the check runs: the CPU."""
    if accelerator == "cpu":
        return True
    return (accelerator == "auto" and not torch.cuda.is_available()
            and not torch.backends.mps.is_available())


def check_forecast_shape(model: ForecastModel, data: ForecastData, on_cpu: bool) -> None:
    """Raise :class:`ConfigError` unless ``model`` maps two of ``data``'s training
    windows to ``(batch, horizon, n_vars)``, or, for a run that trains on the CPU
    (``on_cpu``), if its forward raises on them, or unless it forecasts each training
    window on its own (:func:`check_own_windows`; a classical model is checked after
    fitting, by :func:`check_history_forecasts`); and if it is ``trainable`` without a
    trainable parameter, or not ``trainable`` with one."""
    if isinstance(model, HistoryModel):
        return
    recursive = isinstance(model, RecursiveForecaster)
    step_model = model.model if recursive else model  # a roll-out is checked by its step
    cls = type(step_model)
    if not forward_takes_marks(cls):
        raise ConfigError(
            FIELD, f"{_target(cls)}.forward does not take x_mark: tsbench calls "
            "forward(x, x_mark) (x_mark is None unless the model sets uses_time_features "
            "= True)", f"define forward(self, x, x_mark=None); {_contract(cls)}")
    if step_model.trainable and not any(p.requires_grad for p in step_model.parameters()):
        raise ConfigError(  # else Lightning's "optimizer got an empty parameter list"
            FIELD, f"{_target(cls)} has trainable = True (ForecastModel's default) but no "
            "trainable parameters, so there is nothing to train",
            f"set trainable = False in {cls.__name__} (a model without parameters is scored "
            f"without training, as model=naive is); {_contract(cls)}")
    learned = 0 if step_model.trainable else sum(  # a lazy one is shaped by its first call
        p.numel() for p in step_model.parameters()
        if p.requires_grad and not isinstance(p, UninitializedParameter))
    if learned:
        raise ConfigError(  # else scored at their initial values without a word
            FIELD, f"{_target(cls)} has trainable = False but {learned} trainable parameters, "
            "which would be scored at their initial values, never trained",
            f"set trainable = True in {cls.__name__} to train them, or freeze fixed ones with "
            f"requires_grad_(False); {_contract(cls)}")
    windows = data.windows("train")
    count = min(len(windows), CHECKED_WINDOWS)
    x, _, x_mark = windows.batch(torch.arange(count))
    device = next(step_model.parameters(), torch.zeros(())).device
    x = x.to(device)
    x_mark = None if x_mark is None else x_mark.to(device)
    try:
        out = _forward(step_model, x, x_mark)
    except Exception as error:  # noqa: BLE001 - any fault of the model's own code
        if not on_cpu:  # e.g. a GPU-only kernel on this CPU batch: training will tell
            return
        raise ConfigError(FIELD, f"{_target(cls)}.forward raised "
                          f"{error_line(error, __file__)} for training windows x of shape "
                          f"{tuple(x.shape)} and x_mark "
                          f"{'None' if x_mark is None else tuple(x_mark.shape)}",
                          "fix the model's forward (a model that reads x_mark sets "
                          f"uses_time_features = True); {_contract(cls)}") from error
    want = (count, windows.pred_len, data.n_vars)
    if recursive:
        meaning = "(batch, strategy.step, n_vars)"
        fix = ("return (batch, pred_len, n_vars) with the pred_len and n_vars that __init__ "
               "gets (a recursive run builds the model with pred_len = strategy.step)")
    else:
        meaning = "(batch, pred_len, n_vars)"
        fix = "return (batch, pred_len, n_vars) with the pred_len and n_vars that __init__ gets"
    _require_shape(cls, "forward", out, want, meaning,
                   f"for training windows x of shape {tuple(x.shape)}", fix)
    _require_finite(cls, [out])
    check_own_windows(step_model, data)


def check_trained_windows(model: ForecastModel, data: ForecastData,
                          diverged: Callable[[str], ConfigError]) -> None:
    """After training, before scoring: raise :class:`ConfigError` unless the trained
    ``model`` (a roll-out's step model) still forecasts each training window on its own
    (:func:`check_own_windows`); where its forecast of one of those windows is not
    finite, raise ``diverged(what)``: the run's error for a run that diverged."""
    if isinstance(model, HistoryModel):
        return
    check_own_windows(model.model if isinstance(model, RecursiveForecaster) else model, data,
                      diverged)


def check_own_windows(model: ForecastModel, data: ForecastData,
                      diverged: Callable[[str], ConfigError] | None = None) -> None:
    """Raise :class:`ConfigError` unless, in eval mode, ``model`` forecasts each of the
    first :data:`CONSECUTIVE` // 2 training windows of ``data`` alone as it does in their
    batch (batch independence: consecutive windows, as a scored split batches them, hold
    each other's futures in their look-backs), and forecasts that batch the same again
    after forecasting the next windows (statelessness: nothing kept from the windows it
    has seen), and forecasts the first ``data.eval_batch_size`` training windows in one
    batch as in batches of 8 (:func:`_check_scoring_batch`). Where the batch's forecast
    raises in eval mode without gradients, the shape check's pass, made as training calls
    the model, has judged the forward: no verdict. A forecast holding NaN or inf is refused
    (:func:`_require_finite`) before it is compared. ``diverged``: the check after training,
    whose errors say so and which refuses a forecast that is not finite with it."""
    windows = data.windows("train")
    count = min(len(windows), CONSECUTIVE)
    first = count // 2
    if first < 2:  # no batch to compare a window's forecast in
        return
    scored = min(len(windows), int(data.eval_batch_size), EVAL_BATCH_CAP)
    x, _, x_mark = windows.batch(torch.arange(max(count, scored)))
    device = next(model.parameters(), torch.zeros(())).device
    x = x.to(device)
    x_mark = None if x_mark is None else x_mark.to(device)

    def forecast(start: int, stop: int) -> Any:  # copies: a forward may write its input
        return model(x[start:stop].clone(),
                     None if x_mark is None else x_mark[start:stop].clone())

    cls = type(model)
    when = " once trained" if diverged else ""
    with _state_kept(model), torch.no_grad():
        model.eval()
        try:
            together = forecast(0, first)
        except Exception:  # noqa: BLE001 - judged by the shape check's pass
            return
        _require_shape(cls, "forward", together, (first, windows.pred_len, data.n_vars),
                       "(batch, pred_len, n_vars)", f"for {first} training windows",
                       "return one forecast per window of the batch")
        _require_finite(cls, [together], diverged)
        gap = _gap(forecast(0, first), together)
        if gap is not None:
            raise ConfigError(
                FIELD, f"{_target(cls)}.forward is not deterministic{when} in eval mode: its "
                f"forecasts of the same {first} training windows, made twice in a row, differ "
                f"({gap}), so it draws random numbers there or keeps something of the windows "
                "it has seen, and its scores would change from one scoring to the next",
                "draw no random numbers in eval mode (tsbench's own models draw only for "
                "dropout, which is off there) and keep nothing between forecasts (no rows or "
                f"caches outside the parameters and buffers training sets); {_contract(cls)}")
        for i in range(first):
            try:
                alone = forecast(i, i + 1)
            except Exception as error:  # noqa: BLE001 - any fault of the model's own code
                raise ConfigError(
                    FIELD, f"{_target(cls)}.forward is not batch-independent{when}: it raised "
                    f"{error_line(error, __file__)} in eval mode for training window {i} "
                    f"alone, which it forecast in a batch of {first}",
                    f"forecast each window from that window alone; {_contract(cls)}"
                ) from error
            gap = _gap(alone, together[i:i + 1])
            if gap is not None:
                raise ConfigError(
                    FIELD, f"{_target(cls)}.forward is not batch-independent{when}: in eval mode "
                    f"its forecast of training window {i} alone differs from its forecast "
                    f"in a batch of {first} consecutive training windows ({gap}), so it "
                    "depends on the other windows of its batch (where it reads them, a later "
                    "window's look-back holds an earlier one's future) and its scores would "
                    "change with data.eval_batch_size", "forecast each window from that "
                    "window alone "
                    "(no statistics, lookups or copies across the batch dimension; "
                    f"BatchNorm in eval mode is fine); {_contract(cls)}")
        following = forecast(first, count)
        gap = _gap(forecast(0, first), together)
        if gap is not None:
            raise ConfigError(
                FIELD, f"{_target(cls)}.forward is not stateless{when} in eval mode: its forecast "
                f"of {first} training windows changed ({gap}) after it forecast the "
                f"{count - first} windows that follow them, so it keeps something of the "
                "windows it has seen and its scores would depend on what it forecast "
                "before", "keep nothing between forecasts in eval mode (no rows or caches "
                f"outside the parameters and buffers training sets); {_contract(cls)}")
        if scored not in (1, first):
            _check_scoring_batch(model, forecast, scored, [together, following], data,
                                 diverged)


def _check_scoring_batch(model: ForecastModel, forecast: Callable[[int, int], Any],
                         scored: int, known: list[torch.Tensor], data: ForecastData,
                         diverged: Callable[[str], ConfigError] | None = None) -> None:
    """Raise :class:`ConfigError` unless the first ``scored`` training windows forecast in
    one batch, as scoring at ``data.eval_batch_size`` batches them (capped at
    :data:`EVAL_BATCH_CAP`), are their forecasts in batches of 8 (``known``: the first
    batches of 8, each already checked against the windows alone). A model that reads the
    other windows of its batch only in a batch larger than 8 passes the batches of 8 and
    1, and would be scored at its cheat. Where a forecast raises (no memory for the batch
    on the CPU), no verdict: scoring meets it. A forecast holding NaN or inf is refused
    (:func:`_require_finite`; ``diverged``: after training, as a run that diverged)."""
    step = len(known[0])
    try:
        apart = torch.cat([*known, *(forecast(start, min(start + step, scored))
                                     for start in range(sum(map(len, known)), scored, step))])
        together = forecast(0, scored)
    except Exception:  # noqa: BLE001 - scoring meets it, as it would without the check
        return
    apart = apart[:scored]
    cls = type(model)
    _require_finite(cls, [together, apart], diverged)
    gap = _gap(together, apart)
    if gap is None:
        return
    when = " once trained" if diverged else ""
    size = int(data.eval_batch_size)
    batch = f"one batch of {scored} (data.eval_batch_size={size}" + (
        ")" if size == scored else f", cut to {scored})")
    raise ConfigError(
        FIELD, f"{_target(cls)}.forward is not batch-independent{when}: in eval mode its forecasts "
        f"of the first {scored} training windows in {batch} differ from their forecasts in "
        f"batches of {step} ({gap}), so it depends on the other windows of its batch (where "
        "it reads them, a later window's look-back holds an earlier one's future) and its "
        "scores would change with data.eval_batch_size", "forecast each window from that "
        "window alone (no statistics, lookups or copies across the batch dimension; "
        f"BatchNorm in eval mode is fine); {_contract(cls)}")


def _require_finite(cls: type, outs: list[torch.Tensor],
                    diverged: Callable[[str], ConfigError] | None = None) -> None:
    """Refuse forecasts ``outs`` of the same first training windows (finite, as the data
    are) where any window's forecast holds NaN or inf: before training a fault of the
    forward (training would meet it as a diverged run and blame ``optim.lr``), after it
    (``diverged``) a run that diverged, not forecasts that differ."""
    finite = torch.stack([torch.isfinite(out).flatten(1).all(1) for out in outs]).all(0)
    bad = int((~finite).sum())
    if not bad:
        return
    windows = f"{bad} of the first {len(finite)} training windows"
    if diverged is not None:
        raise diverged(f"once trained, {cls.__name__} forecasts NaN or inf for {windows}")
    raise ConfigError(FIELD, f"{_target(cls)}.forward returned NaN or inf before any "
                      f"training, for {windows} (whose values are finite)", "fix the "
                      "model's forward (a division by zero, a log of 0, an uninitialised "
                      f"tensor); {_contract(cls)}")


def _gap(out: Any, want: torch.Tensor) -> str | None:
    """None where ``out`` is ``want`` to float32 tolerance (:func:`forecasts_agree`), else
    how they differ."""
    if not isinstance(out, torch.Tensor) or out.shape != want.shape:
        return (f"a {type(out).__name__}" if not isinstance(out, torch.Tensor)
                else f"shape {tuple(out.shape)}") + f" against {tuple(want.shape)}"
    out = out.to(want.dtype)
    if forecasts_agree(out, want):
        return None
    return f"by up to {float((out - want).abs().nan_to_num(float('inf')).max()):.3g}"


def check_history_forecasts(model: HistoryModel, data: ForecastData) -> None:
    """Raise :class:`ConfigError` unless the fitted ``model`` forecasts from the training
    rows before an origin alone (:func:`check_history_origin`) and forecasts the first
    windows of the first scored split as ``(windows, pred_len, scored channels)`` (the
    channels it fits; nothing to check without a scored split)."""
    check_history_origin(model, data)
    split = next((name for name in data.ranges if name != "train"), None)
    if split is None:
        return
    count = min(len(data.windows(split)), CHECKED_WINDOWS)
    with _state_kept(model):
        out = history_forecasts(model, data, split, np.arange(count))
    want = (count, data.pred_len, data.n_scored)
    _require_shape(type(model), "forecast_origins", out, want, "(windows, pred_len, n_vars)",
                   f"for {count} {split} windows", "make forecast_origins return "
                   "(origins, pred_len, n_vars), one forecast per fitted channel")


def check_history_origin(model: HistoryModel, data: ForecastData) -> None:
    """Raise :class:`ConfigError` unless the fitted ``model``'s forecast of the first
    training window, from its look-back's rows, is the same when its targets (the
    ``pred_len`` rows from its origin on) are reversed and moved up by one: a forecast reads
    the rows before its origin alone. ``forecast_origins`` is handed every row through the
    end of a scored split, so a model that reads the rows after an origin would forecast
    from its own targets. The first training window's rows alone: two filtering passes over
    ``seq_len + pred_len`` rows. A model that raises on so few rows (one that needs more
    history), or whose forecast has another shape, gets no verdict here: scoring, with the
    whole history, and the shape check that follows judge it."""
    start, end = data.ranges["train"]
    origin = data.seq_len
    if end - start < origin + data.pred_len:  # no training window
        return
    rows = data.scored_rows(start, start + origin + data.pred_len)
    moved = rows.copy()
    moved[origin:] = rows[origin:][::-1] + 1.0
    try:
        with _state_kept(model):
            out, again = (torch.from_numpy(model.forecast_origins(values, np.array([origin]),
                                                                  data.pred_len))
                          for values in (rows, moved))
    except Exception:  # noqa: BLE001 (one needing more history: no verdict; scoring says)
        return
    if tuple(out.shape) != (1, data.pred_len, data.n_scored):
        return
    gap = _gap(again, out)
    if gap is not None:
        raise ConfigError(
            FIELD, f"{_target(type(model))}.forecast_origins reads the rows it forecasts: its "
            f"forecast of the first training window (origin row {origin}) changed ({gap}) when "
            f"that window's {data.pred_len} target rows, row {origin} on, were reversed and "
            "moved up by one, so its scores would be read off each window's targets",
            "forecast from each origin with the rows before it alone (values[:origin]: a "
            "filter's state after row origin - 1)")


def _require_shape(cls: type, method: str, out: Any, want: tuple[int, int, int],
                   meaning: str, given: str, fix: str) -> None:
    name = f"{_target(cls)}.{method}"
    if not isinstance(out, torch.Tensor):
        raise ConfigError(FIELD, f"{name} returned a {type(out).__name__} {given}, not a "
                          f"tensor of shape {meaning} = {want}", f"{fix}; {_contract(cls)}")
    got = tuple(out.shape)
    if got != want:
        raise ConfigError(FIELD, f"{name} returned shape {got} {given}, "
                          f"expected {meaning} = {want}", f"{fix}; {_contract(cls)}")


def _forward(model: torch.nn.Module, x: torch.Tensor, x_mark: torch.Tensor | None) -> Any:
    """The model's forecast in eval mode without gradients; where that raises, as training
    calls it (train mode, gradients on: a forward may need them), whose error then counts."""
    try:
        with _state_kept(model), torch.no_grad():
            return model.eval()(x, x_mark)
    except Exception:  # noqa: BLE001 - judged by the pass training makes
        with _state_kept(model), torch.enable_grad():
            return model.train()(x, x_mark)


def _target(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _contract(cls: type) -> str:
    return f"{CHECK_MODEL}({cls.__name__}, ...) checks the whole model contract"


@contextlib.contextmanager
def _state_kept(model: torch.nn.Module) -> Iterator[None]:
    """Restore the random number generators (torch's CPU and initialised CUDA devices',
    NumPy's, Python's) and every module's train/eval mode on exit."""
    modes = [(module, module.training) for module in model.modules()]
    cuda = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        with torch.random.fork_rng(devices=cuda):
            yield
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
        for module, training in modes:
            module.training = training
