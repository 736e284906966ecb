"""The overrides a data error tells the user to add, pasted into a POSIX shell as printed,
reach Hydra as one argument each and read the very columns they name: a column's name may
hold spaces, ``%``, commas, ``=``, brackets or quotes (item of the message, not a guess)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_module
from omegaconf import DictConfig

from tests.conftest import data_dir
from tsbench.data.loading import load_series
from tsbench.errors import DataError
from tsbench.shell_override import shell_override


def composed(overrides: list[str]) -> DictConfig:
    """The run's ``dataset`` node as Hydra composes it from ``overrides``."""
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        return compose("config", overrides=overrides).dataset


def pasted(advice: str) -> str:
    """The one argument the shell makes of ``advice`` pasted on a command line."""
    [word] = shlex.split(advice)
    return word


@pytest.mark.parametrize("others", [
    ["% WEIGHTED ILI", "%UNWEIGHTED ILI", "AGE 0-4", "OT"],  # the shell's quotes alone
    ["c,d", "e=f", "[g]", "1", "OT"],  # Hydra's quotes too
    ["it's", 'say "x"', "back\\", "OT"],  # quotes the shell and Hydra both read
    ["cost ${usd}", "${x}", "OT"],  # OmegaConf's interpolations
], ids=["spaces_and_percent", "hydra_syntax", "quotes", "interpolations"])
def test_a_late_columns_advice_pasted_reads_the_other_columns(others: list[str],
                                                                tmp_path: Path) -> None:
    """A column that starts late is left out by naming the others in dataset.columns; the
    printed override, pasted, reads exactly those (their rows from the first on)."""
    dates = pd.date_range("2020-01-01", periods=40, freq="h")
    frame = pd.DataFrame({"date": dates, **{name: range(40) for name in others}})
    frame.insert(1, "late", [None, None, *range(38)])
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    base = ["dataset=csv", f"dataset.path={path}", "dataset.fillna=ffill"]
    with pytest.raises(DataError) as caught:
        load_series(composed(base))
    advice = re.search(r"leave it out with (.+), or drop those rows", str(caught.value))
    assert advice is not None, str(caught.value)
    series = load_series(composed([*base, pasted(advice[1])]))
    assert series.columns == others
    assert len(series.values) == 40


def test_a_target_that_columns_names_hold_names_them_as_pasted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``dataset=ili dataset.target=ILI``: no column is spelt near ILI, three hold it; each
    suggestion, pasted, forecasts that column."""
    monkeypatch.setenv("TSBENCH_DATA_DIR", str(data_dir()))
    monkeypatch.setenv("TSBENCH_OFFLINE", "1")
    with pytest.raises(DataError) as caught:
        load_series(composed(["dataset=ili", "dataset.target=ILI"]))
    path = data_dir() / "national_illness.csv"
    assert str(caught.value) == (
        f"dataset.target: column 'ILI' not found in {path}; columns are ['% WEIGHTED ILI', "
        "'%UNWEIGHTED ILI', 'AGE 0-4', 'AGE 5-24', 'ILITOTAL', 'NUM. OF PROVIDERS', 'OT'] -> "
        "did you mean 'dataset.target=% WEIGHTED ILI', 'dataset.target=%UNWEIGHTED ILI' or "
        "dataset.target=ILITOTAL? Else set dataset.target=<column to forecast>")
    for meant in ("% WEIGHTED ILI", "%UNWEIGHTED ILI", "ILITOTAL"):
        advice = shell_override("dataset.target", meant)
        assert advice in str(caught.value)
        series = load_series(composed(["dataset=ili", pasted(advice)]))
        assert series.columns[-1] == meant


@pytest.mark.parametrize("value, printed", [
    ("OT", "dataset.target=OT"),
    ("% WEIGHTED ILI", "'dataset.target=% WEIGHTED ILI'"),
    ("load(1)", "\"dataset.target='load(1)'\""),
    ("1", "\"dataset.target='1'\""),  # a number to Hydra, and a column's name is text
    ("null", "\"dataset.target='null'\""),
    (" pad", "\"dataset.target=' pad'\""),  # Hydra strips an unquoted value's spaces
    ("a,b", "\"dataset.target='a,b'\""),  # a sweep unquoted
    ("$HOME", "'dataset.target=$HOME'"),
    ("it's", "'dataset.target=\"it'\"'\"'s\"'"),
    ('say "x"', "'dataset.target=\"say \\\"x\\\"\"'"),
    ("back\\", "'dataset.target=\"back\\\\\"'"),
    ("ü", "\"dataset.target='ü'\""),
    # OmegaConf reads ${ as an interpolation, of a setting usd that does not exist
    ("cost ${usd}", "'dataset.target=cost \\${usd}'"),
    ("a\\${b}", "'dataset.target=\"a\\\\\\${b}\"'"),  # a backslash of its own, kept
])  # fmt: skip
def test_an_override_is_printed_as_the_shell_and_hydra_read_it_back(value: str,
                                                                     printed: str) -> None:
    assert shell_override("dataset.target", value) == printed
    assert composed(["dataset=csv", pasted(printed)]).target == value
