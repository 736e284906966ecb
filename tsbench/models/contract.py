"""The model contract as a public check: ``check_model(MyModel, **hparams)``.

A tsbench model is a :class:`~tsbench.models.base.ForecastModel` whose ``__init__`` takes
``seq_len``, ``pred_len`` and ``n_vars`` (plus ``n_marks`` if it reads calendar features)
and its own hyperparameters, ``revin`` among them, and whose ``forward(x, x_mark)`` maps
``(batch, seq_len, n_vars)`` to ``(batch, pred_len, n_vars)``. :func:`check_model` builds
the model at several sizes and checks every promise the training loop and the report rely
on; it raises :class:`ContractError` naming the first one broken. (A ``tsbench`` run checks
the shape, batch independence and statelessness alone, on a few of its own training
windows, before it trains: :mod:`tsbench.training.model_check`.)
"""

from __future__ import annotations

import inspect
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tsbench.counted import counted
from tsbench.models.base import ForecastModel
from tsbench.models.history import HistoryModel

#: (seq_len, pred_len, n_vars) the contract is checked at.
SHAPES = ((32, 8, 3), (48, 24, 1), (64, 16, 5))
#: How far the input-dependence check moves each trainable parameter off its initial value
#: (standard deviations of added noise): a zero-initialised layer then passes the input on.
NUDGE = 0.1
#: How far a window's forecast in a batch may lie from its forecast alone (float32 sums in
#: another order): torch.allclose's rtol, and its atol per unit of the forecasts' largest
#: magnitude (:func:`forecasts_agree`).
BATCH_RTOL, BATCH_ATOL = 1e-4, 1e-5
#: Consecutive windows the batch-independence and statelessness checks forecast: half of
#: them in a batch, each alone, and the batch again after the other half.
CONSECUTIVE = 16
#: Consecutive windows :func:`check_model` also forecasts in one batch, against the same in
#: batches of ``CONSECUTIVE // 2``: a model may mix the windows of a large batch only.
WIDE_BATCH = 64
#: Rows of the smooth series a :class:`HistoryModel` is fitted on, and the rows it is then
#: run over (forecasting from every origin after the fitted rows).
HISTORY_FIT_ROWS, HISTORY_ROWS = 96, 160


def forecasts_agree(out: torch.Tensor, want: torch.Tensor) -> bool:
    """Whether two forecasts of the same windows agree to float32 tolerance
    (:data:`BATCH_RTOL`; :data:`BATCH_ATOL` times ``want``'s largest magnitude, at least 1):
    the one tolerance of :func:`check_model` and of a run's own pre-run check."""
    atol = BATCH_ATOL * max(1.0, float(want.abs().max()) if want.numel() else 1.0)
    return torch.allclose(out.to(want.dtype), want, rtol=BATCH_RTOL, atol=atol)
#: The full check, as error messages elsewhere name it.
CHECK_MODEL = "tsbench.models.contract.check_model"


class ContractError(AssertionError):
    """A model breaks the contract; the message says which promise and how."""


