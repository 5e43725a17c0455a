"""Read the files editors keep (Markdown + YAML, JSON/JSONL, CSV/XLSX, TXT/DOCX/PDF) into records.

One bad file, or one bad row, never blocks the rest: every problem becomes a
`LoadError` naming the file, the record and the field, in Chinese, and loading goes on.
A file that holds one id twice keeps the first and reports the others by row; an XLSX
row covered by a merged cell is reported, not read (the merge leaves it empty there).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml
from pydantic import TypeAdapter, ValidationError

from knowledge.life_events import unknown_steps
from knowledge.models import FAQ, KIND_ALIASES, LifeEvent, Policy, Record, ServiceGuide
from knowledge.policy_text import split_sections
from knowledge.validation import field_message

RECORD_ADAPTER: TypeAdapter[ServiceGuide | Policy | FAQ | LifeEvent] = TypeAdapter(Record)
STRUCTURED = {".md", ".markdown", ".json", ".jsonl", ".csv", ".xlsx"}
UNSTRUCTURED = {".txt", ".docx", ".pdf"}
SUPPORTED = STRUCTURED | UNSTRUCTURED
FAQ_COLUMNS = ("id", "问题", "相似问法", "答案", "关联事项", "更新日期")
_FOLDER_KIND = {"guides": "guide", "policies": "policy", "faqs": "faq", "events": "event"}


@dataclass(frozen=True)
class LoadError:
    path: str
    record: str
    field: str
    message: str

    def __str__(self) -> str:
        where = [self.path]
        if self.record:
            where.append(f"记录 {self.record}")
        if self.field:
            where.append(f"字段 {self.field}")
        return f"{'：'.join(where)}：{self.message}"


@dataclass
class LoadResult:
    records: list[ServiceGuide | Policy | FAQ | LifeEvent] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)

    def extend(self, other: "LoadResult") -> None:
        self.records.extend(other.records)
        self.errors.extend(other.errors)


def load_knowledge_base(root: Path) -> LoadResult:
    """Load every supported file under `root`; duplicate ids are errors, first one wins. A life event's step
    naming no guide of the folder is an error too, but the event is kept: its other steps still answer."""
    result = LoadResult()
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    for path in paths:
        if path.suffix.lower() in SUPPORTED and not path.name.startswith((".", "~$", "README")):
            result.extend(load_file(path))
    seen: dict[str, str] = {}
    unique = []
    for rec in result.records:
        if rec.id in seen:
            result.errors.append(LoadError(rec.source, rec.id, "id", f"与 {seen[rec.id]} 中的记录重复，已忽略"))
            continue
        seen[rec.id] = rec.source
        unique.append(rec)
    result.records = unique
    if root.is_dir():
        guides = {r.id: r for r in unique if isinstance(r, ServiceGuide)}
        result.errors += [LoadError(event.source, event.id, where, message) for event in unique
                          if isinstance(event, LifeEvent) for where, message in unknown_steps(event, guides)]
    return result


def load_file(path: Path) -> LoadResult:
    """Load one file; never raises for bad content."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".md", ".markdown"):
            return _from_markdown(path)
        if suffix == ".json":
            data = json.loads(_read_text(path))
            return _from_dicts(path, data if isinstance(data, list) else [data])
        if suffix == ".jsonl":
            return _from_jsonl(path)
        if suffix == ".csv":
            return _from_table(path, list(enumerate(_csv_rows(path), 2)))
        if suffix == ".xlsx":
            return _from_table(path, _xlsx_numbered_rows(path), _merged_rows(path))
        if suffix in UNSTRUCTURED:
            return _from_plain_policy(path)
    except _FileProblem as exc:
        return LoadResult(errors=[LoadError(str(path), "", "", str(exc))])
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        return LoadResult(errors=[LoadError(str(path), "", "", f"格式错误：{_one_line(exc)}")])
    except Exception as exc:  # unreadable spreadsheet, broken docx/pdf …
        return LoadResult(errors=[LoadError(str(path), "", "", f"无法读取文件：{_one_line(exc)}")])
    return LoadResult(errors=[LoadError(str(path), "", "", f"不支持的文件类型 {suffix}")])


