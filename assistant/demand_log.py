"""Every question, its decision and later feedback, in SQLite (WAL).

Refused questions and answers marked unhelpful are demand signals: what
citizens needed and the knowledge base could not give. Text is masked before
it gets here, and again on the way in, so no ID or phone number is stored.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from language.privacy import mask_pii
from assistant.sqlite_local import PerThreadSQLite

CHANNELS = ("widget", "hotline", "cli", "api")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id TEXT PRIMARY KEY, ts REAL NOT NULL, session_id TEXT NOT NULL, channel TEXT NOT NULL,
    question TEXT NOT NULL, decision TEXT NOT NULL, aspect TEXT NOT NULL DEFAULT '',
    top_ids TEXT NOT NULL, top_scores TEXT NOT NULL, latency_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS questions_by_decision ON questions(decision, ts);
CREATE TABLE IF NOT EXISTS feedback (
    question_id TEXT NOT NULL REFERENCES questions(id), ts REAL NOT NULL, helpful INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
);
"""


@dataclass
class LoggedQuestion:
    id: str
    ts: float
    session_id: str
    channel: str
    question: str
    decision: str
    top_ids: list[str]
    top_scores: list[float]


class DemandLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = PerThreadSQLite(path, _SCHEMA)

    def record(self, *, session_id: str, channel: str, question: str, decision: str, aspect: str,
               top_ids: list[str], top_scores: list[float], latency_ms: float) -> str:
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}")
        qid = uuid.uuid4().hex
        self._db().execute(
            "INSERT INTO questions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (qid, time.time(), session_id, channel, mask_pii(question), decision, aspect,
             json.dumps(top_ids), json.dumps(top_scores), round(latency_ms, 1)),
        )
        return qid

    def feedback(self, question_id: str, helpful: bool, comment: str = "") -> None:
        db = self._db()
        if not db.execute("SELECT 1 FROM questions WHERE id = ?", (question_id,)).fetchone():
            raise KeyError(f"没有编号为 {question_id} 的问题")
        db.execute("INSERT INTO feedback VALUES (?, ?, ?, ?)",
                   (question_id, time.time(), int(helpful), mask_pii(comment)[:1000]))

    def count(self) -> int:
        return self._db().execute("SELECT COUNT(*) FROM questions").fetchone()[0]

    def get(self, question_id: str) -> LoggedQuestion | None:
        row = self._db().execute(
            "SELECT id, ts, session_id, channel, question, decision, top_ids, top_scores FROM questions WHERE id = ?",
            (question_id,)).fetchone()
        return _row(row) if row else None

    def demand_signals(self, limit: int = 100) -> list[dict]:
        """Refused or clarified questions and those marked unhelpful, newest first, with how often each was asked."""
        rows = self._db().execute(
            """SELECT q.question, q.decision, MAX(q.ts) AS last, COUNT(*) AS n,
                      SUM(CASE WHEN f.helpful = 0 THEN 1 ELSE 0 END) AS unhelpful
               FROM questions q LEFT JOIN feedback f ON f.question_id = q.id
               WHERE q.decision != 'answered' OR f.helpful = 0
               GROUP BY q.question ORDER BY last DESC LIMIT ?""", (limit,)).fetchall()
        return [{"question": q, "decision": d, "last_seen": t, "count": n, "unhelpful": u or 0}
                for q, d, t, n, u in rows]

    def signal_questions(self, since: float | None = None) -> list[dict]:
        """Each demand signal on its own, oldest first (topic mining needs every occurrence and its time)."""
        rows = self._db().execute(
            """SELECT q.id, q.ts, q.question, q.decision FROM questions q
               WHERE q.ts >= ? AND (q.decision != 'answered'
                     OR EXISTS (SELECT 1 FROM feedback f WHERE f.question_id = q.id AND f.helpful = 0))
               ORDER BY q.ts""", (since or 0.0,)).fetchall()
        return [{"id": i, "ts": t, "question": q, "decision": d} for i, t, q, d in rows]


def _row(row: tuple) -> LoggedQuestion:
    qid, ts, session, channel, question, decision, ids, scores = row
    return LoggedQuestion(qid, ts, session, channel, question, decision, json.loads(ids), json.loads(scores))
