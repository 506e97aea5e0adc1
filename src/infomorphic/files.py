"""Atomic file writes, the one way the package puts anything on disk.

A reader (another process, a resumed run, a crashed machine rebooting) sees either the old file
or the new one, never a half-written one: data goes to a temporary file in the same folder, is
flushed to disk, and is then renamed over the target. Nothing here imports the rest of the
package, so every layer may use it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import IO

__all__ = ["atomic_write_bytes", "atomic_write_stream", "atomic_write_text"]

_CHUNK = 1 << 20


def _file_mode() -> int:
    """The mode a plain ``open`` would give a new file (0o666 less the umask): mkstemp makes
    its files private (0o600), which would hide results from the user's group."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_MODE = _file_mode()


def atomic_write_stream(path: str | Path, stream: IO[bytes]) -> None:
    """Copy a readable binary stream into ``path`` atomically (creating its folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            shutil.copyfileobj(stream, handle, _CHUNK)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _MODE)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (creating its folder)."""
    import io

    atomic_write_stream(path, io.BytesIO(data))


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (creating its folder)."""
    atomic_write_bytes(path, text.encode("utf-8"))