def check_model(cls: type, n_marks: int = 4, shapes: tuple[tuple[int, int, int], ...] = SHAPES,
                **hparams: Any) -> None:
    """Check ``cls`` built with ``hparams`` (small sizes keep it fast): it subclasses
    ForecastModel, accepts ``revin`` and has a ``forward(x, x_mark)``; output shapes at every
    size in ``shapes`` for batches of 4 and 1, with ``revin`` off and on; parameters exactly
    when ``trainable``, every trainable one used by ``forward`` (its gradient exists) with a
    finite gradient; a forecast that depends on the input window; the same output twice in
    eval mode; finite output on a constant input; a state-dict round trip that gives the
    same output; in eval mode, on consecutive windows, each window's forecast in a batch the
    same as alone and a batch's forecast the same before and after others
    (:func:`_check_own_windows`), with ``revin`` off and on. A
    :class:`~tsbench.models.history.HistoryModel` has no per-window ``forward``: its
    ``fit_series`` and ``forecast_origins`` are checked instead (:func:`_check_history`).

    What the input-dependence check claims: with ``revin=False``, and the trainable
    parameters moved a little off their initial values (so that a zero-initialised output
    layer, which makes every forecast the same before training, passes), the gradient of
    the forecast with respect to ``x`` is not all zero: some input value changes the
    forecast. A model whose forecast comes from its parameters (or ``x_mark``) alone fails.
    It says nothing about ``revin=True``: RevIN's de-normalisation makes any forecast move
    with the window's mean and scale, whatever the network does between; nor does it say
    that the forecast uses every step or channel of the window. A zero gradient at the
    initial weights is allowed (only a parameter that gets no gradient at all, one that
    ``forward`` does not use, is refused)."""
    if isinstance(cls, torch.nn.Module):  # its repr would be the whole module
        given = type(cls).__name__
        raise TypeError(f"check_model got an instance of {given}: give the class, not an "
                        f"instance: check_model({given}, ...)")
    name = getattr(cls, "__name__", repr(cls))
    _require(isinstance(cls, type) and issubclass(cls, ForecastModel), name,
             "is not a subclass of tsbench.models.base.ForecastModel")
    accepted = inspect.signature(cls.__init__).parameters
    for arg in ("seq_len", "pred_len", "n_vars", "revin"):
        _require(arg in accepted, name, f"__init__ has no '{arg}' argument "
                 "(every model takes seq_len, pred_len, n_vars and revin)")
    _check_keywords(cls, accepted, hparams)
    if issubclass(cls, HistoryModel):  # no per-window forward to call: what a run calls
        _check_history(cls, accepted, name, shapes, hparams)
        return
    _require(forward_takes_marks(cls), name, "forward does not take x_mark: tsbench calls "
             "forward(x, x_mark), x_mark None unless uses_time_features = True "
             "-> define forward(self, x, x_mark=None)")
    hparams = {k: v for k, v in hparams.items() if k != "revin"}
    torch.manual_seed(0)
    for revin in (False, True):
        for seq_len, pred_len, n_vars in shapes:
            model = _build(cls, accepted, seq_len, pred_len, n_vars, n_marks,
                           {**hparams, "revin": revin})
            for batch in (4, 1):
                x, marks = _inputs(model, batch, seq_len, n_vars, n_marks)
                try:
                    out = model(x, marks)
                except Exception as error:  # noqa: BLE001 - any fault of the model's code
                    raise ContractError(
                        f"{name} breaks the model contract: forward raised "
                        f"{error_line(error)} for x of shape {tuple(x.shape)} and x_mark "
                        f"{'None' if marks is None else tuple(marks.shape)} with "
                        f"revin={revin}" + ("" if marks is not None else (
                            " (a model that reads x_mark sets uses_time_features = True: "
                            "tsbench passes None otherwise)"))) from error
                want = (batch, pred_len, n_vars)
                _require(isinstance(out, torch.Tensor), name, f"forward returns a "
                         f"{type(out).__name__}, not a tensor {want}")
                _require(tuple(out.shape) == want, name, f"with revin={revin} maps input "
                         f"{tuple(x.shape)} to {tuple(out.shape)}, not {want}")
                _require(bool(torch.isfinite(out).all()), name, f"with revin={revin} "
                         f"forecasts NaN or inf for a finite input {tuple(x.shape)}")

    seq_len, pred_len, n_vars = shapes[0]
    model = _build(cls, accepted, seq_len, pred_len, n_vars, n_marks, hparams)
    x, marks = _inputs(model, 4, seq_len, n_vars, n_marks)
    params = [p for p in model.parameters() if p.requires_grad]
    _require(bool(params) == model.trainable, name,
             f"has trainable={model.trainable} but {len(params)} trainable parameters "
             "(set trainable = False exactly for models without parameters)")
    if params:
        model.train()
        model(x, marks).pow(2).mean().backward()
        for pname, p in model.named_parameters():
            if not p.requires_grad:  # frozen on purpose: no gradient expected
                continue
            # a zero gradient is fine (e.g. the layers before a zero-initialised output
            # layer); no gradient at all means forward never used the parameter
            _require(p.grad is not None, name,
                     f"parameter {pname} gets no gradient (not used in forward?) -> use it in "
                     "forward, delete it, or freeze it (requires_grad_(False)) if it is not "
                     "to be trained")
            _require(bool(torch.isfinite(p.grad).all()), name,
                     f"parameter {pname} gets no finite gradient from a finite input -> "
                     "guard the steps of forward whose gradient is undefined somewhere (add "
                     "an eps to a std, norm, division, sqrt or log)")
    _check_input_dependence(cls, accepted, name, n_marks, shapes[0], hparams)
    model.eval()
    with torch.no_grad():
        out = model(x, marks)
        _require(torch.equal(out, model(x, marks)), name,
                 "gives different outputs for the same input in eval mode")
        constant = torch.full_like(x, 3.0)
        _require(bool(torch.isfinite(model(constant, marks)).all()), name,
                 "gives non-finite output for a constant input (divide by a zero std?)")
        clone = _build(cls, accepted, seq_len, pred_len, n_vars, n_marks, hparams)
        clone.load_state_dict(model.state_dict())
        _require(torch.equal(clone.eval()(x, marks), out), name,
                 "gives another output after a state-dict round trip: a copy with the same "
                 "weights forecasts otherwise, so forward depends on state its state dict "
                 "lacks (an attribute it sets, a non-persistent buffer) -> keep nothing "
                 "between forecasts; what the model learns belongs in parameters or buffers")
    for revin in (False, True):
        _check_own_windows(cls, accepted, name, n_marks, shapes[0], {**hparams, "revin": revin})


