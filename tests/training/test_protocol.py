"""protocol.json and the per-window error files of real tiny runs: every field holds the
value it names, computed here independently (the file's own sha256, the published split
borders, the windows a split holds, the library versions, the checkout's commit)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

import tsbench
from tests.conftest import ROOT, TINY, data_dir, read_metrics, run_tsbench
from tests.preloaded import run_module
from tsbench.code_digest import sources_digest
from tsbench.data.loading import Series, load_series
from tsbench.data.splits import benchmark_borders, n_windows
from tsbench.models.build import model_class, model_for
from tsbench.training import fit, protocol, train_and_score, trainer
from tsbench.training.protocol import filled_targets, source_revision
from tsbench.training.run import run

#: Saved float32 values round each window's float64 MSE by at most 2**-24 of itself, and
#: all are >= 0, so their mean lies within 2**-24 (relative) of the float64 mean; 1e-12
#: covers float64 summation order.
WINDOW_MEAN_RTOL = 2.0 ** -24 + 1e-12
#: Every field the issue asks the card for (dotted paths into protocol.json).
FIELDS = [
    "dataset.name", "dataset.sha256", "dataset.rows_loaded", "dataset.rows_used",
    "split.rule", "split.train", "split.val", "split.test", "scaler.fitted_rows", "features",
    "seq_len.value", "seq_len.policy", "seq_len.searched_on", "pred_len", "windows.test.scored",
    "windows.test.all", "windows.val.scored", "metrics_scale.headline", "training.epochs",
    "training.best_epoch", "training.patience", "training.max_epochs", "seed", "deterministic",
    "device.kind", "device.precision", "versions.tsbench", "versions.torch",
    "versions.lightning", "source.git_commit", "source.git_dirty", "source.sources_sha256",
]


def _get(card: dict, dotted: str) -> object:
    node: object = card
    for key in dotted.split("."):
        assert isinstance(node, dict) and key in node, f"protocol.json has no {dotted}"
        node = node[key]
    return node


def _card(run_dir: Path) -> dict:
    return json.loads((run_dir / "protocol.json").read_text())


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def _window_mse(run_dir: Path, split: str) -> np.ndarray:
    values = np.load(run_dir / f"{split}_window_mse.npy")
    assert values.dtype == np.float32 and values.ndim == 1
    return values


def test_a_holdout_run_on_a_registry_file_carries_its_protocol(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_tsbench(["dataset=ili", "model=dlinear", "seq_len=36", "pred_len=24", "seed=3",
                 "trainer=debug", "trainer.max_epochs=3", "trainer.patience=2",
                 "logger=none", "plots=false"], run_dir)
    card, metrics = _card(run_dir), read_metrics(run_dir)
    for field in FIELDS:
        _get(card, field)
    path = data_dir() / "national_illness.csv"
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert card["dataset"]["sha256"] == sha == (
        "8594cecb98c6f2f9dc014eca11c4d5d1e38ad5ce6ed0592d4abe65b146fce395")  # conf/dataset/ili
    assert card["dataset"]["file"] == str(path.resolve()) and card["dataset"]["name"] == "ili"
    rows = len(pd.read_csv(path))
    assert card["dataset"]["rows_loaded"] == rows and card["dataset"]["rows_used"] == [0, rows]
    borders = benchmark_borders(rows, "ratio", 36, 0.7, 0.2)
    split = card["split"]
    assert (split["train"], split["val"], split["test"]) == (
        list(borders.train), list(borders.val), list(borders.test))
    assert split["rule"] == "ratio" and (split["train_frac"], split["test_frac"]) == (0.7, 0.2)
    assert split["first_target"] == {"val": borders.train[1], "test": borders.val[1]}
    assert split["cv"] == "holdout" and sorted(split["splits_read"]) == ["test", "train", "val"]
    assert card["scaler"]["fitted_rows"] == list(borders.train)
    assert (card["features"], card["target"], card["pred_len"]) == ("M", "OT", 24)
    assert len(card["dataset"]["channels"]) == 7
    assert card["dataset"]["freq"] == "W-TUE"  # inferred: ILI's weeks end on Tuesdays
    assert card["seq_len"] == {"value": 36, "policy": "fixed", "searched_on": None,
                               "how": "set in the config", "read": True}
    for name in ("val", "test"):
        start, end = borders[name]
        expected = n_windows(end - start, 36, 24)
        assert card["windows"][name] == {"scored": expected, "available": expected, "all": True}
        assert metrics[f"n_{name}_windows"] == expected
    assert card["windows"]["test"]["scored"] == 170  # README: ILI has 170 at pred_len=24
    assert card["windows"]["train"] == {"available": n_windows(borders.train[1], 36, 24),
                                        "drop_last": False}
    assert card["metrics_scale"]["headline"] == "scaled"
    training = card["training"]
    assert (training["epochs"], training["best_epoch"]) == (metrics["epochs"],
                                                           metrics["best_epoch"])
    assert (training["patience"], training["max_epochs"], training["early_stopping"]) == (
        2, 3, True)
    assert 1 <= training["best_epoch"] <= training["epochs"] <= 3
    assert (card["seed"], card["deterministic"]) == (3, True)
    assert card["device"] == {"accelerator": "cpu", "kind": "cpu", "index": None,
                              "name": card["device"]["name"], "precision": "32-true",
                              "threads": metrics["threads"], "fast_kernels": True}
    assert card["versions"] == {"tsbench": tsbench.__version__, "torch": torch.__version__,
                                "lightning": pl.__version__,
                                "python": platform.python_version()}
    assert card["source"]["sources_sha256"] == sources_digest(ROOT / "tsbench")
    assert "model_sha256" not in card["source"]  # tsbench's own model: in the digest above
    if (ROOT / ".git").exists():
        assert card["source"]["git_commit"] == _git("rev-parse", "HEAD")
        assert card["source"]["git_dirty"] is bool(_git("status", "--porcelain"))
    # protocol.json is complete before metrics.json marks the run finished
    assert (run_dir / "protocol.json").stat().st_mtime_ns <= (
        run_dir / "metrics.json").stat().st_mtime_ns
    for name in ("val", "test"):
        errors = _window_mse(run_dir, name)
        assert errors.size == metrics[f"n_{name}_windows"]
        assert errors.astype(np.float64).mean() == pytest.approx(
            metrics[f"{name}_mse"], rel=WINDOW_MEAN_RTOL, abs=0)
        assert errors.std() > 0  # one value per window, not one value repeated


def _sales(path: Path, rows: int = 400, freq: str = "h") -> Path:
    t = np.arange(rows)
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=rows, freq=freq),
                  "load": np.sin(2 * np.pi * t / 24), "OT": np.cos(2 * np.pi * t / 24 + 0.3)
                  + 0.05 * np.sin(t / 5.0)}).to_csv(path, index=False)
    return path


def test_the_card_records_the_device_and_precision_the_run_trained_at_not_the_configs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``trainer.accelerator=auto`` trains on a CUDA GPU where Lightning finds one: the card
    records where the trained model is (the trainer's device, where it is scored), which a
    guess from the config called a CPU for every ``auto`` run. No GPU here: the trained
    model's device is faked as GPU 1, and the card of an ``auto`` run says so. Its precision
    is the trainer's too (Lightning's ``trainer.precision`` after fit): the training is set
    up at bf16-mixed here while the config says 32-true (as Lightning trains another precision
    than the one named where it has none of it), and the card says bf16-mixed. metrics.json
    holds neither (the card's, not scores)."""
    gpu = torch.device("cuda", 1)
    monkeypatch.setattr(train_and_score, "model_device", lambda model: gpu)
    monkeypatch.setattr(torch.cuda, "get_device_name",
                        lambda device=None: f"GPU {torch.device(device).index} of the fake")
    for training in (trainer, fit):  # the Trainer's and its module's, not the card's
        monkeypatch.setattr(training, "precision", lambda trainer_cfg: "bf16-mixed")
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[*TINY, "trainer.accelerator=auto"])
    run(cfg, tmp_path / "run")
    device = _card(tmp_path / "run")["device"]
    assert cfg.trainer.precision == "32-true"
    assert (device["accelerator"], device["kind"], device["index"], device["name"],
            device["precision"]) == ("auto", "cuda", 1, "GPU 1 of the fake", "bf16-mixed")
    assert not {"device", "precision"} & set(read_metrics(tmp_path / "run"))


