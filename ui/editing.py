"""The editor console's operations: find records, check an edit against the record models, save it into
its file and re-index that one record at once.

Saving is optimistic: the editor sends the hash of the record as it was opened, and a
record changed by someone else in the meantime is refused rather than overwritten.
A field is at most MAX_FIELD_CHARS long: a 100,000-character note took 34 s to embed.
A save dates the record (更新日期, which citations show) and lists the other records that
still state a fee, time limit, phone number or address the edit changed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from knowledge.consistency import changes, still_stating
from knowledge.loaders import RECORD_ADAPTER, load_knowledge_base
from knowledge.life_events import unknown_steps
from knowledge.models import FAQ, KIND_NAMES, LifeEvent, Policy, ServiceGuide
from knowledge.validation import field_message
from knowledge.writer import editor_json
from language.text import normalize
from ui.backend import Backend
from ui.errors import Rejected

EDITABLE_SUFFIXES = (".md", ".markdown", ".csv", ".xlsx", ".json", ".jsonl")
MAX_FIELD_CHARS = 20_000     # far above any field of the sample knowledge base, policies' articles included


def schemas() -> dict[str, dict]:
    """The JSON schema of each kind with the fields editors write (no source, no 类型), for generated forms."""
    out = {}
    for kind, model in (("guide", ServiceGuide), ("policy", Policy), ("faq", FAQ), ("event", LifeEvent)):
        schema = model.model_json_schema(by_alias=True)
        for key in ("source", "类型"):
            schema["properties"].pop(key, None)
        out[kind] = schema
    return out


def list_records(backend: Backend, query: str = "", kind: str = "") -> dict:
    """Records in the knowledge-base files matching `query` in any field's value (not in the field names, nor
    the file's path: "source" or "事项名称" would match every record), and the files' problems."""
    result = load_knowledge_base(backend.settings.kb_dir)
    with backend.lock:
        indexed = backend.index.hashes()
    needle = normalize(query).lower()
    found = []
    for r in result.records:
        if (kind and r.kind != kind) or (needle and needle not in _searchable(r)):
            continue
        found.append(r)
    items = []
    for r in sorted(found, key=lambda r: match_rank(r, needle)) if needle else found:
        updated = getattr(r, "updated", None)
        items.append({"id": r.id, "kind": r.kind, "kind_name": KIND_NAMES[r.kind], "title": r.title,
                      "updated": updated.isoformat() if updated else "", "source": _relative(backend, r.source),
                      "indexed": indexed.get(r.id) == r.content_hash,
                      "related_guide": getattr(r, "related_guide", "") or ""})
    return {"records": items, "problems": [str(e).replace(str(backend.settings.kb_dir) + "/", "")
                                           for e in result.errors]}


def _searchable(record) -> str:
    """The values an editor sees in the record's form, one per line, normalised for searching."""
    return "\n".join(normalize(text).lower() for _, text in _texts(editor_json(record)))


def match_rank(record, needle: str) -> tuple[int, int, int]:
    """Where a search word is found, best first: the id, the title (a guide before its FAQs), the names
    citizens use (别名, 相似问法), anywhere else; shorter titles first within each."""
    title = normalize(record.title).lower()
    names = [normalize(n).lower() for n in (*getattr(record, "aliases", ()), *getattr(record, "similar", ()))]
    if needle == record.id:
        place = 0
    elif needle in title:
        place = 1
    elif any(needle in n for n in names):
        place = 2
    else:
        place = 3
    return place, 0 if record.kind == "guide" else 1, len(title)


def open_record(backend: Backend, record_id: str) -> dict:
    record = _find(backend, record_id)
    if record is None:
        raise Rejected(404, f"没有 id 为 {record_id} 的记录")
    return {"kind": record.kind, "record": editor_json(record), "hash": record.content_hash,
            "source": _relative(backend, record.source),
            "editable": Path(record.source).suffix.lower() in EDITABLE_SUFFIXES}


