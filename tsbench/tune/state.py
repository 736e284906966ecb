"""What a tuning folder has done so far: the settings it was started with, the wall time
spent, and the result of every finished stage, kept in ``tune.json`` (written atomically).

Starting ``tsbench-tune`` again on the same folder reads it back: finished stages are not
run again, the budget counts the time already spent, and a folder started with other
settings is refused, naming each difference. ``tune.json`` is written when a stage ends;
while stages run, :meth:`TuneState.clock` also writes the seconds spent to
``tune_clock.json`` every few seconds and at the end (an interrupt or a SIGTERM too), so
that a stopped run's unfinished stage counts too.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tsbench.atomic import write_json
from tsbench.errors import ConfigError
from tsbench.rundir import CONFIG, HYDRA_CONFIG, METRICS
from tsbench.search.names import MULTIRUN_FILE, TRIALS_FILE
from tsbench.search.report import absolute_paths
from tsbench.tuning_files import STATE_FILE

log = logging.getLogger("tsbench.tune")

#: The settings' key of a CSV file's sha256 (:func:`tsbench.tune.preflight.data_settings`).
DATA_KEY = "data_sha256"
CLOCK_FILE = "tune_clock.json"
#: The lock a running tsbench-tune holds in its folder (:mod:`tsbench.folder_lock`).
LOCK_FILE = "tune.lock"
#: What tsbench-tune writes into its folder before tune.json exists (a run killed in stage
#: (a)): the stages' folders, logs and seeds (``a_baseline``, ``d_random.log``, ...) and
#: its clock (its lock is no sign that a stage wrote anything).
OWN_ENTRY = re.compile(rf"[a-g]_\w+(\.log|\.csv)?|{re.escape(CLOCK_FILE)}|report\.(json|md)")
#: What marks a folder as another tool's output: a tsbench run's or a multirun's (a stray
#: file, an editor's or a half-written temporary one, is no reason to refuse a resume).
FOREIGN = (MULTIRUN_FILE, Path(HYDRA_CONFIG).parent.as_posix(), CONFIG, METRICS, TRIALS_FILE)


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two runs' settings, one entry each: the overrides given only
    then or only now (their order does not change the composed config, nor does a relative
    path written absolute, as ``report.md``'s command writes it), each differing
    recipe field, any other differing setting."""
    found = []
    for key in sorted({*old, *new}):
        then, now = old.get(key), new.get(key)
        if key == DATA_KEY and None not in (then, now) and then != now:
            found.append(f"the CSV file's sha256: {str(then)[:12]} then, {str(now)[:12]} now "
                         "(its stages ran on the file as it was)")
        elif key == DATA_KEY:  # the same file, a folder of a tsbench that kept no digest,
            continue  # or a file gone (the command's check says so)
        elif key == "overrides" and isinstance(then, list) and isinstance(now, list):
            then, now = [absolute_paths(o) for o in then], [absolute_paths(o) for o in now]
            gone, added = [o for o in then if o not in now], [o for o in now if o not in then]
            if gone or added:
                found.append(f"overrides: {' '.join(gone) or 'none'} only then, "
                             f"{' '.join(added) or 'none'} only now")
        elif key == "recipe" and isinstance(then, dict) and isinstance(now, dict):
            found += [f"recipe.{field}: {then.get(field)!r} then, {now.get(field)!r} now"
                      for field in sorted({*then, *now}) if then.get(field) != now.get(field)]
        elif then != now:
            found.append(f"{key}: {then!r} then, {now!r} now")
    return found


def holds_stages(out_dir: Path) -> bool:
    """Whether a tuning run's stages wrote into ``out_dir`` (more than its lock)."""
    return out_dir.is_dir() and any(OWN_ENTRY.fullmatch(p.name) for p in out_dir.iterdir())


