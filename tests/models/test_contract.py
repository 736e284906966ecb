"""The model contract, checked for every config in conf/model/ and for a toy model added
from outside the package (one module + one YAML)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from tests.conftest import ROOT, read_metrics, run_tsbench
from tests.preloaded import run_module
from tsbench.models import ContractError, check_model
from tsbench.models.base import ForecastModel, check
from tsbench.models.build import NON_ARGS, model_class
from tsbench.training.run import run

MODEL_DIR = ROOT / "tsbench" / "conf" / "model"
#: Every model config in the package, found when the tests are collected: a model added
#: as tsbench/conf/model/<name>.yaml is tested without editing this file.
MODELS = sorted(path.stem for path in MODEL_DIR.glob("*.yaml"))
#: Small sizes so each contract check runs in well under a second.
SMALL: dict[str, dict[str, Any]] = {
    "patchtst": {"d_model": 8, "n_heads": 2, "e_layers": 1, "d_ff": 16, "patch_len": 8,
                 "stride": 4},
    "itransformer": {"d_model": 16, "n_heads": 2, "e_layers": 1, "d_ff": 16},
    "seasonal_naive": {"period": 8},
    # The classical baselines' period comes from the data's frequency, which has none here;
    # ARIMA's default order (2, 0, 1) takes half a minute to check.
    "ets": {"period": 12},
    "theta": {"period": 12},
    "arima": {"period": 12, "order": [1, 0, 0]},
}


def _configs(toy_dir: Path) -> dict[str, Path]:
    found = {name: MODEL_DIR / f"{name}.yaml" for name in MODELS}
    return {**found, "toy": toy_dir / "conf" / "model" / "toy.yaml"}


def _class_and_hparams(path: Path) -> tuple[type, dict[str, Any]]:
    """A model config's class and constructor hyperparameters (small sizes)."""
    cfg = OmegaConf.merge(OmegaConf.load(path), SMALL.get(path.stem, {}))
    cfg.pop("defaults", None)  # a defaults list is Hydra's, not a hyperparameter
    params = OmegaConf.to_container(cfg)
    return model_class(cfg), {k: v for k, v in params.items() if k not in NON_ARGS}


def test_every_shipped_model_is_covered() -> None:
    """The parametrization finds every shipped model (a glob that stopped matching would
    leave the contract tests with nothing to run), and SMALL names only models it finds (a
    renamed model would otherwise lose its small sizes silently)."""
    assert {"dlinear", "naive", "seasonal_naive", "patchtst", "itransformer", "ets", "theta",
            "arima"} <= set(MODELS)
    assert set(SMALL) <= set(MODELS)


@pytest.mark.parametrize("name", [*MODELS, "toy"])
def test_contract(name: str, toy_dir: Path) -> None:
    cls, hparams = _class_and_hparams(_configs(toy_dir)[name])
    check_model(cls, **hparams)  # a HistoryModel's fit_series and forecast_origins


class _Broken(ForecastModel):
    """Each flag breaks one promise of the contract."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False,
                 fault: str = "") -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.fault = fault
        self.proj = torch.nn.Linear(seq_len, pred_len)
        self.unused = torch.nn.Linear(2, 2)  # reached by no gradient unless fault != "unused"
        if fault == "nan_grad":
            self.proj.weight.register_hook(lambda grad: torch.full_like(grad, float("nan")))

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        out = self.proj(x.transpose(1, 2)).transpose(1, 2)
        if self.fault != "unused":
            out = out + 1e-3 * (self.unused.weight.sum() + self.unused.bias.sum())
        if self.fault == "shape":
            return out[:, :-1]
        if self.fault == "random":
            return out + torch.randn_like(out)
        if self.fault == "constant":
            return out / x.std(dim=1, keepdim=True)
        if self.fault == "nan":
            return out * float("nan")
        return out


@pytest.mark.parametrize(("fault", "words"), [
    ("", None), ("shape", "not (4, 8, 3)"),
    ("unused", "parameter unused.weight gets no gradient (not used in forward?) -> use it in "
               "forward, delete it, or freeze it (requires_grad_(False)) if it is not to be "
               "trained"),
    ("nan_grad", "parameter proj.weight gets no finite gradient from a finite input -> "
                 "guard the steps of forward whose gradient is undefined somewhere (add an "
                 "eps to a std, norm, division, sqrt or log)"),
    ("random", "different outputs"), ("constant", "constant input"),
    ("nan", "with revin=False forecasts NaN or inf for a finite input (4, 32, 3)"),
])
def test_check_model_names_the_broken_promise(fault: str, words: str | None) -> None:
    if words is None:
        check_model(_Broken, fault=fault)
        return
    with pytest.raises(ContractError, match=re.escape(words)):
        check_model(_Broken, fault=fault)


class _Lazy(ForecastModel):
    """A valid model whose layer takes its input size at the first call."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.proj = torch.nn.LazyLinear(pred_len)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return self.proj(x.transpose(1, 2)).transpose(1, 2)


