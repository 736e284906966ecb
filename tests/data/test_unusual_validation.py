"""The unusual-validation check: the seasonal naive forecast's MSE on the validation rows
over that on the training rows, read without the test rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from tests.spiked import TEST_SPIKE, VAL_SPIKE, spiked_csv
from tsbench.data.loading import load_series
from tsbench.data.unusual_validation import (
    UNUSUAL_RATIO,
    naive_mse_ratio,
    unusual_validation_warning,
)


def _ratio(path: Path, target_only: bool = True) -> float | None:
    """The ratio at pred_len 14 for ``dataset=csv`` on ``path``, as Hydra composes it."""
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=["dataset=csv", f"dataset.path={path}",
                                           "dataset.target=east"])
    return naive_mse_ratio(load_series(cfg.dataset), 14, target_only)


@pytest.mark.parametrize(("spike_at", "unusual"), [(VAL_SPIKE, True), (None, False),
                                                   (TEST_SPIKE, False)])
def test_a_spike_in_the_validation_rows_alone_is_unusual(
        tmp_path: Path, spike_at: int | None, unusual: bool) -> None:
    """A week's spike in validation is; none, or one in the test rows (never read), is not."""
    ratio = _ratio(spiked_csv(tmp_path / "s.csv", spike_at))
    assert ratio is not None and (ratio > UNUSUAL_RATIO) is unusual
    assert (unusual_validation_warning(ratio) is not None) is unusual


def test_the_test_rows_are_never_read(tmp_path: Path) -> None:
    """The ratio is the same, to the last bit, whatever the test rows hold."""
    plain = _ratio(spiked_csv(tmp_path / "plain.csv", None), target_only=False)
    assert plain == _ratio(spiked_csv(tmp_path / "test.csv", TEST_SPIKE), target_only=False)


def test_the_warning_names_the_ratio_and_the_pasteable_fixes() -> None:
    said = unusual_validation_warning(12.34)
    assert said is not None and "12.3x" in said and "recipe.cv_folds=4" in said
    assert "cv=tscv" in said and "An unusual validation period" in said
    assert unusual_validation_warning(UNUSUAL_RATIO) is None
    assert unusual_validation_warning(None) is None
