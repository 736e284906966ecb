"""trials.csv round trip, resume/warm-start reading, best.yaml and the log line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser

from tsbench.errors import ConfigError
from tsbench.search import report
from tsbench.search.composition import compose_tsbench as compose
from tsbench.search.space import parse_space
from tsbench.search.trials import Trial, read_trials, write_trials

PARSER = OverridesParser.create()
SPACE = parse_space(
    {"optim.lr": "tag(log, interval(1e-5, 1e-2))", "kind": "choice(a, 'b c')"},
    ["n=range(1, 4)", "dataset=synthetic"],
    PARSER,
)
TRIALS = [
    Trial(1, 0, [0.001, "a", 1], 0.5, 1.25, "0"),
    Trial(2, 1, [1e-05, "b c", 3], None, 0.5, "1", "ValueError: boom"),
    Trial(3, 3, [0.0001, "a", 2], 0.25, 2.0, "3"),
]


def test_trials_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    write_trials(path, TRIALS, SPACE)
    header = path.read_text().splitlines()[0]
    assert header == "trial,job,status,objective,seconds,optim.lr,kind,n,job_dir,error"
    assert read_trials(path, SPACE, strict=True) == TRIALS
    assert not list(tmp_path.glob(".trials*"))  # no temporary file left behind


def test_pruned_trials_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    trials = [
        TRIALS[0],
        Trial(2, 4, [1e-05, "b c", 3], 0.9, 0.5, "4", "asha rung 3: ...", 3),
        Trial(3, 5, [0.0001, "a", 2], None, 0.1, "5", "ValueError: x"),
    ]
    write_trials(path, trials, SPACE, pruning=True)
    lines = path.read_text().splitlines()
    assert lines[0] == (
        "trial,job,status,objective,seconds,pruned_at_epoch,optim.lr,kind,n,job_dir,error"
    )
    assert lines[2].startswith("2,4,pruned,0.9,0.5,3,")
    assert read_trials(path, SPACE, strict=True) == trials
    assert [t.status for t in trials] == ["ok", "pruned", "failed"]


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda text: b"\x00\x9f\x92\x96" * 50, "not a readable CSV file"),
        (lambda text: text.replace("0.25", "abc").encode(), "column 'objective' holds 'abc'"),
        (lambda text: text.replace("\n3,3,ok", "\n3,three,ok").encode(),
         "column 'job' holds 'three'"),
        (lambda text: text[: text.rindex("a,2")].encode(), "line 4 has 7 fields where"),
        (lambda text: (text + text.splitlines()[1].replace("0.5", "0.7") + "\n").encode(),
         "records trial 1 (Hydra job #0) again, differently from line 2"),
        (lambda text: text.replace("\n3,3,ok", "\n1,3,ok").encode(),
         "records trial 1 on more than one line"),
        (lambda text: text.replace("\n3,3,ok", "\n3,1,ok").encode(),
         "records job 1 on more than one line"),
    ],
)
def test_damaged_record_is_one_clear_error(tmp_path: Path, damage, message: str) -> None:
    path = tmp_path / "trials.csv"
    write_trials(path, TRIALS, SPACE)
    path.write_bytes(damage(path.read_text()))
    with pytest.raises(ConfigError, match="hydra.sweeper.resume") as caught:
        read_trials(path, SPACE, strict=True)
    assert message in str(caught.value) and "outside" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_repeated_row_counts_once(tmp_path: Path, caplog) -> None:
    path = tmp_path / "trials.csv"
    write_trials(path, TRIALS, SPACE)
    text = path.read_text()
    path.write_text(text + text.splitlines()[2] + "\n")
    assert read_trials(path, SPACE, strict=True) == TRIALS
    assert "line 5 repeats line 3; counted once" in caplog.text


def test_resume_refuses_a_changed_space_warm_start_skips(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    write_trials(path, TRIALS, SPACE)
    narrower = parse_space(
        {"optim.lr": "tag(log, interval(1e-4, 1e-2))", "kind": "choice(a, 'b c')"},
        ["n=range(1, 4)"],
        PARSER,
    )
    with pytest.raises(ConfigError, match="line 3 lies outside"):
        read_trials(path, narrower, strict=True)
    assert [t.point for t in read_trials(path, narrower, strict=False)] == [
        TRIALS[0].point,
        TRIALS[2].point,
    ]
    wider = parse_space({}, ["kind=a,'b c'", "n=range(1, 4)", "d=range(1, 3)"], PARSER)
    with pytest.raises(ConfigError, match=r"no column \['d'\]"):
        read_trials(path, wider, strict=False)
    widest = parse_space({}, ["n=range(1, 4)", "d=range(1, 3)", "e=range(1, 3)"], PARSER)
    with pytest.raises(ConfigError, match=r"no columns \['d', 'e'\]"):
        read_trials(path, widest, strict=False)


@pytest.mark.parametrize("maximize, best", [(False, 3), (True, 1)])
def test_best_yaml(tmp_path: Path, monkeypatch, maximize: bool, best: int) -> None:
    monkeypatch.setattr(sys, "argv", ["/venv/bin/tsbench"])
    monkeypatch.delenv("PYTHONPATH", raising=False)
    trial = report.write_best(tmp_path / "best.yaml", SPACE, TRIALS, maximize, compose)
    content = yaml.safe_load((tmp_path / "best.yaml").read_text())
    assert trial is not None and trial.number == best == content["trial"]
    assert content["params"] == SPACE.values(trial.point)
    assert content["command"].startswith("tsbench dataset=synthetic optim.lr=")
    assert content["command"].endswith(" hydra.mode=RUN")
    assert "kind='b c'" not in content["command"] or "\"kind='b c'\"" in content["command"]
    assert (content["trials_finished"], content["trials_failed"]) == (2, 1)
    # a user's own model module (kept, absolute: the command reruns from anywhere, quoted),
    # and the config folder of its YAML on a relative search path (absolute too)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", "my models")
    job = tmp_path / "sweep" / TRIALS[best - 1].job_dir
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump({"hydra": {"overrides": {
        "hydra": ["hydra.searchpath=[file://conf,pkg://x]", "hydra.sweeper.n_trials=3"]}}}))
    report.write_best(tmp_path / "sweep" / "best.yaml", SPACE, TRIALS, maximize, compose)
    command = yaml.safe_load((tmp_path / "sweep" / "best.yaml").read_text())["command"]
    assert command.startswith(f"PYTHONPATH='{tmp_path / 'my models'}' tsbench dataset=")
    assert f" 'hydra.searchpath=[file://{tmp_path / 'conf'},pkg://x]' " in command
    assert "n_trials" not in command


def test_best_yaml_writes_a_relative_data_file_absolute(tmp_path: Path, monkeypatch) -> None:
    """``dataset.path=my data/sales.csv`` reads from the sweep's working directory: the
    rerun command names it absolute (quoted), so it runs from anywhere; an absolute path
    and an interpolation stay as given."""
    monkeypatch.setattr(sys, "argv", ["/venv/bin/tsbench"])
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.chdir(tmp_path)
    space = parse_space({"optim.lr": "tag(log, interval(1e-5, 1e-2))", "kind": "choice(a, b)"},
                        ["n=range(1, 4)", "dataset=csv", "dataset.path='my data/sales.csv'",
                         "logger.dir=/abs/wandb"], PARSER)
    trials = [Trial(1, 0, [0.001, "a", 1], 0.5, 1.25, "0")]
    report.write_best(tmp_path / "best.yaml", space, trials, False, compose)
    command = yaml.safe_load((tmp_path / "best.yaml").read_text())["command"]
    assert f"'dataset.path={tmp_path / 'my data' / 'sales.csv'}'" in command
    assert " logger.dir=/abs/wandb " in command
    kept = parse_space({"kind": "choice(a, b)"}, ["dataset.path=${oc.env:HOME}/x.csv"], PARSER)
    report.write_best(tmp_path / "best.yaml", kept, [Trial(1, 0, ["a"], 0.5, 1.0, "0")], False,
                      compose)
    assert "'dataset.path=${oc.env:HOME}/x.csv'" in yaml.safe_load(
        (tmp_path / "best.yaml").read_text())["command"]
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # a ~ is the home directory's file
    home = parse_space({"kind": "choice(a, b)"}, ["dataset.path='~/x.csv'"], PARSER)
    report.write_best(tmp_path / "best.yaml", home, [Trial(1, 0, ["a"], 0.5, 1.0, "0")], False,
                      compose)
    assert f" dataset.path={tmp_path / 'home' / 'x.csv'} " in yaml.safe_load(
        (tmp_path / "best.yaml").read_text())["command"]


@pytest.mark.parametrize("maximize, best, pruned_value", [(False, 3, 0.125), (True, 1, 0.75)])
def test_a_pruned_trial_is_never_best(tmp_path: Path, maximize: bool, best: int,
                                      pruned_value: float) -> None:
    """Only trials that ran their full budget are candidates for best.yaml: a pruned trial
    whose value beats them all (one fold's loss under cv=tscv, a trial max_seconds cut)
    is counted as pruned, never named best."""
    pruned = Trial(4, 4, [0.001, "b c", 2], pruned_value, 1.0, "4", "asha rung 1: ...", 1)
    trial = report.write_best(tmp_path / "best.yaml", SPACE, [*TRIALS, pruned], maximize, compose)
    content = yaml.safe_load((tmp_path / "best.yaml").read_text())
    assert trial is not None and trial.number == best == content["trial"]
    assert content["objective"] == TRIALS[best - 1].objective
    assert content["params"] == SPACE.values(TRIALS[best - 1].point)
    assert (content["trials_finished"], content["trials_pruned"]) == (2, 1)


def test_a_tie_for_best_goes_to_the_earliest_trial(tmp_path: Path) -> None:
    """Trials with the same best objective (a deterministic model): best.yaml names the
    earliest of them, whatever order the trials are given in."""
    tied = [Trial(4, 5, [0.001, "b c", 1], 0.25, 1.0, "5"),
            Trial(5, 6, [0.01, "a", 3], 0.25, 1.0, "6")]
    for trials in ([*TRIALS, *tied], [*tied, *TRIALS[::-1]]):
        trial = report.write_best(tmp_path / "best.yaml", SPACE, trials, False, compose)
        content = yaml.safe_load((tmp_path / "best.yaml").read_text())
        assert trial is not None and trial.number == 3 == content["trial"]
        assert content["job_dir"] == "3"


def test_no_best_when_all_failed(tmp_path: Path) -> None:
    assert report.write_best(tmp_path / "best.yaml", SPACE, TRIALS[1:2], False, compose) is None
    assert not (tmp_path / "best.yaml").exists()


@pytest.mark.parametrize(
    "argv0, program",
    [
        ("/venv/bin/tsbench", "tsbench"),
        ("/src/tsbench/__main__.py", "python -m tsbench"),
        ("/tmp/my app.py", "python '/tmp/my app.py'"),
    ],
)
def test_program(monkeypatch, argv0: str, program: str) -> None:
    monkeypatch.setattr(sys, "argv", [argv0])
    assert report.program() == program


def test_a_better_warm_start_trial_is_named_where_its_command_is(tmp_path: Path) -> None:
    """Where this sweep has no best trial (none ran its full budget), its best.yaml holds
    the better warm-start trial, its command and the sweep's counts alone (no main block:
    no trial of this sweep to name), and the closing line points there."""
    warm = report.WarmStart(Path("rs/trials.csv"), (TRIALS[2],))
    assert report.better_warm(TRIALS[:2], warm, maximize=False) == TRIALS[2]
    assert report.better_warm(TRIALS, warm, maximize=False) is None  # a tie is not better
    assert report.better_warm([TRIALS[1]], warm, maximize=False) == TRIALS[2]
    path = tmp_path / "best.yaml"
    assert report.write_best(path, SPACE, [TRIALS[1]], False, compose, warm) is None
    best = yaml.safe_load(path.read_text())
    assert {k: v for k, v in best.items() if k != "warm_start_best"} == {
        "direction": "minimize", "trials_finished": 0, "trials_pruned": 0, "trials_failed": 1}
    assert best["warm_start_best"]["trial"] == 3
    assert "optim.lr=0.0001" in best["warm_start_best"]["command"]
    said = report.summary([TRIALS[1]], None, "0.25 (trial 3 of rs/trials.csv: lr=0.0001)")
    assert said.endswith("; best none; the warm-start file's best, 0.25 (trial 3 of "
                         "rs/trials.csv: lr=0.0001), is better than this sweep's -> "
                         "best.yaml's warm_start_best gives its command")


def test_trial_line() -> None:
    line = report.trial_line(TRIALS[1], 3, 10, TRIALS[0], 12.34)
    assert line == "trial 2 (Hydra job #1): value=failed best=0.5 ended=3/10 elapsed=12.3s"
    line = report.trial_line(TRIALS[0], 1, 10, TRIALS[0], 1.0)
    assert line.startswith("trial 1 (Hydra job #0): value=0.5 best=0.5 ended=1/10 ")


@pytest.mark.parametrize("cv, mark", [
    ({"name": "tscv", "refit": False}, ["cv.refit=true"]),  # the choice scored on test once
    ({"name": "tscv", "refit": True}, []),
    ({"name": "holdout"}, []),
])
def test_a_cross_validated_trials_rerun_scores_the_test_split(
        tmp_path: Path, monkeypatch, cv: dict, mark: list[str]) -> None:
    """best.yaml's command of a cv=tscv trial (a search's trial scores no test split) adds
    cv.refit=true: the same folds and objective, then the test split once."""
    monkeypatch.setattr(sys, "argv", ["/venv/bin/tsbench"])
    monkeypatch.delenv("PYTHONPATH", raising=False)
    job = tmp_path / "sweep" / TRIALS[2].job_dir
    job.mkdir(parents=True)
    (job / "config.yaml").write_text(yaml.safe_dump({"cv": cv, "seed": 1}))
    report.write_best(tmp_path / "sweep" / "best.yaml", SPACE, TRIALS, False, compose)
    command = yaml.safe_load((tmp_path / "sweep" / "best.yaml").read_text())["command"]
    assert command.endswith(" ".join([*mark, "hydra.mode=RUN"]))
    assert report.refit_mark(job) == mark
