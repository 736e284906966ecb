"""The shape check a run makes before training (tsbench.training.model_check), in process:
it names what came back and what was expected, and it changes nothing about training (the
random number generators and the modules' modes are as before: same seed, same metrics)."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_module

from tests.conftest import TINY
from tests.models import faulty_models as faulty
from tsbench.data.loading import load_series
from tsbench.data.splits import benchmark_borders
from tsbench.errors import ConfigError
from tsbench.models.build import model_for
from tsbench.models.classical import Theta
from tsbench.rundir import read_metrics
from tsbench.training import train_and_score
from tsbench.training.history import fit_history
from tsbench.training.model_check import check_forecast_shape, check_history_forecasts
from tsbench.training.run import run
from tsbench.training.train_and_score import make_data

FAULTY = "model._target_=tests.models.faulty_models."


def _config(*extra: str) -> Any:
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        return compose("config", overrides=[*TINY, *extra])


def _data(cfg: Any) -> Any:
    series = load_series(cfg.dataset)
    borders = benchmark_borders(len(series.values), series.split, int(cfg.seq_len),
                                series.train_frac, series.test_frac)
    return make_data(cfg, series, {"train": borders.train, "val": borders.val},
                     with_marks=False)


@pytest.mark.parametrize(("model", "words"), [
    (faulty.OneChannel(48, 12, 3), "OneChannel.forward returned shape (2, 12, 1) for "
     "training windows x of shape (2, 48, 3), expected (batch, pred_len, n_vars) = "
     "(2, 12, 3) -> return (batch, pred_len, n_vars) with the pred_len and n_vars that "
     "__init__ gets; tsbench.models.contract.check_model(OneChannel, ...) checks the whole "
     "model contract"),
    (faulty.LookbackSteps(48, 12, 3), "returned shape (2, 48, 3) for training windows"),
    (faulty.TupleOut(48, 12, 3), "TupleOut.forward returned a tuple for training windows x "
     "of shape (2, 48, 3), not a tensor of shape (batch, pred_len, n_vars) = (2, 12, 3)"),
    (faulty.NoMarks(48, 12, 3), "NoMarks.forward does not take x_mark"),
])
def test_a_wrong_forecast_is_a_config_error(model: Any, words: str) -> None:
    data = _data(_config())
    assert data.n_vars == 3
    with pytest.raises(ConfigError, match=re.escape(words)) as error:
        check_forecast_shape(model, data, on_cpu=True)
    assert error.value.field == "model._target_"


class NanOut(faulty.TimeLinear):
    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x, x_mark) / 0.0 * 0.0  # 0/0: NaN before any training step


def test_a_forecast_that_is_nan_before_training_is_named_not_blamed_on_the_rate() -> None:
    with pytest.raises(ConfigError) as error:
        check_forecast_shape(NanOut(48, 12, 3), _data(_config()), on_cpu=True)
    assert str(error.value).startswith(
        f"model._target_: {__name__}.NanOut.forward returned NaN or inf before any training, "
        "for 2 of the first 2 training windows (whose values are finite) -> fix the model's "
        "forward")


class NanPastTwo(faulty.TimeLinear):
    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x, x_mark) * (1.0 if len(x) <= 2 else float("nan"))


def test_a_forecast_that_is_nan_on_a_batch_of_8_is_named_too() -> None:
    # finite on the shape check's 2 windows, NaN on the batch check's 8
    with pytest.raises(ConfigError) as error:
        check_forecast_shape(NanPastTwo(48, 12, 3), _data(_config()), on_cpu=True)
    assert str(error.value).startswith(
        f"model._target_: {__name__}.NanPastTwo.forward returned NaN or inf before any "
        "training, for 8 of the first 8 training windows (whose values are finite) -> fix the "
        "model's forward")


def test_a_forecast_that_is_nan_on_some_windows_of_the_scoring_batch_is_named_too() -> None:
    # finite on the first 16 windows: the scoring batch's NaN windows are counted, not
    # reported as forecasts that differ between a batch of 128 and batches of 8 (by inf)
    data = _data(_config())
    model = faulty.NanOnceTrained(48, 12, 3)
    model.gain.data.fill_(1e-4)  # where one training step moves it
    x, _, _ = data.windows("train").batch(torch.arange(128))
    with torch.no_grad():
        bad = int((~torch.isfinite(model(x))).flatten(1).any(1).sum())
    assert torch.isfinite(model(x[:16])).all() and 0 < bad < 128
    with pytest.raises(ConfigError) as error:
        check_forecast_shape(model, data, on_cpu=True)
    assert str(error.value).startswith(
        "model._target_: tests.models.faulty_models.NanOnceTrained.forward returned NaN or inf "
        f"before any training, for {bad} of the first 128 training windows (whose values are "
        "finite) -> fix the model's forward"), str(error.value)


class GpuOnly(faulty.TimeLinear):
    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        raise RuntimeError("this kernel needs a CUDA tensor\nsecond line")


def test_a_forward_that_raises_on_the_cpu_is_left_to_a_gpu_run() -> None:
    model = GpuOnly(48, 12, 3)
    check_forecast_shape(model, _data(_config()), on_cpu=False)  # no verdict, no error
    assert model.training


def test_a_forward_that_raises_in_a_cpu_run_is_named_with_its_line() -> None:
    with pytest.raises(ConfigError) as error:
        check_forecast_shape(GpuOnly(48, 12, 3), _data(_config()), on_cpu=True)
    line = GpuOnly.forward.__code__.co_firstlineno + 1
    assert str(error.value) == (
        f"model._target_: {__name__}.GpuOnly.forward raised RuntimeError: this kernel needs "
        f"a CUDA tensor (at {__file__}:{line}) for training windows x of shape (2, 48, 3) and "
        "x_mark None -> fix the model's forward (a model that reads x_mark sets "
        "uses_time_features = True); tsbench.models.contract.check_model(GpuOnly, ...) checks "
        "the whole model contract")
    assert isinstance(error.value.__cause__, RuntimeError)


class NeedsGradients(faulty.TimeLinear):
    """Trains fine, but its forward needs gradients on (it raises under torch.no_grad)."""

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        if not torch.is_grad_enabled():
            raise RuntimeError("element 0 of tensors does not require grad")
        return super().forward(x, x_mark)


class NeedsGradientsOneChannel(NeedsGradients):
    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x, x_mark)[..., :1]


def test_a_forward_that_needs_gradients_is_checked_as_training_calls_it() -> None:
    model = NeedsGradients(48, 12, 3)
    check_forecast_shape(model, _data(_config()), on_cpu=True)  # no error: it trains
    assert model.training and all(p.grad is None for p in model.parameters())
    with pytest.raises(ConfigError, match=re.escape("returned shape (2, 12, 1)")):
        check_forecast_shape(NeedsGradientsOneChannel(48, 12, 3), _data(_config()), on_cpu=True)


def test_the_check_keeps_random_states_and_modes() -> None:
    data = _data(_config())
    model = faulty.DrawsInEval(48, 12, 3)
    model.drop.eval()  # a submodule the user put in eval mode stays there
    torch.manual_seed(5)
    np.random.seed(5)
    random.seed(5)
    states = torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()
    check_forecast_shape(model, data, on_cpu=True)
    assert torch.equal(torch.get_rng_state(), states[0])
    assert np.array_equal(np.random.get_state()[1], states[1])
    assert random.getstate() == states[2]
    assert model.training and model.proj.training and not model.drop.training


def test_a_forecast_that_reads_the_later_windows_of_its_batch_is_refused() -> None:
    # honest on random windows (check_model's old inputs), a cheat on consecutive ones
    with pytest.raises(ConfigError) as error:
        check_forecast_shape(faulty.PeeksAhead(48, 12, 3), _data(_config()), on_cpu=True)
    said = str(error.value)
    assert said.startswith(
        "model._target_: tests.models.faulty_models.PeeksAhead.forward is not "
        "batch-independent: in eval mode its forecast of training window 0 alone differs from "
        "its forecast in a batch of 8 consecutive training windows (by up to "), said
    assert said.endswith(
        "so it depends on the other windows of its batch (where it reads them, a later "
        "window's look-back holds an earlier one's future) and its scores would change with "
        "data.eval_batch_size -> "
        "forecast each window from that window alone (no statistics, lookups or copies "
        "across the batch dimension; BatchNorm in eval mode is fine); "
        "tsbench.models.contract.check_model(PeeksAhead, ...) checks the whole model "
        "contract"), said


def test_a_forecast_that_remembers_the_windows_it_has_seen_is_refused() -> None:
    # alone or in a batch, the same (it looks up what it has just seen): batch-independent,
    # but its forecast of a window grows with every window forecast before
    with pytest.raises(ConfigError) as error:
        check_forecast_shape(faulty.RemembersRows(48, 12, 3), _data(_config()), on_cpu=True)
    said = str(error.value)
    assert said.startswith(
        "model._target_: tests.models.faulty_models.RemembersRows.forward is not stateless "
        "in eval mode: its forecast of 8 training windows changed (by up to "), said
    assert ") after it forecast the 8 windows that follow them, so it keeps something of " \
        "the windows it has seen and its scores would depend on what it forecast before -> " \
        "keep nothing between forecasts in eval mode" in said


class Noisy(faulty.TimeLinear):
    """Draws random numbers in eval mode: its forecasts change from one scoring to the next."""

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        out = super().forward(x, x_mark)
        return out + 0.01 * torch.randn_like(out)


class CentresInPlace(faulty.TimeLinear):
    """Centres its input in place, each window on its own mean, and adds the mean back:
    valid (the tensor it is given is its own to change)."""

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        mean = x.mean(dim=1, keepdim=True)
        x -= mean
        return super().forward(x, x_mark) + mean


class Lazy(faulty.TimeLinear):
    """A valid model whose output layer is shaped by its first call (nn.LazyLinear)."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.head = torch.nn.LazyLinear(pred_len)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(x.transpose(1, 2)).transpose(1, 2)


