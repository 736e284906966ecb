"""logger=wandb: a real multirun written offline, read back from the runs' .wandb files with
wandb's own reader (``wandb leet inspect --json``: no network, no account)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY, read_metrics, run_tsbench
from tests.tracking.csv_run import naive_run_of_a_csv
from tsbench.rundir import find_runs, tracker_copy

#: Variables that would send the runs online or elsewhere.
WANDB_ENV = ("WANDB_API_KEY", "WANDB_MODE", "WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR",
             "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR", "XDG_CACHE_HOME")


@pytest.fixture
def clean_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty $HOME (and matplotlib's cache elsewhere) with no W&B key or folders set."""
    for name in WANDB_ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    return home


def read_offline_run(path: Path) -> dict:
    """The run record (its config with the entries logged later merged in), the history
    rows, the merged summary and the exit code of one offline ``.wandb`` file."""
    out = subprocess.run([sys.executable, "-m", "wandb", "leet", "inspect", "--json", str(path)],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    run, history, summary, exit_code = None, [], {}, None
    for line in out.splitlines():
        record = json.loads(line)
        kind = record["type"]
        if kind == "run":
            run = record["run"]
        elif kind == "config":  # entries logged after the start: the protocol card's
            run["config"]["update"].update(record["config"].get("update", {}))
        elif kind == "history":
            history.append(record["history"]["item"])
        elif kind == "summary":
            summary.update(record["summary"].get("update", {}))
        elif kind == "exit":
            exit_code = record["exit"].get("exit_code", 0)
    return {"run": run, "history": history, "summary": summary, "exit_code": exit_code}


def test_wandb_multirun_is_one_offline_group(tmp_path: Path, clean_home: Path) -> None:
    """Two seeds: two runs are enough to be one group (each run's offline service and
    the reading back of its file cost a process)."""
    sweep = tmp_path / "sweep"
    args = [a for a in TINY if not a.startswith("logger")] + [
        "logger=wandb", "logger.tags=[tiny]", "seed=1,2", "plots=true"]
    run_tsbench(args, sweep, multirun=True)

    files = sorted((sweep / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(files) == 2
    seeds = []
    for path in files:
        record = read_offline_run(path)
        run, summary = record["run"], record["summary"]
        assert run["run_group"] == sweep.name and run["project"] == "tsbench"
        assert run["tags"] == ["tiny"]
        config = run["config"]["update"]
        run_dir = Path(config["run_dir"])
        seed = config["seed"]
        seeds.append(seed)
        assert f"seed={seed}" in config["overrides"] and "logger=wandb" in config["overrides"]
        assert config["model"]["name"] == "dlinear" and config["pred_len"] == 12
        metrics = read_metrics(run_dir)
        assert metrics["seed"] == seed
        card = json.loads((run_dir / "protocol.json").read_text())  # the card, as config
        assert config["protocol.seed"] == str(card["seed"]) == str(seed)
        assert config["protocol.dataset.name"] == card["dataset"]["name"] == "synthetic"
        # the curve under the name every logger gives it; the final score, the best
        # epoch's validation MSE (float32 in training), is the summary's val_mse alone
        curve = [row["val_loss"] for row in record["history"] if "val_loss" in row]
        assert len(curve) == metrics["epochs"] == 2
        assert min(curve) == pytest.approx(metrics["val_mse"], rel=1e-5)
        assert not [row for row in record["history"] if "val_mse" in row]
        for key in ("val_mse", "test_mse", "test_mae", "n_test_windows", "n_params"):
            assert summary[key] == metrics[key], key
        assert record["exit_code"] == 0
        attached = path.parent / "files"
        for name in ("metrics.json", "forecast.png", "config.yaml"):
            assert (attached / name).read_bytes() == (run_dir / name).read_bytes(), name
    assert sorted(seeds) == [1, 2]
    # the copies attached to the W&B runs (metrics.json, config.yaml) are not runs of their own
    assert find_runs([sweep]) == [sweep / str(job) for job in range(2)]
    assert not tracker_copy(("wandb", "0", "metrics.json"))  # a user's own folder so named
    assert tracker_copy(("mlartifacts", "1", "3f2a", "artifacts", "metrics.json"))
    assert not list(clean_home.rglob("*")), "wandb wrote into $HOME"
    assert not (ROOT / "wandb").exists(), "wandb wrote into the working directory"


def test_wandb_run_without_test_scores_has_no_test_keys(tmp_path: Path, clean_home: Path
                                                        ) -> None:
    args = [a for a in TINY if not a.startswith("logger")] + [
        "logger=wandb", "score_test=false", f"logger.dir={tmp_path / 'tracking'}"]
    run_tsbench(args, tmp_path / "run")
    (path,) = (tmp_path / "tracking" / "wandb").glob("offline-run-*/run-*.wandb")
    record = read_offline_run(path)
    assert record["run"].get("run_group", "") == ""  # a single run belongs to no group
    assert "val_mse" in record["summary"]
    assert not [k for k in record["summary"] if k.startswith(("test_", "n_test"))]
    assert not (tmp_path / "run" / "wandb").exists()


def test_a_wandb_run_of_a_csv_file_is_named_by_the_file(tmp_path: Path, clean_home: Path
                                                        ) -> None:
    """``naive-load.csv-12-run``, as its pictures and tsbench-report name the data, not
    ``naive-csv-...`` for every file of the user's."""
    args = naive_run_of_a_csv(tmp_path, "logger=wandb", f"logger.dir={tmp_path / 'tracking'}")
    run_tsbench(args, tmp_path / "run")
    (path,) = (tmp_path / "tracking" / "wandb").glob("offline-run-*/run-*.wandb")
    assert read_offline_run(path)["run"]["display_name"] == "naive-load.csv-12-run"


def test_missing_wandb_names_the_extra(tmp_path: Path) -> None:
    fake = tmp_path / "fake" / "wandb"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no wandb here')\n")
    args = [a for a in TINY if not a.startswith("logger")] + ["logger=wandb"]
    proc = run_tsbench(args, tmp_path / "run", check=False,
                       env={"PYTHONPATH": f"{fake.parent}:{ROOT}"})
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1] == ("tsbench: error: logger: Weights & Biases is not installed -> "
                         "pip install 'tsbench[wandb]'")
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "run" / "metrics.json").exists()
