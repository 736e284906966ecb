"""Hydra compositions and CPU seconds of four tiny tsbench commands: a run, a ``-m`` grid of
2 jobs, an skopt search of 2 trials, and ``tsbench-tune``'s preflight (the checks before its
stage (a)). Each composition of a config costs about 0.1 s of CPU on a 2-core machine, spent
in OmegaConf and YAML: a command that composes the same config again pays it again.

    python benchmarks/command_start.py [--repeats 3]

Each command runs in a fork of this process after torch and Lightning are imported, as the
tests run tsbench (``tests/preloaded.py``): its count and CPU are the fork's alone (its own
and its children's, all of its jobs included). Compositions are counted by wrapping Hydra's
``ConfigLoaderImpl.load_configuration`` (:func:`tsbench.hydra_private.config_loader_class`)
in the fork: every composition, Hydra's and tsbench's own checks', passes through it.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
from pathlib import Path

import pytorch_lightning  # noqa: F401 (imported before forking, as the fork server does)
import torch  # noqa: F401

import tsbench.training.run  # noqa: F401

TINY = ["dataset=synthetic", "dataset.n_rows=600", "model=dlinear", "seq_len=48",
        "pred_len=12", "trainer=debug", "trainer.max_epochs=1", "logger=none",
        "trainer.progress_bar=false", "plots=false"]
#: Each command, as its program's arguments (``{out}``: a new folder of the fork's own).
COMMANDS: dict[str, tuple[str, list[str]]] = {
    "tsbench run": ("tsbench", [*TINY, "hydra.run.dir={out}"]),
    "tsbench -m grid of 2 jobs": ("tsbench", ["-m", *TINY, "seed=1,2", "hydra.sweep.dir={out}"]),
    "tsbench -m skopt search of 2 trials": ("tsbench", [
        "-m", "hydra/sweeper=skopt", *TINY, "hydra.sweeper.n_trials=2",
        "hydra.sweeper.mode=random", "hydra.sweeper.random_state=0",
        "hydra.sweeper.plots=false", "model.individual=choice(true,false)",
        "hydra.sweep.dir={out}"]),
    "tsbench-tune preflight": ("preflight", [
        "dataset=synthetic", "dataset.n_rows=600", "model=dlinear", "seq_len=48",
        "pred_len=12", "logger=none"]),
}


def run_tsbench(args: list[str]) -> None:
    """``tsbench args`` as its entry point runs it."""
    from tsbench.cli import entry

    sys.argv = ["tsbench", *args]
    try:
        entry()
    except SystemExit as exit_:
        if exit_.code not in (None, 0):
            raise


def run_preflight(args: list[str]) -> None:
    """What ``tsbench-tune args`` (the quick recipe) does before its first stage: its
    command's parse (with :func:`~tsbench.tune.cli.default_out`) and ``run_recipe``'s
    checks, up to the folder it makes."""
    from tsbench.tune import recipe as tune_recipe
    from tsbench.tune.cli import parse

    class Preflown(Exception):
        """Raised where the folder is made: the checks are over."""

    def stop(*_args: object, **_kwargs: object) -> None:
        raise Preflown

    overrides, recipe, out = parse([*args, "recipe=quick"])
    tune_recipe.held = stop  # the lock is taken right after the checks
    try:
        tune_recipe.run_recipe(overrides, recipe, out)  # relative: in the fork's own folder
    except Preflown:
        pass


def measured(program: str, args: list[str]) -> tuple[int, float]:
    """Compositions and CPU seconds of ``program args`` in a fork of this process."""
    read, write = os.pipe()
    log = tempfile.NamedTemporaryFile(prefix="command_start-", suffix=".log", delete=False)
    pid = os.fork()
    if pid == 0:  # the fork: count, run, report through the pipe, exit
        os.close(read)
        code = 0
        try:
            for fd in (1, 2):  # the command's own output, shown only if it fails
                os.dup2(log.fileno(), fd)
            from tsbench.hydra_private import config_loader_class

            loader = config_loader_class()
            count = [0]
            load = loader.load_configuration

            def counted(self: object, *a: object, **k: object) -> object:
                count[0] += 1
                return load(self, *a, **k)

            loader.load_configuration = counted  # type: ignore[attr-defined]
            with tempfile.TemporaryDirectory() as folder:
                os.chdir(folder)
                given = [a.replace("{out}", f"{folder}/out") for a in args]
                (run_tsbench if program == "tsbench" else run_preflight)(given)
            usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN)]
            cpu = sum(u.ru_utime + u.ru_stime for u in usage)
            os.write(write, json.dumps([count[0], cpu]).encode())
        except BaseException as error:  # noqa: BLE001 - said, then the fork exits non-zero
            print(f"{program} {args}: {error!r}", file=sys.stderr, flush=True)
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        said = pipe.read()
    _, status = os.waitpid(pid, 0)
    output = Path(log.name).read_text(errors="replace")
    os.unlink(log.name)
    if status != 0 or not said:
        raise SystemExit(f"{program} {' '.join(args)} failed (status {status}):\n{output}")
    count, cpu = json.loads(said)
    return int(count), float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    os.environ.setdefault("TSBENCH_OFFLINE", "1")
    print(f"{'command':<38} {'compositions':>12} {'CPU s (median)':>15}")
    for name, (program, args) in COMMANDS.items():
        runs = [measured(program, args) for _ in range(repeats)]
        counts = {count for count, _ in runs}
        cpu = statistics.median(c for _, c in runs)
        shown = "/".join(map(str, sorted(counts)))
        print(f"{name:<38} {shown:>12} {cpu:>15.2f}", flush=True)
    print(f"(CPU of each fork and its children; a fork starts at zero, the imports it "
          f"inherits uncounted; median of {repeats})")


if __name__ == "__main__":
    main()