#: Settings a training loop has, which an untrained model's card must not claim.
TRAINING_ONLY = {"best_epoch", "patience", "max_epochs", "early_stopping", "batch_size"}


@pytest.mark.parametrize(("model", "freq", "overrides", "season"), [
    ("naive", "D", [], None),
    ("seasonal_naive", "D", [], {"value": 7, "from": "the data's frequency (D)"}),
    ("seasonal_naive", "h", [], {"value": 24, "from": "the data's frequency (h)"}),
    ("seasonal_naive", "h", ["model.period=12"], {"value": 12, "from": "model.period"}),
    ("ets", "D", [], {"value": 7, "from": "the data's frequency (D)"}),
    ("ets", "D", ["model.seasonal=false"], None),
    ("theta", "h", [], {"value": 24, "from": "the data's frequency (h)"}),
    ("arima", "D", [], None),  # not seasonal: the period is unused
    ("arima", "D", ["model.seasonal_order=[1,0,0]"],
     {"value": 7, "from": "the data's frequency (D)"}),
])
def test_an_untrained_model_s_card_says_what_it_was_fitted_on_and_its_season(
        model: str, freq: str, overrides: list[str], season: dict | None,
        tmp_path: Path) -> None:
    csv = _sales(tmp_path / "sales.csv", freq=freq)
    run_dir = tmp_path / "run"
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            "dataset=csv", f"dataset.path={csv}", f"model={model}", *overrides, "seq_len=48",
            "pred_len=12", "features=S", "trainer=debug", "trainer.patience=3",
            "trainer.precision=bf16-mixed", "logger=none"])
    metrics = run(cfg, run_dir)
    card = _card(run_dir)
    training = card["training"]
    assert training["trained"] is False and training["epochs"] == metrics["epochs"] == 0
    assert not TRAINING_ONLY & set(training)
    assert card["device"]["precision"] == "bf16-mixed"  # no trainer: the config's
    borders = benchmark_borders(400, "ratio", 48, 0.7, 0.2)
    if model in ("naive", "seasonal_naive"):
        assert training["fitted_on"].startswith("nothing: each forecast is computed from its "
                                                "window's look-back alone")
        assert "fitted_rows" not in training
    else:
        assert training["fitted_on"].startswith("the scaled fitted_rows")
        assert training["fitted_rows"] == list(borders.train) == card["scaler"]["fitted_rows"]
    assert card["seasonal_period"] == season
    assert card["dataset"]["channels"] == ["OT"] == [card["target"]]  # features=S
    assert "drop_last" not in card["windows"]["train"]  # no batches were trained


