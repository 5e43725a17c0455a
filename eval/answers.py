"""End-to-end answer evaluation: does the answer contain the gold span, cite the gold document, refuse the unanswerable?"""

from __future__ import annotations

import re
import statistics
import tempfile
from pathlib import Path

from assistant.demand_log import DemandLog
from assistant.service import Assistant
from eval.retrieval import GoldQuestion, percentile
from indexing.embedder import Embedder
from indexing.index import AnyRecord, KnowledgeIndex
from indexing.text import Lexicon, normalize

_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _SPACE.sub("", normalize(text))


def evaluate_answers(records: list[AnyRecord], questions: list[GoldQuestion], unanswerable: list[str],
                     embedder: Embedder, to_docid: dict[str, str] | None = None) -> dict:
    """Span coverage counts only questions that come with a gold answer span."""
    to_docid = to_docid or {}
    with tempfile.TemporaryDirectory(prefix="govqa-eval-") as tmp:
        index = KnowledgeIndex(Path(tmp), embedder.model_name, lexicon=Lexicon(), embedder=embedder)
        index.index(records)
        assistant = Assistant(index, DemandLog(Path(tmp) / "demand.sqlite"))
        answered = covered = cited = with_span = 0
        lengths, latencies = [], []
        for gold in questions:
            span = gold.answer
            a = assistant.ask(gold.question, channel="api")
            latencies.append(a.latency_ms)
            if a.answered:
                answered += 1
                lengths.append(len(a.answer))
            if span:
                with_span += 1
                covered += a.answered and _norm(span) in _norm(a.answer)
            first = to_docid.get(a.citations[0].record_id, a.citations[0].record_id) if a.citations else None
            cited += first in gold.relevant
        refused = 0
        for text in unanswerable:
            a = assistant.ask(text, channel="api")
            latencies.append(a.latency_ms)
            refused += a.decision in ("refused", "clarify")
    n = len(questions)
    return {
        "n": n,
        "answered_rate": round(answered / n, 4) if n else 0.0,
        "refusal_rate": round(refused / len(unanswerable), 4) if unanswerable else None,
        "span_coverage": round(covered / with_span, 4) if with_span else None,
        "citation_accuracy": round(cited / n, 4) if n else 0.0,
        "answer_chars_p50": statistics.median(lengths) if lengths else 0,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else 0.0,
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "n_unanswerable": len(unanswerable),
    }
