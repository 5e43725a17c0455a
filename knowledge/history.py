"""Every version of every knowledge-base record: what it said, who saved it, when — so nothing an editor
replaces is lost, and any earlier version can be compared and brought back.

Versions live in SQLite inside the knowledge-base folder (`.history/versions.sqlite`), so they travel
with the files they describe and every writer (command line, editor console) keeps them without any
set-up. A version holds the record's fields and the whole file as it was written (files are stored
once per distinct content), so even formatting the fields do not capture can be recovered.

A file change is recorded in the same transaction that is committed just after the file is replaced:
a crash before the replace leaves neither; a crash in between leaves the file new and its version
missing, and the next change records that state first (author unknown), so no content is ever lost.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import yaml

from knowledge.writer import editor_json

HISTORY_DIR = ".history"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (sha TEXT PRIMARY KEY, content BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    record_id TEXT NOT NULL, version INTEGER NOT NULL, ts REAL NOT NULL, author TEXT NOT NULL,
    action TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL, hash TEXT,
    fields TEXT,                -- the record as editors write it (JSON); NULL once removed
    file_sha TEXT REFERENCES files(sha),   -- the whole file after the change; NULL once the file is gone
    PRIMARY KEY (record_id, version)
);
"""
ACTIONS = {"baseline": "原有内容", "add": "新增", "edit": "修改", "remove": "删除", "restore": "恢复"}


@dataclass(frozen=True)
class Version:
    record_id: str
    version: int
    ts: float
    author: str
    action: str
    path: str
    kind: str
    hash: str | None
    fields: dict | None

    @property
    def removed(self) -> bool:
        return self.fields is None

    def as_dict(self) -> dict:
        return {"record_id": self.record_id, "version": self.version, "ts": self.ts,
                "time": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.ts)), "author": self.author,
                "action": self.action, "action_name": ACTIONS.get(self.action, self.action), "path": self.path,
                "removed": self.removed}


class KnowledgeHistory:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / HISTORY_DIR / "versions.sqlite"
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        """Opened (and created) on first use, so reading a knowledge base never adds a folder to it."""
        if self._db is None:
            self.path.parent.mkdir(exist_ok=True)
            db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")     # a version is as durable as the file it describes
            db.executescript(_SCHEMA)
            self._db = db
        return self._db

    # ---- reading ----------------------------------------------------------------
    def versions(self, record_id: str) -> list[Version]:
        if self._db is None and not self.path.exists():
            return []
        rows = self.db.execute(
            "SELECT record_id, version, ts, author, action, path, kind, hash, fields FROM versions "
            "WHERE record_id = ? ORDER BY version", (record_id,)).fetchall()
        return [Version(*row[:8], json.loads(row[8]) if row[8] else None) for row in rows]

    def get(self, record_id: str, version: int) -> Version:
        found = next((v for v in self.versions(record_id) if v.version == version), None)
        if found is None:
            raise KeyError(f"记录 {record_id} 没有版本 {version}")
        return found

    def file_content(self, record_id: str, version: int) -> bytes | None:
        row = self.db.execute("SELECT f.content FROM versions v JOIN files f ON f.sha = v.file_sha "
                              "WHERE v.record_id = ? AND v.version = ?", (record_id, version)).fetchone()
        return row[0] if row else None

    def diff(self, record_id: str, version: int) -> str:
        """What `version` changed, field by field, against the version before it (unified diff)."""
        target = self.get(record_id, version)
        previous = next((v for v in reversed(self.versions(record_id)) if v.version < version), None)
        before, after = _readable(previous.fields if previous else None), _readable(target.fields)
        return "".join(difflib.unified_diff(before, after, _label(previous) if previous else "（无）", _label(target)))

    # ---- writing ----------------------------------------------------------------
    @contextmanager
    def change(self) -> Iterator["_Change"]:
        """Versions added inside are committed when the block (which replaces the file) completes."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield _Change(self)
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")


class _Change:
    def __init__(self, history: KnowledgeHistory) -> None:
        self.history = history

    def add(self, record_id: str, *, kind: str, path: Path, author: str, action: str, record=None,
            content: bytes | None = None, ts: float | None = None) -> None:
        """A new version of `record_id` (`record` None: removed), with the whole file as it now is."""
        db = self.history.db
        sha = None
        if content is not None:
            sha = hashlib.sha256(content).hexdigest()
            db.execute("INSERT OR IGNORE INTO files VALUES (?, ?)", (sha, content))
        (last,) = db.execute("SELECT COALESCE(MAX(version), 0) FROM versions WHERE record_id = ?",
                             (record_id,)).fetchone()
        db.execute("INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
            record_id, last + 1, ts if ts is not None else time.time(), author, action, _relative(path, self.history.root),
            kind, record.content_hash if record is not None else None,
            json.dumps(editor_json(record), ensure_ascii=False) if record is not None else None, sha))

    def latest_hash(self, record_id: str) -> str | None:
        row = self.history.db.execute("SELECT hash FROM versions WHERE record_id = ? ORDER BY version DESC LIMIT 1",
                                      (record_id,)).fetchone()
        return row[0] if row else None

    def ensure_current(self, record, path: Path, content: bytes | None, only_if_versioned: bool = False) -> None:
        """Record the state a change starts from when history does not already end with it (a file
        edited by hand, or a change whose version a crash lost), so the content it replaces is kept.
        `only_if_versioned`: not for a record history has never seen (it is simply as it always was)."""
        latest = self.latest_hash(record.id)
        if latest != record.content_hash and not (only_if_versioned and latest is None):
            mtime = path.stat().st_mtime if path.exists() else None
            self.add(record.id, kind=record.kind, path=path, author="", action="baseline", record=record,
                     content=content, ts=mtime)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _label(v: Version) -> str:
    return f"{v.record_id} 版本 {v.version}（{v.author or '未知'}，{v.as_dict()['time']}）"


def _readable(fields: dict | None) -> list[str]:
    if fields is None:
        return ["（已删除）\n"]
    return yaml.safe_dump(fields, allow_unicode=True, sort_keys=False, width=1000).splitlines(keepends=True)
