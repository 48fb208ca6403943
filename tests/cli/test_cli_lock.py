"""The run lock: one sync or remind per configuration at a time, across processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pmsync import LockError
from pmsync._lock import RunLock, lock_path_for

# A second process that takes the lock, says so, and holds it until its stdin closes.
_HOLDER = """
import sys
from pathlib import Path
from pmsync._lock import RunLock
with RunLock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_lock_lives_beside_a_writable_config(tmp_path: Path) -> None:
    assert tmp_path / "pmsync.toml.lock" == lock_path_for(tmp_path / "pmsync.toml")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_lock_moves_to_the_cache_dir_when_the_config_dir_is_read_only(tmp_path: Path) -> None:
    read_only = tmp_path / "etc"
    read_only.mkdir()
    read_only.chmod(0o555)
    path = lock_path_for(read_only / "pmsync.toml")
    assert tmp_path / "xdg-cache" / "pmsync" / "locks" == path.parent


def test_lock_in_cache_dir_is_keyed_by_config_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("pmsync._lock._writable_dir", lambda _d: False)
    one = lock_path_for(tmp_path / "a" / "pmsync.toml")
    two = lock_path_for(tmp_path / "b" / "pmsync.toml")
    assert one != two
    assert one.parent == two.parent == tmp_path / "xdg-cache" / "pmsync" / "locks"


def test_second_holder_fails_at_once_naming_the_file_and_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "pmsync.toml.lock"
    with RunLock(path), pytest.raises(LockError) as info, RunLock(path):
        pass  # pragma: no cover  (never entered)
    assert str(path) == info.value.path
    assert str(path) in str(info.value)
    assert f"pid {os.getpid()}" in str(info.value)


def test_lock_is_free_again_after_the_block(tmp_path: Path) -> None:
    path = tmp_path / "pmsync.toml.lock"
    with RunLock(path):
        pass
    with RunLock(path) as again:
        assert path == again.path


def test_lock_is_free_again_after_an_error(tmp_path: Path) -> None:
    path = tmp_path / "pmsync.toml.lock"
    with pytest.raises(RuntimeError), RunLock(path):
        raise RuntimeError("boom")
    with RunLock(path):
        pass


def test_lock_held_by_another_process_refuses_this_one(tmp_path: Path) -> None:
    path = tmp_path / "pmsync.toml.lock"
    holder = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", _HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert "held\n" == holder.stdout.readline()
        with pytest.raises(LockError) as info, RunLock(path):
            pass  # pragma: no cover
        assert f"pid {holder.pid}" in str(info.value)
    finally:
        holder.communicate("", timeout=30)
    with RunLock(path):  # released when the other process ended
        pass