def test_random_draws_in_eval_mode_are_named_as_such_and_valid_models_pass() -> None:
    """A model that draws in eval mode is told so (not that it reads the other windows of
    its batch); one that writes its input, or whose layer is lazy, is valid."""
    with pytest.raises(ConfigError, match=r"Noisy.forward is not deterministic in eval mode: "
                                          r"its forecasts of the same 8 training windows, made "
                                          r"twice in a row, differ \(by up to "):
        check_forecast_shape(Noisy(48, 12, 3), _data(_config()), on_cpu=True)
    check_forecast_shape(CentresInPlace(48, 12, 3), _data(_config()), on_cpu=True)
    check_forecast_shape(Lazy(48, 12, 3), _data(_config()), on_cpu=True)


class Records(faulty.TimeLinear):
    """A valid model that records every window it is given."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        self.seen.append(x.clone())
        return super().forward(x, x_mark)


def test_the_check_reads_the_first_training_windows_alone() -> None:
    # never a validation or test row: every window it forecasts is one of the first 32
    # training windows (data.eval_batch_size=32), the batch of 8 twice, each of them alone,
    # the next 8, the first again, the two batches of 8 after, all 32 in one batch
    data = _data(_config("data.eval_batch_size=32"))
    model = Records(48, 12, 3)
    check_forecast_shape(model, data, on_cpu=True)
    first, _, _ = data.windows("train").batch(torch.arange(32))
    assert [len(x) for x in model.seen] == [2, 8, 8, *[1] * 8, 8, 8, 8, 8, 32]
    for x in model.seen:
        assert any(torch.equal(x[0], window) for window in first)
        assert all(torch.equal(a[1:], b[:-1]) for a, b in zip(x, x[1:], strict=False))


def test_a_forecast_that_reads_its_batch_only_at_the_scoring_size_is_refused() -> None:
    # batches of 8 and 1 do not show it: scored at data.eval_batch_size=8 it is honest
    check_forecast_shape(faulty.PeeksPastEight(48, 12, 3),
                         _data(_config("data.eval_batch_size=8")), on_cpu=True)
    for size, words in (("128", "128 (data.eval_batch_size=128)"),
                        ("1000", "256 (data.eval_batch_size=1000, cut to 256)")):
        data = _data(_config(f"data.eval_batch_size={size}"))
        assert len(data.windows("train")) > 256
        with pytest.raises(ConfigError) as error:
            check_forecast_shape(faulty.PeeksPastEight(48, 12, 3), data, on_cpu=True)
        said = str(error.value)
        first = words.split()[0]
        assert said.startswith(
            "model._target_: tests.models.faulty_models.PeeksPastEight.forward is not "
            f"batch-independent: in eval mode its forecasts of the first {first} training "
            f"windows in one batch of {words} differ from their forecasts in batches of 8 "
            "(by up to "), said
        assert said.endswith(
            "so it depends on the other windows of its batch (where it reads them, a later "
            "window's look-back holds an earlier one's future) and its scores would change "
            "with data.eval_batch_size -> forecast each window from that window alone (no "
            "statistics, lookups or copies across the batch dimension; BatchNorm in eval mode "
            "is fine); tsbench.models.contract.check_model(PeeksPastEight, ...) checks the "
            "whole model contract"), said


@pytest.mark.parametrize("strategy", [[], ["strategy=recursive", "strategy.step=4"]])
def test_a_forecast_that_reads_its_batch_only_once_trained_is_refused_before_scoring(
        strategy: list[str], tmp_path: Path) -> None:
    # honest before training, where the pre-run check forecasts: the check after training
    # refuses it before any split is scored, and nothing of a score is written
    cfg = _config("model=naive", f"{FAULTY}PeeksOnceTrained", *strategy)
    with pytest.raises(ConfigError) as error:
        run(cfg, tmp_path / "run")
    said = str(error.value)
    assert said.startswith(
        "model._target_: tests.models.faulty_models.PeeksOnceTrained.forward is not "
        "batch-independent once trained: in eval mode its forecast of training window 0 "
        "alone differs from its forecast in a batch of 8 consecutive training windows"), said
    written = {path.name for path in (tmp_path / "run").rglob("*")}
    assert "checkpoints" in written  # it trained
    assert not {name for name in written if name.startswith(("metrics", "val_", "test_"))}


@pytest.mark.parametrize("strategy", [[], ["strategy=recursive", "strategy.step=4"]])
def test_a_trained_forecast_that_is_nan_on_some_windows_is_refused_as_diverged(
        strategy: list[str], tmp_path: Path) -> None:
    # finite before training; one training step makes it NaN on some of the windows the
    # check after training forecasts (not the first 16): the run diverged, not a forecast
    # that reads its batch, and nothing of a score is written
    cfg = _config("model=naive", f"{FAULTY}NanOnceTrained", "trainer.max_epochs=1",
                  "trainer.limit_train_batches=1", "plots=true", *strategy)
    with pytest.raises(ConfigError) as error:
        run(cfg, tmp_path / "run")
    said = str(error.value)
    assert re.fullmatch(
        r"optim\.lr: the run diverged: once trained, NanOnceTrained forecasts NaN or inf for "
        r"\d+ of the first 128 training windows -> lower optim\.lr \(this run used 0\.0001; "
        r"its gradients were clipped at trainer\.gradient_clip_val=1\)", said), said
    written = {path.name for path in (tmp_path / "run").rglob("*")}
    assert {"checkpoints", "loss.png"} <= written  # it trained, and shows how
    assert not {name for name in written if name.startswith(("metrics", "val_", "test_"))}


@pytest.mark.parametrize("model", [
    "patchtst", "itransformer", "dlinear", "naive", "seasonal_naive model.period=24",
    f"naive {FAULTY}BatchNormed", "patchtst strategy=recursive strategy.step=4",
])
def test_the_models_of_tsbench_and_batch_norm_pass(model: str) -> None:
    name, *extra = model.split()
    cfg = _config(f"model={name}", *extra)
    series = load_series(cfg.dataset)
    built = model_for(cfg, series)
    borders = benchmark_borders(len(series.values), series.split, int(cfg.seq_len),
                                series.train_frac, series.test_frac)
    data = make_data(cfg, series, {"train": borders.train}, built.uses_time_features)
    check_forecast_shape(built, data, on_cpu=True)


def _metrics(cfg: Any, run_dir: Path) -> dict[str, Any]:
    run(cfg, run_dir)
    return {k: v for k, v in read_metrics(run_dir).items()
            if k not in ("train_seconds", "run_seconds")}


def test_same_seed_same_metrics_with_and_without_the_check(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the model draws random numbers in eval mode (the check's pass) and trains with dropout
    cfg = _config("model=naive", f"{FAULTY}DrawsInEval")
    checked = _metrics(cfg, tmp_path / "checked")
    calls: list[str] = []
    monkeypatch.setattr(train_and_score, "check_forecast_shape",
                        lambda model, data, on_cpu: calls.append(type(model).__name__))
    unchecked = _metrics(cfg, tmp_path / "unchecked")
    assert calls == ["DrawsInEval"]  # the second run called the stand-in, not the check
    assert checked["epochs"] == 2 and checked == unchecked


class RecordsRows(faulty.OffByOneTheta):
    """:class:`OffByOneTheta` that records the rows it is handed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[np.ndarray] = []

    def forecast_origins(self, values: np.ndarray, origins: np.ndarray, pred_len: int
                         ) -> np.ndarray:
        self.seen.append(np.array(values))
        return super().forecast_origins(values, origins, pred_len)


