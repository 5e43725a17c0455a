"""Per-session memory, so "那要多少钱？" after a question about 护照 is about 护照.

A session holds only what the assistant chose (the record talked about, the options it
offered), never what the citizen typed, and its id is always one the store issued.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from assistant.sqlite_local import PerThreadSQLite

FOLLOW_UP_MAX_CHARS = 25


@dataclass
class SessionState:
    topic_id: str = ""
    topic_title: str = ""
    options: list[dict] = field(default_factory=list)   # pending clarification choices
    pending_aspect: str = "general"
    asked_aspect: str = "general"   # what the last answered turn asked (费用…): "港澳通行证呢" asks it again
    turns: int = 0
    touched: float = field(default_factory=time.time)
    event_id: str = ""          # the life event answered (assistant/life_events.py)
    event_step: int = 0         # the step of it last answered; 0: the whole event
    offered_event: str = ""     # the event a service answered on its own belongs to
    # a service named but not answered about: the one a refusal suggested first, the one service a clarifying
    # question put to the citizen, or the one talked about before a refused turn; "能给多少" after it is read
    # about it, saying so (the citizen never confirmed it)
    tentative_id: str = ""
    tentative_title: str = ""
    # the services one message asked about, in the order it asked (the one answered, the one it was told to ask
    # about next), so that "先说第2个" in the next turn picks one
    listed: list[dict] = field(default_factory=list)


class ConversationStore(Protocol):
    def get(self, session_id: str | None) -> tuple[str, SessionState]:
        """The live session of an id this store issued; otherwise a fresh one under a new id."""

    def save(self, session_id: str, state: SessionState) -> None:
        """Keep the state after a turn."""


class SessionStore:
    """In-memory sessions with expiry, for one process (tests, evaluation)."""

    def __init__(self, ttl_s: float = 1800, max_sessions: int = 10000) -> None:
        self.ttl_s, self.max_sessions = ttl_s, max_sessions
        self._sessions: OrderedDict[str, SessionState] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: str | None) -> tuple[str, SessionState]:
        """The session of an id this store issued, unless it expired; otherwise a fresh one under a new id.
        A client never names a session: ids are echoed and logged, so they hold nothing a client typed."""
        with self._lock:
            now = time.time()
            if isinstance(session_id, str) and session_id in self._sessions:
                state = self._sessions[session_id]
                if now - state.touched <= self.ttl_s:
                    state.touched = now
                    self._sessions.move_to_end(session_id)
                    return session_id, state
                del self._sessions[session_id]
            sid = uuid.uuid4().hex
            state = SessionState()
            self._sessions[sid] = state
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
            return sid, state

    def save(self, session_id: str, state: SessionState) -> None:
        """Nothing to do: `get` hands out the stored object itself."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, touched REAL NOT NULL, state TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_by_age ON sessions(touched);
"""


class SQLiteSessionStore:
    """Sessions in SQLite, so that `govqa ask --session ID` follows up across processes and a
    server restart does not cut a conversation short."""

    def __init__(self, path: Path, ttl_s: float = 1800) -> None:
        self.ttl_s = ttl_s
        self._db = PerThreadSQLite(path, _SCHEMA)

    def get(self, session_id: str | None) -> tuple[str, SessionState]:
        if isinstance(session_id, str):
            row = self._db().execute("SELECT state FROM sessions WHERE id = ? AND touched >= ?",
                                     (session_id, time.time() - self.ttl_s)).fetchone()
            if row:
                return session_id, SessionState(**json.loads(row[0]))
        return uuid.uuid4().hex, SessionState()

    def save(self, session_id: str, state: SessionState) -> None:
        state.touched = time.time()
        db = self._db()
        db.execute("INSERT OR REPLACE INTO sessions VALUES (?, ?, ?)",
                   (session_id, state.touched, json.dumps(asdict(state), ensure_ascii=False)))
        db.execute("DELETE FROM sessions WHERE touched < ?", (state.touched - self.ttl_s,))