@pytest.mark.parametrize(("batch_size", "dropped"), [(1000, False), (64, True)])
def test_the_card_says_whether_training_dropped_its_last_partial_batch(
        batch_size: int, dropped: bool, tmp_path: Path) -> None:
    """data.drop_last=true drops nothing where the training windows are fewer than a batch
    (the loader keeps its one partial batch): the card says what training did."""
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            "dataset=synthetic", "dataset.n_rows=800", "model=dlinear", "seq_len=48",
            "pred_len=24", "trainer=debug", "trainer.max_epochs=1", "data.drop_last=true",
            f"data.batch_size={batch_size}", "logger=none"])
    run(cfg, tmp_path / "run")
    train = _card(tmp_path / "run")["windows"]["train"]
    assert train["available"] == n_windows(560, 48, 24) == 489  # 489 % 64 = 41 dropped
    assert train["drop_last"] is dropped


def test_a_classical_model_s_cards_fitted_rows_follow_the_folds(tmp_path: Path) -> None:
    """``cv=tscv``: each fold fits on its own training rows, the refit on train+val."""
    csv = _sales(tmp_path / "sales.csv", freq="D")
    run_dir = tmp_path / "run"
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            "dataset=csv", f"dataset.path={csv}", "model=theta", "seq_len=24", "pred_len=12",
            "features=MS", "cv=tscv", "cv.n_splits=2", "cv.refit=true", "trainer=debug",
            "logger=none"])
    metrics = run(cfg, run_dir)
    card = _card(run_dir)
    borders = benchmark_borders(400, "ratio", 24, 0.7, 0.2)
    assert card["training"]["fold_fitted_rows"] == [f["train"] for f in metrics["cv_folds"]]
    assert card["training"]["fitted_rows"] == [0, borders.val[1]]
    assert not TRAINING_ONLY & set(card["training"])
    assert card["seasonal_period"] == {"value": 7, "from": "the data's frequency (D)"}
    assert card["dataset"]["channels"] == ["OT"]  # MS: a classical model reads the target


