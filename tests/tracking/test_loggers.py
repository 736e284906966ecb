"""MLflow sweeps (parent + child runs in a SQLite store) and TensorBoard event files."""

from __future__ import annotations

import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hydra import compose, initialize_config_module

from tests.conftest import ROOT, TINY, read_metrics, run_tsbench
from tests.tracking.csv_run import naive_run_of_a_csv
from tests.tracking.test_mlflow_resume import killed_in, run_of, statuses
from tests.training.test_best_weights import DIVERGING
from tsbench.errors import ConfigError
from tsbench.rundir import read_config
from tsbench.settings_check import check_settings
from tsbench.tracking.children import SEEDS_OF_ONE
from tsbench.tracking.mlflow_store import check_server, tracking_uri
from tsbench.training.loggers import build_logger


@pytest.mark.heavy
def test_mlflow_sweep_has_one_parent_and_a_child_per_trial(tmp_path: Path, uri: str) -> None:
    """Two seeds, one configuration: the parent holds their spread and names no best seed
    (two are enough for a std; the resume's second run of seed 2 shows it counted once).
    Resumed after a kill in job 1, the run the kill left RUNNING is marked KILLED, and a
    refused other sweep does not reopen the parent (one sweep serves both promises)."""
    import mlflow

    args = [a for a in TINY if not a.startswith("logger")] + [
        "logger=mlflow", "seed=1,2", "plots=true"]
    run_tsbench(args, tmp_path / "sweep", env={"MLFLOW_TRACKING_URI": uri}, multirun=True)
    mlflow.set_tracking_uri(uri)
    runs = mlflow.search_runs(experiment_names=["tsbench"])
    parent_col = "tags.mlflow.parentRunId"
    parents = runs[runs[parent_col].isna()] if parent_col in runs else runs
    children = runs[runs[parent_col].notna()]
    assert len(parents) == 1 and len(children) == 2
    assert set(children[parent_col]) == {parents["run_id"].iloc[0]}
    assert sorted(children["params.seed"].astype(int)) == [1, 2]
    # each child names its run folder, whose seed is its own
    for _, child in children.iterrows():
        folder = Path(child["tags.tsbench.run_dir"])
        assert folder.parent == (tmp_path / "sweep").resolve()
        assert read_config(folder).seed == int(child["params.seed"])
        assert child["tags.mlflow.runName"] == f"seed={child['params.seed']}"  # what it sweeps
    assert children["params.model.name"].eq("dlinear").all()
    # params named as the overrides that set them, null as the config writes it
    assert children["params.optim.lr"].astype(float).eq(read_config(folder).optim.lr).all()
    assert children["params.seq_len_searched_on"].eq("null").all()
    assert children["metrics.val_mse"].notna().all()
    assert not (ROOT / "mlruns").exists(), "artifacts must not land in the working directory"
    assert (tmp_path / "mlartifacts").is_dir()
    client = mlflow.tracking.MlflowClient(uri)
    child_files = {a.path for a in client.list_artifacts(children["run_id"].iloc[0])}
    assert {"metrics.json", "protocol.json", "forecast.png", "config.yaml"} <= child_files
    protocol = children.iloc[0]  # the protocol card's facts, as params
    assert protocol["params.protocol.seed"] == protocol["params.seed"]
    assert protocol["params.protocol.seq_len.policy"] == "fixed"
    assert protocol["params.protocol.dataset.name"] == "synthetic"
    assert int(protocol["params.protocol.windows.test.scored"]) == int(
        protocol["metrics.n_test_windows"])
    parent = parents.iloc[0]
    assert parent["status"] == "FINISHED"
    assert parent["tags.mlflow.runName"] == f"sweep {tmp_path.name}/sweep: seed"
    # the sweep's result on the parent: seeds of one configuration, their spread, no best
    assert parent["tags.tsbench.children"] == SEEDS_OF_ONE
    assert parent["metrics.objective_mean"] == pytest.approx(
        children["metrics.objective"].mean())
    assert parent["metrics.objective_std"] == pytest.approx(
        statistics.stdev(children["metrics.objective"]))
    assert parent["metrics.objective_seeds"] == 2
    assert [c for c in runs if c.startswith(("metrics.best_objective", "tags.tsbench.best"))
            ] == []  # no best seed
    # another sweep into the folder is refused: the parent not reopened
    sweep, before = tmp_path / "sweep", statuses(uri)
    other = run_tsbench([*(a for a in args if a != "seed=1,2"), "seed=1,3",
                         "hydra.sweeper.resume=true"],
                        sweep, env={"MLFLOW_TRACKING_URI": uri}, multirun=True, check=False)
    assert other.returncode == 2 and "holds another multirun" in other.stderr
    assert statuses(uri) == before
    # resumed after a kill in job 1 (its run and the parent left RUNNING, no metrics.json):
    # the killed run is marked KILLED; the jobs not run again are not logged again, and
    # stay the children of the one parent, whose spread is over every seed, once
    killed = run_of(uri, sweep / "1")
    killed_in(uri, parent["run_id"], killed)
    (sweep / "1" / "metrics.json").unlink()
    run_tsbench([*args, "hydra.sweeper.resume=true"], sweep,
                env={"MLFLOW_TRACKING_URI": uri}, multirun=True)
    after = statuses(uri)
    assert after[killed] == "KILLED"
    new = set(after) - set(before)
    assert len(new) == 1 and after[new.pop()] == "FINISHED"  # job 1 run again: its own run
    assert after[run_of(uri, sweep / "0")] == "FINISHED"  # not run again: untouched
    runs = mlflow.search_runs(experiment_names=["tsbench"])
    parents, children = runs[runs[parent_col].isna()], runs[runs[parent_col].notna()]
    assert list(parents["run_id"]) == [parent["run_id"]]
    assert parents["status"].iloc[0] == "FINISHED"
    assert sorted(children["params.seed"].astype(int)) == [1, 2, 2]
    # job 1's two runs share its name; its killed one says KILLED beside it
    assert sorted(zip(children["tags.mlflow.runName"], children["status"], strict=True)) == [
        ("seed=1", "FINISHED"), ("seed=2", "FINISHED"), ("seed=2", "KILLED")]
    latest = children.sort_values("start_time").groupby("params.seed").last()
    assert parents["metrics.objective_mean"].iloc[0] == pytest.approx(
        latest["metrics.objective"].mean())
    assert parents["metrics.objective_seeds"].iloc[0] == 2