@dataclass
class TuneState:
    """The settings, the seconds spent in earlier sessions, and each finished stage's result."""

    path: Path
    settings: dict[str, Any]
    spent_before: float = 0.0
    stages: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def open(cls, out_dir: Path, settings: dict[str, Any]) -> TuneState:
        """The folder's state; a new one if there is none, else the recorded one, whose
        settings must equal ``settings``."""
        path = out_dir / STATE_FILE
        if not path.is_file():
            others = [name for name in FOREIGN if (out_dir / name).exists()]
            if others:
                raise ConfigError("out", f"{out_dir} holds the output of something else "
                                  f"({', '.join(others)}), not a tsbench-tune run",
                                  "give a new or empty out=DIR")
            return cls(path, settings)
        try:
            recorded = json.loads(path.read_text())
            old = recorded["settings"]
        except (ValueError, KeyError, TypeError) as error:
            raise ConfigError("out", f"{path} is not a tsbench-tune record ({error})",
                              "give a new out=DIR") from None
        changed = differences(old, settings)
        data_only = differences({**old, DATA_KEY: None}, {**settings, DATA_KEY: None}) == []
        if changed and data_only and "g_report" in recorded.get("stages", {}):
            log.warning("out: %s: the CSV file has changed since this finished run (sha256 "
                        "%s then, %s now); its report stays as it was written", out_dir,
                        str(old[DATA_KEY])[:12], str(settings[DATA_KEY])[:12])
        elif changed:
            fix = ("restore the file to resume it, or give a new out=DIR to tune on the new "
                   "file" if data_only else
                   "run the same command to resume it, or give a new out=DIR")
            if not recorded.get("stages"):  # a first stage that failed or was stopped
                fix += (f" (no stage of it has finished: deleting {out_dir} starts it anew "
                        "with this command)")
            raise ConfigError("out", f"{out_dir} holds a tuning run started with other "
                              f"settings ({'; '.join(changed)})", fix)
        spent = [float(recorded.get("spent_seconds", 0.0))]
        clock = out_dir / CLOCK_FILE
        if clock.is_file():  # the last tick of a session killed after tune.json was written
            try:
                spent.append(float(json.loads(clock.read_text())["spent_seconds"]))
            except (ValueError, KeyError, TypeError):
                pass  # a clock that cannot be read: tune.json's figure stands
        return cls(path, settings, max(spent), dict(recorded.get("stages", {})))

    def spent(self) -> float:
        """Wall seconds spent on this folder, over every session."""
        return self.spent_before + time.monotonic() - self.started

    @contextmanager
    def clock(self, interval: float = 5.0) -> Iterator[None]:
        """Write the seconds spent to ``tune_clock.json`` every ``interval`` seconds while
        the block runs, and when it ends, by an interrupt or by a SIGTERM too (whose
        handler ends ``tsbench-tune`` at once, no ``finally`` run: :func:`on_sigterm`): a
        ``kill -9`` loses at most ``interval`` seconds of the time its budget counts, a
        stop by either signal none."""
        stop = threading.Event()
        one_at_a_time = threading.RLock()  # a SIGTERM's write may cut into the main thread's

        def write() -> None:  # the time read under the lock: the last write is the latest
            with one_at_a_time:
                write_json(self.path.with_name(CLOCK_FILE), {"spent_seconds": self.spent()})

        def last_write() -> None:
            try:
                write()
            except OSError as error:  # the run's own error or stop is the one to say
                log.warning("%s not written (%s): a resume counts the time to its "
                            "last tick", CLOCK_FILE, error)

        def tick() -> None:
            while not stop.wait(interval):
                write()

        thread = threading.Thread(target=tick, daemon=True)
        thread.start()
        try:
            with on_sigterm(last_write):
                yield
        finally:
            stop.set()
            thread.join()
            last_write()

    def done(self, stage: str) -> bool:
        return stage in self.stages

    def finish(self, stage: str, result: Any) -> Any:
        """Record ``stage`` as finished with ``result`` (JSON-able) and save."""
        self.stages[stage] = result
        self.save()
        return result

    def save(self) -> None:
        write_json(self.path, {"settings": self.settings, "spent_seconds": self.spent(),
                               "stages": self.stages})

    def stage(self, name: str, work: Callable[[], Any]) -> Any:
        """The recorded result of ``name``, or run ``work`` and record its result."""
        if self.done(name):
            return self.stages[name]
        return self.finish(name, work())


@contextmanager
def on_sigterm(first: Callable[[], None]) -> Iterator[None]:
    """Within: a SIGTERM calls ``first``, then does what it did before (``tsbench-tune``'s
    handler, which ends the process at once, or the signal's default end). Only the main
    thread can set a handler: elsewhere, and where SIGTERM is ignored, nothing changes."""
    main = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGTERM) if main else None
    if before in (None, signal.SIG_IGN):  # None: a handler not set from Python
        yield
        return

    def handle(signum: int, frame: Any) -> None:
        first()
        if callable(before):
            before(signum, frame)
        else:  # the default: end by the signal, as without this handler
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)
