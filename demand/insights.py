"""Demand insights for editors: mine topics, close them with a guide or FAQ, chart them, export them.

One entry point for the command line and the editor console, so both see the same
topics with the same ids. Closing a topic is the point of the loop: the record an
editor links is indexed at once, so the next citizen who asks the same thing is
answered instead of refused, and the topic shows who resolved it and when.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import time
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from assistant import DemandLog
from demand.message_import import CitizenMessage, load_messages, messages_from_log
from demand.signals import DemandReader, demand_messages
from demand.topic_store import TopicStore
from demand.life_situations import life_situations
from demand.topics import mine_topics
from language.lexicon import Lexicon
from knowledge.files import atomic_write
from knowledge.loaders import load_knowledge_base
from knowledge.store import KnowledgeBaseStore

if TYPE_CHECKING:                       # the model and the vector store load only when a run needs them
    from indexing.embedder import Embedder
    from indexing.index import KnowledgeIndex

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")   # what a spreadsheet may read as the start of a formula (OWASP)
EXPORT_COLUMNS = ("编号", "话题", "留言数", "点赞数", "趋势", "近30天", "前30天", "首次出现", "最近出现", "关键词",
                  "典型问题", "状态", "关联记录", "处理人", "处理时间")
TRENDS = {"new": "新出现", "rising": "上升", "falling": "下降", "steady": "持平", "quiet": "近期无"}


class DemandInsights:
    """`embedder` and `index` are factories: the model loads only when a run needs it."""

    def __init__(self, data_dir: Path, kb_dir: Path, embedder: Callable[[], Embedder] | None = None,
                 index: Callable[[], KnowledgeIndex] | None = None,
                 reader: Callable[[], DemandReader] | None = None) -> None:
        self.data_dir, self.kb_dir = data_dir, kb_dir
        self.store = TopicStore(data_dir / "topics.sqlite")
        self._embedder, self._index, self._reader = embedder, index, reader
        self._lexicon: Lexicon | None = None

    # ---- topics --------------------------------------------------------------
    def messages(self, source: Path | None = None, since: dt.date | None = None
                 ) -> tuple[list[CitizenMessage], list[str]]:
        """An imported export file, or else the assistant's own demand log; raises ValueError for an unreadable file.
        With a reader (the knowledge base's vocabulary at hand) the log is read as the demand view reads it:
        no courtesy or arithmetic, follow-ups with their service, mistyped words as the knowledge base spells them."""
        start = dt.datetime.combine(since, dt.time()) if since else None
        if source is None:
            log = DemandLog(self.data_dir / "demand.sqlite")
            return (demand_messages(log, self._reader(), start) if self._reader else messages_from_log(log, start)), []
        imported = load_messages(source)
        return [m for m in imported.messages if start is None or m.time >= start], imported.errors

    def topics(self, source: Path | None = None, since: dt.date | None = None, top: int | None = None,
               semantic: bool = True) -> dict:
        """Mine, give stable ids, keep the run for the dashboard; the output of `govqa demand topics --json`."""
        began = time.perf_counter()
        messages, errors = self.messages(source, since)
        embed = None
        if semantic and self._embedder is not None and messages:
            embed = partial(self._embedder().embed_passages, kind="query")     # E5's prompt for symmetric tasks
        self._lexicon = self._lexicon or Lexicon()
        result = mine_topics(messages, embed=embed, lexicon=self._lexicon,
                             situations=life_situations(self.kb_dir, self._lexicon))
        self.store.assign(result.topics)
        result.seconds = round(time.perf_counter() - began, 2)
        output = {**result.as_json(), "source": str(source) if source else "demand-log", "import_errors": len(errors)}
        self.store.save_run(output, output["source"])
        return {**output, "topics": output["topics"][:top] if top else output["topics"], "errors": errors[:20]}

    # ---- the editor loop -----------------------------------------------------
    def resolve(self, topic_id: str, record_id: str, by: str, new_file: Path | None = None) -> dict:
        """Link a topic to a knowledge-base record (optionally adding the file that holds it first) and index
        that record now. Raises KeyError (unknown topic or record) or ValueError (a file with problems)."""
        if self.store.get(topic_id) is None:
            raise KeyError(f"没有编号为 {topic_id} 的话题")
        if new_file is not None:
            KnowledgeBaseStore(self.kb_dir).add(new_file)
        record = next((r for r in load_knowledge_base(self.kb_dir).records if r.id == record_id), None)
        if record is None:
            raise KeyError(f"知识库中没有 id 为 {record_id} 的记录")
        if self._index is not None:
            self._index().upsert([record])
        return self.store.resolve(topic_id, record_id, by)

    # ---- dashboard and export ------------------------------------------------
    def dashboard(self, top: int = 10) -> dict:
        """The latest run, chart-ready: `bar` rows (topic, size) and `line` rows (date, topic, count), one row a
        point, as a plotting library's data frame expects; counts by day, or by week when the span exceeds 90 days."""
        run = self.store.latest_run()
        if run is None:
            return {"run": None, "topics": [], "bar": [], "line": [], "bucket": "day", "n_messages": 0}
        topics = run["topics"][:top]
        bucket, line = _line_rows(topics)
        bar = [{"id": t["id"], "topic": t["label"], "size": t["size"], "resolved": t["resolved"]} for t in topics]
        return {"run": run["run"], "topics": topics, "bar": bar, "line": line, "bucket": bucket,
                "n_messages": run["n_messages"], "n_topics": run["n_topics"], "period": run["period"]}

    def export(self, path: Path, top: int | None = None) -> Path:
        """The latest run's topics as CSV or XLSX (with a second sheet of counts over time), for a weekly report."""
        run = self.store.latest_run()
        if run is None:
            raise ValueError("还没有话题：请先运行 govqa demand topics")
        return export_topics(run["topics"][:top] if top else run["topics"], path)


def as_text_cell(value: object) -> object:
    """A cell value that no spreadsheet runs: text starting like a formula ("=HYPERLINK(…)" in a citizen's
    question) gets a leading apostrophe, the mark Excel and LibreOffice give text typed that way (OWASP
    CSV injection); numbers and dates stay as they are."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_START) else value


def export_topics(topics: list[dict], path: Path) -> Path:
    """Citizens' words reach these cells, so every text cell goes through `as_text_cell`, and in the XLSX
    every text cell is stored as a string: openpyxl would store "=…" as a live formula."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValueError(f"导出文件应以 .csv 或 .xlsx 结尾：{path.name}")
    rows = [[as_text_cell(v) for v in _export_row(t)] for t in topics]
    if suffix == ".csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(rows)
        atomic_write(path, out.getvalue().encode("utf-8-sig"))    # the BOM lets Excel read it as UTF-8
        return path
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "话题"
    sheet.append(EXPORT_COLUMNS)
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEFGHIJKLMNO", (8, 36, 8, 8, 8, 8, 8, 12, 12, 30, 60, 8, 20, 10, 20)):
        sheet.column_dimensions[column].width = width
    for cells in sheet.iter_rows(min_row=2, min_col=11, max_col=11):
        cells[0].alignment = Alignment(wrap_text=True, vertical="top")
    bucket, line = _line_rows(topics)
    trend = book.create_sheet("趋势")
    trend.append(["日期" if bucket == "day" else "周（起始日）", "编号", "话题", "留言数"])
    for point in line:
        trend.append([point["date"], point["id"], as_text_cell(point["topic"]), point["count"]])
    for cell in (c for ws in book.worksheets for row in ws.iter_rows() for c in row):
        if isinstance(cell.value, str):
            cell.data_type = "s"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.xlsx")
    book.save(tmp)
    os.replace(tmp, path)
    return path


def _export_row(t: dict) -> list:
    return [t["id"], t["label"], t["size"], t.get("likes", 0), TRENDS.get(t["trend"], t["trend"]), t.get("recent", 0),
            t.get("previous", 0), t["first_seen"], t["last_seen"], "、".join(t["keywords"]), "\n".join(t["examples"]),
            "已解决" if t.get("resolved") else "未解决", t.get("record_id", ""), t.get("resolved_by", ""),
            t.get("resolved_at", "")]


def _line_rows(topics: list[dict]) -> tuple[str, list[dict]]:
    """Dense counts per topic (zeros included, so lines drop to zero), by day or by week (Mondays)."""
    if not topics:
        return "day", []
    first = min(dt.date.fromisoformat(t["first_seen"]) for t in topics)
    last = max(dt.date.fromisoformat(t["last_seen"]) for t in topics)
    bucket = "week" if (last - first).days > 90 else "day"

    def start_of(day: dt.date) -> dt.date:
        return day - dt.timedelta(days=day.weekday()) if bucket == "week" else day

    step = dt.timedelta(days=7 if bucket == "week" else 1)
    points = []
    for t in topics:
        counts: dict[dt.date, int] = defaultdict(int)
        for day, n in t["series"].items():
            counts[start_of(dt.date.fromisoformat(day))] += n
        day = start_of(first)
        while day <= last:
            points.append({"date": day.isoformat(), "id": t["id"], "topic": t["label"], "count": counts.get(day, 0)})
            day += step
    return bucket, points
