"""`govqa bench`: indexing throughput and answer latency at a chosen scale, on this machine.

A fresh index is built in a temporary folder from the sample knowledge base plus
an optional corpus (e.g. the laws library), then questions go through the whole
Assistant (retrieval, answer composition, demand log) in the same, warm process,
as a server would run them. The embedding cache is a fresh one unless
`reuse_cache` is set, so `index_chunks_per_s` measures real forward passes.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import platform
import random
import resource
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from assistant.demand_log import DemandLog
from language.question import EmptyQuestion
from assistant.service import Assistant
from eval.corpus import corpus_records
from eval.retrieval import load_questions, percentile
from indexing.chunking import chunk_record
from language.documents import split_sentences
from indexing.embedder import Embedder, EmbeddingCache
from indexing.index import AnyRecord, KnowledgeIndex
from indexing.retriever import HybridRetriever
from language.lexicon import Lexicon
from knowledge.loaders import load_knowledge_base


@dataclass
class BenchConfig:
    model: str
    backend: str
    models_dir: Path
    sample_kb: Path
    sample_questions: Path
    corpus: Path | None = None
    limit: int | None = None          # chunks; the corpus is cut (or repeated, labelled) to reach it
    queries: int = 1000
    chroma_url: str | None = None
    shared_cache: Path | None = None  # reuse this embedding cache instead of a fresh one


def build_records(kb: Path, corpus: Path | None, limit: int | None) -> tuple[list[AnyRecord], int, int]:
    """Sample records first, then corpus records until `limit` chunks; returns (records, chunks, repeated chunks).

    A corpus smaller than `limit` is repeated under new record ids: the text (and so its
    embedding) is the same, the index holds that many more chunks. `repeated` says how many.
    """
    records: list[AnyRecord] = list(load_knowledge_base(kb).records)
    chunks = sum(len(chunk_record(r)) for r in records)
    extra = corpus_records(corpus)[0] if corpus else []
    repeated, round_ = 0, 0
    while extra and (limit is None or chunks < limit):
        for rec in extra:
            if limit is not None and chunks >= limit:
                break
            if round_:
                rec = rec.model_copy(update={"id": f"{rec.id}r{round_}"})
            n = len(chunk_record(rec))
            records.append(rec)
            chunks += n
            repeated += n if round_ else 0
        round_ += 1
        if limit is None:
            break
    return records, chunks, repeated


def bench_questions(index: KnowledgeIndex, gold: Path, n: int, seed: int = 0) -> list[str]:
    """The sample gold questions, then phrases citizens might paste: a fragment of a random chunk
    ("…的规定是什么"), so queries are distinct and spread over the whole index."""
    questions = [q.question for q in load_questions(gold)][:n]
    chunks, _ = index.chunks()
    rng = random.Random(seed)
    while len(questions) < n and chunks:
        chunk = rng.choice(chunks)
        sentences = [s for s in split_sentences(chunk.text) if len(s) >= 8]
        if sentences:
            fragment = rng.choice(sentences)[:rng.randint(8, 24)]
            questions.append(rng.choice(["{}", "{}的规定是什么", "请问{}怎么办", "关于{}有什么要求"]).format(fragment))
    return questions


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines() if Path("/proc/self/status").exists() else []:
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _disk_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def _cpu_name() -> str:
    info = Path("/proc/cpuinfo")
    for line in info.read_text().splitlines() if info.exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _device_name(embedder: Embedder) -> str:
    if embedder.device.startswith("cuda"):
        import torch

        return f"cuda ({torch.cuda.get_device_name(0)})"
    return f"cpu ({os.cpu_count()} cores)"


def run_bench(cfg: BenchConfig) -> dict:
    records, n_chunks, repeated = build_records(cfg.sample_kb, cfg.corpus, cfg.limit)
    collection = f"bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="govqa-bench-") as tmp:
        data = Path(tmp)
        cache = EmbeddingCache(cfg.shared_cache or data / "cache" / "embeddings.sqlite")
        embedder = Embedder(cfg.model, cfg.models_dir, cache, backend=cfg.backend)
        index = KnowledgeIndex(data, cfg.model, cfg.chroma_url, lexicon=Lexicon(), embedder=embedder,
                               collection=collection, backend=cfg.backend)
        start = time.perf_counter()
        report = index.index(records)
        HybridRetriever(index).refresh()  # the lexical snapshot is part of indexing, as in `govqa index`
        index_s = time.perf_counter() - start
        device = _device_name(embedder)
        encoded, encode_s = embedder.passages_encoded, embedder.encode_seconds
        del index, embedder
        gc.collect()

        # start-up as a server does it: load the model, open the index, build the lexical index, answer once
        start = time.perf_counter()
        embedder = Embedder(cfg.model, cfg.models_dir, cache, backend=cfg.backend)
        model_load_s = time.perf_counter() - start
        index = KnowledgeIndex(data, cfg.model, cfg.chroma_url, lexicon=Lexicon(), embedder=embedder,
                               collection=collection, backend=cfg.backend)
        assistant = Assistant(index, DemandLog(data / "demand.sqlite"))
        assistant.retriever.refresh()
        assistant.ask("营业执照怎么办")
        startup_s = time.perf_counter() - start

        latencies = []
        for question in bench_questions(index, cfg.sample_questions, cfg.queries):
            began = time.perf_counter()
            try:
                assistant.ask(question, channel="api")
            except EmptyQuestion:
                continue
            latencies.append((time.perf_counter() - began) * 1000)
        disk = _disk_mb(data / "index") if not cfg.chroma_url else _disk_mb(data / "index" / "manifest.sqlite")
        if cfg.chroma_url:
            index.vectors.client.delete_collection(index.vectors.collection.name)
        serve_rss = _rss_mb()
    return {
        "chunks": report.chunks_total, "records": len(records), "repeated_chunks": repeated,
        "index_s": round(index_s, 2), "index_chunks_per_s": round(report.chunks_total / index_s, 1),
        "passages_encoded": encoded,
        "embed_chunks_per_s": round(encoded / encode_s, 1) if encoded else None,
        "queries": len(latencies),
        "query_p50_ms": round(statistics.median(latencies), 1) if latencies else 0.0,
        "query_p95_ms": round(percentile(latencies, 0.95), 1),
        "query_max_ms": round(max(latencies, default=0.0), 1),
        "startup_s": round(startup_s, 2), "model_load_s": round(model_load_s, 2),
        "peak_rss_mb": _peak_rss_mb(), "serve_rss_mb": serve_rss, "index_disk_mb": disk,
        "vector_store": "chroma server" if cfg.chroma_url else "embedded chroma",
        "model": cfg.model, "backend": cfg.backend, "device": device,
        "embedding_cache": "shared" if cfg.shared_cache else "fresh",
        "machine": f"{_cpu_name()}, {os.cpu_count()} cores, "
                   f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB",
        "date": dt.date.today().isoformat(),
    }
