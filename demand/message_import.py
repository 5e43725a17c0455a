"""Citizen messages in one shape, from a government's own message exports or from the assistant's demand log.

A city that already runs a hotline or a 问政 platform has years of messages; mining
them needs no assistant traffic at all. Exports come as JSONL or XLSX (CSV too),
with English or Chinese column names (the 泰迪杯 "智慧政务" layout: 留言编号, 留言主题,
留言详情, 留言时间, 点赞数, 反对数). Text is masked on the way in, so nothing
downstream ever holds an ID or phone number. One bad row is reported and skipped;
the rest are imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant import DemandLog
from language.data import language_data
from language.privacy import mask_pii
from knowledge.loaders import jsonl_items, xlsx_rows

SUPPORTED = (".jsonl", ".json", ".xlsx", ".csv")
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "留言编号", "序号"),
    "subject": ("subject", "title", "主题", "留言主题", "标题"),
    "body": ("body", "content", "question", "详情", "留言详情", "内容", "问题"),
    "time": ("time", "date", "timestamp", "留言时间", "时间", "日期"),
    "likes": ("likes", "点赞数", "点赞"),
}
# 2019/2/28 11:25:05, 2019-02-28 11:25, 2019年2月28日, 2019.2.28 …
_TIME = language_data().pattern("message_time")


@dataclass(frozen=True)
class CitizenMessage:
    """One message (or one logged question): masked text, when it was written, how many people backed it."""

    id: str
    subject: str
    body: str
    time: dt.datetime
    likes: int = 0

    @property
    def key(self) -> str:
        """Content-based identity: the same message imported twice, or from two exports, has one key."""
        raw = f"{self.subject}\x00{self.body}\x00{self.time.isoformat(timespec='seconds')}"
        return hashlib.sha1(raw.encode()).hexdigest()[:16]

    @property
    def title(self) -> str:
        """What an editor reads first: the subject, or the start of the text when there is none."""
        return self.subject or (self.body[:60] + ("…" if len(self.body) > 60 else ""))


@dataclass
class ImportResult:
    messages: list[CitizenMessage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_time(value: Any) -> dt.datetime:
    """Datetimes from spreadsheets, ISO strings and the usual Chinese export formats (2019/2/28 11:25:05)."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, (int, float)) and 1e9 <= value < 1e11:
        return dt.datetime.fromtimestamp(value)
    text = re.sub(r"\s+", " ", str(value or "")).strip()
    if not text:
        raise ValueError("缺少时间")
    match = _TIME.fullmatch(text)
    try:
        if match:
            return dt.datetime(*(int(part) for part in match.groups() if part is not None))
        return dt.datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        raise ValueError(f"无法识别的时间：{text[:40]}") from None


def load_messages(path: Path) -> ImportResult:
    """Read a JSONL/JSON/XLSX/CSV export; raises ValueError only when the file as a whole cannot be read."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise ValueError(f"不支持的文件类型 {suffix or '（无扩展名）'}，请使用 {'、'.join(SUPPORTED)}")
    if not path.is_file():
        raise ValueError(f"文件不存在：{path}")
    rows = _rows(path, suffix)
    result = ImportResult()
    for where, row in rows:
        if isinstance(row, str):
            result.errors.append(f"{path.name} {where}：{row}")
            continue
        try:
            result.messages.append(_message(row, where))
        except ValueError as exc:
            result.errors.append(f"{path.name} {where}：{exc}")
    if rows and not result.messages:
        raise ValueError(f"{path.name} 中没有可导入的留言；{result.errors[0] if result.errors else ''}".rstrip("；"))
    return result


def messages_from_log(log: DemandLog, since: dt.datetime | None = None) -> list[CitizenMessage]:
    """The assistant's demand signals (refused or clarified questions, and answers marked unhelpful)."""
    start = since.timestamp() if since else None
    return [CitizenMessage(id=s["id"], subject="", body=s["question"], time=dt.datetime.fromtimestamp(s["ts"]))
            for s in log.signal_questions(start)]


def _rows(path: Path, suffix: str) -> list[tuple[str, dict | str]]:
    """(where, row) pairs; a row that cannot be read at all is its error message instead."""
    if suffix == ".jsonl":
        return [(f"第{n}行", item) for n, item in jsonl_items(_read_text(path))]
    if suffix == ".json":
        try:
            items = json.loads(_read_text(path))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path.name} 不是有效的 JSON：{exc.msg}") from exc
        if not isinstance(items, list):
            raise ValueError(f"{path.name} 应为留言对象的列表")
        return [(f"第{n}项", item if isinstance(item, dict) else "应为 JSON 对象") for n, item in enumerate(items, 1)]
    table = _xlsx_rows(path) if suffix == ".xlsx" else list(csv.DictReader(io.StringIO(_read_text(path))))
    return [(f"第{n}行", row) for n, row in enumerate(table, 2)]


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{path.name} 不是 UTF-8 或 GBK 编码的文本")


def _xlsx_rows(path: Path) -> list[dict[str, Any]]:
    try:
        return xlsx_rows(path)
    except Exception as exc:  # openpyxl raises several unrelated types for a damaged file
        raise ValueError(f"{path.name} 不是有效的 XLSX 文件：{exc}") from exc


def _field(row: dict, name: str) -> Any:
    for column in _columns(tuple(row))[name]:
        value = row[column]
        if value not in (None, ""):
            return value
    return None


@lru_cache(maxsize=64)
def _columns(keys: tuple) -> dict[str, list]:
    """For each field, the row's keys that may hold it (case and spaces ignored), in order of preference."""
    lowered = {str(k).strip().lower(): k for k in keys if k is not None}
    return {name: [lowered[c.lower()] for c in names if c.lower() in lowered] for name, names in COLUMNS.items()}


def _count(value: Any, name: str) -> int:
    if value in (None, ""):
        return 0
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        raise ValueError(f"{name}应为整数，现在是 {str(value)[:20]!r}") from None
    if number < 0:
        raise ValueError(f"{name}不能为负数")
    return number


def _message(row: dict, where: str) -> CitizenMessage:
    subject = mask_pii(str(_field(row, "subject") or "").strip())
    body = mask_pii(str(_field(row, "body") or "").strip())
    if not subject and not body:
        raise ValueError("主题和内容都为空（列名应为 subject/body 或 留言主题/留言详情）")
    time = parse_time(_field(row, "time"))
    raw_id = _field(row, "id")
    return CitizenMessage(id=str(raw_id).strip() if raw_id not in (None, "") else where, subject=subject, body=body,
                          time=time, likes=_count(_field(row, "likes"), "点赞数"))
