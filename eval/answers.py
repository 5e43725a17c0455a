"""End-to-end answer evaluation through `Assistant.ask`, scored as the project's hidden sets are:

- an answerable question is **right** when answered with a relevant record cited first, **wrong** when answered
  with another, otherwise **clarified** or **refused**; **fact shown**: of the right answers citing the `docid`
  itself, the share whose answer holds every `must_contain` phrase verbatim; **first named right**: the first
  record the reply names (cited, offered as an option, or suggested) is relevant;
- on a corpus with gold answer spans: the span in the answer (span coverage, over all answerable questions);
- an unanswerable question is right when not answered;
- a conversation turn with a gold record is right when answered with it first; one with none when not answered.
Every figure is also given per `style` when the questions carry one.
"""

from __future__ import annotations

import re
import statistics
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from assistant.demand_log import DemandLog
from assistant.service import Answer, Assistant
from eval.retrieval import GoldQuestion, percentile
from indexing.embedder import Embedder
from indexing.index import AnyRecord, KnowledgeIndex
from indexing.scorers import RetrievalConfig
from language.lexicon import Lexicon
from language.question import EmptyQuestion
from language.text import normalize

_SPACE = re.compile(r"\s+")


@dataclass
class GoldTurn:
    question: str
    relevant: set[str]      # empty: the turn should not be answered


def _norm(text: str) -> str:
    return _SPACE.sub("", normalize(text))


def _ask(assistant: Assistant, question: str, session_id: str | None = None) -> Answer | None:
    try:
        return assistant.ask(question, session_id=session_id, channel="api")
    except EmptyQuestion:
        return None  # small talk or nothing to answer: neither answered nor a record named


def _first_named(a: Answer) -> str | None:
    for named in ([c.record_id for c in a.citations], [o["record_id"] for o in a.options],
                  [s["record_id"] for s in a.suggestions]):
        if named:
            return named[0]
    return None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class _Tally:
    """Counts for one group of answerable questions (all of them, or one style)."""

    def __init__(self) -> None:
        self.n = self.right = self.wrong = self.refused = self.clarified = self.answered = 0
        self.cited_docid = self.fact_shown = self.first_named = self.with_span = self.span = 0

    def add(self, gold: GoldQuestion, a: Answer | None, to_docid: dict[str, str]) -> None:
        self.n += 1
        decision = a.decision if a else "refused"
        first = to_docid.get(a.citations[0].record_id, a.citations[0].record_id) if a and a.citations else None
        named = _first_named(a) if a else None
        self.first_named += to_docid.get(named, named) in gold.relevant if named else 0
        if decision == "answered":
            self.answered += 1
            if first in gold.relevant:
                self.right += 1
                if gold.must_contain and first == gold.docid:
                    self.cited_docid += 1
                    self.fact_shown += all(m in a.answer for m in gold.must_contain)
            else:
                self.wrong += 1
        elif decision == "clarify":
            self.clarified += 1
        else:
            self.refused += 1
        if gold.answer:
            self.with_span += 1
            self.span += bool(a and a.answered and _norm(gold.answer) in _norm(a.answer))

    def figures(self) -> dict:
        return {"n": self.n, "right": _rate(self.right, self.n), "wrong": _rate(self.wrong, self.n),
                "refused": _rate(self.refused, self.n), "clarified": _rate(self.clarified, self.n),
                "answered": _rate(self.answered, self.n), "fact_shown": _rate(self.fact_shown, self.cited_docid),
                "first_named_right": _rate(self.first_named, self.n),
                "span_coverage": _rate(self.span, self.with_span)}


def evaluate_answers(records: list[AnyRecord], questions: list[GoldQuestion], unanswerable: list[str],
                     embedder: Embedder, to_docid: dict[str, str] | None = None,
                     conversations: list[list[GoldTurn]] | None = None, ablate: Sequence[str] = ()) -> dict:
    """Index `records` in a temporary folder and put every question through the assistant, each in its own
    conversation (the turns of a conversation share one). Span coverage counts only questions with a gold span.
    With `ablate`, the same again with each named retrieval step switched off, under "without"."""
    with tempfile.TemporaryDirectory(prefix="govqa-eval-") as tmp:
        index = KnowledgeIndex(Path(tmp), embedder.model_name, lexicon=Lexicon(), embedder=embedder)
        index.index(records)

        def figures(config: RetrievalConfig | None) -> dict:
            assistant = Assistant(index, DemandLog(Path(tmp) / "demand.sqlite"), retrieval=config)
            assistant.warm_up()  # as `govqa serve` does: the latencies are those of a started service
            return _figures(assistant, questions, unanswerable, to_docid or {}, conversations)

        out = figures(None)
        if ablate:
            out["without"] = {step: figures(RetrievalConfig(off=frozenset({step}))) for step in ablate}
    return out


def _figures(assistant: Assistant, questions: list[GoldQuestion], unanswerable: list[str],
             to_docid: dict[str, str], conversations: list[list[GoldTurn]] | None) -> dict:
    total, by_style = _Tally(), defaultdict(_Tally)
    lengths, latencies = [], []
    for gold in questions:
        a = _ask(assistant, gold.question)
        if a:
            latencies.append(a.latency_ms)
            lengths += [len(a.answer)] if a.answered else []
        total.add(gold, a, to_docid)
        if gold.style:
            by_style[gold.style].add(gold, a, to_docid)
    refused = 0
    for text in unanswerable:
        a = _ask(assistant, text)
        latencies += [a.latency_ms] if a else []
        refused += a is None or a.decision in ("refused", "clarify")
    turns = turns_right = 0
    for conversation in conversations or []:
        session = None
        for turn in conversation:
            a = _ask(assistant, turn.question, session)
            session = a.session_id if a else session
            cited = to_docid.get(a.citations[0].record_id, a.citations[0].record_id) if a and a.citations else None
            turns += 1
            turns_right += (a is not None and a.answered and cited in turn.relevant) if turn.relevant else \
                (a is None or not a.answered)
    figures = total.figures()
    out = {
        "n": total.n,
        "answered_rate": figures["answered"] or 0.0,
        "refusal_rate": _rate(refused, len(unanswerable)),
        "span_coverage": figures["span_coverage"],
        "citation_accuracy": figures["right"] or 0.0,
        "answer_chars_p50": statistics.median(lengths) if lengths else 0,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else 0.0,
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "n_unanswerable": len(unanswerable),
        **{k: figures[k] for k in ("right", "wrong", "refused", "clarified", "fact_shown", "first_named_right")},
        "by_style": {style: tally.figures() for style, tally in sorted(by_style.items())},
    }
    if conversations is not None:
        out["conversations"] = {"n": len(conversations), "turns": turns, "turns_right": _rate(turns_right, turns)}
    return out


def load_conversations(path: Path) -> list[list[GoldTurn]]:
    """Lines `{"id", "turns": [{"question", "docid" (null: not to be answered), "also"?}]}`."""
    from eval.corpus import read_jsonl

    return [[GoldTurn(str(t["question"]), {str(t["docid"]), *map(str, t.get("also") or [])} if t.get("docid") else set())
             for t in row["turns"]] for row in read_jsonl(path)]