def validate(kind: str, fields: dict[str, Any]):
    """The record the fields describe, or Rejected(422) listing every problem by field path (申请材料.2.份数)."""
    if kind not in KIND_NAMES:
        raise Rejected(422, f"类型应为 {'、'.join(KIND_NAMES)} 之一")
    data = {k: v for k, v in fields.items() if k not in ("类型", "kind", "source")}
    too_long = [{"field": path, "message": f"太长（最多 {MAX_FIELD_CHARS} 个字，现有 {len(text)} 个）"}
                for path, text in _texts(data) if len(text) > MAX_FIELD_CHARS]
    if too_long:
        raise Rejected(422, "有字段太长，未保存", too_long)
    try:
        return RECORD_ADAPTER.validate_python({**data, "类型": kind})
    except ValidationError as exc:
        found = [{"field": ".".join(str(x) for x in err["loc"][1:]), "message": explain(err)} for err in exc.errors()]
        raise Rejected(422, f"有 {len(found)} 处需要修改，未保存", found) from None


def explain(err: dict) -> str:
    """What is wrong with one field, in the editor's terms: an empty field is missing, not badly formatted."""
    value, kind = err.get("input"), err["type"]
    is_date = "date" in kind or str(err["loc"][-1]).endswith("日期")   # 更新日期, 发布日期 …
    empty = value is None or (isinstance(value, str) and not value.strip())
    example = f"如 {dt.date.today().isoformat()}"
    if kind == "literal_error":
        return ("必填，" if empty else "") + "请选择" + field_message(err).removeprefix("应为")
    if kind == "missing" or (empty and kind != "string_too_short"):
        return f"必填，请填写日期，{example}" if is_date else "必填，请填写"
    if is_date:
        return f"“{value}”不是有效的日期，请写成 YYYY-MM-DD，{example}"
    if kind in ("int_parsing", "int_type"):
        return f"应为整数（如 1），不能写“{value}”"
    return field_message(err)


