"""What every web route shares: the assistant, the knowledge-base folder, staff accounts and sessions.

The index is one SQLite connection and one Chroma collection used from many
request threads, and an editor's save rewrites part of it; one lock serialises
questions and index writes, so a question never sees a record half re-indexed.
A question takes tens of milliseconds, so the lock costs little at hotline scale.
Embedding a saved record takes seconds for a long one, so it happens before the lock
is taken (`reindex`): meanwhile questions are answered from the record as it was.
Editors' file writes take a second lock, so reading the folder never holds up questions.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Sequence

from assistant.demand_log import DemandLog
from assistant.service import Answer, Assistant
from assistant.settings import Settings
from indexing.chunking import chunk_record
from indexing.index import IndexReport, KnowledgeIndex
from knowledge.models import FAQ, Policy, ServiceGuide
from knowledge.store import KnowledgeBaseStore
from ui.auth import Accounts, Sessions

Record = ServiceGuide | Policy | FAQ
MAX_QUESTION_INPUT = 10_000   # longer questions are refused; shorter ones past GOVQA_MAX_QUESTION_CHARS are cut, with a notice

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

    def embed_ahead(self, records: Sequence[Record]) -> None:
        """Embed the records' chunks without the index lock. The vectors land in the embedding cache, keyed
        by content, where the index's own upsert finds them; only the model's first load takes the lock."""
        texts = [chunk.text for record in records for chunk in chunk_record(record)]
        if texts:
            with self.lock:
                embedder = self.index.embedder
            embedder.embed_passages(texts)

    def reindex(self, records: Sequence[Record]) -> IndexReport:
        """Index saved records, holding the index lock only to write what `embed_ahead` computed."""
        self.embed_ahead(records)
        with self.lock:
            return self.index.upsert(list(records))

    def indexed(self) -> bool:
        with self.lock:
            return bool(self.index.hashes())
