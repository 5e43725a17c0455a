"""The editor console's operations: find records, check an edit against the record models, save it into
its file and re-index that one record at once.

Saving is optimistic: the editor sends the hash of the record as it was opened, and a
record changed by someone else in the meantime is refused rather than overwritten.
A field is at most MAX_FIELD_CHARS long: a 100,000-character note took 34 s to embed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from language.text import normalize
from knowledge.loaders import RECORD_ADAPTER, load_knowledge_base
from knowledge.models import FAQ, KIND_NAMES, Policy, ServiceGuide
from knowledge.writer import editor_json
from ui.backend import Backend
from ui.errors import Rejected, problems

EDITABLE_SUFFIXES = (".md", ".markdown", ".csv", ".xlsx", ".json", ".jsonl")
MAX_FIELD_CHARS = 20_000     # far above any field of the sample knowledge base, policies' articles included


def schemas() -> dict[str, dict]:
    """The JSON schema of each kind with the fields editors write (no source, no 类型), for generated forms."""
    out = {}
    for kind, model in (("guide", ServiceGuide), ("policy", Policy), ("faq", FAQ)):
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
    items = []
    for r in result.records:
        if (kind and r.kind != kind) or (needle and needle not in _searchable(r)):
            continue
        updated = getattr(r, "updated", None)
        items.append({"id": r.id, "kind": r.kind, "kind_name": KIND_NAMES[r.kind], "title": r.title,
                      "updated": updated.isoformat() if updated else "", "source": _relative(backend, r.source),
                      "indexed": indexed.get(r.id) == r.content_hash})
    return {"records": items, "problems": [str(e).replace(str(backend.settings.kb_dir) + "/", "")
                                           for e in result.errors]}


def _searchable(record) -> str:
    """The values an editor sees in the record's form, one per line, normalised for searching."""
    return "\n".join(normalize(text).lower() for _, text in _texts(editor_json(record)))


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
        raise Rejected(422, "有字段需要修改，未保存", problems(exc.errors(), skip=1)) from None


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
    """Create (record_id None) or update a record: validate, write its file, re-index it. Returns where it went."""
    if record_id is not None:
        fields = {**fields, "id": record_id}  # ids are stable: an edit never renames a record
    record = validate(kind, fields)
    with backend.edit_lock:
        current = _find(backend, record.id)
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
    return {"id": record.id, "source": _relative(backend, str(path)), "hash": record.content_hash,
            "index": report.as_dict()}


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