@pytest.mark.parametrize("model", [
    "ets", "ets seq_len=12", "ets model.seasonal=false model.damped_trend=false", "theta",
    "theta model.deseasonalize=false", "arima", "arima model.order=[1,1,1] model.trend=t",
    "arima model.order=[1,0,0] model.seasonal_order=[1,1,0]",
])
def test_the_classical_models_of_tsbench_forecast_from_the_rows_before_each_origin(
        model: str) -> None:
    name, *extra = model.split()
    cfg = _config(f"model={name}", "model.period=24", *extra)
    data = _data(cfg)
    built = model_for(cfg, load_series(cfg.dataset))
    fit_history(built, data)
    check_history_forecasts(built, data)


def test_a_classical_model_that_reads_the_rows_it_forecasts_is_refused() -> None:
    # forecast one row late: from the level after its first target row. The check hands it
    # the first training window's rows alone, as they are and with the targets changed
    data = _data(_config("model=theta"))
    model = RecordsRows(48, 12, 3, period=24)
    fit_history(model, data)
    with pytest.raises(ConfigError) as error:
        check_history_forecasts(model, data)
    said = str(error.value)
    assert said.startswith(
        f"model._target_: {__name__}.RecordsRows.forecast_origins reads the rows it "
        "forecasts: its forecast of the first training window (origin row 48) changed (by up "
        "to "), said
    assert said.endswith(
        ") when that window's 12 target rows, row 48 on, were reversed and moved up by one, "
        "so its scores would be read off each window's targets -> forecast from each origin "
        "with the rows before it alone (values[:origin]: a filter's state after row origin "
        "- 1)"), said
    rows = data.scaled[: 48 + 12].double().numpy()
    assert data.ranges["train"][0] == 0 and len(model.seen) == 2
    assert np.array_equal(model.seen[0], rows)
    assert np.array_equal(model.seen[1][:48], rows[:48])
    assert not np.isclose(model.seen[1][48:], rows[48:]).any()


class NeedsLongHistory(Theta):
    """A classical model that cannot forecast from fewer than 200 rows of history."""

    def forecast_origins(self, values: np.ndarray, origins: np.ndarray, pred_len: int
                         ) -> np.ndarray:
        if len(values) < 200:
            raise ValueError("needs 200 rows of history")
        return super().forecast_origins(values, origins, pred_len)


def test_a_classical_model_that_needs_more_history_than_one_window_gets_no_verdict() -> None:
    # the origin check hands it one training window's 60 rows; scoring hands it every row
    # from the first fitted one, as does the shape check on the first validation windows
    data = _data(_config("model=theta"))
    model = NeedsLongHistory(48, 12, 3, period=24)
    fit_history(model, data)
    check_history_forecasts(model, data)
