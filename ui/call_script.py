"""What a 12345 agent reads out to a caller, one line per item.

The citizen's answer is written to be read on a screen: it ends with what else one can ask,
quotes a window of a long field, and a refusal tells the reader to call 12345 — which is the
line the caller is on. A script is spoken: every item of a list in full and on its own line,
no filler, and a refusal that names who can help instead of the hotline itself.
"""

from __future__ import annotations

import re

from assistant.compose import FOLLOW_UP_HINT, compose_guide
from assistant.service import Answer
from indexing.chunking import GUIDE_SECTIONS
from knowledge.models import FAQ, Policy, ServiceGuide
from language.aspects import aspect_fields

LIST_FIELDS = ("materials", "conditions", "process")    # answered in full, one item a line
_MARKERS = re.compile(r"\s*\[\d+\]")
_RUN_TOGETHER = re.compile(r"(?<=[^\s\d.])(?=[1-9]\d?\. )")   # "…居民户口簿2. 符合…": a new item mid-line
NO_BASIS = "您好，您问的这个问题，我们这里暂时没有可以直接答复的依据。"


def script_lines(answer: Answer, record: ServiceGuide | Policy | FAQ | None, transfer: dict | None) -> list[str]:
    """The lines to read out for an answer; `record` is the cited one, `transfer` where to put the caller through."""
    if answer.decision == "refused":
        return refusal_lines(transfer)
    if answer.decision == "clarify":
        return clarifying_lines(answer)
    if isinstance(record, ServiceGuide) and answer.citations:
        field = _field_of(answer.citations[0].section)
        if field in LIST_FIELDS:
            return _lines(compose_guide(record, _aspect_of(field))[0])
    return _lines(answer.answer)


def refusal_lines(transfer: dict | None) -> list[str]:
    """No basis to answer: say so, and name the department that can help and its number."""
    if transfer:
        return [NO_BASIS, f"这类事项由{transfer['department']}负责，我帮您转接过去，电话是 {transfer['phone']}，请稍候。"]
    return [NO_BASIS, "我已经记录了您的诉求，会转交相关部门处理，并按规定时限给您回复。"]


def clarifying_lines(answer: Answer) -> list[str]:
    """Ask the caller which service they mean, the options read out one by one."""
    if not answer.options:
        return _lines(answer.answer)
    if len(answer.options) == 1:
        return [f"请问您咨询的是“{answer.options[0]['title']}”吗？"]
    return ["请问您咨询的是下面哪一项？"] + [f"{o['n']}. {o['title']}" for o in answer.options]


def item_lines(text: str) -> list[str]:
    """The lines of an answer with each numbered item on its own line: a quoted passage of a list field
    runs its items together ("…居民户口簿2. 符合标准的相片…"), since its sentences are joined as one text."""
    return _RUN_TOGETHER.sub("\n", text).splitlines()


def _lines(text: str) -> list[str]:
    """Answer text as spoken lines: no citation markers, no "还可以问" filler, one numbered item a line."""
    lines = (line.strip() for line in item_lines(_MARKERS.sub("", text)))
    return [line for line in lines if line and line != FOLLOW_UP_HINT]


def _field_of(section: str) -> str:
    return next((field for field, name in GUIDE_SECTIONS.items() if name == section), "")


def _aspect_of(field: str) -> str:
    return next(code for code, answered_by in aspect_fields().items() if answered_by == field)
