"""A life event (一件事) laid out over its guides: the steps in order, one merged materials checklist, the
promised time and fees added up. The knowledge base states each fact once, in the guide; an event only
names the guides, so a plan is always built from what the guides say today.

A step whose guide is missing (removed, or a typo in the event) stays in the plan, marked missing, so an
answer can list the other steps and say that one is missing instead of linking nowhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Mapping

from knowledge.models import LifeEvent, Material, ServiceGuide
from language.data import language_data
from language.text import normalize

if TYPE_CHECKING:
    from language.lexicon import Lexicon


def situation_phrases(event: LifeEvent, lexicon: Lexicon) -> list[tuple[str, ...]]:
    """The event's situations, title and aliases, each as its words (function words dropped): a question states
    a phrasing when it holds every word of it, in any order ("宝宝刚出生" states 宝宝出生)."""
    phrases = []
    for phrase in (event.title, *event.aliases, *event.situations):
        words = tuple(w for w in lexicon.cut(normalize(phrase)) if w not in lexicon.stopwords)
        if words:
            phrases.append(words)
    return phrases


def states(words: tuple[str, ...], text: str) -> bool:
    """Whether a (normalised) text holds every word of a phrasing, and enough of it to mean something."""
    return sum(map(len, words)) >= 2 and all(w in text for w in words)


def unknown_steps(event: LifeEvent, guides: Mapping[str, ServiceGuide]) -> list[tuple[str, str]]:
    """(field, message) for each step naming no guide of the knowledge base, or a material its guide does not
    list, as the loaders and the editor report it (步骤.1.事项: the second step, as pydantic numbers list items)."""
    found = []
    for n, step in enumerate(event.steps):
        guide = guides.get(step.guide)
        if guide is None:
            found.append((f"步骤.{n}.事项", f"没有 id 为 {step.guide} 的办事指南（第{n + 1}步）"))
            continue
        listed = {normalize(m.name) for m in guide.materials}
        found += [(f"步骤.{n}.所需材料", f"“{name}”不在办事指南 {guide.id} 的申请材料中（第{n + 1}步）")
                  for name in step.materials if normalize(name) not in listed]
    return found


@dataclass(frozen=True)
class PlannedStep:
    n: int                          # 1-based, as citizens count
    guide_id: str
    title: str
    condition: str
    guide: ServiceGuide | None      # None: the event names a guide the knowledge base does not have
    needs: tuple[str, ...] = ()     # the guide's materials this event needs (normalised names); empty: all

    @property
    def materials(self) -> list[Material]:
        if self.guide is None:
            return []
        return [m for m in self.guide.materials if not self.needs or normalize(m.name) in self.needs]

    @property
    def missing(self) -> bool:
        return self.guide is None


@dataclass
class ChecklistItem:
    """One document, listed once however many steps ask for it."""

    name: str
    steps: list[int] = field(default_factory=list)
    forms: list[str] = field(default_factory=list)
    copies: int = 0
    uses: list[str] = field(default_factory=list)   # "第2步：监护人居民身份证（原件1份）：备注", per step

    @property
    def original(self) -> bool:
        """Whether an original must be brought (to be shown at the window), not only a copy."""
        return any(form.startswith("原件") for form in self.forms)

    def as_dict(self) -> dict:
        return {"name": self.name, "steps": self.steps, "forms": self.forms, "copies": self.copies,
                "original": self.original, "uses": self.uses}


@dataclass(frozen=True)
class EventPlan:
    event: LifeEvent
    steps: list[PlannedStep]
    checklist: list[ChecklistItem]

    @property
    def missing(self) -> list[PlannedStep]:
        return [s for s in self.steps if s.missing]

    def total_time(self) -> str:
        """The promised times added up, in working days; a step done on the spot counts nothing, a step
        whose promise is not a number of working days is named instead of guessed."""
        data = language_data()
        days, unknown = 0, []
        for step in self.steps:
            if step.guide is None:
                continue
            promised = step.guide.time_limit.promised
            found = [int(n) for n in data.pattern("life_events.working_days").findall(promised)]
            if found:
                days += max(found)     # the longest case of a step: the sum is an upper bound, never a promise
            elif not data.pattern("life_events.on_the_spot").search(promised):
                unknown.append(step.n)
        text = f"各步承诺时限相加最长约{days}个工作日（当场办结的不计）"
        return text + (f"；第{'、'.join(map(str, unknown))}步的时限见该步" if unknown else "")

    def total_fees(self) -> str:
        """The fees added up where each step states one amount or none; other steps are named."""
        data = language_data()
        amount, unclear = 0.0, []
        for step in self.steps:
            if step.guide is None:
                continue
            amounts = data.pattern("life_events.fee_amount").findall(step.guide.fees)
            free = data.pattern("life_events.free").search(step.guide.fees or "")
            if len(amounts) == 1 and not free:
                amount += float(amounts[0])
            elif amounts or not free:      # free in one case and charged in another, or not said
                unclear.append(step.n)
        total = f"{amount:g}元" if amount else "不收费"
        return f"各步收费合计{total}" + (f"；第{'、'.join(map(str, unclear))}步视情况收费，见该步" if unclear else "")

    def as_dict(self) -> dict:
        """The plan as the JSON of an answer (the phone's step list, the hotline's checklist)."""
        return {"id": self.event.id, "title": self.event.title,
                "steps": [{"n": s.n, "record_id": s.guide_id, "title": s.title, "condition": s.condition,
                           "missing": s.missing,
                           "time": s.guide.time_limit.promised if s.guide else "",
                           "fees": s.guide.fees if s.guide else ""} for s in self.steps],
                "checklist": [item.as_dict() for item in self.checklist],
                "joint_window": self.event.joint_window, "online": self.event.online,
                "total_time": self.total_time(), "total_fees": self.total_fees()}


def plan(event: LifeEvent, guides: Mapping[str, ServiceGuide] | Callable[[str], object],
         lexicon: Lexicon | None = None) -> EventPlan:
    """The event over the guides (`guides`: by id, or a lookup such as the index's `record`)."""
    lookup = guides.get if isinstance(guides, Mapping) else guides
    steps = []
    for n, step in enumerate(event.steps, 1):
        guide = lookup(step.guide)
        guide = guide if isinstance(guide, ServiceGuide) else None
        steps.append(PlannedStep(n, step.guide, step.name or (guide.title if guide else step.guide),
                                 step.condition, guide, tuple(normalize(m) for m in step.materials)))
    return EventPlan(event, steps, merged_checklist(steps, lexicon))


def merged_checklist(steps: list[PlannedStep], lexicon: Lexicon | None = None) -> list[ChecklistItem]:
    """Every material of every step, one item per document: the same document asked for by several steps
    (居民身份证 of the parents and of the guardian, 《出生医学证明》 and 出生医学证明) is one item that says
    which steps use it, in the order first needed."""
    items: dict[str, ChecklistItem] = {}
    for step in steps:
        for material in step.materials:
            key = document_key(material.name, lexicon)
            item = items.setdefault(key, ChecklistItem(name=_plain_name(material.name)))
            if _plain_name(material.name) != item.name:      # one document, worded for different holders
                item.name = _holderless(material.name)
            if step.n not in item.steps:
                item.steps.append(step.n)
            if material.form not in item.forms:
                item.forms.append(material.form)
            item.copies = max(item.copies, material.copies)
            item.uses.append(f"第{step.n}步：{material.describe()}")
    return list(items.values())


def document_key(name: str, lexicon: Lexicon | None = None) -> str:
    """What identifies a document whoever holds it: the name without 《》, its holder (`life_events.holder`:
    本人, 监护人, 父母双方 …) and, with a lexicon, with each synonym in its group's first wording."""
    text = _holderless(normalize(name))
    if lexicon is not None:
        for group in lexicon.synonym_groups(text):
            words = lexicon.groups[group]
            for word in sorted(words[1:], key=len, reverse=True):
                text = text.replace(word, words[0])
    return text or normalize(name)


def _holderless(name: str) -> str:
    """The name without the holder that does not change the document (本人, 监护人); a family member acting for
    the deceased (申报人, 经办人, 继承人) is one person, 家属."""
    data = language_data()
    plain = data.pattern("life_events.holder").sub("", _plain_name(name))
    return data.pattern("life_events.family").sub(data.source("life_events.family_word"), plain)


def _plain_name(name: str) -> str:
    return re.sub(r"[《》]", "", name).strip()