@pytest.mark.parametrize(("model", "channels"), [
    ("theta", ["OT"]),  # a classical model, built for and fitted on the target alone
    ("naive", ["load", "OT"]),  # reads every channel's look-back, scores the target
])
def test_an_ms_card_names_the_channels_its_model_read(model: str, channels: list[str],
                                                      tmp_path: Path) -> None:
    """``dataset.channels`` under ``features=MS`` are the channels the model was built for
    and read (the width of its input), not every channel of the file."""
    csv = _sales(tmp_path / "sales.csv", freq="D")
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            "dataset=csv", f"dataset.path={csv}", f"model={model}", "seq_len=24",
            "pred_len=12", "features=MS", "trainer=debug", "logger=none"])
    run(cfg, tmp_path / "run")
    card = _card(tmp_path / "run")
    assert card["dataset"]["channels"] == channels
    assert model_for(cfg, load_series(cfg.dataset)).n_vars == len(channels)


@pytest.mark.parametrize(("local", "reading"), [
    # Berlin's midnights: 23 h and 25 h apart in UTC across its daylight-saving changes
    (pd.date_range("2024-01-01", periods=400, freq="D", tz="Europe/Berlin"), "local"),
    # Berlin's hours: regular as instants
    (pd.date_range("2024-03-25", periods=400, freq="h", tz="UTC").tz_convert("Europe/Berlin"),
     "utc"),
    # one offset throughout
    (pd.date_range("2024-01-01", periods=400, freq="D", tz="Asia/Tokyo"), None),
], ids=["daily", "hourly", "one_offset"])
def test_the_card_says_how_changing_offsets_were_read(local: pd.DatetimeIndex,
                                                      reading: str | None,
                                                      tmp_path: Path) -> None:
    """``dataset.changing_offsets``: times written with their UTC offsets were read on their
    local calendar or in UTC."""
    csv = _sales(tmp_path / "sales.csv")
    pd.read_csv(csv).assign(date=[stamp.isoformat() for stamp in local]).to_csv(csv,
                                                                                index=False)
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            "dataset=csv", f"dataset.path={csv}", "model=naive", "seq_len=24",
            "pred_len=12", "trainer=debug", "logger=none"])
    run(cfg, tmp_path / "run")
    dataset = _card(tmp_path / "run")["dataset"]
    assert (dataset["changing_offsets"], dataset["freq"]) == (reading, local.freqstr)


def test_a_refit_trains_on_train_and_val_rows_for_exactly_max_epochs(tmp_path: Path) -> None:
    """``cv=refit``: every train+val window is a training window, no validation split is
    read or scored, the epoch count is max_epochs (nothing to stop early on), the scaler is
    the published training rows' and every test window is scored."""
    csv = _sales(tmp_path / "sales.csv")
    run_dir = tmp_path / "run"
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            "dataset=csv", f"dataset.path={csv}", "model=dlinear", "seq_len=24", "pred_len=12",
            "cv=refit", "trainer=debug", "trainer.max_epochs=3", "trainer.patience=1",
            "logger=none"])
    metrics = run(cfg, run_dir)
    card = _card(run_dir)
    borders = benchmark_borders(400, "ratio", 24, 0.7, 0.2)
    assert metrics["objective"] is None and "val_mse" not in metrics
    assert metrics["epochs"] == 3 and metrics["n_train_windows"] == n_windows(
        borders.val[1], 24, 12)
    assert metrics["splits_read"] == card["split"]["splits_read"] == ["test", "train", "val"]
    assert card["split"]["refit"]["train"] == [0, borders.val[1]]
    assert card["scaler"]["fitted_rows"] == list(borders.train)
    assert card["training"]["early_stopping"] is False
    test = n_windows(borders.test[1] - borders.test[0], 24, 12)
    assert card["windows"]["test"] == {"scored": test, "available": test, "all": True}
    assert "val" not in card["windows"]
    assert _window_mse(run_dir, "test").astype(np.float64).mean() == pytest.approx(
        metrics["test_mse"], rel=WINDOW_MEAN_RTOL, abs=0)


