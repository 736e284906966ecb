"""Who a log line names: tsbench for its own loggers, a dependency by its package."""

from __future__ import annotations

import pytest

from tsbench.log_lines import speaker


@pytest.mark.parametrize("logger, who", [
    ("root", "tsbench"), ("tsbench", "tsbench"), ("tsbench.training.run", "tsbench"),
    ("hydra_plugins.tsbench_skopt_sweeper.skopt_sweeper", "tsbench"),
    ("hydra_plugins.hydra_joblib_launcher.joblib_launcher", "hydra_plugins"),
    ("pytorch_lightning.trainer.connectors", "pytorch_lightning"),
    ("tsbench_extras.models", "tsbench_extras"),  # a package of its own, not tsbench's
])
def test_a_record_names_who_says_it(logger: str, who: str) -> None:
    assert speaker(logger) == who


@pytest.mark.parametrize("logger, who", [
    ("tsbench.tune", "tsbench-tune"), ("root", "tsbench-tune"),
    ("pytorch_lightning.trainer", "pytorch_lightning")])
def test_a_record_names_the_command_the_user_ran(logger: str, who: str) -> None:
    assert speaker(logger, "tsbench-tune") == who
