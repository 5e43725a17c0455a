"""Keeping a figure the same everywhere it is stated.

A fee, a time limit, a phone number or an address is often repeated: the guide states the
passport fee, and a FAQ about the fee states it again. When an editor changes it in one record,
the others still give the old value, and the assistant answers from whichever matches best.
So on saving, the old values the change removed are looked up in the other records that are
about the same service (or, for a phone number or an address, in any record), and listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Iterable

from knowledge.models import FAQ, Policy, ServiceGuide
from knowledge.writer import editor_json
from language.data import language_data

AnyRecord = ServiceGuide | Policy | FAQ
SNIPPET_CHARS = 40
ANYWHERE = ("phone", "address")      # specific enough to be the same fact in any record


@dataclass(frozen=True)
class ValueKind:
    code: str
    label: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Change:
    """An old value the edit removed from a field, and what the field says now in its place (if one value)."""

    kind: ValueKind
    field: str
    old: str
    new: str


@cache
def value_kinds() -> tuple[ValueKind, ...]:
    """The kinds of stated value (`stated_values` in patterns.yml)."""
    return tuple(ValueKind(v["code"], v["label"], re.compile(v["pattern"]))
                 for v in language_data().section("stated_values"))


def field_texts(record: AnyRecord) -> dict[str, str]:
    """Each field an editor writes, as one text (lists and tables flattened), by its Chinese name."""
    def flat(value: object) -> str:
        if isinstance(value, dict):
            return "\n".join(flat(v) for v in value.values())
        if isinstance(value, list):
            return "\n".join(flat(v) for v in value)
        return "" if value is None else str(value)

    return {k: flat(v) for k, v in editor_json(record).items() if k not in ("id", "类型", "更新日期", "发布日期")}


def changes(before: AnyRecord, after: AnyRecord) -> list[Change]:
    """The values each field stated before the edit and no longer states."""
    old_fields, new_fields = field_texts(before), field_texts(after)
    found = []
    for name, old_text in old_fields.items():
        new_text = new_fields.get(name, "")
        for kind in value_kinds():
            old = _values(kind, old_text)
            new = _values(kind, new_text)
            gone, came = [v for v in old if v not in new], [v for v in new if v not in old]
            found += [Change(kind, name, v, came[0] if len(gone) == len(came) == 1 else "") for v in gone]
    return found


def still_stating(change: Change, edited: AnyRecord, records: Iterable[AnyRecord]) -> list[dict]:
    """The other records that still state the old value, where they say it: those about the same service,
    or any record for a phone number or an address."""
    out = []
    for record in records:
        if record.id == edited.id or not (change.kind.code in ANYWHERE or related(edited, record)):
            continue
        for name, text in field_texts(record).items():
            match = next((m for m in change.kind.pattern.finditer(text) if _same(m.group(0), change.old)), None)
            if match:
                out.append({"id": record.id, "kind": record.kind, "title": record.title, "field": name,
                            "snippet": _snippet(text, match.start(), match.end())})
                break
    return out


def related(a: AnyRecord, b: AnyRecord) -> bool:
    """Whether two records are about the same service: a guide and its FAQs, FAQs of one guide, or a record
    that names the other's service (its title or one of its aliases)."""
    guide_a, guide_b = _service(a), _service(b)
    if guide_a and guide_a == guide_b:
        return True
    return any(name and name in " ".join(field_texts(b).values()) for name in _names(a)) or \
        any(name and name in " ".join(field_texts(a).values()) for name in _names(b))


def _service(record: AnyRecord) -> str:
    return record.id if isinstance(record, ServiceGuide) else getattr(record, "related_guide", "") or ""


def _names(record: AnyRecord) -> list[str]:
    """A guide's own names long enough to identify it ("办护照", not "领证")."""
    if not isinstance(record, ServiceGuide):
        return []
    return [n for n in (record.name, *record.aliases) if len(n) >= 3]


def _values(kind: ValueKind, text: str) -> list[str]:
    return list(dict.fromkeys(_plain(m.group(0)) for m in kind.pattern.finditer(text)))


def _plain(value: str) -> str:
    return re.sub(r"\s+", "", value)


def _same(a: str, b: str) -> bool:
    return _plain(a) == _plain(b)


def _snippet(text: str, start: int, end: int) -> str:
    lo, hi = max(0, start - SNIPPET_CHARS), min(len(text), end + SNIPPET_CHARS)
    return ("…" if lo else "") + text[lo:hi].replace("\n", " ") + ("…" if hi < len(text) else "")
