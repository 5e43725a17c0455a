"""One record written back into the kind of file editors keep it in (Markdown + YAML, CSV/XLSX, JSON/JSONL).

Only the record's own part of a file changes: other rows of a FAQ table and
other items of a JSON list are kept as they are. `renderings` offers the most
readable form first; the store keeps the first one that reads back as the same
record, so a file is never written in a form the loader would read differently.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import yaml

from knowledge.loaders import FAQ_COLUMNS
from knowledge.models import FAQ, KIND_NAMES, LifeEvent, Policy, PolicySection, ServiceGuide
from language.documents import document_pattern

AnyRecord = ServiceGuide | Policy | FAQ | LifeEvent


def editor_fields(record: AnyRecord) -> dict[str, Any]:
    """The record with the Chinese field names of FORMAT.md, empty fields left out, 类型 right after id."""
    fields = _pruned(record.model_dump(mode="python", by_alias=True, exclude={"source", "kind", "id"}))
    return {"id": record.id, "类型": KIND_NAMES[record.kind], **fields}


def editor_json(record: AnyRecord) -> dict[str, Any]:
    """`editor_fields` as plain JSON values (dates as YYYY-MM-DD)."""
    return json.loads(json.dumps(editor_fields(record), ensure_ascii=False, default=str))


def _pruned(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _pruned(v) for k, v in value.items() if v not in ("", None, [])}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def renderings(path: Path, record: AnyRecord, existing: bytes | None) -> list[bytes]:
    """Candidate contents for `path` holding `record` (replacing the record of the same id, or added)."""
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        return _markdown(record)
    if not isinstance(record, FAQ) and suffix in (".csv", ".xlsx"):
        raise ValueError(f"{path.name} 是常见问题表格，只能保存常见问题")
    if suffix == ".csv":
        return [_csv(existing.decode("utf-8-sig") if existing else "", record)]
    if suffix == ".xlsx":
        return [_xlsx(existing, record)]
    if suffix == ".json":
        return [_json(existing.decode("utf-8-sig") if existing else "[]", record)]
    if suffix == ".jsonl":
        return [_jsonl(existing.decode("utf-8-sig") if existing else "", record)]
    raise ValueError(f"{path.suffix} 文件不能在线编辑，请修改原文件后重新导入")


# ---- Markdown + YAML front matter ----------------------------------------------
class _Inline(list):
    """A short list written on one line, as editors write 别名: [a, b]."""


class _Dumper(yaml.SafeDumper):
    """YAML in the layout of FORMAT.md: list items indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


_Dumper.add_representer(_Inline, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def _front_matter(fields: dict[str, Any], body: str) -> bytes:
    if "别名" in fields:
        fields = {**fields, "别名": _Inline(fields["别名"])}
    head = yaml.dump(fields, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False,
                     width=1000)
    return f"---\n{head}---\n{body.strip()}\n".encode()


def _markdown(record: AnyRecord) -> list[bytes]:
    fields = editor_fields(record)
    if isinstance(record, FAQ):
        return [_front_matter(fields, "")]
    if isinstance(record, (ServiceGuide, LifeEvent)):
        notes = fields.pop("说明", "")
        return [_front_matter(fields, notes)]
    readable = dict(fields)
    readable.pop("正文", None)
    # the body as editors write it; where it would not split back into the same sections, 正文 in the YAML
    return [_front_matter(readable, policy_body(record.sections)), _front_matter(fields, "")]


def policy_body(sections: list[PolicySection]) -> str:
    """Sections as Markdown text that `split_sections` reads back: chapter lines, then "第X条 text"."""
    lines: list[str] = []
    chapter = section = heading = ""
    for s in sections:
        article = document_pattern("article_heading").match(s.heading)
        if article:
            prefix = document_pattern("section_start").split(article.group(1), maxsplit=1) if article.group(1) else [""]
            new_chapter, new_section = prefix[0].strip(), (prefix[1].strip() if len(prefix) > 1 else "")
            if new_chapter != chapter and new_chapter:
                lines += ["", f"# {new_chapter}"]
            if new_section != section and new_section:
                lines += ["", f"## {new_section}"]
            chapter, section, heading = new_chapter, new_section, s.heading
            lines += ["", f"{article.group(2)} {_paragraphs(s.text)}"]
            continue
        if s.heading != heading and s.heading:
            lines += ["", f"# {s.heading}"]
        heading = s.heading
        lines += ["", _paragraphs(s.text)]
    return "\n".join(lines).strip()


def _paragraphs(text: str) -> str:
    return "\n\n".join(line for line in text.split("\n") if line.strip())


# ---- FAQ tables ----------------------------------------------------------------
def _faq_row(record: FAQ) -> dict[str, str]:
    return {"id": record.id, "问题": record.question, "相似问法": "|".join(record.similar), "答案": record.answer,
            "关联事项": record.related_guide, "更新日期": record.updated.isoformat() if record.updated else "",
            "实施部门": record.department, "适用地区": record.region}


def _merge_row(header: list[str], rows: list[dict[str, Any]], record: FAQ) -> tuple[list[str], list[dict]]:
    new = _faq_row(record)
    header = header or list(FAQ_COLUMNS)
    header += [k for k, v in new.items() if v and k not in header]
    new = {k: new.get(k, "") for k in header}
    for n, row in enumerate(rows):
        if str(row.get("id") or "").strip() == record.id:
            rows[n] = new
            return header, rows
    return header, rows + [new]


def _csv(text: str, record: FAQ) -> bytes:
    reader = csv.DictReader(io.StringIO(text))
    header, rows = _merge_row(list(reader.fieldnames or []), list(reader), record)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _xlsx(existing: bytes | None, record: FAQ) -> bytes:
    from openpyxl import Workbook, load_workbook

    book = load_workbook(io.BytesIO(existing)) if existing else Workbook()
    sheet = book.worksheets[0]
    header = [str(c.value).strip() if c.value is not None else "" for c in sheet[1]] if sheet.max_row >= 1 else []
    header = [h for h in header if h]
    rows = [dict(zip(header, (c.value for c in row))) for row in sheet.iter_rows(min_row=2)]
    header, rows = _merge_row(header, rows, record)
    sheet.delete_rows(1, sheet.max_row)
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(h) for h in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---- JSON ------------------------------------------------------------------------
def _json(text: str, record: AnyRecord) -> bytes:
    data = json.loads(text)
    items = data if isinstance(data, list) else [data]
    same = [isinstance(x, dict) and x.get("id") == record.id for x in items]
    items = [editor_json(record) if s else x for x, s in zip(items, same)]
    if not any(same):
        items.append(editor_json(record))
    return json.dumps(items, ensure_ascii=False, indent=2).encode()


def _jsonl(text: str, record: AnyRecord) -> bytes:
    line = json.dumps(editor_json(record), ensure_ascii=False)
    lines, found = [], False
    for existing in text.splitlines():
        try:
            same = json.loads(existing).get("id") == record.id
        except (json.JSONDecodeError, AttributeError):
            same = False
        lines.append(line if same else existing)
        found = found or same
    if not found:
        lines.append(line)
    return ("\n".join(ln for ln in lines if ln.strip()) + "\n").encode()
