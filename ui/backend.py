"""What every web route shares: the assistant, the knowledge-base folder, staff accounts and sessions.

The index is one SQLite connection and one Chroma collection used from many
request threads, and an editor's save rewrites part of it; one lock serialises
questions and index writes, so a question never sees a record half re-indexed.
A question takes tens of milliseconds, so the lock costs little at hotline scale.
Editors' file writes take a second lock, so reading the folder never holds up questions.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from assistant.demand_log import DemandLog
from assistant.service import Answer, Assistant
from assistant.settings import Settings
from indexing.index import KnowledgeIndex
from knowledge.store import KnowledgeBaseStore
from ui.auth import Accounts, Sessions


@dataclass
class Backend:
    settings: Settings
    assistant: Assistant
    accounts: Accounts
    sessions: Sessions = field(default_factory=Sessions)
    lock: threading.RLock = field(default_factory=threading.RLock)          # the index
    edit_lock: threading.Lock = field(default_factory=threading.Lock)       # the knowledge-base files

    @property
    def index(self) -> KnowledgeIndex:
        return self.assistant.index

    @property
    def log(self) -> DemandLog:
        return self.assistant.log

    @property
    def store(self) -> KnowledgeBaseStore:
        return KnowledgeBaseStore(self.settings.kb_dir)

    def ask(self, question: str, session_id: str | None, channel: str) -> Answer:
        """Raises EmptyQuestion for input with nothing to answer. The answer is kept with the logged question,
        so the editor's demand view shows what the citizen was told."""
        with self.lock:
            answer = self.assistant.ask(question, session_id=session_id, channel=channel)
        self.log.keep_answer(answer.question_id, answer.answer,
                             answer.citations[0].record_id if answer.citations else "")
        return answer

    def indexed(self) -> bool:
        with self.lock:
            return bool(self.index.hashes())
