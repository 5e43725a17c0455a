"""What a 12345 operator needs mid-call: the answer to read out, the sources behind it with the matching
words marked, the full materials checklist of the service and the related services."""

from __future__ import annotations

import re

from assistant.question import parse_question
from indexing.retriever import RecordHit
from indexing.text import normalize
from knowledge.models import FAQ, ServiceGuide
from ui.backend import Backend

PASSAGES_PER_SOURCE = 2
_MARKERS = re.compile(r"\s*\[\d+\]")


def hotline_answer(backend: Backend, question: str, session_id: str | None) -> dict:
    """The public answer JSON under "answer", plus script, sources, guide and related. Raises EmptyQuestion."""
    answer = backend.ask(question, session_id, "hotline")
    question = parse_question(question, backend.assistant.max_question_chars).text  # what the assistant searched with
    cited = answer.citations[0] if answer.citations else None
    with backend.lock:
        hits = backend.assistant.retriever.run(question, top_k=5)
        if cited and cited.record_id not in {h.record_id for h in hits}:
            # a follow-up ("那要多少钱？") was answered about the conversation's topic: show that topic's sources
            hits = backend.assistant.retriever.run(f"{cited.title} {question}", top_k=5)
        if cited:  # the record the script was read from leads, the others follow in retrieval order
            hits.sort(key=lambda h: h.record_id != cited.record_id)
        terms = _terms(backend, question)
        guide = _guide_of(backend, cited.record_id if cited else None)
    return {
        "answer": answer.as_json(),
        "script": _MARKERS.sub("", answer.answer),
        "sources": [_source(h, terms) for h in hits],
        "guide": _guide_card(guide) if guide else None,
        "related": answer.suggestions,
    }


def _terms(backend: Backend, question: str) -> list[str]:
    """Words of the question worth marking in a passage, with the other wordings of its synonym groups."""
    lexicon = backend.index.lexicon
    text = normalize(question)
    words = {w for w in lexicon.words(text) if len(w) >= 2}
    words |= {w for g in lexicon.synonym_groups(text) for w in lexicon.groups[g] if len(w) >= 2}
    return sorted(words, key=len, reverse=True)


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
