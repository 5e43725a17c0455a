"""What a 12345 operator needs mid-call: the script to read out, the sources behind it with the matching
words marked and how far each can be trusted, the full materials checklist of the service, the related
services, and where to transfer the caller when the knowledge base has no answer."""

from __future__ import annotations

import re

from assistant.service import CLARIFY_MARGIN, CLARIFY_ORDER_MARGIN, Answer, Assistant
from indexing.retriever import RecordHit
from knowledge.directory import Directory
from indexing.chunking import Chunk, guide_field_texts
from knowledge.models import FAQ, Policy, ServiceGuide
from ui.backend import Backend
from ui.call_script import script_lines
from ui.event_view import hotline_card

PASSAGES_PER_SOURCE = 2
# what a score means, in the assistant's own terms: it answers from a record scoring its answer threshold,
# asks the caller to confirm from its confirm threshold, and below that does not use the record at all
BANDS = {"high": "匹配度高：可据此答复", "medium": "匹配度中：需向来电人确认", "low": "匹配度低：仅供参考"}
DECISIONS = {"answered": "有依据，可答复", "clarify": "需向来电人确认", "refused": "知识库无依据"}


def hotline_answer(backend: Backend, question: str, session_id: str | None) -> dict:
    """The public answer JSON under "answer", plus script, sources, guide, related and transfer.
    Raises EmptyQuestion.

    The sources are the records the answer was chosen from, as the assistant searched them (for a follow-up,
    together with the service talked about), the cited one first."""
    answer = backend.ask(question, session_id, "hotline")
    cited = answer.citations[0] if answer.citations else None
    hits = sorted(answer.hits, key=lambda h: h.record_id != cited.record_id) if cited else list(answer.hits)
    with backend.lock:
        record = backend.index.record(cited.record_id) if cited else None
        guide = _guide_of(backend, record or _plausible(backend, hits))
        records = {h.record_id: backend.index.record(h.record_id) for h in hits}
    directory = Directory.load(backend.settings.kb_dir)
    transfer = _transfer(directory, guide, answer)
    terms = answer.query.terms_to_mark() if answer.query else []
    best = hits[0] if hits else None
    lines = script_lines(answer, record, transfer)
    return {
        "answer": answer.as_json(),
        "decision": DECISIONS.get(answer.decision, answer.decision),
        "script": "\n".join(lines),
        "script_lines": lines,
        "sources": [_source(backend.assistant, h, records[h.record_id], best,
                            cited.score if cited and h.record_id == cited.record_id else h.score, terms) for h in hits],
        "guide": _guide_card(guide, directory) if guide else None,
        "related": answer.suggestions,
        "transfer": transfer,
        "event": hotline_card(answer.event),
    }


def score_band(score: float, answer_min: float, confirm_min: float) -> str:
    """high / medium / low by the assistant's decision thresholds (for the record's kind)."""
    return "high" if score >= answer_min else "medium" if score >= confirm_min else "low"


def source_band(assistant: Assistant, hit: RecordHit, best: RecordHit | None, score: float) -> str:
    """A record's band; one ranked well below the best (by the margin within which the assistant would ask
    which of two services is meant) is at most "low": "多久能到账" scores 公积金提取 near 1.0 on its own, but
    the reimbursement FAQ far above it is what the question is about."""
    if best is not None and hit is not best:
        if "order" in best.features and "order" in hit.features:
            below = best.features["order"] - hit.features["order"] >= CLARIFY_ORDER_MARGIN
        else:
            below = best.fused - hit.fused >= CLARIFY_MARGIN
        if below:
            return "low"
    return score_band(score, assistant.answer_min(hit.kind), assistant.confirm_min(hit.kind))


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


def passage_text(chunk: Chunk, record) -> str:
    """A matched chunk as an agent reads it. For a guide, the whole field it comes from, as the guide lists
    it (one item a line), without the title line and the "又称" list of colloquial names that each chunk
    carries for retrieval; for a policy, without the title line; a FAQ's question and answer as they are."""
    if isinstance(record, ServiceGuide):
        text = guide_field_texts(record).get(chunk.field, "").strip()
        return text or chunk.text
    if isinstance(record, Policy) and chunk.text.startswith(record.name + "\n"):
        return chunk.text[len(record.name) + 1:].strip()
    return chunk.text


def _source(assistant: Assistant, hit: RecordHit, record, best: RecordHit | None, score: float,
            terms: list[str]) -> dict:
    passages, seen = [], set()
    for h in hit.chunks[:PASSAGES_PER_SOURCE]:
        text = passage_text(h.chunk, record)
        if text not in seen:     # two chunks of one long guide field are that field once
            seen.add(text)
            passages.append({"section": h.chunk.section, "text": text, "marks": mark_spans(text, terms)})
    band = source_band(assistant, hit, best, score)
    return {"record_id": hit.record_id, "title": hit.title, "kind": hit.kind, "score": hit.score,
            "band": band, "band_label": BANDS[band], "passages": passages}


def _plausible(backend: Backend, hits: list[RecordHit]):
    """With nothing cited, the best record if the assistant would at least ask about it."""
    plausible = hits and hits[0].score >= backend.assistant.confirm_min(hits[0].kind)
    return backend.index.record(hits[0].record_id) if plausible else None


def _guide_of(backend: Backend, record) -> ServiceGuide | None:
    if isinstance(record, FAQ) and record.related_guide:
        record = backend.index.record(record.related_guide)
    return record if isinstance(record, ServiceGuide) else None


def _transfer(directory: Directory, guide: ServiceGuide | None, answer: Answer) -> dict | None:
    """Where to put the caller through: the department the question names a duty of (for a refusal), else the
    service's 实施部门 as the directory lists it, else the guide's own department and 咨询电话."""
    entry = directory.for_question(answer.query.text) if answer.query and answer.decision == "refused" else None
    reason = "问题涉及该部门的职责"
    if entry is None and guide is not None:
        entry, reason = directory.for_department(guide.department), f"《{guide.name}》的实施部门"
    if entry is not None:
        return {"department": entry.name, "phone": entry.phone, "hours": entry.hours, "reason": reason}
    if guide is not None and guide.department and guide.phone:
        return {"department": guide.department, "phone": guide.phone, "hours": "", "reason": reason}
    return None


def _guide_card(guide: ServiceGuide, directory: Directory) -> dict:
    entry = directory.for_department(guide.department)
    return {
        "record_id": guide.id, "name": guide.name, "department": guide.department,
        "transfer_phone": entry.phone if entry else "",
        "materials": [{"name": m.name, "form": m.form, "copies": m.copies, "notes": m.notes} for m in guide.materials],
        "time_limit": guide.time_limit.describe(), "fees": guide.fees, "location": guide.location,
        "phone": guide.phone, "online": guide.online, "updated": guide.updated.isoformat(),
    }
