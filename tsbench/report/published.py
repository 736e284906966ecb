"""Published reference numbers (one data file, with sources and the protocol they were
obtained under)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

_FILE = Path(__file__).with_name("published.yaml")


@dataclass(frozen=True)
class Reference:
    """The published number of a cell: ``source`` (a key of the file's ``sources``) is the
    all-windows re-run where one exists (``all_windows``), else the paper's table, which may
    leave the last test windows unscored (``unscored``: its test loader's drop_last)."""

    value: float
    source: str
    all_windows: bool
    unscored: int  # the test windows the number leaves out (0: every window scored)
    seq_len: int | None  # the look-back it was obtained at (a re-run ran the paper's scripts)
    epochs: int | None  # the most epochs it was trained for


@cache
def _table() -> dict:
    return OmegaConf.to_container(OmegaConf.load(_FILE), resolve=True)  # type: ignore[return-value]


def protocol() -> dict[str, str]:
    """The protocol facts every published number shares (:data:`compare.FACTS` names)."""
    return dict(_table()["protocol"])


#: The shipped dataset configs: the settings the published numbers were got with.
_DATASETS = Path(__file__).parents[1] / "conf" / "dataset"
#: Dataset settings that change which rows and columns are read, split and scaled (not
#: those that only check the file, such as ``freq``, or say where it lies).
_DATA_KEYS = ("sha256", "split", "train_frac", "test_frac", "columns", "gaps")
#: Of them, the ones a split rule reads only for the ratio split.
_RATIO_KEYS = ("train_frac", "test_frac")


@cache
def dataset_settings(dataset: str) -> dict[str, object] | None:
    """The settings of a published dataset as tsbench ships them that decide what is read,
    split and scaled (:data:`_DATA_KEYS`; the fractions only for the ratio split); None for
    another dataset."""
    path = _DATASETS / f"{dataset}.yaml"
    if dataset not in _table()["test_windows_plus_horizon"] or not path.is_file():
        return None
    shipped = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    return {k: v for k, v in shipped.items() if k in _DATA_KEYS  # type: ignore[union-attr]
            and (k not in _RATIO_KEYS or shipped["split"] == "ratio")}  # type: ignore[index]


#: The shipped model configs: the classes the published numbers' models are in tsbench.
_MODELS = Path(__file__).parents[1] / "conf" / "model"


@cache
def shipped_target(model: str) -> str | None:
    """The ``_target_`` of tsbench's own model called ``model`` (None: no such model)."""
    path = _MODELS / f"{model}.yaml"
    return str(OmegaConf.load(path).get("_target_")) if path.is_file() else None


#: The paper presets (``conf/experiment/<paper>_<dataset>.yaml``).
_PRESETS = Path(__file__).parents[1] / "conf" / "experiment"
def preset_of(reference: Reference, dataset: str) -> str | None:
    """The preset that trains as the paper behind ``reference`` did (``patchtst42_etth1``),
    where tsbench ships one."""
    preset = f"{reference.source.split('_')[0]}_{dataset}"
    return preset if (_PRESETS / f"{preset}.yaml").is_file() else None


@cache
def preset_config(preset: str, pred_len: int) -> dict[str, Any]:
    """``experiment=<preset> pred_len=<pred_len>`` as tsbench composes it, resolved."""
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[f"experiment={preset}", f"pred_len={pred_len}"])
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]


def source_text(source: str) -> str:
    """Where a published number comes from, as ``published.yaml``'s ``sources`` says."""
    return str(_table()["sources"].get(source, source))


def has_table(dataset: str) -> bool:
    """Whether numbers are published on ``dataset`` (a config's ``dataset.name``: a user's
    own CSV, ``csv``, has none)."""
    return dataset in _table()["test_windows_plus_horizon"]


def test_windows(dataset: str, pred_len: int) -> int | None:
    """The test windows of ``dataset``'s published split at ``pred_len`` (None: unknown)."""
    plus = _table()["test_windows_plus_horizon"].get(dataset)
    return None if plus is None else int(plus) - pred_len


def reference(model: str, dataset: str, pred_len: int, metric: str = "mse"
              ) -> Reference | None:
    """The reference for a cell on ``metric``: the all-windows re-run where one exists, else
    the paper; None where nothing is published."""
    entry = _table()["results"].get(model, {}).get(dataset, {}).get(pred_len)
    if entry is None or metric not in entry:
        return None
    all_windows = f"{metric}_allwindows" in entry
    paper = entry["source"]
    dropped = _table()["dropped_windows"].get(paper, {}).get(dataset, {}).get(pred_len, 0)
    lookbacks = _table()["lookbacks"].get(paper, {})
    epochs = _table()["epochs"].get(paper, {})
    budget = epochs.get(dataset, epochs.get("default"))
    if isinstance(budget, dict):
        budget = budget.get(pred_len, epochs.get("default"))
    return Reference(
        value=float(entry[f"{metric}_allwindows" if all_windows else metric]),
        source=_table()["allwindows"][paper] if all_windows else paper,
        all_windows=all_windows, unscored=0 if all_windows else int(dropped),
        seq_len=lookbacks.get(dataset, lookbacks.get("default")), epochs=budget,
    )