def test_a_model_with_lazy_modules_passes() -> None:
    check_model(_Lazy)  # its weights are nudged only once its first call has shaped them


class _Raising(_Broken):
    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        raise ValueError("a bug in forward")


class _RaisingInit(_Broken):
    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        raise ValueError("a bug in __init__")


class _ReadsMarks(_Broken):
    """Reads x_mark without declaring uses_time_features: given None, it breaks."""

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return self.proj(x.transpose(1, 2)).transpose(1, 2) + x_mark.mean()


class _RaisingWithMarks(_Raising):
    uses_time_features = True

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, n_marks: int,
                 revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars, revin)


def test_a_forward_given_no_x_mark_that_breaks_names_uses_time_features() -> None:
    """The fix a model reading x_mark needs is named where x_mark was None; a model that
    gets its marks is not told it."""
    with pytest.raises(ContractError, match=re.escape(
            "and x_mark None with revin=False (a model that reads x_mark sets "
            "uses_time_features = True: tsbench passes None otherwise)")):
        check_model(_ReadsMarks)
    with pytest.raises(ContractError) as broken:
        check_model(_RaisingWithMarks)
    assert str(broken.value).endswith("and x_mark (4, 32, 4) with revin=False")


def test_a_forward_or_init_that_raises_is_a_contract_break_naming_its_line() -> None:
    line = _Raising.forward.__code__.co_firstlineno + 1
    with pytest.raises(ContractError) as broken:
        check_model(_Raising)
    assert str(broken.value) == (
        f"_Raising breaks the model contract: forward raised ValueError: a bug in forward (at "
        f"{__file__}:{line}) for x of shape (4, 32, 3) and x_mark None with revin=False "
        "(a model that reads x_mark sets uses_time_features = True: tsbench passes None "
        "otherwise)")
    with pytest.raises(ContractError, match=re.escape(
            "_RaisingInit breaks the model contract: __init__(seq_len=32, pred_len=8, "
            "n_vars=3, revin=False) raised ValueError: a bug in __init__ (at ")):
        check_model(_RaisingInit)


