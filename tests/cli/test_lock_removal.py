"""A refused command removes the folder it made, lock and all, while it holds the lock: a
second command that opened the lock file a moment before and locks it once the first
ends used to hold the removed file, while a third locked a new one at the path and wrote
into the same folder at once."""

from __future__ import annotations

import errno
import fcntl
import os
import threading
from pathlib import Path

import pytest

from tests.conftest import TINY
from tsbench.cli import check_command_line, holding, remove_made
from tsbench.errors import TsbenchError
from tsbench.folder_lock import REMOVED, STALE_TRIES, held
from tsbench.rundir import RUN_LOCK
from tsbench.search.names import LOCK_FILE, MULTIRUN_FILE


def test_a_command_that_opened_a_removed_lock_locks_the_new_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first command (refused: its folder holds nothing but its lock) removes its
    folder while the second has the lock file open, not yet locked; the second then makes
    the folder again and holds its new lock, so a third is refused."""
    folder = tmp_path / "deep" / "run"
    first = check_command_line([*TINY, f"hydra.run.dir={folder}"])
    opened, tidied, second_holds, third_tried = (threading.Event() for _ in range(4))
    real_flock = fcntl.flock
    said: list[str] = []

    def flock(handle: object, operation: int) -> None:
        """The second's first try to lock waits until the first has tidied and ended."""
        if threading.current_thread() is second and not opened.is_set():
            opened.set()
            assert tidied.wait(60)
        real_flock(handle, operation)

    def second_command() -> None:
        with held(folder / RUN_LOCK, lambda pid: f"held by {pid}"):
            path = folder / RUN_LOCK
            said.append(path.read_text() if path.is_file() else "no lock file at the path")
            second_holds.set()
            assert third_tried.wait(60)

    monkeypatch.setattr("tsbench.folder_lock.fcntl.flock", flock)
    second = threading.Thread(target=second_command)
    with holding(first):
        assert (folder / RUN_LOCK).is_file()
        second.start()
        assert opened.wait(60)  # the second has the first's lock file open
    assert not (tmp_path / "deep").exists()  # the first removed what it made, lock and all
    tidied.set()
    try:
        assert second_holds.wait(60)
        assert said == [f"{os.getpid()}\n"]  # its pid, in the file the path names
        with pytest.raises(TsbenchError, match="held by"):
            with held(folder / RUN_LOCK, lambda pid: f"held by {pid}"):
                pass  # a third command, while the second holds the folder
    finally:
        third_tried.set()
        second.join(60)


def test_a_lock_marked_by_a_holder_that_died_before_removing_it_is_taken(
        tmp_path: Path) -> None:
    """A holder killed between marking its lock file and removing it left the mark at the
    path: the next command takes that file (starting over would find it again, forever)."""
    lock = tmp_path / RUN_LOCK
    lock.write_text(f"123\n{REMOVED}\n")
    taken = threading.Event()

    def command() -> None:
        with held(lock, str):
            taken.set()

    thread = threading.Thread(target=command, daemon=True)
    thread.start()
    assert taken.wait(30)
    assert lock.read_text() == f"{os.getpid()}\n"


def test_a_refused_command_tidying_its_folder_is_named_by_its_pid(tmp_path: Path) -> None:
    """A second command refused while the first marks its lock file for removal names the
    first's pid, not the mark."""
    lock = tmp_path / RUN_LOCK
    with held(lock, str):
        with open(lock, "a") as handle:  # the first's mark, its removal still to come
            handle.write(f"{REMOVED}\n")
        with pytest.raises(TsbenchError) as refused:
            with held(lock, lambda pid: f"pid {pid}"):
                pass
    assert str(refused.value) == f"pid {os.getpid()}"


def test_a_lock_file_the_command_does_not_hold_keeps_its_folder(tmp_path: Path) -> None:
    """A folder Hydra named, whose sweep released its ``sweep.lock``: another command may
    hold that file now, so neither it nor the folder is removed; the command's own lock
    is (its folder made by it)."""
    folder = tmp_path / "made"
    folder.mkdir()
    (folder / LOCK_FILE).write_text("123\n")
    (folder / MULTIRUN_FILE).write_text("{}\n")
    remove_made(folder, tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == [MULTIRUN_FILE, LOCK_FILE]
    with held(folder / LOCK_FILE, str):
        remove_made(folder, tmp_path, folder / LOCK_FILE)
    assert list(tmp_path.iterdir()) == []


def test_a_lock_file_another_machine_removed_is_opened_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NFS answers the lock of a file another machine removed with ESTALE (its handle is
    stale): the path's file is opened again and locked, where the command ran unlocked
    with a warning that the file system cannot lock."""
    real_flock = fcntl.flock
    answers = [OSError(errno.ESTALE, "Stale file handle")]

    def flock(handle: object, operation: int) -> None:
        if answers:
            raise answers.pop()
        real_flock(handle, operation)

    monkeypatch.setattr("tsbench.folder_lock.fcntl.flock", flock)
    lock = tmp_path / RUN_LOCK
    with held(lock, str):
        assert not answers
        with pytest.raises(TsbenchError):
            with held(lock, str):  # a second command: the first holds the lock
                pass


def test_a_mount_that_answers_every_lock_with_a_stale_handle_is_named_not_retried_forever(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each ESTALE is one removal by another machine; a mount that gives nothing else is
    broken: after STALE_TRIES the command stops in one line naming the folder's mount."""
    tries = []

    def flock(handle: object, operation: int) -> None:
        tries.append(operation)
        raise OSError(errno.ESTALE, "Stale file handle")

    monkeypatch.setattr("tsbench.folder_lock.fcntl.flock", flock)
    with pytest.raises(TsbenchError, match=r"ESTALE\) -> check the mount of "):
        with held(tmp_path / RUN_LOCK, str):
            pass
    assert len(tries) == STALE_TRIES
