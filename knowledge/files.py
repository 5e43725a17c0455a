"""Crash-safe file writing, shared by everything that rewrites a file in place (knowledge base, staff
accounts, demand reports).

A file is only ever replaced atomically (write a temporary file beside it, fsync, rename), so an
interrupted write never leaves a half-written file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_FILES = ".*.tmp"   # the names atomic_write gives its temporary files, for sweeping those of killed writers


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename or deletion itself durable, not only the bytes of the file."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
