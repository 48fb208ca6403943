"""One run per configuration at a time: a non-blocking file lock for ``sync`` and ``remind``.

Cron overlaps (a slow run meets the next one), and people run ``pmsync sync`` by hand
during a cron run. Runs on different machines are kept from duplicating issues by the
engine (adopt-before-create, and the page write that only one of two racing runs can
make; see docs/sync.md); this lock keeps one machine from running the same configuration
twice at all, so that the second run stops at once with a clear message instead of racing.

The lock is an OS file lock (``filelock``): the operating system releases it when the
process ends, however it ends, so a crashed run never leaves a stale lock behind. Beside
the lock file, the holder writes who it is (process id, host, start time) so that the run
that finds the lock taken can say which process to look at.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import socket
import types
from pathlib import Path

import click
import filelock

from pmsync.exceptions import LockError

__all__ = ["RunLock", "lock_path_for"]


def _writable_dir(directory: Path) -> bool:
    return directory.is_dir() and os.access(directory, os.W_OK | os.X_OK)


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME")
    if base:
        return Path(base) / "pmsync"
    if os.name == "nt":  # pragma: no cover  (exercised on Windows only)
        return Path(click.get_app_dir("pmsync")) / "cache"
    return Path.home() / ".cache" / "pmsync"


def lock_path_for(config_path: Path) -> Path:
    """Where the lock for the configuration file ``config_path`` lives.

    Beside the file (``pmsync.toml.lock``) when its directory is writable, so that it is
    easy to find; else in the user's cache directory, named by a hash of the file's
    absolute path (``~/.cache/pmsync/locks/pmsync-3f2a9c….lock``).
    """
    config_path = config_path.resolve()  # a symlinked config is the same config
    if _writable_dir(config_path.parent):
        return config_path.with_name(config_path.name + ".lock")
    digest = hashlib.sha256(str(config_path).encode()).hexdigest()[:16]
    return _cache_dir() / "locks" / f"{config_path.stem}-{digest}.lock"


def _owner_path(lock_path: Path) -> Path:
    return lock_path.with_name(lock_path.name + ".owner")


class RunLock:
    """Hold the lock at ``path`` for the duration of a ``with`` block, or fail at once.

    Entering raises :class:`~pmsync.LockError` when another process holds the lock; its
    message names the lock file and, when known, the process id and host of the holder.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = filelock.FileLock(str(path), timeout=0)

    def __repr__(self) -> str:
        return f"RunLock({str(self.path)!r})"

    def holder(self) -> str | None:
        """Who holds the lock, as a phrase (``pid 4242 on host web1 since …``), if known."""
        try:
            info = json.loads(_owner_path(self.path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(info, dict) or "pid" not in info:
            return None
        return f"pid {info['pid']} on host {info.get('host', '?')} since {info.get('since', '?')}"

    def __enter__(self) -> RunLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LockError(
                f"cannot create the directory for the lock file {self.path}: {exc.strerror}",
                path=str(self.path),
            ) from None
        try:
            self._lock.acquire()
        except filelock.Timeout:
            holder = self.holder()
            who = f" by {holder}" if holder else ""
            look = (
                f" Check it with `ps -p {holder.split()[1]}` on that host;"
                if holder
                else " Look for it with `ps aux | grep pmsync`;"
            )
            raise LockError(
                f"another pmsync run of this configuration is in progress: the lock file "
                f"{self.path} is held{who}. This run changed nothing.{look} the lock is "
                "released as soon as that process ends, and the next run catches up.",
                path=str(self.path),
            ) from None
        except OSError as exc:
            raise LockError(
                f"cannot take the lock file {self.path}: {exc.strerror}", path=str(self.path)
            ) from None
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        # Who holds the lock is a courtesy for the message; the lock holds without it.
        with contextlib.suppress(OSError):
            _owner_path(self.path).write_text(json.dumps(owner), encoding="utf-8")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        with contextlib.suppress(OSError):
            _owner_path(self.path).unlink(missing_ok=True)
        self._lock.release()