def _check_history(cls: type, accepted: Any, name: str,
                   shapes: tuple[tuple[int, int, int], ...], hparams: dict[str, Any]) -> None:
    """A :class:`HistoryModel` at each size in ``shapes``: no trainable parameters;
    ``fit_series`` on :data:`HISTORY_FIT_ROWS` rows of a smooth series, then
    ``forecast_origins`` over :data:`HISTORY_ROWS` rows from every origin after them,
    ``(origins, pred_len, n_vars)`` finite forecasts; and a forecast that reads the rows
    before its origin alone: the same when the rows from the origin on are reversed and
    moved up by one (first, middle and last origin), as a run checks its first window."""
    hparams = {**{k: v for k, v in hparams.items() if k != "revin"}, "revin": False}
    for seq_len, pred_len, n_vars in shapes:
        model = _build(cls, accepted, seq_len, pred_len, n_vars, 0, hparams)
        trained = [pname for pname, p in model.named_parameters() if p.requires_grad]
        _require(not trained, name, f"is a HistoryModel (fitted, never trained) with "
                 f"trainable parameters {trained[:3]} -> fit its values in _fit_channel")
        steps = np.arange(HISTORY_ROWS, dtype=np.float64)[:, None]
        channels = np.arange(n_vars)
        values = np.sin(2 * np.pi * steps / (12 + 5 * channels) + channels) + steps / 100
        origins = np.arange(HISTORY_FIT_ROWS, HISTORY_ROWS - pred_len + 1)
        want = (len(origins), pred_len, n_vars)
        _history_call(name, f"fit_series on {HISTORY_FIT_ROWS} rows of "
                      f"{counted(n_vars, 'channel')}",
                      model.fit_series, values[:HISTORY_FIT_ROWS])
        out = _history_call(name, f"forecast_origins from {len(origins)} origins",
                            model.forecast_origins, values, origins, pred_len)
        _require(isinstance(out, np.ndarray) and out.shape == want, name,
                 f"forecast_origins returns {getattr(out, 'shape', type(out).__name__)} for "
                 f"{len(origins)} origins, not {want} = (origins, pred_len, n_vars)")
        _require(bool(np.isfinite(out).all()), name,
                 "forecast_origins forecasts NaN or inf on a smooth series of "
                 f"{counted(n_vars, 'channel')}")
        for k in (0, len(origins) // 2, len(origins) - 1):
            origin = int(origins[k])
            moved = values.copy()
            moved[origin:] = values[origin:][::-1] + 1.0
            again = _history_call(name, f"forecast_origins from origin row {origin}",
                                  model.forecast_origins, moved, origins[k:k + 1], pred_len)
            _require(isinstance(again, np.ndarray) and again.shape == (1, *want[1:])
                     and np.allclose(again, out[k:k + 1], rtol=BATCH_RTOL, atol=BATCH_ATOL),
                     name, f"forecast_origins reads the rows it forecasts: its forecast "
                     f"from origin row {origin} changed when the rows from {origin} on were "
                     "reversed and moved up by one -> forecast from each origin with the "
                     "rows before it alone (values[:origin])")


def _history_call(name: str, what: str, method: Any, *args: Any) -> Any:
    """``method(*args)``, a HistoryModel's; an error of the model's code as a ContractError
    saying ``what`` raised it."""
    try:
        return method(*args)
    except Exception as error:  # noqa: BLE001 - any fault of the model's code
        raise ContractError(f"{name} breaks the model contract: {what} raised "
                            f"{error_line(error)}") from error


def _check_keywords(cls: type, accepted: Any, hparams: dict[str, Any]) -> None:
    """Raise TypeError for a keyword of the caller's that ``cls.__init__`` does not take (a
    misspelt hyperparameter is the caller's, not the model's), or that check_model sets."""
    sizes = ("seq_len", "pred_len", "n_vars", "n_marks")
    given = [key for key in hparams if key in sizes]
    if given:
        raise TypeError(f"check_model sets {given[0]} itself, at each size it checks -> give "
                        "those as shapes=((seq_len, pred_len, n_vars), ...)")
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return
    own = [key for key in list(accepted)[1:] if key not in sizes]
    for key in hparams:
        if key not in accepted:
            raise TypeError(f"check_model({cls.__name__}, {key}=...): '{key}' is not a "
                            f"parameter of {cls.__name__}.__init__, whose hyperparameters "
                            f"are {', '.join(own)} -> check the keyword's spelling")


def forward_takes_marks(cls: type) -> bool:
    """Whether ``cls.forward`` can be called as tsbench calls it: ``forward(x, x_mark)``."""
    try:
        inspect.signature(cls.forward).bind(None, None, None)  # self, x, x_mark
    except TypeError:
        return False
    except ValueError:  # no signature to read (a builtin): let the call say
        return True
    return True


def _check_input_dependence(cls: type, accepted: Any, name: str, n_marks: int,
                            shape: tuple[int, int, int], hparams: dict[str, Any]) -> None:
    """The forecast depends on ``x`` (see :func:`check_model` for what this claims): two
    different input windows give different forecasts (no autograd: a model that works on its
    input in place trains, and must pass)."""
    seq_len, pred_len, n_vars = shape
    model = _build(cls, accepted, seq_len, pred_len, n_vars, n_marks,
                   {**hparams, "revin": False})
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        x, marks = _nudged_eval(model, seq_len, n_vars, n_marks, gen)
        other = torch.randn(x.shape, generator=gen, dtype=x.dtype)
        first, second = model(x.clone(), marks), model(other, marks)
    _require(not torch.equal(first, second), name,
             "the forecast does not depend on the input window (with revin=False, two "
             "different windows give the same forecast) -> compute the forecast from x, not "
             "from parameters or x_mark alone")


def _check_own_windows(cls: type, accepted: Any, name: str, n_marks: int,
                       shape: tuple[int, int, int], hparams: dict[str, Any]) -> None:
    """In eval mode, on :data:`CONSECUTIVE` consecutive overlapping windows of a smooth series
    (as a scored split batches them: each window's future is in the later windows'
    look-backs), each window of the first half forecast alone as in their batch, to float
    tolerance (batch independence: scoring batches windows by ``data.eval_batch_size``, so a
    model that mixes or copies across the windows of a batch would score differently at
    another batch size; BatchNorm passes, in eval mode it uses its running statistics), and
    that batch forecast the same again after the second half (statelessness: a model that
    keeps the rows it has seen could look a later window's future up), and
    :data:`WIDE_BATCH` windows forecast in one batch as in batches of half of them (a model
    may mix the windows of a large scoring batch only). Checked with the
    parameters nudged as for :func:`_check_input_dependence`, so that a zero-initialised
    output layer does not hide the mixing."""
    seq_len, pred_len, n_vars = shape
    model = _build(cls, accepted, seq_len, pred_len, n_vars, n_marks, hparams)
    revin = hparams.get("revin")
    first = CONSECUTIVE // 2
    with torch.no_grad():
        _nudged_eval(model, seq_len, n_vars, n_marks, torch.Generator().manual_seed(2))
        x, marks = _consecutive(model, WIDE_BATCH, seq_len, n_vars, n_marks)

        def forecast(start: int, stop: int) -> torch.Tensor:
            return model(x[start:stop].clone(), None if marks is None else marks[start:stop])

        together = forecast(0, first)
        for i in range(first):
            alone = forecast(i, i + 1)
            _require(forecasts_agree(alone, together[i:i + 1]),
                     name, f"with revin={revin} in eval mode the forecast of window {i} of a "
                     f"batch of {first} consecutive windows differs from its forecast alone (by "
                     f"up to {float((alone - together[i:i + 1]).abs().max()):.3g}): it depends "
                     "on the other windows in the batch, so its scores would change with "
                     "data.eval_batch_size -> compute each window's forecast from that window "
                     "alone (no statistics, lookups or copies across the batch dimension; "
                     "BatchNorm in eval mode is fine)")
        forecast(first, CONSECUTIVE)
        again = forecast(0, first)
        _require(forecasts_agree(again, together), name,
                 f"with revin={revin} in eval mode the forecast of {first} consecutive windows "
                 f"changes (by up to {float((again - together).abs().max()):.3g}) after it "
                 f"forecast the {CONSECUTIVE - first} windows that follow them: it keeps "
                 "something of the windows it has seen, so its scores would depend on what it "
                 "forecast before -> keep nothing between forecasts in eval mode (no rows or "
                 "caches outside the parameters and buffers training sets)")
        wide = forecast(0, WIDE_BATCH)
        eights = torch.cat([forecast(i, i + first) for i in range(0, WIDE_BATCH, first)])
        _require(forecasts_agree(wide, eights), name,
                 f"with revin={revin} in eval mode its forecasts of {WIDE_BATCH} consecutive "
                 f"windows in one batch differ from their forecasts in batches of {first} (by "
                 f"up to {float((wide - eights).abs().max()):.3g}): it depends on the other "
                 "windows of a large batch, so its scores would change with "
                 "data.eval_batch_size -> compute each window's forecast from that window "
                 "alone (no statistics, lookups or copies across the batch dimension)")


def _nudged_eval(model: ForecastModel, seq_len: int, n_vars: int, n_marks: int,
                 gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Put ``model`` in eval mode, move its trainable parameters :data:`NUDGE` off their
    initial values (after one call, which shapes lazy modules such as nn.LazyLinear), and
    return the batch of 4 it was called with. Call it under ``torch.no_grad()``."""
    model.eval()
    x, marks = _inputs(model, 4, seq_len, n_vars, n_marks)
    model(x.clone(), marks)
    for p in model.parameters():
        if p.requires_grad:
            p.add_(NUDGE * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return x, marks


#: The file of ``check`` and the other setting checks a model calls: an error raised there
#: is named by the model's line that called it.
_CHECKS_FILE = str(Path(__file__).with_name("base.py"))


def error_line(error: Exception, caller: str = __file__) -> str:
    """``Type: message`` of ``error`` and the last line of code it came from outside torch,
    the ``caller``'s file and tsbench's setting checks (the model's own line, for a user's
    model)."""
    message = str(error).strip().splitlines()
    text = type(error).__name__ + (f": {message[0]}" if message else "")
    torch_dir = Path(torch.__file__).parent
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if torch_dir not in Path(f.filename).parents
              and f.filename not in (caller, _CHECKS_FILE)]
    if frames:
        text += f" (at {frames[-1].filename}:{frames[-1].lineno})"
    return text


def _require(condition: bool, name: str, problem: str) -> None:
    if not condition:
        raise ContractError(f"{name} breaks the model contract: {problem}")


def _build(cls: type, accepted: Any, seq_len: int, pred_len: int, n_vars: int, n_marks: int,
           hparams: dict[str, Any]) -> ForecastModel:
    extra = {"n_marks": n_marks} if "n_marks" in accepted else {}
    try:
        return cls(seq_len=seq_len, pred_len=pred_len, n_vars=n_vars, **extra, **hparams)
    except Exception as error:  # noqa: BLE001 - any fault of the model's code
        settings = ", ".join(f"{k}={v!r}" for k, v in hparams.items())
        raise ContractError(f"{cls.__name__} breaks the model contract: __init__(seq_len="
                            f"{seq_len}, pred_len={pred_len}, n_vars={n_vars}, {settings}) "
                            f"raised {error_line(error)}") from error


def _consecutive(model: ForecastModel, count: int, seq_len: int, n_vars: int, n_marks: int
                 ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``count`` stride-1 windows of a smooth series (a sine of another period and phase per
    channel on a slow trend) and of smooth calendar-like marks in [-0.5, 0.5], where the
    model reads them."""
    steps = torch.arange(seq_len + count - 1, dtype=torch.float32)[:, None]
    channels = torch.arange(n_vars, dtype=torch.float32)
    series = torch.sin(2 * torch.pi * steps / (12 + 5 * channels) + channels) + steps / 100
    marks = 0.5 * torch.cos(2 * torch.pi * steps / (7 + 3 * torch.arange(n_marks)))
    x = series.unfold(0, seq_len, 1).transpose(1, 2).contiguous()
    x_mark = marks.unfold(0, seq_len, 1).transpose(1, 2).contiguous()
    return x, (x_mark if model.uses_time_features else None)


def _inputs(model: ForecastModel, batch: int, seq_len: int, n_vars: int, n_marks: int
            ) -> tuple[torch.Tensor, torch.Tensor | None]:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, seq_len, n_vars, generator=gen)
    marks = torch.rand(batch, seq_len, n_marks, generator=gen) - 0.5
    return x, (marks if model.uses_time_features else None)
