"""One writer per folder: an advisory lock that a killed process cannot leave stuck.

A run folder and a search folder are locked while a process writes them, so that a second
``train --out DIR`` (or a second search of one folder) is refused with a message naming the
process that holds the folder, instead of both writing and one of them silently losing.

The lock is ``fcntl.flock`` on the file ``.infomorphic.lock`` in the folder, which the kernel
releases when its process ends however it ends (kill -9 included). The file also records the
holder (process id, host, start time, command), for the refusal's message and for the cases
flock cannot settle: where flock is missing (Windows) or not honoured (some network file
systems), a record that names a process still running on this host refuses a second writer,
and one that names a process no longer running is stale: it is taken over, with a warning
(``StaleLockWarning``). The holder deletes the file when it is done.

Locks are re-entrant within a process (the command line and the library it calls may both
lock one folder). Nothing here imports the rest of the package, so every layer may use it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infomorphic.errors import InfomorphicError

try:
    import fcntl
except ImportError:  # Windows: the holder record alone decides
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_FILE", "FolderLock", "FolderLockedError", "StaleLockWarning", "hold"]

LOCK_FILE = ".infomorphic.lock"


class FolderLockedError(InfomorphicError, OSError):
    """Another process is writing the folder; the message names it."""

    def __init__(self, message: str, holder: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.holder = holder or {}


class StaleLockWarning(UserWarning):
    """A lock left by a process that no longer runs was taken over."""


def _command() -> str:
    """This process's command line, short (``python -m pkg`` shown as ``pkg``)."""
    program = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("python")
    name = program.parent.name if program.name == "__main__.py" else program.name
    words = [name, *sys.argv[1:]]
    text = " ".join(words)
    return text if len(text) <= 200 else text[:197] + "..."


def _proc_stat(pid: int) -> list[str] | None:
    """Linux's /proc/PID/stat fields from the third (state) on; None elsewhere."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _start_ticks(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks after boot; Linux): with the pid, it tells a
    process from a later one that reuses its number."""
    fields = _proc_stat(pid)
    try:
        return int(fields[19]) if fields else None
    except (IndexError, ValueError):
        return None


def _record() -> dict[str, Any]:
    pid = os.getpid()
    return {
        "pid": pid,
        "pid_start": _start_ticks(pid),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": _command(),
    }


def _alive(holder: dict[str, Any]) -> bool:
    """Whether the process a record names still runs on this host (a zombie, or a later
    process with the same number, counts as ended)."""
    pid = holder.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    except OSError:
        return False
    fields = _proc_stat(pid)
    if fields is None:
        return True
    if fields[0] in ("Z", "X"):  # killed, not yet reaped by its parent
        return False
    recorded = holder.get("pid_start")
    return recorded is None or _start_ticks(pid) == recorded


def describe(holder: dict[str, Any]) -> str:
    """``infomorphic train ... (process 123 on host h, since 2025-01-01 12:00:00)``."""
    command = holder.get("command") or "a process"
    where = f"process {holder.get('pid', '?')} on host {holder.get('host', '?')}"
    since = f", since {holder['started']}" if holder.get("started") else ""
    return f"{command} ({where}{since})"


#: resolved folder -> [file descriptor, depth, process id, folder created by the lock]
_HELD: dict[Path, list[Any]] = {}
_HELD_LOCK = threading.Lock()


class FolderLock:
    """The lock of one folder; ``acquire`` raises ``FolderLockedError`` naming the holder."""

    def __init__(self, folder: str | Path, what: str = "folder") -> None:
        self.folder = Path(folder)
        self.what = what
        self.path = self.folder / LOCK_FILE

    def _key(self) -> Path:
        return self.folder.resolve()

    def holder(self) -> dict[str, Any] | None:
        """The record in the lock file (None when there is none or it is unreadable)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8") or "null")
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _refusal(self, holder: dict[str, Any] | None) -> FolderLockedError:
        who = describe(holder) if holder else "another process (its record is unreadable)"
        pid = holder.get("pid") if holder else None
        stop = f" or stop it (kill {pid})" if isinstance(pid, int) else ""
        return FolderLockedError(
            f"{self.folder} is in use: {who} is writing this {self.what}; wait for it to "
            f"end{stop}, or choose another folder",
            holder,
        )

    def acquire(self) -> None:
        key = self._key()
        with _HELD_LOCK:
            entry = _HELD.get(key)
            if entry is not None and entry[2] == os.getpid():
                entry[1] += 1
                return
            _HELD.pop(key, None)  # inherited through fork: the parent's, not ours
            created = not self.folder.exists()
            fd = self._open_locked()
            try:
                self._check_record(fd)
                os.ftruncate(fd, 0)
                os.pwrite(fd, json.dumps(_record()).encode("utf-8"), 0)
            except BaseException:
                os.close(fd)
                raise
            _HELD[key] = [fd, 1, os.getpid(), created]

    def _open_locked(self) -> int:
        """A descriptor of the lock file that holds its flock (where flock exists)."""
        for _ in range(100):
            self.folder.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except FileNotFoundError:  # the folder was removed by a holder letting go
                continue
            if fcntl is None:
                return fd
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise self._refusal(self.holder()) from None
            except OSError:  # flock not supported here: the record decides
                return fd
            # The holder deletes the file as it lets go: a lock taken on a file that is no
            # longer in the folder locks nothing; open the new one.
            try:
                if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    return fd
            except FileNotFoundError:
                pass
            os.close(fd)
        raise OSError(f"could not lock {self.path}: it keeps being replaced")

    def _check_record(self, fd: int) -> None:
        """Refuse when the record names another live process of this host (flock missing or
        not honoured); take a stale record over with a warning."""
        size = os.fstat(fd).st_size
        if not size:
            return
        try:
            holder = json.loads(os.pread(fd, size, 0).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            holder = None
        if not isinstance(holder, dict):
            warnings.warn(
                StaleLockWarning(f"{self.path}: an unreadable lock record, taken over"),
                stacklevel=4,
            )
            return
        same_host = holder.get("host") == socket.gethostname()
        if same_host and holder.get("pid") != os.getpid() and _alive(holder):
            raise self._refusal(holder)  # flock is missing or was not honoured
        reason = (
            "it no longer runs"
            if same_host
            else "its lock was free (the process ended, or the file system does not honour "
            "locks across hosts)"
        )
        warnings.warn(
            StaleLockWarning(
                f"{self.folder}: taking over the lock left by {describe(holder)}: {reason}"
            ),
            stacklevel=4,
        )

    def release(self) -> None:
        key = self._key()
        with _HELD_LOCK:
            entry = _HELD.get(key)
            if entry is None or entry[2] != os.getpid():
                return
            entry[1] -= 1
            if entry[1] > 0:
                return
            del _HELD[key]
            fd = entry[0]
            with contextlib.suppress(OSError):
                os.unlink(self.path)  # before letting go: see _open_locked
                if entry[3]:  # made for this lock and still empty: leave nothing behind
                    self.folder.rmdir()
            os.close(fd)  # releases the flock

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def hold(folder: str | Path, what: str = "folder") -> Iterator[FolderLock]:
    """Hold ``folder``'s lock for a block (``FolderLockedError`` when another process does)."""
    lock = FolderLock(folder, what)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
