"""Grounded answers without any language model: structured fields and quoted sentences, with citations.

Nothing here writes a fact of its own. A guide answer copies the asked field
(every material, in order, with 原件/复印件 and 份数); a policy answer quotes the
sentences that match the question; a FAQ answer is the approved answer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from indexing.aspects import aspect_label
from indexing.chunking import GUIDE_SECTIONS, guide_field_texts, split_sentences
from indexing.retriever import RecordHit
from indexing.text import Lexicon
from knowledge.models import FAQ, Policy, ServiceGuide

FOLLOW_UP_HINT = "还可以问：要带什么材料、怎么办理、在哪里办、多久办好、要不要钱。"


@dataclass
class Citation:
    n: int
    record_id: str
    title: str
    section: str
    score: float
    kind: str
    department: str = ""
    updated: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    def reference(self) -> str:
        parts = [f"[{self.n}] 《{self.title}》", self.section, self.department,
                 f"更新于 {self.updated}" if self.updated else ""]
        return " · ".join(p for p in parts if p)


def _first_clause(text: str, limit: int = 60) -> str:
    """The first clause of a field, for the key-facts line (the full field is one question away)."""
    for sep in ("；", "。", ";"):
        if sep in text and text.index(sep) <= limit:
            return text[: text.index(sep)]
    return text if len(text) <= limit else text[:limit] + "…"


def key_facts(guide: ServiceGuide, skip: str) -> str:
    facts = []
    if skip != "location" and guide.location:
        facts.append(f"办理地点：{_first_clause(guide.location)}")
    if skip != "time_limit" and guide.time_limit.promised not in ("", "无"):
        facts.append(f"承诺时限：{guide.time_limit.promised}")
    if skip != "fees" and guide.fees:
        facts.append(f"收费：{_first_clause(guide.fees, 40)}")
    return "；".join(facts)


def compose_guide(guide: ServiceGuide, aspect: str) -> tuple[str, str]:
    """(answer text, section name) for one aspect of a guide."""
    fields = guide_field_texts(guide)
    if aspect == "general":
        names = "、".join(m.name for m in guide.materials)
        body = [f"【{guide.name}】由{guide.department}办理。" if guide.department else f"【{guide.name}】"]
        if guide.audience:
            body.append(f"办理对象：{guide.audience}")
        if names:
            body.append(f"需要材料：{names}（详细要求可问“要带什么材料”）")
        facts = key_facts(guide, skip="")
        if facts:
            body.append(facts)
        body.append(FOLLOW_UP_HINT)
        return "\n".join(body), GUIDE_SECTIONS["overview"]

    field = {"phone": "contact", "online": "contact"}.get(aspect, aspect)
    section = GUIDE_SECTIONS.get(field, aspect_label(aspect))
    text = fields.get(field, "").strip()
    if aspect == "phone" and guide.phone:
        text = f"咨询电话：{guide.phone}"
    elif aspect == "online":
        text = f"网上办理：{guide.online}" if guide.online else "该事项暂未提供网上办理入口，请到窗口办理。"
    if not text:
        text = f"办事指南未列明{section}，建议拨打咨询电话{guide.phone or '12345'}确认。"
    lines = [f"【{guide.name}】{section}：", text]
    facts = key_facts(guide, skip=aspect)
    if facts and aspect in ("materials", "conditions", "process", "fees", "time_limit"):
        lines.append(facts)
    return "\n".join(lines), section


def best_passage(texts: list[str], query_tokens: set[str], lexicon: Lexicon, max_chars: int = 180) -> str:
    """The sentence that shares most tokens with the question, widened with its neighbours up to `max_chars`."""
    sentences = [s for t in texts for s in split_sentences(t)]
    if not sentences:
        return ""
    scores = [len(query_tokens & set(lexicon.tokens(s))) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
    lo = hi = best
    total = len(sentences[best])
    while True:
        grew = False
        for j in (hi + 1, lo - 1):
            if 0 <= j < len(sentences) and total + len(sentences[j]) <= max_chars:
                total += len(sentences[j])
                lo, hi = min(lo, j), max(hi, j)
                grew = True
                break
        if not grew:
            break
    return "".join(sentences[lo : hi + 1])


def compose_policy(policy: Policy, hit: RecordHit, query: str, lexicon: Lexicon) -> tuple[str, str]:
    query_tokens = set(lexicon.tokens(query))
    chunk = hit.chunks[0].chunk if hit.chunks else None
    if chunk is not None:
        body = chunk.text.split("\n", 2)[-1] if chunk.text.startswith(policy.name) else chunk.text
        section = chunk.section
        texts = [body]
    else:
        texts = [s.text for s in policy.sections]
        section = ""
    passage = best_passage(texts, query_tokens, lexicon)
    source = f"《{policy.name}》" + (f"（{policy.doc_number}）" if policy.doc_number else "")
    where = section if "条" in section else ""  # "第N段" of an unstructured notice says nothing
    return f"根据{source}{where}：“{passage}”", section


def compose_faq(faq: FAQ) -> tuple[str, str]:
    return faq.answer, "常见问题"