def test_a_search_refuses_refits_before_training_and_a_seed_sweep_runs_them(
        tmp_path: Path) -> None:
    csv = _sales(tmp_path / "sales.csv")
    base = ["dataset=csv", f"dataset.path={csv}", "seq_len=24", "pred_len=12", "cv=refit",
            "trainer=debug", "trainer.max_epochs=1", "logger=none", "plots=false"]
    for how in (["search=random"], ["-m", "hydra/sweeper=skopt", "seq_len=choice(24,36)"]):
        search = run_tsbench([*how, *base, "hydra.sweeper.n_trials=2"], tmp_path / "search",
                             check=False)  # a search preset is a multirun without -m
        assert search.returncode == 2 and search.stderr == (
            "tsbench: error: cv: refit has no validation split, so a search has nothing to "
            "optimize -> search with cv=holdout or cv=tscv, then refit the configuration it "
            "chose with cv=refit\n")  # once, before any trial
        assert not (tmp_path / "search").exists()
    # cv.refit scores the test split, which a search's trials do not
    folds = [*[o for o in base if o != "cv=refit"], "cv=tscv", "cv.n_splits=2", "cv.refit=true"]
    search = run_tsbench(["search=random", *folds, "hydra.sweeper.n_trials=2"],
                         tmp_path / "search", check=False)
    assert search.returncode == 2 and search.stderr == (
        "tsbench: error: cv.refit: scores the test split, which a search's trials do not "
        "(score_test=null) -> drop cv.refit=true from the search and add it to best.yaml's "
        "command, or set score_test=true\n")
    assert not (tmp_path / "search").exists()
    seeds = run_tsbench([*base, "model=dlinear", "seed=1,2"], tmp_path / "seeds",
                        multirun=True)
    assert seeds.stdout.count("test_mse=") == 2  # a plain multirun scores the test split


