"""Several trials on one GPU, checked without one: the cores each trial gets, the
``trainer.devices`` rules, and what a run that runs out of GPU memory leaves behind."""

from __future__ import annotations

import gc
import pickle
from pathlib import Path
from unittest import mock

import pytest
import torch
from hydra import compose, initialize_config_module
from hydra.core.hydra_config import HydraConfig
from pytorch_lightning.accelerators import CUDAAccelerator

from tests.conftest import TINY
from tests.training import oom_model
from tsbench import cli
from tsbench.errors import ConfigError
from tsbench.rundir import METRICS
from tsbench.training import allocator, threads
from tsbench.training import run as run_module
from tsbench.training.gpu import out_of_memory, out_of_memory_error, trainer_devices

#: TINY's DLinear swapped for one that runs out of GPU memory in its first forward pass.
OUT_OF_MEMORY = ["model._target_=tests.training.oom_model.OutOfMemoryDLinear",
                 f"model.kernel_size={oom_model.TOO_BIG + 2}"]


def config(*overrides: str) -> object:
    """The run config of TINY plus ``overrides`` (a trainer= override replaces TINY's)."""
    tiny = [a for a in TINY if not (a.startswith("trainer=") and any(
        o.startswith("trainer=") for o in overrides))]
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        return compose("config", overrides=[*tiny, *overrides])


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)


@pytest.fixture
def launcher_config() -> object:
    """Sets Hydra's runtime config, as ``tsbench -m`` does, from launcher overrides."""

    def set_config(*overrides: str) -> None:
        with initialize_config_module("tsbench.conf", version_base="1.3"):
            cfg = compose("config", overrides=["hydra.mode=MULTIRUN", *overrides],
                          return_hydra_config=True)
        HydraConfig.instance().set_config(cfg)

    yield set_config
    HydraConfig.instance().cfg = None


@pytest.mark.parametrize(("n_jobs", "trials", "per_trial"),
                         [(1, 1, 2), (2, 2, 1), (4, 4, 1), (-1, 2, 1)])
def test_trials_at_once_share_the_cores(n_jobs: int, trials: int, per_trial: int,
                                        two_cores: None, launcher_config) -> None:
    """On 2 cores, k trials at once get 2 // k torch threads each (at least one); joblib's
    n_jobs=-1 runs one trial per core."""
    launcher_config("hydra/launcher=joblib", f"hydra.launcher.n_jobs={n_jobs}")
    assert cli.parallel_jobs() == trials
    before = torch.get_num_threads()
    try:
        assert threads.apply_threads(None, trials) == per_trial
        assert torch.get_num_threads() == per_trial
    finally:
        torch.set_num_threads(before)


def test_the_basic_launcher_runs_one_trial_with_every_core(two_cores: None,
                                                           launcher_config) -> None:
    launcher_config()
    assert cli.parallel_jobs() == 1 and threads.choose_threads(None, 1) == 2


def test_omp_num_threads_pins_the_threads_unless_trainer_num_threads_is_set(
        two_cores: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    calls: list[int] = []
    monkeypatch.setattr(threads.torch, "set_num_threads", calls.append)
    assert threads.apply_threads(None, 2) == torch.get_num_threads() and calls == []
    assert threads.apply_threads(3, 2) == 3 and calls == [3]


@pytest.mark.parametrize(("override", "problem"), [
    ("trainer.devices=2", "asks for 2 devices, but tsbench trains each trial on one device"),
    ("trainer.devices=0", "must be a positive int or a list of device indices, got 0"),
    ("trainer.devices=auto", "must be a positive int or a list of device indices, got 'auto'"),
    ("trainer.devices=[0,1]", "must list one GPU index, got [0, 1]"),
    ("trainer.devices=[0]", "[0] selects GPU 0, but trainer.accelerator is cpu"),
])
def test_bad_devices_name_the_field_and_the_fix(override: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        run_module.validate_config(config(override))
    assert caught.value.field == "trainer.devices" and problem in caught.value.problem
    assert "trainer.devices=" in caught.value.fix


def test_devices_pick_one_of_the_gpus_there_are(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CUDAAccelerator, "is_available", staticmethod(lambda: True))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert trainer_devices(config("trainer=gpu").trainer) == 1
    assert trainer_devices(config("trainer=gpu", "trainer.devices=[1]").trainer) == [1]
    with pytest.raises(ConfigError, match=r"GPU 2 does not exist: torch finds 2 GPUs -> "
                                          r"use an index from 0 to 1"):
        run_module.validate_config(config("trainer=gpu", "trainer.devices=[2]"))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ConfigError, match=r"GPU 1 does not exist: torch finds 1 GPU -> "
                                          r"use index 0$"):
        run_module.validate_config(config("trainer=gpu", "trainer.devices=[1]"))


def test_out_of_memory_is_found_behind_the_errors_that_wrap_it() -> None:
    def wrapped(explicit: bool) -> RuntimeError:
        try:
            try:
                raise torch.cuda.OutOfMemoryError(oom_model.MESSAGE)
            except RuntimeError as error:
                if explicit:  # e.g. torch.compile's BackendCompilerFailed
                    raise RuntimeError("backend compiler failed") from error
                raise RuntimeError("during handling")  # noqa: B904 - the implicit chain
        except RuntimeError as outer:
            return outer

    assert out_of_memory(wrapped(explicit=True)) and out_of_memory(wrapped(explicit=False))
    assert not out_of_memory(RuntimeError("CUDA error: an illegal memory access"))


def test_the_message_names_the_trials_sharing_the_gpu() -> None:
    error = torch.cuda.OutOfMemoryError(oom_model.MESSAGE)
    assert str(out_of_memory_error(error, 4)) == (
        "trainer: GPU out of memory (tried to allocate 2.00 GiB) with 4 trials on one GPU "
        "(hydra.launcher.n_jobs=4) -> lower hydra.launcher.n_jobs or data.batch_size")
    assert str(out_of_memory_error(torch.cuda.OutOfMemoryError("CUDA out of memory."), 1)) == (
        "trainer: GPU out of memory -> lower data.batch_size or the model's size")


def test_the_error_crosses_a_process_boundary_whole() -> None:
    """A joblib worker sends a trial's error back pickled."""
    error = out_of_memory_error(torch.cuda.OutOfMemoryError(oom_model.MESSAGE), 2)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.field, copy.fix) == (
        ConfigError, str(error), "trainer", "lower hydra.launcher.n_jobs or data.batch_size")


def test_a_run_out_of_gpu_memory_frees_its_model_before_releasing_memory(
        tmp_path: Path) -> None:
    """The failed run's tensors must be garbage when the GPU cache is handed back, or the
    other trials on the GPU never get that memory."""
    freed: list[bool] = []

    def release() -> None:
        gc.collect()
        freed.append(len(oom_model.LIVE) == 0)

    with mock.patch.object(run_module, "release_gpu_memory", side_effect=release):
        with pytest.raises(ConfigError, match=r"with 3 trials on one GPU "
                                              r"\(hydra.launcher.n_jobs=3\)") as caught:
            run_module.run(config(*OUT_OF_MEMORY), tmp_path, parallel_jobs=3)
    assert caught.value.__context__ is None  # no traceback holding the run's frames
    assert freed == [True]
    assert not (tmp_path / METRICS).exists()


def test_release_hands_the_cuda_cache_back_only_after_cuda_was_used(
        monkeypatch: pytest.MonkeyPatch) -> None:
    emptied: list[bool] = []
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    allocator.release_gpu_memory()
    assert emptied == []
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    allocator.release_gpu_memory()
    assert emptied == [True]