@pytest.mark.heavy
def test_mlflow_parent_of_a_search_holds_its_best_trial(tmp_path: Path, uri: str) -> None:
    import mlflow

    args = [a for a in TINY if not a.startswith(("logger", "seq_len"))] + [
        "logger=mlflow", "hydra/sweeper=skopt", "hydra.sweeper.mode=random",
        "hydra.sweeper.n_trials=3", "seq_len=choice(24,36,48)", "hydra.sweeper.random_state=0"]
    run_tsbench(args, tmp_path / "sweep", env={"MLFLOW_TRACKING_URI": uri}, multirun=True)
    best = yaml.safe_load((tmp_path / "sweep" / "best.yaml").read_text())
    mlflow.set_tracking_uri(uri)
    runs = mlflow.search_runs(experiment_names=["tsbench"])
    parent = runs[runs["tags.mlflow.parentRunId"].isna()].iloc[0]
    assert parent["metrics.best_objective"] == pytest.approx(best["objective"], rel=1e-12)
    assert parent["params.best.seq_len"] == str(best["params"]["seq_len"])
    assert parent["metrics.trials_finished"] == 3 and parent["metrics.trials_failed"] == 0
    assert parent["tags.tsbench.best_job_dir"] == best["job_dir"]
    # each trial's run named by its number and what it tried, as trials.csv has them
    trials = pd.read_csv(tmp_path / "sweep" / "trials.csv")
    children = runs[runs["tags.mlflow.parentRunId"].notna()]
    assert sorted(children["tags.mlflow.runName"]) == sorted(
        f"trial {t.trial}: seq_len={t.seq_len}" for t in trials.itertuples())
    assert parent["tags.mlflow.runName"] == f"search {tmp_path.name}/sweep: seq_len"


