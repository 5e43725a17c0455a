"""The editor console's demand tabs: the demand view (what to write next) and the demand-topics dashboard: the
latest mined topics, charted; recomputing them from the demand log; closing a topic with a knowledge-base
record; the weekly-report export.

A recomputation embeds every demand question and takes tens of seconds on a big log,
so only one runs at a time (a second click is told so instead of doubling the work),
and it runs outside the index lock: citizens' questions are answered meanwhile.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from pathlib import Path

from demand.insights import TRENDS, DemandInsights
from demand.signals import DemandView
from indexing.embedder import Embedder
from language.understanding import Vocabulary
from ui.backend import Backend
from ui.errors import Rejected

EXPORT_TYPES = {"csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class TopicsDesk:
    """One per server: the insights (with their jieba lexicon, loaded once) and the one-refresh-at-a-time lock."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.view = DemandView(backend.log, backend.settings.data_dir, backend.settings.kb_dir, self._vocabulary)
        self.insights = DemandInsights(backend.settings.data_dir, backend.settings.kb_dir,
                                       embedder=self._embedder, index=lambda: backend.index, reader=self.view.reader)
        self._refreshing = threading.Lock()

    def _embedder(self) -> Embedder:
        with self.backend.lock:        # the index loads its model on first use; never twice
            return self.backend.index.embedder

    def _vocabulary(self) -> Vocabulary:
        with self.backend.lock:        # read with the index the questions are answered from
            return self.backend.assistant.retriever.vocabulary()

    def demand(self, limit: int) -> dict:
        """The demand view: open items newest first, the latest settled ones, and what was left out."""
        if not self.backend.indexed():
            return {"signals": [], "resolved": [], "left_out": {"follow_up": 0, "noise": 0}}
        return self.view.items(limit)

    def resolve_demand(self, key: str, record_id: str, by: str) -> dict:
        """Mark a demand item settled, by the record written for it (which must exist)."""
        if record_id:
            with self.backend.lock:
                if self.backend.index.record(record_id) is None:
                    raise Rejected(404, f"知识库中没有 id 为 {record_id} 的记录")
        return self.view.resolve(key, record_id, by)

    @property
    def refreshing(self) -> bool:
        return self._refreshing.locked()

    def board(self, top: int, limit: int) -> dict:
        """The latest run's topics (up to `limit`, best-ranked first) and chart rows for the first `top` of them."""
        board = self.insights.dashboard(top=limit)
        charted = {b["id"] for b in board["bar"][:top]}
        topics = [{k: v for k, v in t.items() if k != "message_ids"} for t in board["topics"]]
        return {**board, "topics": topics, "bar": board["bar"][:top],
                "line": [p for p in board["line"] if p["id"] in charted],
                "trends": TRENDS, "refreshing": self.refreshing}

    def refresh(self, since: dt.date | None) -> dict:
        """Mine the demand log again (topics keep their ids and resolutions); blocks for the whole run."""
        if not self._refreshing.acquire(blocking=False):
            raise Rejected(409, "话题正在重新计算，请稍候再刷新页面")
        try:
            result = self.insights.topics(since=since)
        finally:
            self._refreshing.release()
        return {"n_messages": result["n_messages"], "n_topics": result["n_topics"], "seconds": result["seconds"]}

    def resolve(self, topic_id: str, record_id: str, by: str) -> dict:
        """Link the topic to a record and index that record, so the next matching question is answered by it
        (embedded first, outside the index lock, so questions are not held up meanwhile)."""
        with self.backend.edit_lock:                       # reads the knowledge-base files, then writes the index
            record = self.backend.store.get(record_id)
            if record is not None:
                self.backend.embed_ahead([record])
            try:
                with self.backend.lock:
                    return self.insights.resolve(topic_id, record_id, by)
            except KeyError as exc:
                raise Rejected(404, str(exc.args[0])) from None
            except ValueError as exc:
                raise Rejected(422, str(exc)) from None

    def export(self, kind: str) -> tuple[bytes, str]:
        """The latest run as a CSV or XLSX file's bytes, and a file name with today's date."""
        name = f"demand-topics-{dt.date.today().isoformat()}.{kind}"
        with tempfile.TemporaryDirectory() as folder:
            try:
                path = self.insights.export(Path(folder) / name)
            except ValueError:
                raise Rejected(404, "还没有话题：请先点击“重新计算”") from None
            return path.read_bytes(), name
