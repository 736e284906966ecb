"""A multirun's MLflow runs are named by what tells them apart: a child by the values its job
sweeps (a search's led by its trial number), the parent by its folder and the keys it
sweeps; short names, the full values staying the runs' params. (The names of real sweeps:
test_loggers.py's MLflow sweep and search tests.)"""

from __future__ import annotations

from pathlib import Path

from tsbench.swept import job_values, swept_keys
from tsbench.tracking.run_names import child_name, labels, parent_name, short


def test_a_key_is_named_by_its_last_part_unless_two_share_it() -> None:
    assert labels(["optim.lr", "seq_len", "model.dropout", "optim.dropout", "model"]) == {
        "optim.lr": "lr", "seq_len": "seq_len", "model.dropout": "model.dropout",
        "optim.dropout": "optim.dropout", "model": "model"}


def test_a_float_is_named_to_four_significant_digits_anything_else_as_written() -> None:
    assert [short(v) for v in ("0.00031622776601683794", "1e-05", "0.001", "12.5", "48",
                               "2021", "dlinear", "etth1", "1e3x")] == [
        "0.0003162", "1e-05", "0.001", "12.5", "48", "2021", "dlinear", "etth1", "1e3x"]


def test_a_child_is_named_by_its_swept_values_and_a_trial_by_its_number() -> None:
    values = {"optim.lr": "0.0012345678", "seq_len": "336"}
    assert child_name(values) == "lr=0.001235 seq_len=336"
    assert child_name(values, trial=3) == "trial 3: lr=0.001235 seq_len=336"
    assert child_name({}) is None  # nothing swept: named as a single run


def test_a_parent_is_named_by_its_folder_and_what_it_sweeps() -> None:
    folder = Path("outputs/multiruns/2026-12-07/11-53-46-123456")
    assert parent_name(folder, ["optim.lr", "seq_len"], search=False) == (
        "sweep 2026-12-07/11-53-46-123456: lr seq_len")
    assert parent_name(folder, ["seq_len"], search=True) == (
        "search 2026-12-07/11-53-46-123456: seq_len")
    assert parent_name(folder, [], search=False) == "sweep 2026-12-07/11-53-46-123456"


def test_the_swept_keys_are_the_sweep_overrides_and_a_job_has_one_value_of_each() -> None:
    """Sweeps of every kind (a list, a search's choice and interval, a group, an added
    key); the fixed settings are no sweep; the job's values as its command line writes them."""
    keys = swept_keys(["optim.lr=1e-3,1e-2", "logger=mlflow", "seq_len=choice(24,48)",
                       "model=dlinear,naive", "+extra=1,2", "x=tag(log, interval(1e-3, 0.1))",
                       "seq_len=24,48"])
    assert keys == ["optim.lr", "seq_len", "model", "extra", "x"]
    job = ["optim.lr=0.001", "logger=mlflow", "seq_len=48", "model=naive", "+extra=2",
           "x=0.00123"]
    assert job_values(job, keys) == {"optim.lr": "0.001", "seq_len": "48", "model": "naive",
                                     "extra": "2", "x": "0.00123"}
