"""Which aspect of a service a question asks about (材料, 流程, 费用 …), and which kind of figure.

Shared by retrieval (a guide answers an aspect question better than a FAQ about a special case) and by
answer composition (which guide field to quote). The wordings are `aspects` in patterns.yml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from language.data import language_data


@dataclass(frozen=True)
class Aspect:
    code: str
    label: str                  # the guide section that answers it, as citizens read it
    field: str                  # the guide field that answers it
    pattern: re.Pattern[str]


@cache
def aspects() -> tuple[Aspect, ...]:
    """In the order they are tried: the first whose wording appears wins."""
    return tuple(Aspect(a["code"], a["label"], a["field"], re.compile(a["pattern"]))
                 for a in language_data().section("aspects"))


@cache
def aspect_fields() -> dict[str, str]:
    """Aspect code → the guide field that answers it."""
    return {a.code: a.field for a in aspects()}


def detect_aspect(normalized_question: str) -> str:
    """The first aspect whose wording appears, or "general"."""
    for aspect in aspects():
        if aspect.pattern.search(normalized_question):
            return aspect.code
    return "general"


def aspects_asked(normalized_question: str) -> tuple[str, ...]:
    """Every aspect the question asks about, in the order it asks them: "在哪个窗口办 周六能办不" asks where;
    "网上申请几天办好 户口页要自己去打吗" asks how long and how; "在手机上咋个交钱" asks how online and what fee."""
    found = []
    for aspect in aspects():
        match = aspect.pattern.search(normalized_question)
        if match:
            found.append((match.start(), aspect.code))
    return tuple(code for _, code in sorted(found))


def quantities_asked(normalized_question: str) -> frozenset[str]:
    """The kinds of figure asked for: "失业金能领多少" wants an amount, "能领多久" a length of time."""
    data = language_data()
    return frozenset(kind for kind in data.section("quantities") if data.pattern(f"quantities.{kind}").search(
        normalized_question))


def asks_about_document(normalized_question: str) -> bool:
    """A question about a policy document itself: who issued it, its number, from when it applies."""
    return bool(language_data().pattern("document_facts").search(normalized_question))


def without_aspect_wording(normalized_question: str) -> str:
    """The question with every aspect's wording blanked out, leaving what it is about."""
    for aspect in aspects():
        normalized_question = aspect.pattern.sub(" ", normalized_question)
    return normalized_question


def aspect_label(code: str) -> str:
    return next((a.label for a in aspects() if a.code == code), "综合")
