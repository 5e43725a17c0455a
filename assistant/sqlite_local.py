"""One SQLite connection per thread, in WAL mode: the web server answers on many threads, and
WAL lets readers go on while one writer writes."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class PerThreadSQLite:
    """Call it for this thread's connection to `path`; the first call anywhere creates the schema."""

    def __init__(self, path: Path, schema: str, autocommit: bool = True) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._autocommit = autocommit
        self._local = threading.local()
        self().executescript(schema)

    def __call__(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(str(self.path), timeout=60, **({"isolation_level": None} if self._autocommit else {}))
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=60000")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db
