"""Per-session memory, so "那要多少钱？" after a question about 护照 is about 护照."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

FOLLOW_UP_MAX_CHARS = 25


@dataclass
class SessionState:
    topic_id: str = ""
    topic_title: str = ""
    options: list[dict] = field(default_factory=list)   # pending clarification choices
    pending_aspect: str = "general"
    turns: int = 0
    touched: float = field(default_factory=time.time)


class SessionStore:
    """In-memory sessions with expiry; a citizen's conversation needs no more than that."""

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
