"""Crash-safe file writing, shared by everything that rewrites a file in place (knowledge base, staff
accounts, demand reports).

A file is only ever replaced atomically (write a temporary file beside it, fsync, rename), so an
interrupted write never leaves a half-written file behind. The temporary file is created private (0600), so
the file written gets the mode it had before (a new one the umask's default, as `open` would give it), or
the mode the caller asks for: a save never changes who may read a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_FILES = ".*.tmp"   # the names atomic_write gives its temporary files, for sweeping those of killed writers


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode_for(path) if mode is None else mode
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _mode_for(path: Path) -> int:
    """The permission bits the file has now, or those a new file gets under the process's umask."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0o022)     # the only way to read the umask is to set it; put back at once
        os.umask(umask)
        return 0o666 & ~umask


def fsync_dir(folder: Path) -> None:
    """Make a rename or deletion itself durable, not only the bytes of the file."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