class _Checked(_Broken):
    def __init__(self, seq_len: int, pred_len: int, n_vars: int, hidden: int = 8,
                 revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        check(hidden >= 1, "model.hidden", f"must be >= 1, got {hidden}")


def test_a_refused_setting_names_the_models_line_that_checked_it() -> None:
    """A setting refused by tsbench's ``check`` named tsbench's own line (base.py), where
    every other error names the model's."""
    line = _Checked.__init__.__code__.co_firstlineno + 3
    with pytest.raises(ContractError) as broken:
        check_model(_Checked, hidden=0)
    assert str(broken.value).endswith(
        f"raised ConfigError: model.hidden: must be >= 1, got 0 (at {__file__}:{line})")


def test_the_callers_mistakes_are_named_as_the_callers() -> None:
    """An instance given for the class was 'not a subclass of ForecastModel' with the whole
    module's repr; a misspelt keyword of the caller's broke 'the model contract'."""
    with pytest.raises(TypeError) as given:
        check_model(_Broken(32, 8, 3))
    assert str(given.value) == ("check_model got an instance of _Broken: give the class, not "
                                "an instance: check_model(_Broken, ...)")
    with pytest.raises(TypeError) as given:
        check_model(_Broken, faul="shape")
    assert str(given.value) == (
        "check_model(_Broken, faul=...): 'faul' is not a parameter of _Broken.__init__, whose "
        "hyperparameters are revin, fault -> check the keyword's spelling")
    with pytest.raises(TypeError, match=r"^check_model sets seq_len itself"):
        check_model(_Broken, seq_len=16)


def test_check_model_requires_revin() -> None:
    class NoRevin(ForecastModel):
        def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
            return x[:, -1:].expand(-1, self.pred_len, -1)

    with pytest.raises(ContractError, match="no 'revin' argument"):
        check_model(NoRevin)


def test_readme_snippet_checks_an_outside_model(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's "Add a model" snippet, run as written, on the README's example model
    saved as the module it imports."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Add a model"):readme.index("## Results")]
    model_code, snippet = (textwrap.dedent(block) for block in
                           re.findall(r"```python\n(.*?)```", section, re.S))
    assert "check_model(" in snippet and "(ForecastModel):" in model_code
    names = re.findall(r"^from (\S+) import (\w+)", snippet, re.M)
    user = [(mod, cls) for mod, cls in names if not mod.startswith("tsbench")]
    assert len(user) == 1, names
    mod, cls = user[0]
    path = tmp_path.joinpath(*mod.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.parents:
        if parent == tmp_path:
            break
        (parent / "__init__.py").touch()
    path.write_text(model_code)
    monkeypatch.syspath_prepend(str(tmp_path))
    exec(compile(snippet, "README.md", "exec"), {})  # noqa: S102 - the README's own code


@pytest.mark.parametrize("name", MODELS)
def test_short_fit_through_the_training_loop(name: str, tmp_path: Path) -> None:
    small = [f"model.{k}={v}" for k, v in SMALL.get(name, {}).items()]
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            "dataset=synthetic", "dataset.n_rows=500", f"model={name}", *small,
            "seq_len=32", "pred_len=8", "trainer=debug", "logger=none", "data.batch_size=32",
        ])
    metrics = run(cfg, tmp_path)
    assert metrics["n_test_windows"] == 100 + 32 - 32 - 8 + 1
    assert torch.isfinite(torch.tensor([metrics["val_mse"], metrics["test_mse"]])).all()
    assert metrics["epochs"] == (2 if model_class(cfg.model).trainable else 0)


def test_toy_model_end_to_end_from_outside_the_package(toy_dir: Path, tmp_path: Path) -> None:
    """The README's "Add a model" path: a module on PYTHONPATH + a YAML on Hydra's search path."""
    args = ["dataset=synthetic", "dataset.n_rows=500", "model=toy", "seq_len=32", "pred_len=8",
            "trainer=debug", "logger=none", f"hydra.searchpath=[file://{toy_dir / 'conf'}]"]
    run_tsbench(args, tmp_path / "run", env={"PYTHONPATH": str(toy_dir)})
    metrics = read_metrics(tmp_path / "run")
    assert metrics["n_params"] == 32 * 8 + 8 + 8 * 8 + 8
    assert metrics["epochs"] == 2


def test_help_lists_the_models_of_the_search_path(toy_dir: Path) -> None:
    """``tsbench 'hydra.searchpath=[file://conf]' --help``, as the README's "Add a model"
    gives the search path, lists the user's model beside tsbench's (Hydra alone lists the
    groups of the search path it started with); without the override, tsbench's alone."""
    def models(*args: str) -> list[str]:
        proc = run_module("tsbench", [*args, "--help"], cwd=toy_dir)
        assert proc.returncode == 0, proc.stderr[-3000:]
        [line] = [line for line in proc.stdout.splitlines() if line.startswith("model: ")]
        return line.removeprefix("model: ").split(", ")

    assert "toy" in models("hydra.searchpath=[file://conf]")
    assert "patchtst" in models("hydra.searchpath=[file://conf]")
    assert "toy" not in models() and "patchtst" in models()