class _FileProblem(Exception):
    """A problem with the file as a whole, already worded for editors."""


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            raw.decode("gb18030")
            hint = "，看起来是 GBK/GB18030 编码"
        except UnicodeDecodeError:
            hint = ""
        raise _FileProblem(f"文件不是 UTF-8 编码{hint}，请另存为 UTF-8 后重试") from None


def _kind_of(data: dict[str, Any], path: Path) -> str | None:
    declared = data.get("类型", data.get("kind"))
    if declared is not None:
        return KIND_ALIASES.get(str(declared).strip())
    for part in reversed(path.parts[:-1]):
        if part in _FOLDER_KIND:
            return _FOLDER_KIND[part]
    if "事项名称" in data:
        return "guide"
    if "步骤" in data:
        return "event"
    if "标题" in data:
        return "policy"
    if "问题" in data:
        return "faq"
    return None


def _validate(path: Path, data: dict[str, Any], label: str) -> LoadResult:
    record_label = str(data.get("id") or label)
    kind = _kind_of(data, path)
    if kind is None:
        return LoadResult(errors=[LoadError(str(path), record_label, "类型", "无法判断记录类型（办事指南/政策文件/常见问题/一件事）")])
    data = {k: v for k, v in data.items() if k not in ("类型", "kind")}
    data["类型"] = kind
    data["source"] = str(path)
    try:
        return LoadResult(records=[RECORD_ADAPTER.validate_python(data)])
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = [str(x) for x in err["loc"] if str(x) != kind]
            field_name = ".".join(loc) or "?"
            message = "缺少必填字段" if err["type"] == "missing" else field_message(err)
            errors.append(LoadError(str(path), record_label, field_name, message))
        return LoadResult(errors=errors)


def _from_markdown(path: Path) -> LoadResult:
    text = _read_text(path)
    match = re.match(r"^---\s*\n(.*?)\n---\s*(?:\n|$)(.*)$", text, re.S)
    if not match:
        raise _FileProblem("缺少以 --- 开头和结尾的 YAML 头")
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"（YAML 头第 {mark.line + 2} 行）" if mark else ""
        raise _FileProblem(f"YAML 格式错误{where}：{getattr(exc, 'problem', None) or _one_line(exc)}") from None
    if not isinstance(data, dict):
        raise _FileProblem("YAML 头必须是“字段: 值”的映射")
    body = match.group(2).strip()
    kind = _kind_of(data, path)
    if kind == "policy" and "正文" not in data:
        data["正文"] = [s.model_dump(by_alias=True) for s in split_sections(body)]
    elif kind in ("guide", "event") and body and "说明" not in data:
        data["说明"] = body
    return _validate(path, data, path.stem)


class _Unique:
    """The records of one file, the first of each id kept: a later row with the same id is an error naming
    both rows (an editor pasted a row twice, or reused an id; either way one of them would vanish)."""

    def __init__(self) -> None:
        self.result = LoadResult()
        self._seen: dict[str, str] = {}

    def add(self, loaded: LoadResult, label: str) -> None:
        self.result.errors.extend(loaded.errors)
        for record in loaded.records:
            if record.id in self._seen:
                self.result.errors.append(LoadError(record.source, label, "id",
                                                    f"与{self._seen[record.id]}的 id 重复（{record.id}），未读入"))
                continue
            self._seen[record.id] = label
            self.result.records.append(record)


def _from_dicts(path: Path, items: Iterable[Any]) -> LoadResult:
    unique = _Unique()
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            unique.add(LoadResult(errors=[LoadError(str(path), f"第{n}条", "", "应为 JSON 对象")]), f"第{n}条")
            continue
        unique.add(_validate(path, item, f"第{n}条"), f"第{n}条")
    return unique.result


def jsonl_items(text: str) -> Iterator[tuple[int, dict | str]]:
    """(line number, object) for each non-empty line; a line that is no JSON object gives the reason instead."""
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, f"JSON 格式错误：{exc.msg}"
            continue
        yield n, item if isinstance(item, dict) else "应为 JSON 对象"