def _texts(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string in the fields with its path as the form names it (申请材料.2.名称)."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return []
    return [found for key, item in items for found in _texts(item, f"{path}.{key}" if path else str(key))]


def save(backend: Backend, kind: str, fields: dict[str, Any], *, record_id: str | None,
         base_hash: str | None, author: str = "") -> dict:
    """Create (record_id None) or update a record: validate, write its file, re-index it. Returns where it went,
    the date it now carries and the other records that still state a value the edit changed."""
    if record_id is not None:
        fields = {**fields, "id": record_id}  # ids are stable: an edit never renames a record
    if kind in ("guide", "faq", "event") and not str(fields.get("更新日期") or "").strip():
        fields = {**fields, "更新日期": dt.date.today().isoformat()}   # a new or cleared date is today's
    record = validate(kind, fields)
    with backend.edit_lock:
        records = load_knowledge_base(backend.settings.kb_dir).records
        current = next((r for r in records if r.id == record.id), None)
        _check_related_guide(record, records)
        _check_event_steps(record, records)
        record = dated(record, current)
        if record_id is None and current is not None:
            raise Rejected(409, f"id {record.id} 已被使用（{_relative(backend, current.source)}）",
                           [{"field": "id", "message": "已被使用"}])
        if record_id is not None and current is None:
            raise Rejected(404, f"没有 id 为 {record_id} 的记录")
        if current is not None and base_hash and current.content_hash != base_hash:
            raise Rejected(409, "这条记录在您打开后已被别人修改，请重新打开后再改")
        try:
            path = backend.store.save(record, author=author)
        except ValueError as exc:
            raise Rejected(422, str(exc)) from None
        record = record.model_copy(update={"source": str(path)})
        report = backend.reindex([record])
    updated = getattr(record, "updated", None)
    return {"id": record.id, "source": _relative(backend, str(path)), "hash": record.content_hash,
            "index": report.as_dict(), "updated": updated.isoformat() if updated else "",
            "stale": stale_values(current, record, records) if current is not None else []}


def dated(record, current):
    """The record with today's 更新日期 when its content changed and the editor left the date as it was
    (citations show the date, so an old one would say the old fee is current)."""
    if not hasattr(record, "updated") or current is None or record.updated != getattr(current, "updated", None):
        return record
    if record.content_hash == current.model_copy(update={"source": record.source}).content_hash:
        return record
    return record.model_copy(update={"updated": dt.date.today()})


def stale_values(before, after, records: list) -> list[dict]:
    """Each fee, time limit, phone number or address the edit changed that other records still state."""
    out = []
    for change in changes(before, after):
        found = still_stating(change, after, records)
        if found:
            out.append({"kind": change.kind.label, "field": change.field, "old": change.old, "new": change.new,
                        "records": [{**r, "kind_name": KIND_NAMES[r["kind"]]} for r in found]})
    return out


def _check_related_guide(record, records: list) -> None:
    """A FAQ's 关联事项 must be the id of a guide in the knowledge base."""
    guide = getattr(record, "related_guide", "")
    if guide and not any(r.id == guide and r.kind == "guide" for r in records):
        raise Rejected(422, "有 1 处需要修改，未保存",
                       [{"field": "关联事项", "message": f"没有 id 为 {guide} 的办事指南，请从列表中选择"}])


def _check_event_steps(record, records: list) -> None:
    """Each step of a life event must name a guide of the knowledge base (and only materials it lists)."""
    if not isinstance(record, LifeEvent):
        return
    problems = unknown_steps(record, {r.id: r for r in records if isinstance(r, ServiceGuide)})
    if problems:
        raise Rejected(422, f"有 {len(problems)} 处需要修改，未保存",
                       [{"field": where, "message": message} for where, message in problems])


def remove(backend: Backend, record_id: str, author: str = "") -> dict:
    with backend.edit_lock:
        try:
            path = backend.store.remove(record_id, author=author)
        except KeyError:
            raise Rejected(404, f"没有 id 为 {record_id} 的记录") from None
        with backend.lock:
            backend.index.delete([record_id])
    return {"id": record_id, "source": _relative(backend, str(path))}


def history(backend: Backend, record_id: str) -> dict:
    """Every version of a record, oldest first: when, who, what kind of change."""
    versions = backend.store.versions(record_id)
    if not versions:
        raise Rejected(404, f"记录 {record_id} 还没有修改历史")
    return {"id": record_id, "versions": [v.as_dict() for v in versions]}


def version(backend: Backend, record_id: str, number: int) -> dict:
    """One version: the record as it was, and what it changed against the version before (unified diff)."""
    store = backend.store
    found = next((v for v in store.versions(record_id) if v.version == number), None)
    if found is None:
        raise Rejected(404, f"记录 {record_id} 没有版本 {number}")
    return {**found.as_dict(), "record": found.fields, "diff": store.diff(record_id, number)}


def restore(backend: Backend, record_id: str, number: int, author: str = "") -> dict:
    """Bring back an earlier version (as a new version) and re-index the record at once."""
    with backend.edit_lock:
        try:
            path = backend.store.restore(record_id, number, author=author)
        except KeyError as exc:
            raise Rejected(404, str(exc.args[0])) from None
        except ValueError as exc:
            raise Rejected(409, str(exc)) from None
        record = _find(backend, record_id)
        if record is None:
            with backend.lock:
                backend.index.delete([record_id])
        else:
            backend.reindex([record])
    return {"id": record_id, "source": _relative(backend, str(path)),
            "hash": record.content_hash if record is not None else None}


def _find(backend: Backend, record_id: str):
    return next((r for r in load_knowledge_base(backend.settings.kb_dir).records if r.id == record_id), None)


def _relative(backend: Backend, source: str) -> str:
    try:
        return str(Path(source).relative_to(backend.settings.kb_dir))
    except ValueError:
        return Path(source).name