def test_a_cross_validated_csv_run_says_so(tmp_path: Path) -> None:
    csv = _sales(tmp_path / "sales.csv")
    run_dir = tmp_path / "run"
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            "dataset=csv", f"dataset.path={csv}", "model=dlinear", "seq_len=24", "pred_len=12",
            "features=S", "cv=tscv", "cv.n_splits=2", "cv.refit=true", "trainer=debug",
            "logger=none", "seq_len_searched_on=val"])
    run(cfg, run_dir)
    card, metrics = _card(run_dir), read_metrics(run_dir)
    assert card["dataset"]["sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert card["dataset"]["name"] == "csv" and card["dataset"]["rows_used"] == [0, 400]
    assert card["features"] == "S" and card["dataset"]["channels"] == ["OT"]  # modelled
    assert card["seq_len"]["policy"] == "searched" and card["seq_len"]["searched_on"] == "val"
    borders = benchmark_borders(400, "ratio", 24, 0.7, 0.2)
    tscv = card["split"]["tscv"]
    assert card["split"]["cv"] == "tscv" and tscv["folds"] == metrics["cv_folds"]
    assert len(tscv["folds"]) == 2 and tscv["refit"] is True
    assert tscv["refit_train"] == [0, borders.val[1]]
    assert card["scaler"]["fitted_rows"] == list(borders.train)  # the refit's: published scale
    assert card["scaler"]["fold_fitted_rows"] == [f["train"] for f in metrics["cv_folds"]]
    for k, (fold, counted) in enumerate(zip(metrics["cv_folds"], card["windows"]["cv_val_folds"],
                                            strict=True)):
        expected = n_windows(fold["val"][1] - fold["val"][0] + 24, 24, 12)
        assert counted == {"scored": expected, "available": expected, "all": True}
        errors = _window_mse(run_dir / f"fold_{k}", "val")
        assert errors.astype(np.float64).mean() == pytest.approx(
            metrics[f"fold_{k}_val_mse"], rel=WINDOW_MEAN_RTOL, abs=0)
    test = n_windows(borders.test[1] - borders.test[0], 24, 12)
    assert card["windows"]["test"] == {"scored": test, "available": test, "all": True}
    assert "train" not in card["windows"] and "val" not in card["windows"]
    assert card["training"]["fold_best_epochs"] == [metrics["fold_0_best_epoch"],
                                                    metrics["fold_1_best_epoch"]]
    assert card["training"]["refit_epochs"] == metrics["refit_epochs"]
    assert _window_mse(run_dir, "test").astype(np.float64).mean() == pytest.approx(
        metrics["test_mse"], rel=WINDOW_MEAN_RTOL, abs=0)


@pytest.mark.heavy
def test_trials_of_a_search_over_seq_len_are_searched_a_plain_grid_fixed(
        tmp_path: Path) -> None:
    # a sweep directory relative to where it started, read from jobs that chdir into theirs
    proc = run_module(
        "tsbench", ["-m", "hydra/sweeper=skopt", "dataset=ili", "model=naive", "pred_len=24",
                    "trainer=debug", "logger=none", "plots=false", "seq_len=choice(24,36)",
                    "hydra.sweeper.mode=random", "hydra.sweeper.n_trials=2",
                    "hydra.sweeper.plots=false",
                    "hydra.sweep.dir=sweep", "hydra.job.chdir=true"],
        {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sweep = tmp_path / "sweep"
    cards = [_card(sweep / job) for job in ("0", "1")]
    assert sorted(c["seq_len"]["value"] for c in cards) == [24, 36]
    for card in cards:
        assert card["seq_len"]["policy"] == "searched" and card["seq_len"]["searched_on"] == "val"
    # a plain grid chooses no look-back: each run's is as set, like a seed sweep's
    for name, swept in (("grid", "seq_len=24,36"), ("seeds", "seed=1,2")):
        run_tsbench(["dataset=ili", "model=naive", "pred_len=24", "trainer=debug",
                     "logger=none", "plots=false", "seq_len=36", swept], tmp_path / name,
                    multirun=True)
        assert [_card(tmp_path / name / job)["seq_len"]["policy"] for job in ("0", "1")] == [
            "fixed"] * 2


def test_a_naive_run_scores_its_hand_computed_errors_in_scaled_and_original_units(
        tmp_path: Path) -> None:
    """``model=naive`` repeats each window's last input value, so every score can be computed
    here from the CSV alone: MAE is the mean absolute error (not its root mean square), the
    per-window files hold each window's errors, and ``*_orig`` are in the CSV's units (the
    scaler's population std of the target over the training rows, sigma, undone)."""
    rows, seq, pred = 400, 24, 12
    t = np.arange(rows)
    # far from unit scale and zero mean, so scaled and original units differ plainly
    target = 50 + 20 * np.cos(2 * np.pi * t / 24 + 0.3) + 3 * np.sin(t / 5.0)
    csv = tmp_path / "sales.csv"
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=rows, freq="h"),
                  "load": np.sin(2 * np.pi * t / 24), "OT": target}).to_csv(csv, index=False)
    run_dir = tmp_path / "run"
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            "dataset=csv", f"dataset.path={csv}", "model=naive", f"seq_len={seq}",
            f"pred_len={pred}", "features=S", "trainer=debug", "logger=none"])
    metrics = run(cfg, run_dir)

    values = pd.read_csv(csv)["OT"].to_numpy(np.float64)  # read as float64
    borders = benchmark_borders(rows, "ratio", seq, 0.7, 0.2)
    train = values[borders.train[0]:borders.train[1]]
    sigma = train.std(ddof=0)  # population std, as the scaler's
    assert sigma > 10  # scaled and original units far apart
    start, end = borders.test
    n = n_windows(end - start, seq, pred)
    assert metrics["n_test_windows"] == n
    starts = start + np.arange(n)
    last = values[starts + seq - 1][:, None]  # (windows, 1): the forecast at every step
    truth = values[starts[:, None] + seq + np.arange(pred)]  # (windows, pred)
    err = (truth - last) / sigma  # the scaled error (the mean cancels)
    assert np.sqrt((err ** 2).mean()) > 1.05 * np.abs(err).mean()  # RMSE and MAE apart

    # scaled units: scaled in float64, float32 scaled inputs, float64 sums
    assert metrics["test_mae"] == pytest.approx(np.abs(err).mean(), rel=1e-5)
    assert metrics["test_mse"] == pytest.approx((err ** 2).mean(), rel=1e-5)
    window_mae = np.load(run_dir / "test_window_mae.npy")
    assert window_mae.shape == (n,)
    np.testing.assert_allclose(window_mae, np.abs(err).mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(_window_mse(run_dir, "test"), (err ** 2).mean(axis=1),
                               rtol=1e-5)
    # original units: the same errors times sigma (one channel, features=S)
    assert metrics["test_mse_orig"] == pytest.approx(metrics["test_mse"] * sigma ** 2, rel=1e-9)
    assert metrics["test_mae_orig"] == pytest.approx(metrics["test_mae"] * sigma, rel=1e-9)
    assert metrics["test_mae_orig"] == pytest.approx(np.abs(truth - last).mean(), rel=1e-5)
    assert metrics["test_mse_orig"] == pytest.approx(((truth - last) ** 2).mean(), rel=1e-5)
    # per window in original units too: the report's paired tests with --units original
    np.testing.assert_allclose(np.load(run_dir / "test_window_mse_orig.npy"),
                               ((truth - last) ** 2).mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(np.load(run_dir / "test_window_mae_orig.npy"),
                               np.abs(truth - last).mean(axis=1), rtol=1e-5)


def test_the_sources_digest_tells_edited_code_apart_wherever_it_lies(tmp_path: Path) -> None:
    """A dirty checkout's runs all name one commit: the digest of the code and configs that
    ran tells a model edited between two trials apart (and not the folder it lies in)."""
    first, second = tmp_path / "a" / "tsbench", tmp_path / "b" / "tsbench"
    for copy in (first, second):
        shutil.copytree(ROOT / "tsbench", copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert sources_digest(first) == sources_digest(second) == sources_digest(ROOT / "tsbench")
    model = second / "models" / "dlinear.py"
    model.write_text(model.read_text().replace("kernel_size", "kernel_size ", 1))
    assert sources_digest(second) != sources_digest(first)
    (first / "conf" / "model" / "dlinear.yaml").write_text("# edited\n")
    assert sources_digest(first) != sources_digest(ROOT / "tsbench")
    (second / "notes.txt").write_text("not code")  # neither .py nor .yaml: not counted
    model.write_text((ROOT / "tsbench" / "models" / "dlinear.py").read_text())
    assert sources_digest(second) == sources_digest(ROOT / "tsbench")


@pytest.mark.heavy(25)
def test_the_card_names_the_code_the_run_imported_not_the_files_edited_since(
        tmp_path: Path) -> None:
    """A run forked from a fork server runs the modules the server imported: edited after,
    a module it had imported (training/run.py) runs as it was, one it had not (the model)
    as it is. The card's digest says so; read from disk when the card was written, it
    named the edit the run did not run."""
    tree, expected = tmp_path / "tree", tmp_path / "expected"
    for root in (tree, expected):
        shutil.copytree(ROOT / "tsbench", root / "tsbench",
                        ignore=shutil.ignore_patterns("__pycache__"))
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from tsbench.code_digest import PACKAGE\n"
        "from tsbench.preload import run_module\n"
        "out, args = Path(sys.argv[1]), sys.argv[2:]\n"
        "assert run_module('tsbench.preload', [], out / 'warm.log') == 0  # imports done\n"
        "for name in ('training/run.py', 'models/dlinear.py'):\n"
        "    path = PACKAGE / name\n"
        "    path.write_text(path.read_text() + '# edited\\n')\n"
        "code = run_module('tsbench', [*args, f'hydra.run.dir={out / \"run\"}'], out / 'run.log')\n"
        "print(json.dumps({'package': str(PACKAGE), 'code': code}))\n")
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path), *TINY,
                           "trainer.max_epochs=1"], cwd=tree, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    said = json.loads(proc.stdout.splitlines()[-1])
    assert said == {"package": str(tree / "tsbench"), "code": 0}, (
        tmp_path / "run.log").read_text()[-3000:]
    model = expected / "tsbench" / "models" / "dlinear.py"  # the code the run ran
    model.write_text(model.read_text() + "# edited\n")
    digest = _card(tmp_path / "run")["source"]["sources_sha256"]
    assert digest == sources_digest(expected / "tsbench") != sources_digest(tree / "tsbench")