def _from_jsonl(path: Path) -> LoadResult:
    unique = _Unique()
    for n, item in jsonl_items(_read_text(path)):
        unique.add(_validate(path, item, f"第{n}行") if isinstance(item, dict) else
                   LoadResult(errors=[LoadError(str(path), f"第{n}行", "", item)]), f"第{n}行")
    return unique.result


def _csv_rows(path: Path) -> list[dict[str, Any]]:
    return list(csv.DictReader(io.StringIO(_read_text(path))))


def xlsx_rows(path: Path) -> list[dict[str, Any]]:
    """The first sheet's rows below the header, as dicts by header name; empty rows left out."""
    return [row for _, row in _xlsx_numbered_rows(path)]


def _xlsx_numbered_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(row number in the sheet, row) for each non-empty row below the header."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = list(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()
    if not rows:
        return []
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    return [(n, dict(zip(header, row))) for n, row in enumerate(rows[1:], 2) if any(c not in (None, "") for c in row)]


def _merged_rows(path: Path) -> dict[int, str]:
    """Rows of the first sheet that a merged cell covers below its first row, with what to tell the editor:
    a merge keeps its value in the top-left cell only, so these rows would silently lose it."""
    from openpyxl import load_workbook

    book = load_workbook(path, data_only=True)     # a read-only sheet does not list its merged cells
    try:
        sheet = book.worksheets[0]
        header = {c.column: str(c.value).strip() for c in sheet[1] if c.value is not None}
        found: dict[int, list[str]] = {}
        for merged in sheet.merged_cells.ranges:
            for row, column in merged.cells:
                if (row, column) != (merged.min_row, merged.min_col) and row > 1:
                    found.setdefault(row, []).append(f"{header.get(column, '')}（{merged.coord}）")
    finally:
        book.close()
    return {row: "在合并单元格中：" + "、".join(dict.fromkeys(cells)) + "，合并后只有第一行有内容；请取消合并，在每一行填写完整"
            for row, cells in found.items()}


def _from_table(path: Path, rows: list[tuple[int, dict[str, Any]]], merged: dict[int, str] | None = None) -> LoadResult:
    """A spreadsheet of FAQs: one row a question, the header as in FORMAT.md; `rows` numbered as the editor
    sees them, `merged` the rows a merged cell covers (reported instead of read)."""
    if rows and not {"问题", "答案"} <= set(rows[0][1]):
        raise _FileProblem(f"表头应包含 {', '.join(FAQ_COLUMNS)}")
    merged = merged or {}
    unique = _Unique()
    for n, row in rows:
        if n in merged:
            unique.add(LoadResult(errors=[LoadError(str(path), f"第{n}行", "", merged[n])]), f"第{n}行")
            continue
        data = {k.strip(): v for k, v in row.items() if k and v not in (None, "")}
        if "相似问法" in data:
            data["相似问法"] = [s.strip() for s in re.split(r"[|\n｜]", str(data["相似问法"])) if s.strip()]
        data.setdefault("类型", "faq")
        unique.add(_validate(path, data, f"第{n}行"), f"第{n}行")
    return unique.result


def _from_plain_policy(path: Path) -> LoadResult:
    """A .txt/.docx/.pdf file is a policy without front matter: the first line is its title."""
    suffix = path.suffix.lower()
    if suffix == ".txt":
        text = _read_text(path)
    elif suffix == ".docx":
        import docx

        text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    else:
        from pypdf import PdfReader

        text = "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise _FileProblem("文件没有文字内容")
    stem = path.stem.lower()
    slug = stem if re.fullmatch(r"[a-z0-9-]+", stem) else hashlib.sha1(path.stem.encode()).hexdigest()[:12]
    data = {
        "id": slug if slug.startswith("p-") else f"p-{slug}",
        "类型": "policy",
        "标题": lines[0].lstrip("# "),
        "正文": [s.model_dump(by_alias=True) for s in split_sections("\n".join(lines[1:]))],
    }
    return _validate(path, data, path.name)
