"""Demand topics kept across runs: stable ids, who resolved what, and the latest ranked list.

Mining is re-run as questions arrive, and its clusters are new objects each time;
an editor's "resolved by faq-x" must stick to the issue, not to a run. So every
topic remembers its member messages (by content key) and a new cluster takes the
id of the stored topic it mostly overlaps; failing that, of the stored topic with
the same place and a shared keyword; otherwise it gets a new id (t0001, t0002 …).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from assistant import PerThreadSQLite
from demand.topics import Topic
from language.privacy import mask_pii

KEEP_RUNS = 20
_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    id TEXT PRIMARY KEY, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    label TEXT NOT NULL, place TEXT NOT NULL, keywords TEXT NOT NULL,
    record_id TEXT NOT NULL DEFAULT '', resolved_by TEXT NOT NULL DEFAULT '', resolved_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS topic_members (
    topic_id TEXT NOT NULL REFERENCES topics(id), message_key TEXT NOT NULL, PRIMARY KEY (topic_id, message_key)
);
CREATE INDEX IF NOT EXISTS members_by_key ON topic_members(message_key);
CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, source TEXT NOT NULL,
                                 output TEXT NOT NULL);
"""
OVERLAP = 0.5       # share of the smaller member set two topics must have in common to be the same topic


class TopicStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = PerThreadSQLite(path, _SCHEMA, autocommit=False)  # `with self._db() as db:` makes a transaction

    # ---- ids -----------------------------------------------------------------
    def assign(self, topics: list[Topic]) -> None:
        """Give each topic its stable id (new or carried over) and its resolution, and remember its members."""
        db = self._db()
        with db:
            db.execute("BEGIN IMMEDIATE")       # one run at a time: two runs never hand out the same new id
            stored = {row[0]: row for row in db.execute(
                "SELECT id, label, place, keywords, record_id, resolved_by, resolved_at FROM topics")}
            claimed: set[str] = set()
            for i, stored_id in self._by_overlap(topics):
                topics[i].id = stored_id
                claimed.add(stored_id)
            for topic in topics:
                match = None if topic.id else _by_signature(topic, [r for t, r in stored.items() if t not in claimed])
                if match:
                    topic.id = match
                    claimed.add(match)
            now = time.time()
            next_number = _next_number(stored)
            for topic in topics:
                if not topic.id:
                    topic.id, next_number = f"t{next_number:04d}", next_number + 1
                    db.execute("INSERT INTO topics (id, created_at, updated_at, label, place, keywords) "
                               "VALUES (?, ?, ?, ?, ?, ?)", (topic.id, now, now, topic.label, topic.place,
                                                             json.dumps(topic.keywords, ensure_ascii=False)))
                else:
                    db.execute("UPDATE topics SET updated_at = ?, label = ?, place = ?, keywords = ? WHERE id = ?",
                               (now, topic.label, topic.place, json.dumps(topic.keywords, ensure_ascii=False),
                                topic.id))
                    _, _, _, _, topic.record_id, topic.resolved_by, topic.resolved_at = stored[topic.id]
                db.executemany("INSERT OR IGNORE INTO topic_members VALUES (?, ?)",
                               [(topic.id, m.key) for m in topic.members])
                if topic.resolved_at:
                    after = dt.datetime.fromisoformat(topic.resolved_at)
                    topic.extra["asked_since_resolved"] = sum(m.time > after for m in topic.members)

    def _by_overlap(self, topics: list[Topic]) -> list[tuple[int, str]]:
        """(topic index, stored id) pairs, one to one, the largest overlaps first."""
        db = self._db()
        owners: dict[str, list[str]] = {}
        keys = sorted({m.key for t in topics for m in t.members})
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            for key, topic_id in db.execute(
                    f"SELECT message_key, topic_id FROM topic_members WHERE message_key IN ({','.join('?' * len(part))})",
                    part):
                owners.setdefault(key, []).append(topic_id)
        sizes = dict(db.execute("SELECT topic_id, COUNT(*) FROM topic_members GROUP BY topic_id"))
        pairs = []
        for i, topic in enumerate(topics):
            shared: dict[str, int] = {}
            for m in topic.members:
                for topic_id in owners.get(m.key, ()):
                    shared[topic_id] = shared.get(topic_id, 0) + 1
            pairs += [(n, i, tid) for tid, n in shared.items() if n >= OVERLAP * min(topic.size, sizes[tid])]
        taken_topics: set[int] = set()
        taken_ids: set[str] = set()
        out = []
        for _, i, tid in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
            if i not in taken_topics and tid not in taken_ids:
                out.append((i, tid))
                taken_topics.add(i)
                taken_ids.add(tid)
        return out

    # ---- editor actions ------------------------------------------------------
    def resolve(self, topic_id: str, record_id: str, by: str) -> dict:
        """Mark a topic resolved by a knowledge-base record; resolving again replaces the link."""
        record_id, by = record_id.strip(), mask_pii(by.strip())[:100]
        if not record_id or not by:
            raise ValueError("需要填写关联记录 id 和处理人")
        at = dt.datetime.now().isoformat(timespec="seconds")
        with self._db() as db:
            changed = db.execute("UPDATE topics SET record_id = ?, resolved_by = ?, resolved_at = ? WHERE id = ?",
                                 (record_id, by, at, topic_id)).rowcount
        if not changed:
            raise KeyError(f"没有编号为 {topic_id} 的话题")
        return self.get(topic_id)

    def get(self, topic_id: str) -> dict | None:
        row = self._db().execute("SELECT id, label, place, keywords, record_id, resolved_by, resolved_at FROM topics "
                                 "WHERE id = ?", (topic_id,)).fetchone()
        if row is None:
            return None
        tid, label, place, keywords, record_id, by, at = row
        return {"id": tid, "label": label, "place": place, "keywords": json.loads(keywords),
                "resolved": bool(record_id), "record_id": record_id, "resolved_by": by, "resolved_at": at}

    # ---- runs ----------------------------------------------------------------
    def save_run(self, output: dict, source: str) -> int:
        """Keep a run's JSON output (the dashboard shows the latest); only the last KEEP_RUNS are kept."""
        with self._db() as db:
            run_id = db.execute("INSERT INTO runs (ts, source, output) VALUES (?, ?, ?)",
                                (time.time(), source, json.dumps(output, ensure_ascii=False))).lastrowid
            db.execute("DELETE FROM runs WHERE id <= ?", (run_id - KEEP_RUNS,))
        return run_id

    def latest_run(self) -> dict | None:
        """The latest run's output, with the topics' current resolution (resolved after the run, too)."""
        row = self._db().execute("SELECT id, ts, source, output FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        run_id, ts, source, output = row
        result = json.loads(output)
        for topic in result["topics"]:
            current = self.get(topic["id"])
            if current:
                topic.update({k: current[k] for k in ("resolved", "record_id", "resolved_by", "resolved_at")})
        return {**result, "run": {"id": run_id, "at": dt.datetime.fromtimestamp(ts).isoformat(timespec="seconds"),
                                  "source": source}}


def _by_signature(topic: Topic, candidates: list[tuple]) -> str | None:
    """A stored topic about the same place sharing a keyword (the same issue, asked by new people)."""
    if not topic.place:
        return next((row[0] for row in candidates if row[1] == topic.label), None)
    for tid, _, place, keywords, *_ in candidates:
        if place == topic.place and set(json.loads(keywords)) & set(topic.keywords):
            return tid
    return None


def _next_number(stored: dict) -> int:
    numbers = [int(tid[1:]) for tid in stored if tid[1:].isdigit()]
    return max(numbers, default=0) + 1
