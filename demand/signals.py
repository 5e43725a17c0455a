"""The editor's demand view: what citizens asked that the knowledge base could not settle, as a list of
things to write, and the same reading of the demand log for topic mining.

A raw list of refused questions is mostly not that. "网上能办吗" or "那要多少钱" with nothing talked about
before was only asked which service was meant; after 护照 it is a question about 护照, and says so only
together with it. Courtesy and arithmetic are nobody's demand. A question asked again since and answered
(or one an editor wrote a record for) is settled. So each logged question is read once:

- noise: courtesy alone, arithmetic (`demand_noise` in patterns.yml);
- a follow-up: nothing but aspect wording and words that name no service (as the assistant reads it), or a
  fragment of a few characters the knowledge base knows ("一次"); it is
  attached to the service of the conversation's last answer, and left out when there was none (the
  assistant only asked which service was meant);
- a short question naming no service: attached to the conversation's service when the assistant took it as
  a follow-up (searched it with that service) and all its words are the knowledge base's, else listed on its
  own with the service talked about before it as context ("能插队吗", asked after 护照; "我家的狗需要办狗证吗"
  after 居住证 is no question about 居住证: 狗证 is a subject of its own);
- a demand of its own, with mistyped words read as the knowledge base spells them (身份正 → 身份证).

Signals are questions refused or clarified, answers marked 👎, and questions a hotline agent recorded as
transferred or left unanswered.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from assistant import DemandLog, PerThreadSQLite
from demand.message_import import CitizenMessage
from knowledge.loaders import load_knowledge_base
from knowledge.models import FAQ, ServiceGuide
from language.data import language_data
from language.question import EmptyQuestion
from language.text import normalize
from language.understanding import Vocabulary, is_question_word, understand

FOLLOW_UP_MAX_CHARS = 25          # longer questions carry their own subject
FRAGMENT_CHARS = 4                # "一次", "几天": a reply, not a question, when its words name no service
WINDOW_DAYS = 90
_SCHEMA = """
CREATE TABLE IF NOT EXISTS resolved (
    key TEXT PRIMARY KEY, record_id TEXT NOT NULL DEFAULT '', by TEXT NOT NULL DEFAULT '', ts REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Reading:
    kind: str        # demand | short | follow_up | noise
    text: str        # as the knowledge base spells it, courtesy set aside
    known: bool = True   # every word is one the knowledge base uses ("狗证" is not: a subject of its own)


@dataclass
class _Item:
    key: str
    question: str
    service: dict | None
    rows: list[dict] = field(default_factory=list)          # the signals, oldest first
    settled_at: float = 0.0                                  # last time the same question was answered well
    asked_after: dict[str, dict] = field(default_factory=dict)   # services talked about just before it

    def as_json(self, resolution: dict | None) -> dict:
        last = self.rows[-1]
        outcomes = Counter(r["outcome"] for r in self.rows if r["outcome"] in ("transferred", "unanswered"))
        notes = [r["notes"] for r in self.rows if r["notes"]]
        return {
            "key": self.key, "question": self.question, "service": self.service,
            "asked_after": list(self.asked_after.values()), "decision": last["decision"],
            "count": len(self.rows), "unhelpful": sum(r["unhelpful"] for r in self.rows),
            "comments": [c for r in self.rows for c in r["comments"]][-3:],
            "transferred": outcomes["transferred"], "unanswered": outcomes["unanswered"],
            "notes": notes[-3:], "departments": sorted({r["department"] for r in self.rows if r["department"]}),
            "channels": sorted({r["channel"] for r in self.rows}),
            "last_seen": last["ts"], "first_seen": self.rows[0]["ts"], "question_id": last["id"],
            "answer": last["answer"], "record_id": last["record_id"],
            "resolved": resolution is not None or self.settled_at > last["ts"],
            "resolved_by": resolution["by"] if resolution else "", "resolved_record": resolution["record_id"]
            if resolution else "", "settled_by_answer": self.settled_at > last["ts"],
        }


class DemandReader:
    """Reads logged questions the way the demand view counts them; one per knowledge-base generation."""

    def __init__(self, vocabulary: Vocabulary, kb_dir: Path) -> None:
        self.vocabulary = vocabulary
        records = load_knowledge_base(kb_dir).records
        self.guides = {r.id: r for r in records if isinstance(r, ServiceGuide)}
        self.faq_guides = {r.id: r.related_guide for r in records if isinstance(r, FAQ) and r.related_guide}
        # the words of the guides' names: "护照" names a service, "一次" (in "第一次办身份证") does not
        self.name_words = {w for g in self.guides.values() for n in (g.name, *g.aliases)
                           for w in vocabulary.lexicon.cut(normalize(n)) if len(w) >= 2}
        self._cache: dict[str, Reading] = {}

    def read(self, question: str) -> Reading:
        if question not in self._cache:
            self._cache[question] = self._read(question)
        return self._cache[question]

    def _read(self, question: str) -> Reading:
        try:
            q = understand(question, self.vocabulary)
        except EmptyQuestion:
            return Reading("noise", question)
        if language_data().pattern("demand_noise").search(q.text):
            return Reading("noise", q.text)
        words = [w for w in q.content_words if not is_question_word(w)]
        names_service = any(w in self.name_words for w in words)
        short = len(q.text) <= FOLLOW_UP_MAX_CHARS and not names_service
        fragment = len(q.text) <= FRAGMENT_CHARS and all(self.vocabulary.knows(w) for w in words)
        if not words or (fragment and not names_service):
            return Reading("follow_up", q.search.text)
        return Reading("short" if short else "demand", q.search.text, all(self.vocabulary.knows(w) for w in words))

    def service_of(self, record_id: str) -> str:
        """The guide a record is about: itself, or a FAQ's guide ("" for a policy)."""
        return record_id if record_id in self.guides else self.faq_guides.get(record_id, "")

    def service(self, guide_id: str) -> dict | None:
        guide = self.guides.get(guide_id)
        return {"id": guide.id, "title": guide.name} if guide else None


def is_signal(row: dict) -> bool:
    """Refused or clarified, marked unhelpful, or transferred / left unanswered by a hotline agent."""
    return row["decision"] != "answered" or row["unhelpful"] > 0 or row["outcome"] in ("transferred", "unanswered")


def read_rows(rows: list[dict], reader: DemandReader) -> tuple[list[tuple[dict, str, str, str]], Counter]:
    """Each row that is not noise, as (row, its text, the service it is about or "", the service talked about
    just before it or ""), in time order; and how many were left out and why. A follow-up takes the service
    of its conversation's last answer."""
    last_service: dict[str, str] = {}
    kept, left_out = [], Counter()
    for row in rows:
        reading = reader.read(row["question"])
        service = before = ""
        if reading.kind == "noise":
            left_out["noise"] += 1
            continue
        if reading.kind in ("follow_up", "short"):
            service = last_service.get(row["session_id"], "")
            if reading.kind == "short" and (not reading.known
                                            or service not in {reader.service_of(r) for r in row["top_ids"]}):
                service, before = "", service    # a subject of its own, or not taken as a follow-up
            if not service and reading.kind == "follow_up":
                left_out["follow_up"] += 1
                continue
        if row["decision"] == "answered":
            answered = reader.service_of(row["record_id"] or (row["top_ids"] or [""])[0])
            last_service[row["session_id"]] = answered or service
        kept.append((row, reading.text, service, before))
    return kept, left_out


class DemandView:
    """The demand view of the editor console: open items, newest first, and those settled lately."""

    def __init__(self, log: DemandLog, data_dir: Path, kb_dir: Path, vocabulary: Callable[[], Vocabulary]) -> None:
        self.log, self.kb_dir, self._vocabulary = log, kb_dir, vocabulary
        self._db = PerThreadSQLite(data_dir / "demand_view.sqlite", _SCHEMA)

    def reader(self) -> DemandReader:
        return DemandReader(self._vocabulary(), self.kb_dir)

    def items(self, limit: int = 200) -> dict:
        """{"signals": open items, newest first; "resolved": the latest settled ones; "left_out": counts}."""
        reader = self.reader()
        since = time.time() - WINDOW_DAYS * 86400
        kept, left_out = read_rows(self.log.recent(since), reader)
        items: dict[str, _Item] = {}
        for row, text, service, before in kept:
            key = f"{service}|{normalize(text)}"
            item = items.get(key)
            if item is None:
                item = items[key] = _Item(key, text, reader.service(service))
            if item.service is None and row["record_id"]:      # an answer marked 👎 is about its record's service
                item.service = reader.service(reader.service_of(row["record_id"]))
            if is_signal(row):
                item.rows.append(row)
                if before and reader.service(before):
                    item.asked_after[before] = reader.service(before)
            else:
                item.settled_at = row["ts"]
        resolutions = {key: {"record_id": r, "by": b, "ts": t} for key, r, b, t in
                       self._db().execute("SELECT key, record_id, by, ts FROM resolved").fetchall()}
        shown = []
        for key, item in items.items():
            if not item.rows:
                continue
            resolution = resolutions.get(key)
            if resolution and resolution["ts"] < item.rows[-1]["ts"]:
                resolution = None         # asked again, and not answered, since it was resolved
            shown.append(item.as_json(resolution))
        shown.sort(key=lambda i: -i["last_seen"])
        return {"signals": [i for i in shown if not i["resolved"]][:limit],
                "resolved": [i for i in shown if i["resolved"]][:20],
                "left_out": {"follow_up": left_out["follow_up"], "noise": left_out["noise"]}}

    def resolve(self, key: str, record_id: str, by: str) -> dict:
        """Mark an item settled (by the record written for it); it leaves the list until asked again unanswered."""
        self._db().execute("INSERT OR REPLACE INTO resolved VALUES (?, ?, ?, ?)", (key, record_id, by, time.time()))
        return {"key": key, "record_id": record_id, "by": by}


def demand_messages(log: DemandLog, reader: DemandReader, since: dt.datetime | None = None) -> list[CitizenMessage]:
    """The demand signals as messages for topic mining: no noise, no follow-up without its service, a
    follow-up prefixed with its service's name, mistyped words as the knowledge base spells them."""
    kept, _ = read_rows(log.recent(since.timestamp() if since else 0.0, limit=10**9), reader)
    out = []
    for row, text, service, _ in kept:
        if not is_signal(row):
            continue
        title = reader.guides[service].name if service in reader.guides else ""
        out.append(CitizenMessage(id=row["id"], subject="", body=f"{title} {text}" if title else text,
                                  time=dt.datetime.fromtimestamp(row["ts"])))
    return out
