"""The search index: a SQLite manifest of records and chunks, plus dense vectors in Chroma.

The manifest is the source of truth. Each record is written to Chroma first and
to the manifest second, in one transaction; a run that is interrupted (Ctrl-C,
kill) leaves at worst vectors the manifest does not know, which the next run's
`reconcile` deletes, or a record whose stored hash is stale, which it redoes.
So every record ends up indexed exactly once.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from pydantic import TypeAdapter

from indexing.chunking import CHUNKING_VERSION, Chunk, chunk_record
from indexing.embedder import Embedder, EmbeddingCache, embedding_identity
from language.lexicon import Lexicon
from indexing.vector_store import VectorStore, collection_name
from knowledge.models import FAQ, LifeEvent, Policy, Record, ServiceGuide

AnyRecord = ServiceGuide | Policy | FAQ | LifeEvent
_RECORD = TypeAdapter(Record)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, hash TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, record_id TEXT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, text TEXT NOT NULL, meta TEXT NOT NULL, tokens TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_record ON chunks(record_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('generation', 0);
"""
_BUMP = "UPDATE meta SET value = value + 1 WHERE key = 'generation'"


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    chunks_embedded: int = 0
    chunks_total: int = 0
    repaired: int = 0

    def as_dict(self) -> dict:
        return {"added": len(self.added), "updated": len(self.updated), "removed": len(self.removed),
                "unchanged": self.unchanged, "chunks_embedded": self.chunks_embedded,
                "chunks_total": self.chunks_total, "repaired": self.repaired}


