"""What a 12345 operator needs mid-call: the answer to read out, the sources behind it with the matching
words marked, the full materials checklist of the service and the related services."""

from __future__ import annotations

import re

from indexing.retriever import RecordHit
from knowledge.models import FAQ, ServiceGuide
from ui.backend import Backend

PASSAGES_PER_SOURCE = 2
_MARKERS = re.compile(r"\s*\[\d+\]")


def hotline_answer(backend: Backend, question: str, session_id: str | None) -> dict:
    """The public answer JSON under "answer", plus script, sources, guide and related. Raises EmptyQuestion.

    The sources are the records the answer was chosen from, as the assistant searched them (for a follow-up,
    together with the service talked about), the cited one first."""
    answer = backend.ask(question, session_id, "hotline")
    cited = answer.citations[0] if answer.citations else None
    hits = sorted(answer.hits, key=lambda h: h.record_id != cited.record_id) if cited else list(answer.hits)
    with backend.lock:
        guide = _guide_of(backend, cited.record_id if cited else None)
    terms = answer.query.terms_to_mark() if answer.query else []
    return {
        "answer": answer.as_json(),
        "script": _MARKERS.sub("", answer.answer),
        "sources": [_source(h, terms) for h in hits],
        "guide": _guide_card(guide) if guide else None,
        "related": answer.suggestions,
    }


def mark_spans(text: str, terms: list[str]) -> list[list[int]]:
    """Non-overlapping [start, end) ranges of `terms` in `text`, longest terms first, in text order."""
    taken = [False] * len(text)
    spans = []
    for term in terms:
        for m in re.finditer(re.escape(term), text):
            if not any(taken[m.start():m.end()]):
                taken[m.start():m.end()] = [True] * (m.end() - m.start())
                spans.append([m.start(), m.end()])
    return sorted(spans)


def _source(hit: RecordHit, terms: list[str]) -> dict:
    passages = [{"section": h.chunk.section, "text": h.chunk.text, "marks": mark_spans(h.chunk.text, terms)}
                for h in hit.chunks[:PASSAGES_PER_SOURCE]]
    return {"record_id": hit.record_id, "title": hit.title, "kind": hit.kind, "score": hit.score,
            "passages": passages}


def _guide_of(backend: Backend, record_id: str | None) -> ServiceGuide | None:
    record = backend.index.record(record_id) if record_id else None
    if isinstance(record, FAQ) and record.related_guide:
        record = backend.index.record(record.related_guide)
    return record if isinstance(record, ServiceGuide) else None


def _guide_card(guide: ServiceGuide) -> dict:
    return {
        "record_id": guide.id, "name": guide.name, "department": guide.department,
        "materials": [{"name": m.name, "form": m.form, "copies": m.copies, "notes": m.notes} for m in guide.materials],
        "time_limit": guide.time_limit.describe(), "fees": guide.fees, "location": guide.location,
        "phone": guide.phone, "online": guide.online, "updated": guide.updated.isoformat(),
    }
