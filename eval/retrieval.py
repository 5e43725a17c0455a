"""Retrieval evaluation: hit@k and MRR@10 (as llama_index and sentence-transformers' IR evaluator define them).

The corpus is indexed into a temporary directory, never the user's knowledge
base; embeddings still go through the shared cache, so a re-run is fast.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from eval.corpus import read_jsonl
from indexing.embedder import Embedder
from indexing.index import AnyRecord, KnowledgeIndex
from indexing.retriever import HybridRetriever, Mode
from indexing.scorers import STEPS, RetrievalConfig
from language.lexicon import Lexicon

KS = (1, 3, 5, 10)


@dataclass
class GoldQuestion:
    question: str
    relevant: set[str]
    answer: str = ""
    style: str = ""                       # short, colloquial, story, typo, dialect, multi, formal … ("" unknown)
    docid: str = ""                       # the best record; `relevant` adds its `also` records and twins
    must_contain: tuple[str, ...] = ()    # phrases a right answer shows verbatim


def load_questions(path: Path, split: str | None = None, equivalents: dict[str, set[str]] | None = None
                   ) -> list[GoldQuestion]:
    """Lines `{"question", "docid", "answer"?, "also"?: [...], "split"?}`; near-duplicate twins of the gold count as relevant."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if split and row.get("split", split) != split:
            continue
        relevant = {str(row["docid"]), *map(str, row.get("also", []))}
        for d in list(relevant):
            relevant |= (equivalents or {}).get(d, set())
        out.append(GoldQuestion(str(row["question"]), relevant, str(row.get("answer") or ""),
                                str(row.get("style") or ""), str(row["docid"]),
                                tuple(map(str, row.get("must_contain", ())))))
    return out


def load_unanswerable(path: Path, split: str | None = None) -> list[str]:
    return [str(r["question"]) for r in read_jsonl(path) if not split or r.get("split", split) == split]


def load_equivalents(corpus: Path) -> dict[str, set[str]]:
    """`near_duplicates.json` beside a corpus lists pairs of (near-)identical documents."""
    path = corpus.parent / "near_duplicates.json"
    pairs: dict[str, set[str]] = {}
    if path.exists():
        for a, b, *_ in json.loads(path.read_text()):
            pairs.setdefault(str(a), set()).add(str(b))
            pairs.setdefault(str(b), set()).add(str(a))
    return pairs


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def score_rankings(rankings: Sequence[list[str]], questions: Sequence[GoldQuestion]) -> dict[str, float]:
    n = len(questions)
    hits = {k: 0 for k in KS}
    rr = 0.0
    for ranked, q in zip(rankings, questions):
        first = next((i for i, d in enumerate(ranked[:10]) if d in q.relevant), None)
        if first is None:
            continue
        rr += 1.0 / (first + 1)
        for k in KS:
            hits[k] += first < k
    metrics = {"n": n, **{f"hit@{k}": round(hits[k] / n, 4) if n else 0.0 for k in KS}}
    metrics["mrr@10"] = round(rr / n, 4) if n else 0.0
    return metrics


def evaluate_index(index: KnowledgeIndex, questions: list[GoldQuestion], mode: Mode,
                   to_docid: dict[str, str] | None = None, config: RetrievalConfig | None = None) -> dict:
    retriever = HybridRetriever(index, mode, config)
    retriever.warm_up()  # as a started service: the query latencies are not those of reading each record once
    rankings, latencies = [], []
    for q in questions:
        start = time.perf_counter()
        hits = retriever.search(q.question, top_k=10)
        latencies.append((time.perf_counter() - start) * 1000)
        rankings.append([(to_docid or {}).get(h.record_id, h.record_id) for h in hits])
    metrics: dict = score_rankings(rankings, questions)
    metrics["query_p50_ms"] = round(statistics.median(latencies), 1) if latencies else 0.0
    metrics["query_p95_ms"] = round(percentile(latencies, 0.95), 1)
    styles = sorted({q.style for q in questions if q.style})
    if styles:
        metrics["by_style"] = {style: score_rankings(*zip(*[(r, q) for r, q in zip(rankings, questions)
                                                            if q.style == style])) for style in styles}
    return metrics


def evaluate(records: list[AnyRecord], questions: list[GoldQuestion], embedder: Embedder,
             modes: Sequence[Mode] = ("hybrid",), to_docid: dict[str, str] | None = None) -> dict:
    """Index `records` in a temporary directory and evaluate each retrieval mode; the first is the main result."""
    with tempfile.TemporaryDirectory(prefix="govqa-eval-") as tmp:
        index = KnowledgeIndex(Path(tmp), embedder.model_name, lexicon=Lexicon(), embedder=embedder)
        start = time.perf_counter()
        report = index.index(records)
        index_s = round(time.perf_counter() - start, 2)
        results = {mode: evaluate_index(index, questions, mode, to_docid) for mode in modes}
    main = results[modes[0]]
    out = {**main, "index_s": index_s, "retriever": modes[0], "chunks": report.chunks_total}
    if len(modes) > 1:
        out["baselines"] = {m: results[m] for m in modes[1:]}
    return out


def steps_to_ablate(names: Sequence[str]) -> list[str]:
    """The retrieval steps named (comma-separated; "all" for every one), checked against indexing.scorers.STEPS."""
    wanted = [n.strip() for name in names for n in name.split(",") if n.strip()]
    steps = list(STEPS) if "all" in wanted else list(dict.fromkeys(wanted))
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise ValueError(f"没有这个检索步骤：{'、'.join(unknown)}；可选：{'、'.join(STEPS)}、all")
    return steps


def ablate(records: list[AnyRecord], questions: list[GoldQuestion], embedder: Embedder, steps: Sequence[str],
           to_docid: dict[str, str] | None = None) -> dict:
    """Hybrid retrieval with every step, then with each named step switched off alone, on one index:
    `{"full": metrics, "without": {step: metrics}, "delta_hit@1": {step: full − without}}`."""
    with tempfile.TemporaryDirectory(prefix="govqa-eval-") as tmp:
        index = KnowledgeIndex(Path(tmp), embedder.model_name, lexicon=Lexicon(), embedder=embedder)
        index.index(records)
        full = evaluate_index(index, questions, "hybrid", to_docid)
        without = {step: evaluate_index(index, questions, "hybrid", to_docid, RetrievalConfig(off=frozenset({step})))
                   for step in steps}
    return {"n": len(questions), "full": full, "without": without,
            "delta_hit@1": {step: round(full["hit@1"] - m["hit@1"], 4) for step, m in without.items()},
            "delta_mrr@10": {step: round(full["mrr@10"] - m["mrr@10"], 4) for step, m in without.items()}}