class KnowledgeIndex:
    """txtai-style `index` / `upsert` / `delete` over records, with incremental re-embedding."""

    def __init__(self, data_dir: Path, model: str, chroma_url: str | None = None,
                 lexicon: Lexicon | None = None, embedder: Embedder | None = None,
                 collection: str = "govqa", backend: str = "fp32") -> None:
        self.data_dir = data_dir
        self.model = model
        self.backend = backend
        (data_dir / "index").mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(data_dir / "index" / "manifest.sqlite"), check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(_SCHEMA)
        self.lexicon = lexicon or Lexicon()
        self._embedder = embedder
        # one collection per model and backend: fp32 and int8 vectors never share a collection
        self.vectors = VectorStore(collection_name(collection, embedding_identity(model, backend)),
                                   path=None if chroma_url else data_dir / "index" / "chroma",
                                   server_url=chroma_url)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = Embedder(self.model, self.data_dir / "models",
                                      EmbeddingCache(self.data_dir / "cache" / "embeddings.sqlite"),
                                      backend=self.backend)
        return self._embedder

    # ---- reading -------------------------------------------------------------
    def hashes(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT id, hash FROM records"))

    def record(self, record_id: str) -> AnyRecord | None:
        row = self.db.execute("SELECT body FROM records WHERE id = ?", (record_id,)).fetchone()
        return _RECORD.validate_json(row[0]) if row else None

    def records(self) -> list[AnyRecord]:
        return [_RECORD.validate_json(b) for (b,) in self.db.execute("SELECT body FROM records ORDER BY id")]

    def chunks(self) -> tuple[list[Chunk], list[list[str]]]:
        """All chunks in a stable order, with their BM25 tokens."""
        out, tokens = [], []
        for cid, rid, text, meta, toks in self.db.execute(
            "SELECT id, record_id, text, meta, tokens FROM chunks ORDER BY record_id, position"
        ):
            m = json.loads(meta)
            out.append(Chunk(id=cid, text=text, **m))
            tokens.append(json.loads(toks))
        return out, tokens

    def chunk_tokens(self, chunk_ids: Sequence[str]) -> dict[str, list[str]]:
        """The BM25 tokens of a few chunks, for a retriever that does not keep every chunk's tokens in memory."""
        ids = list(chunk_ids)
        rows = self.db.execute(f"SELECT id, tokens FROM chunks WHERE id IN ({','.join('?' * len(ids))})", ids)
        return {cid: json.loads(toks) for cid, toks in rows}

    def generation(self) -> int:
        """Grows with every change, so searchers in any process know when to reload."""
        return self._meta("generation")

    # ---- writing -------------------------------------------------------------
    def index(self, records: Sequence[AnyRecord], progress: bool = False) -> IndexReport:
        """Make the index hold exactly `records`: embed what changed, delete what is gone."""
        report = IndexReport()
        report.repaired = self.reconcile()
        wanted = {r.id: r for r in records}
        report.removed = sorted(set(self.hashes()) - set(wanted))
        self.delete(report.removed)
        recipe = f"{CHUNKING_VERSION}:{self.lexicon.fingerprint}"
        if not self.hashes():
            self._set_recipe(recipe)  # a first build, even one interrupted and resumed, uses this recipe throughout
        stale = self._meta("recipe") != recipe  # chunking or lexicon changed: every record is re-chunked
        self._write(list(wanted.values()), report, progress, force=stale)
        if stale:
            self._set_recipe(recipe)
        report.chunks_total = self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return report

    def upsert(self, records: Sequence[AnyRecord], progress: bool = False) -> IndexReport:
        report = IndexReport()
        self._write(list(records), report, progress)
        report.chunks_total = self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return report

    def delete(self, record_ids: Iterable[str]) -> None:
        for rid in record_ids:
            old = [c for (c,) in self.db.execute("SELECT id FROM chunks WHERE record_id = ?", (rid,))]
            self.vectors.delete(old)
            with self.db:
                self.db.execute("DELETE FROM records WHERE id = ?", (rid,))
                self.db.execute(_BUMP)

    def reconcile(self) -> int:
        """Repair what an interrupted run left: drop unknown vectors, forget records whose vectors are missing."""
        known = {c for (c,) in self.db.execute("SELECT id FROM chunks")}
        stored = self.vectors.ids()
        extra = sorted(stored - known)
        self.vectors.delete(extra)
        missing_records = {r for (c, r) in self.db.execute("SELECT id, record_id FROM chunks") if c not in stored}
        with self.db:
            self.db.executemany("DELETE FROM records WHERE id = ?", [(r,) for r in missing_records])
            self.db.execute(_BUMP)
        return len(extra) + len(missing_records)

    def _set_recipe(self, recipe: str) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('recipe', ?)", (recipe,))

    def _meta(self, key: str) -> object:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _write(self, records: list[AnyRecord], report: IndexReport, progress: bool, force: bool = False) -> None:
        """Unchanged chunk texts still hit the embedding cache, so a forced re-chunk costs little model time."""
        old_hashes = self.hashes()
        todo = records if force else [r for r in records if old_hashes.get(r.id) != r.content_hash]
        report.unchanged += len(records) - len(todo)
        if not todo:
            return
        planned = [(r, chunk_record(r)) for r in todo]
        bar = None
        total_chunks = sum(len(cs) for _, cs in planned)
        if progress and total_chunks > 200:
            from tqdm import tqdm

            bar = tqdm(total=total_chunks, unit="chunk", desc="索引", file=sys.stderr)
        try:
            for start in range(0, len(planned), 64):
                batch = planned[start : start + 64]
                chunks = [c for _, cs in batch for c in cs]
                if chunks:      # a batch of life events alone has none: nothing to embed, no model to load
                    vectors = self.embedder.embed_passages([c.text for c in chunks], bar.update if bar else None)
                    report.chunks_embedded += len(chunks)
                    self.vectors.upsert([c.id for c in chunks], vectors, [c.metadata() for c in chunks],
                                        [c.text for c in chunks])
                for record, cs in batch:
                    self._store(record, cs, old_hashes, report)
        finally:
            if bar:
                bar.close()

    def _store(self, record: AnyRecord, chunks: list[Chunk], old_hashes: dict[str, str], report: IndexReport) -> None:
        new_ids = {c.id for c in chunks}
        stale = [c for (c,) in self.db.execute("SELECT id FROM chunks WHERE record_id = ?", (record.id,))
                 if c not in new_ids]
        self.vectors.delete(stale)
        with self.db:
            self.db.execute("DELETE FROM records WHERE id = ?", (record.id,))
            self.db.execute("INSERT INTO records VALUES (?, ?, ?, ?, ?)",
                            (record.id, record.kind, record.content_hash, record.title,
                             record.model_dump_json(by_alias=False)))
            self.db.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?)",
                [(c.id, record.id, n, c.text, json.dumps(_chunk_meta(c), ensure_ascii=False),
                  json.dumps(self.lexicon.tokens(c.text), ensure_ascii=False)) for n, c in enumerate(chunks)],
            )
            self.db.execute(_BUMP)
        (report.updated if record.id in old_hashes else report.added).append(record.id)


def _chunk_meta(c: Chunk) -> dict:
    return {"record_id": c.record_id, "kind": c.kind, "section": c.section, "title": c.title,
            "region": c.region, "department": c.department, "date": c.date, "field": c.field, "meta": c.meta}
