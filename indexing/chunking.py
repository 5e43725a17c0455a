"""Structure-aware chunking: a guide by field, a policy by article or sentence group, a FAQ by phrasing.

Every chunk carries its record's title (and, for guides, the names citizens use)
so that a chunk about 申请材料 still says which service it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field

from knowledge.models import FAQ, LifeEvent, Policy, ServiceGuide
from language.documents import split_sentences

MAX_CHARS = 300

# guide field → (section label, aspect code used by the assistant)
GUIDE_SECTIONS = {
    "overview": "事项概述",
    "conditions": "办理条件",
    "materials": "申请材料",
    "process": "办理流程",
    "time_limit": "办理时限",
    "fees": "收费标准",
    "location": "办理地点与时间",
    "contact": "咨询电话与网上办理",
    "legal_basis": "设定依据",
    "notes": "温馨提示",
}


@dataclass
class Chunk:
    id: str
    record_id: str
    kind: str
    section: str
    title: str
    text: str
    region: str = ""
    department: str = ""
    date: str = ""
    field: str = ""
    meta: dict = dc_field(default_factory=dict)

    def metadata(self) -> dict[str, str]:
        return {
            "record_id": self.record_id, "kind": self.kind, "section": self.section, "field": self.field,
            "title": self.title, "region": self.region, "department": self.department, "date": self.date,
        }


def pack(sentences: list[str], max_chars: int = MAX_CHARS) -> list[str]:
    """Greedily join sentences into pieces of at most `max_chars`; an over-long sentence is cut."""
    pieces: list[str] = []
    current = ""
    for sentence in sentences:
        while len(sentence) > max_chars:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:max_chars])
            sentence = sentence[max_chars:]
        if current and len(current) + len(sentence) > max_chars:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return pieces


CHUNKING_VERSION = 2  # raise when chunk_record's output changes, so `govqa index` re-chunks every record


def chunk_record(record: ServiceGuide | Policy | FAQ | LifeEvent) -> list[Chunk]:
    """A life event has no chunks: it states no fact of its own (its guides do), and it is found by the
    situations it names (indexing/life_events.py), so it never competes with its own guides in a search."""
    if isinstance(record, ServiceGuide):
        return _guide_chunks(record)
    if isinstance(record, Policy):
        return _policy_chunks(record)
    if isinstance(record, LifeEvent):
        return []
    return _faq_chunks(record)


def _base(record: ServiceGuide | Policy | FAQ) -> dict[str, str]:
    date = getattr(record, "updated", None)
    return {
        "record_id": record.id, "kind": record.kind, "title": record.title,
        "region": getattr(record, "region", "") or "", "department": getattr(record, "department", "") or "",
        "date": date.isoformat() if date else "",
    }


def guide_field_texts(g: ServiceGuide) -> dict[str, str]:
    """The citizen-facing text of each guide field, in the order a guide is read."""
    numbered = lambda items: "\n".join(f"{i}. {x}" for i, x in enumerate(items, 1))  # noqa: E731
    return {
        "overview": f"办理对象：{g.audience}\n实施部门：{g.department}\n适用地区：{g.region}",
        "conditions": numbered(g.conditions),
        "materials": numbered(m.describe() for m in g.materials),
        "process": numbered(g.process),
        "time_limit": g.time_limit.describe(),
        "fees": g.fees,
        "location": g.location,
        "contact": "\n".join(x for x in (f"咨询电话：{g.phone}" if g.phone else "",
                                         f"网上办理：{g.online}" if g.online else "") if x),
        "legal_basis": "\n".join(g.legal_basis),
        "notes": g.notes,
    }


def _guide_chunks(g: ServiceGuide) -> list[Chunk]:
    base = _base(g)
    names = "、".join([g.name, *g.aliases])
    chunks = []
    for fld, text in guide_field_texts(g).items():
        if not text.strip():
            continue
        section = GUIDE_SECTIONS[fld]
        for n, piece in enumerate(pack(split_sentences(text), 400)):
            header = f"{g.name}（{g.region}）{section}" if g.region else f"{g.name} {section}"
            if fld == "overview" or n == 0:
                header += f"\n又称：{names}"
            chunks.append(Chunk(id=f"{g.id}#{fld}{n}", section=section, field=fld,
                                text=f"{header}\n{piece}", **base))
    return chunks


def policy_facts(p: Policy) -> str:
    """发文机关, 文号 and dates of a policy, one per line (empty when the source gives none)."""
    lines = [f"{label}：{value}" for label, value in (
        ("发文机关", p.issuer), ("文号", p.doc_number),
        ("发布日期", p.published.isoformat() if p.published else ""),
        ("施行日期", p.effective.isoformat() if p.effective else ""),
        ("有效期至", p.expires.isoformat() if p.expires else "")) if value]
    return "\n".join(lines)


def _policy_chunks(p: Policy) -> list[Chunk]:
    base = _base(p)
    chunks: list[Chunk] = []
    groups: list[tuple[str, str]] = []
    for section in p.sections:
        for piece in pack(split_sentences(section.text)):
            if groups and groups[-1][0] == section.heading and len(groups[-1][1]) + len(piece) <= MAX_CHARS:
                groups[-1] = (section.heading, groups[-1][1] + piece)
            else:
                groups.append((section.heading, piece))
    facts = policy_facts(p)
    if facts:
        # "文号多少" "哪天开始执行" are answered by the document's metadata, not its body
        chunks.append(Chunk(id=f"{p.id}#meta", section="文件信息", field="meta", text=f"{p.name}\n{facts}", **base))
    for n, (heading, text) in enumerate(groups):
        label = heading or f"第{n + 1}段"
        chunks.append(Chunk(id=f"{p.id}#s{n}", section=label, field="body",
                            text=f"{p.name}\n{heading}\n{text}".replace("\n\n", "\n"), **base))
    return chunks


def _faq_chunks(f: FAQ) -> list[Chunk]:
    base = _base(f)
    return [
        Chunk(id=f"{f.id}#q{n}", section="常见问题", field="faq", text=f"问：{q}\n答：{f.answer}",
              meta={"phrasing": q}, **base)
        for n, q in enumerate([f.question, *f.similar])
    ]


def record_sentences(record: ServiceGuide | Policy | FAQ) -> list[str]:
    """The sentences of what a record says, in reading order: a guide's fields, a policy's sections, a FAQ's
    question and answer (its names and headings left out: they say what it is about, not what it says)."""
    if isinstance(record, ServiceGuide):
        texts = [text for name, text in guide_field_texts(record).items() if name != "overview"]
    elif isinstance(record, Policy):
        texts = [section.text for section in record.sections]
    else:
        texts = [record.question, record.answer]
    return [s for text in texts for line in text.splitlines() for s in split_sentences(line)]
