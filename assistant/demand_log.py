"""Every question, its decision, the answer given and later feedback, in SQLite (WAL).

Refused questions, answers marked unhelpful and calls a hotline agent could not settle are
demand signals: what citizens needed and the knowledge base could not give. Text is masked
before it gets here, and again on the way in, so no ID or phone number is stored; so are a
citizen's comments and an agent's call notes.
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
OUTCOMES = ("resolved", "transferred", "unanswered")   # how a hotline agent closed a call's question
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
CREATE TABLE IF NOT EXISTS outcomes (
    question_id TEXT NOT NULL REFERENCES questions(id), ts REAL NOT NULL, outcome TEXT NOT NULL,
    department TEXT NOT NULL DEFAULT '', notes TEXT NOT NULL DEFAULT '', author TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS answers (
    question_id TEXT PRIMARY KEY REFERENCES questions(id), answer TEXT NOT NULL, record_id TEXT NOT NULL DEFAULT ''
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
        """A rating, with an optional comment (masked). A comment sent after the same rating without one
        completes that rating instead of counting twice: citizens click 👎 first, then may say why."""
        db = self._db()
        if not db.execute("SELECT 1 FROM questions WHERE id = ?", (question_id,)).fetchone():
            raise KeyError(f"没有编号为 {question_id} 的问题")
        comment = mask_pii(comment)[:1000]
        last = db.execute("SELECT rowid, helpful, comment FROM feedback WHERE question_id = ? ORDER BY rowid DESC "
                          "LIMIT 1", (question_id,)).fetchone()
        if comment and last and last[1] == int(helpful) and not last[2]:
            db.execute("UPDATE feedback SET comment = ? WHERE rowid = ?", (comment, last[0]))
            return
        db.execute("INSERT INTO feedback VALUES (?, ?, ?, ?)", (question_id, time.time(), int(helpful), comment))

    def keep_answer(self, question_id: str, answer: str, record_id: str = "") -> None:
        """The answer given, so the demand view can show an editor what the citizen was told. It is built
        from the masked question and the knowledge base only, so it holds nothing the citizen typed unmasked."""
        self._db().execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?)", (question_id, answer, record_id))

    def record_outcome(self, question_id: str, outcome: str, *, department: str = "", notes: str = "",
                       author: str = "") -> None:
        """How a hotline agent closed a question of a call, with the call notes (masked); the latest counts."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}")
        db = self._db()
        if not db.execute("SELECT 1 FROM questions WHERE id = ?", (question_id,)).fetchone():
            raise KeyError(f"没有编号为 {question_id} 的问题")
        db.execute("INSERT INTO outcomes VALUES (?, ?, ?, ?, ?, ?)",
                   (question_id, time.time(), outcome, mask_pii(department)[:200], mask_pii(notes)[:2000],
                    author[:64]))

    def recent(self, since: float = 0.0, limit: int = 20000) -> list[dict]:
        """Every question since `since` (the newest `limit`), oldest first, with its ratings, comments, the
        answer given and the agent's latest outcome: what the demand view is built from."""
        rows = self._db().execute(
            """SELECT q.id, q.ts, q.session_id, q.channel, q.question, q.decision, q.top_ids,
                      (SELECT COUNT(*) FROM feedback f WHERE f.question_id = q.id AND f.helpful = 0),
                      (SELECT COUNT(*) FROM feedback f WHERE f.question_id = q.id AND f.helpful = 1),
                      (SELECT group_concat(f.comment, char(10)) FROM feedback f
                        WHERE f.question_id = q.id AND f.comment != ''),
                      a.answer, a.record_id,
                      o.outcome, o.department, o.notes
               FROM questions q
               LEFT JOIN answers a ON a.question_id = q.id
               LEFT JOIN outcomes o ON o.rowid = (SELECT MAX(rowid) FROM outcomes WHERE question_id = q.id)
               WHERE q.ts >= ? ORDER BY q.ts DESC LIMIT ?""", (since, limit)).fetchall()
        keys = ("id", "ts", "session_id", "channel", "question", "decision", "top_ids", "unhelpful", "helpful",
                "comments", "answer", "record_id", "outcome", "department", "notes")
        out = [dict(zip(keys, row)) for row in reversed(rows)]
        for row in out:
            row["top_ids"] = json.loads(row["top_ids"])
            row["comments"] = [c for c in (row["comments"] or "").split("\n") if c]
            for key in ("answer", "record_id", "outcome", "department", "notes"):
                row[key] = row[key] or ""
        return out

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
        """Each demand signal on its own, oldest first (topic mining needs every occurrence and its time): refused
        or clarified, marked unhelpful, or transferred or left unanswered by a hotline agent."""
        rows = self._db().execute(
            """SELECT q.id, q.ts, q.question, q.decision FROM questions q
               WHERE q.ts >= ? AND (q.decision != 'answered'
                     OR EXISTS (SELECT 1 FROM feedback f WHERE f.question_id = q.id AND f.helpful = 0)
                     OR EXISTS (SELECT 1 FROM outcomes o WHERE o.question_id = q.id AND o.outcome != 'resolved'))
               ORDER BY q.ts""", (since or 0.0,)).fetchall()
        return [{"id": i, "ts": t, "question": q, "decision": d} for i, t, q, d in rows]


def _row(row: tuple) -> LoggedQuestion:
    qid, ts, session, channel, question, decision, ids, scores = row
    return LoggedQuestion(qid, ts, session, channel, question, decision, json.loads(ids), json.loads(scores))