def test_mlflows_val_mse_is_the_runs_score_and_val_loss_its_curve(tmp_path: Path, uri: str
                                                                  ) -> None:
    """The curve has its own name (val_loss, as in every logger): MLflow's run table shows
    a metric's value at its highest step, so a curve named val_mse, beside the score logged
    at step 0, would show the last epoch's loss. A run whose best epoch is not its last."""
    import mlflow

    args = [a for a in DIVERGING if not a.startswith("logger")] + ["logger=mlflow"]
    run_tsbench(args, tmp_path / "run", env={"MLFLOW_TRACKING_URI": uri})
    metrics = read_metrics(tmp_path / "run")
    client = mlflow.tracking.MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("tsbench").experiment_id])
    curve = [m.value for m in client.get_metric_history(run.info.run_id, "val_loss")]
    assert len(curve) == metrics["epochs"] and curve[-1] > min(curve)  # best not last
    assert min(curve) == pytest.approx(metrics["val_mse"], rel=1e-5)
    assert run.data.metrics["val_mse"] == metrics["val_mse"]


def test_two_mlflow_runs_started_at_once_in_a_fresh_folder_both_land_in_its_store(
        tmp_path: Path) -> None:
    """Both create the SQLite store under logger.output_root at the same moment: each waits
    for the other's first open (its tables, the experiment), so neither dies half-way
    through MLflow's migrations and both runs are in the store."""
    import mlflow

    args = [a for a in TINY if not a.startswith(("logger", "model"))] + [
        "model=naive", "logger=mlflow", f"logger.output_root={tmp_path / 'out'}"]
    start = threading.Barrier(2)
    done: dict[str, subprocess.CompletedProcess] = {}

    def run(name: str) -> None:
        start.wait()
        done[name] = run_tsbench(args, tmp_path / name, check=False,  # the default store:
                                 env={"MLFLOW_TRACKING_URI": ""})  # set_tracking_uri sets it

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name, proc in done.items():
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert (tmp_path / name / "metrics.json").is_file()
    client = mlflow.tracking.MlflowClient(f"sqlite:///{tmp_path / 'out' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("tsbench").experiment_id])
    assert sorted(run.data.tags["tsbench.run_dir"] for run in runs) == [
        str((tmp_path / name).resolve()) for name in ("a", "b")]
    assert all(run.info.status == "FINISHED" and "test_mse" in run.data.metrics
               for run in runs)


def test_tensorboard_has_the_config_beside_the_final_scores(tmp_path: Path) -> None:
    """The HParams tab compares a sweep's runs: each run's resolved config with its final
    scores, which are the run's metrics.json (settings such as the seed are not scores);
    the Text tab shows its protocol card.
    Its settings are named as the command line (and MLflow's params) name them:
    ``model.name``, not Lightning's ``model/name``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    args = [a for a in TINY if not a.startswith("logger")] + ["logger=tensorboard"]
    run_tsbench(args, tmp_path / "run")
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard")).Reload()
    start = HParamsPluginData.FromString(
        events.PluginTagToContent("hparams")["_hparams_/session_start_info"])
    hparams = start.session_start_info.hparams
    config = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert hparams["model.name"].string_value == config["model"]["name"]
    assert hparams["optim.lr"].number_value == config["optim"]["lr"]
    assert not [name for name in hparams if "/" in name]
    assert hparams["pred_len"].number_value == config["pred_len"]
    metrics = yaml.safe_load((tmp_path / "run" / "metrics.json").read_text())
    for key in ("test_mse", "val_mse", "test_mae", "n_params"):
        assert events.Scalars(key)[-1].value == pytest.approx(metrics[key], rel=1e-6), key
    assert "val_loss" in events.Tags()["scalars"]  # the training curve
    # each epoch once at its step (Lightning logs it with each curve: twice per step before)
    epochs = [(e.step, e.value) for e in events.Scalars("epoch")]
    assert epochs == [(e.step, n) for n, e in enumerate(events.Scalars("val_loss"))]
    assert not {"seed", "threads", "step", "hp_metric"} & set(events.Tags()["scalars"])
    # and TensorBoard's hparams.yaml beside the events holds the same config
    assert yaml.safe_load((tmp_path / "run" / "tensorboard" / "hparams.yaml").read_text()) \
        == config
    # the protocol card as the run's "protocol" text, protocol.json's own JSON
    (text,) = events.Tensors("protocol/text_summary")
    card = (tmp_path / "run" / "protocol.json").read_text().strip()
    assert text.tensor_proto.string_val[0].decode() == f"```json\n{card}\n```"


def test_an_mlflow_run_of_a_csv_file_is_named_by_the_file(tmp_path: Path) -> None:
    """``naive-load.csv-12-seed2021-run``, as its pictures and tsbench-report name the data,
    not ``naive-csv-...`` for every file of the user's."""
    import mlflow

    args = naive_run_of_a_csv(tmp_path, "logger=mlflow",
                              f"logger.output_root={tmp_path / 'out'}")
    run_tsbench(args, tmp_path / "run", env={"MLFLOW_TRACKING_URI": ""})
    client = mlflow.tracking.MlflowClient(f"sqlite:///{tmp_path / 'out' / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("tsbench").experiment_id])
    assert run.info.run_name == "naive-load.csv-12-seed2021-run"


def test_a_store_mlflow_refuses_is_one_line_before_training(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow 3 refuses a file store (./mlruns) unless MLFLOW_ALLOW_FILE_STORE is set: said in
    one line with the ways out, not MLflow's traceback."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"file:{tmp_path / 'mlruns'}")
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    cfg = check_settings([*[a for a in TINY if not a.startswith("logger")], "logger=mlflow"])
    with pytest.raises(ConfigError) as refused:
        build_logger(cfg, tmp_path / "run")
    assert str(refused.value).startswith(
        f"logger: the MLflow store file:{tmp_path / 'mlruns'} refused the run: The filesystem "
        "tracking backend")
    assert str(refused.value).endswith("or for a file store set MLFLOW_ALLOW_FILE_STORE=true")


def test_the_store_is_the_configured_one_then_the_environments_then_sqlite(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    assert tracking_uri("sqlite:///configured.db", tmp_path) == "sqlite:///configured.db"
    assert tracking_uri(None, tmp_path) == "http://tracking.example:5000"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert tracking_uri(None, tmp_path / "out") == f"sqlite:///{tmp_path / 'out' / 'mlflow.db'}"


def _closed_port() -> int:
    """A local port nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def answering_server() -> Iterator[str]:
    """A local HTTP server that answers every request with 404 (no /health of its own)."""
    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the handler's name
            self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_tracking_server_that_answers_at_all_is_not_refused(answering_server: str) -> None:
    check_server(answering_server)  # a 404 is an answer: the server is there
    check_server("sqlite:///no/server.db")  # not a server's URI: nothing to reach


def test_a_tracking_server_that_does_not_answer_is_refused_in_seconds() -> None:
    with socket.socket() as silent:  # accepts connections, never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        start = time.monotonic()
        with pytest.raises(ConfigError, match="no MLflow server answers at http://127.0.0.1:"
                                              r"\d+ \(timed out\) -> start it"):
            check_server(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5)
        assert time.monotonic() - start < 5


@pytest.mark.parametrize("multirun", [False, True])
def test_an_unreachable_tracking_server_refuses_the_run_before_any_folder(
        multirun: bool, tmp_path: Path) -> None:
    """Not MLflow's minutes of retries, and in a sweep once, not once per job."""
    uri = f"http://127.0.0.1:{_closed_port()}"
    args = [*[a for a in TINY if not a.startswith("logger")], "logger=mlflow",
            f"logger.tracking_uri={uri}", *(["seed=1,2"] if multirun else [])]
    proc = run_tsbench(args, tmp_path / "out", multirun=multirun, check=False)
    assert proc.returncode == 2
    said = [line for line in proc.stderr.splitlines() if "tsbench: error" in line]
    assert said == [f"tsbench: error: logger: no MLflow server answers at {uri} ([Errno 111] "
                    "Connection refused) -> start it (mlflow server --host HOST --port PORT), "
                    "correct logger.tracking_uri or MLFLOW_TRACKING_URI, or unset both for the "
                    "SQLite store under outputs/"]
    assert not (tmp_path / "out").exists()


def test_a_file_store_mlflow_refuses_refuses_the_multirun_before_any_job(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MLFLOW_TRACKING_URI=file:... (MLflow 3 refuses it): one line before the sweep, not a
    failure of every job after its start (a user's skopt sweep failed 4 of 4 trials so)."""
    store = f"file:{tmp_path / 'mlruns'}"
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    args = [*[a for a in TINY if not a.startswith("logger")], "logger=mlflow", "seed=1,2"]
    proc = run_tsbench(args, tmp_path / "out", env={"MLFLOW_TRACKING_URI": store},
                       multirun=True, check=False)
    assert proc.returncode == 2
    said = [line for line in proc.stderr.splitlines() if "error" in line]
    assert len(said) == 1 and said[0].startswith(
        f"tsbench: error: logger: the MLflow store {store} refused the run: The filesystem "
        "tracking backend"), proc.stderr
    assert said[0].endswith("or for a file store set MLFLOW_ALLOW_FILE_STORE=true")
    assert not (tmp_path / "out").exists()


def test_a_file_store_mlflow_refuses_refuses_a_single_run_before_it_reads_the_data(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a multirun is: one line, before the data is read. Before, a single run read its
    file first, and logged what the file made it warn of (here a forward-filled test cell)
    above the refusal: a warning about a run that never came."""
    stamps = pd.date_range("2024-01-01", periods=600, freq="h").delete(550)  # a test row
    csv = tmp_path / "load.csv"
    pd.DataFrame({"date": stamps, "a": range(599), "OT": [i % 24 for i in range(599)]}
                 ).to_csv(csv, index=False)
    store = f"file:{tmp_path / 'mlruns'}"
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    args = [*[a for a in TINY if not a.startswith(("logger", "dataset"))], "dataset=csv",
            f"dataset.path={csv}", "dataset.fillna=ffill", "logger=mlflow"]
    proc = run_tsbench(args, tmp_path / "out", env={"MLFLOW_TRACKING_URI": store},
                       check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        f"tsbench: error: logger: the MLflow store {store} refused the run: The filesystem "
        "tracking backend"), proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stdout == "", proc.stdout
    assert not (tmp_path / "out").exists()


def test_a_database_store_without_its_driver_refuses_the_multirun_in_one_line(
        tmp_path: Path) -> None:
    """A postgresql:// store where psycopg is not installed: one line naming the module,
    not a traceback out of the check before the multirun."""
    try:
        import psycopg  # noqa: F401
        pytest.skip("psycopg is installed here: its store would be connected to")
    except ImportError:
        pass
    store = "postgresql://user:secret@127.0.0.1:9/mlflow"
    args = [*[a for a in TINY if not a.startswith("logger")], "logger=mlflow", "seed=1,2"]
    proc = run_tsbench(args, tmp_path / "out", env={"MLFLOW_TRACKING_URI": store},
                       multirun=True, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    said = [line for line in proc.stderr.splitlines() if "error" in line]
    assert said == [f"tsbench: error: logger: the MLflow store {store} needs the Python "
                    "module psycopg, which is not installed -> install the database's driver "
                    "in this environment, or unset MLFLOW_TRACKING_URI and "
                    "logger.tracking_uri for the SQLite store under outputs/"], proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_server_that_is_not_mlflows_is_named_with_the_fix_for_an_address(
        answering_server: str, tmp_path: Path) -> None:
    """Something answers (the reachability check passes) but not MLflow's API: one line
    whose fix is about the address, not the file store's switch."""
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[*[a for a in TINY if not a.startswith("logger")],
                                           "logger=mlflow",
                                           f"logger.tracking_uri={answering_server}"])
    with pytest.raises(ConfigError) as refused:
        build_logger(cfg, tmp_path / "run")
    message = str(refused.value)
    assert message.startswith(f"logger: the MLflow store {answering_server} refused the run")
    assert message.endswith("-> check that it is an MLflow tracking server's address (mlflow "
                            "server), or unset MLFLOW_TRACKING_URI and logger.tracking_uri for "
                            "the SQLite store under outputs/")