def test_a_model_outside_the_package_records_its_files_digest_as_imported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A user's model file is no part of tsbench's digest: the card names it and its
    sha256 as the run imported it, where its model is built, so an edit between two seeds
    shows (tsbench-report warns) and one after the import (a later trial of a one-process
    sweep runs the class the first imported) does not."""
    file = tmp_path / "my_model.py"
    file.write_text("from tsbench.models.dlinear import DLinear\n\n\n"
                    "class MyModel(DLinear):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_model", raising=False)
    config = OmegaConf.create({"_target_": "my_model.MyModel"})
    imported = hashlib.sha256(file.read_bytes()).hexdigest()
    model = model_class(config)  # imports it, as a run's build does
    file.write_text(file.read_text() + "    bias = False\n")
    source = source_revision(model_class(config))
    assert source["model_file"] == str(file.resolve())
    assert source["model_sha256"] == imported  # the class that runs, not the file now
    monkeypatch.delitem(sys.modules, "my_model")  # the next run's process imports it anew
    anew = model_class(config)
    assert anew is not model
    assert source_revision(anew)["model_sha256"] == hashlib.sha256(
        file.read_bytes()).hexdigest()


@pytest.mark.parametrize(("features", "expected"), [
    ("MS", {"train": 1, "val": 0, "test": 1}), ("S", {"train": 1, "val": 0, "test": 1}),
    ("M", {"train": 1, "val": 0, "test": 2}),
])
def test_filled_cells_count_in_the_target_rows_of_the_scored_channels(
        features: str, expected: dict[str, int]) -> None:
    """A filled cell counts where it is a target of a scored channel: OT at row 5 is only
    look-back (training targets from row 48), at row 450 a training target but only
    look-back of val (targets from row 489); channel a at row 600 is read but not scored
    with features=MS."""
    filled = np.zeros((700, 2), dtype=bool)
    filled[[5, 450, 650], 1] = True
    filled[600, 0] = True
    series = Series("filled", np.zeros((700, 2)),
                    pd.date_range("2020-01-01", periods=700, freq="h"), ["a", "OT"], "h",
                    "ratio", filled=filled)
    borders = benchmark_borders(700, "ratio", 48)
    assert borders.val == (441, 560) and borders.test[0] + 48 == 560
    assert filled_targets(series, borders, 48, features) == expected


def test_a_classical_model_refit_fits_on_train_and_val_rows(tmp_path: Path) -> None:
    """``cv=refit``: a classical model is fitted on every train+val row, and its card's
    fitted_rows say so (not the published training rows)."""
    csv = _sales(tmp_path / "sales.csv", freq="D")
    run_dir = tmp_path / "run"
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            "dataset=csv", f"dataset.path={csv}", "model=theta", "seq_len=24", "pred_len=12",
            "cv=refit", "trainer=debug", "logger=none"])
    run(cfg, run_dir)
    borders = benchmark_borders(400, "ratio", 24, 0.7, 0.2)
    assert _card(run_dir)["training"]["fitted_rows"] == [0, borders.val[1]] == [0, 320]


@pytest.mark.parametrize(("cv", "split"), [
    ("holdout", "val"), ("tscv", "cv folds (validation blocks of train+val rows)")])
def test_a_search_over_seq_len_names_the_split_it_scored_on(
        cv: str, split: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A trial of a search over seq_len records the look-back as searched on the split the
    search's objective reads: val for a holdout search, the folds for a tscv one."""
    monkeypatch.setattr(protocol, "searched_keys", lambda: {"seq_len", "model.d_model"})
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[f"cv={cv}"])
    assert protocol.seq_len_policy(cfg) == {
        "policy": "searched", "searched_on": split, "how": "a trial of a Hydra sweep over seq_len"}
