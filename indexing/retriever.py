"""Hybrid retrieval: lexical and dense evidence fused per record, with a calibrated score.

Fusion (tuned on the NCP dev split and the sample dev split only):
  fused = z(best chunk BM25) + 0.3·z(best chunk cosine) + 0.2·z(whole-record BM25)
          + the adjustments of `indexing.scorers` (title, aspect, region, contrast, FAQ steps …)
where z() standardises a feature over the query's top candidates, so the
features add up whatever their scales. Plain reciprocal-rank fusion throws the
score gaps away and measured worse (NCP dev hit@1 0.78 vs 0.87). The policies among
the first ten then change places by how much of the question each contains word for
word (indexing.evidence; NCP dev hit@1 0.873 → 0.896).
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import re
import threading
from dataclasses import dataclass, field, replace
from typing import Callable, Literal, TypeVar

import numpy as np

from indexing.chunking import Chunk
from indexing.evidence import POOL as EVIDENCE_POOL
from indexing.evidence import PolicyCandidate, PolicyEvidence
from indexing.index import KnowledgeIndex
from indexing.learned import RANKED, LearnedRanking
from indexing.relevance import RelevanceFeatures, sentences_of
from indexing.schemes import SchemeCatalogue
from indexing.scorers import Z_POOL, Ranking, RetrievalConfig, adjust, contrasted
from indexing.tables import FORMAT, RecordTables, build_tables
from language.aspects import aspect_fields
from language.spelling import name_masks
from language.understanding import SearchQuery, Vocabulary, read_search_text
from language.text import normalize

Mode = Literal["hybrid", "bm25", "dense"]
T = TypeVar("T")
NEAR_DUPLICATE = 0.9  # Jaccard of character 5-grams above which two policies are the same notice reposted
LEXICAL_POOL, DENSE_POOL = 400, 100


@dataclass
class ChunkHit:
    chunk: Chunk
    lexical: float = 0.0
    dense: float = 0.0


@dataclass
class RecordHit:
    record_id: str
    kind: str
    title: str
    score: float
    fused: float
    chunks: list[ChunkHit] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)
    route: str = ""


def _z(values: np.ndarray) -> np.ndarray:
    if values.size == 0:
        return values
    top = np.sort(values)[-Z_POOL:]
    return (values - top.mean()) / (top.std() + 1e-6)


def calibrated(dense_top: float, coverage: float, margin: float, title_hit: bool) -> float:
    """Probability that the record answers the question: a logistic model fitted on the NCP and sample dev
    splits (answerable questions whose top record was right vs. our unanswerable dev questions).

    coverage is the idf-weighted share of the question's tokens found in the record's best chunks.
    """
    x = -11.07 + 7.68 * dense_top + 9.6 * coverage + 0.46 * min(margin, 3.0) + 4.51 * title_hit
    return 1.0 / (1.0 + math.exp(-x))


class HybridRetriever:
    """`run(query)` → ranked records with the chunks that matched; `query(text)` reads a text for it."""

    def __init__(self, index: KnowledgeIndex, mode: Mode = "hybrid", config: RetrievalConfig | None = None,
                 learned: LearnedRanking | None = None) -> None:
        if mode not in ("hybrid", "bm25", "dense"):
            raise ValueError(f"unknown retrieval mode {mode!r}")
        self.index = index
        self.mode = mode
        self.config = config or RetrievalConfig()
        self._learned_model = learned
        self._generation = -1
        self._lock = threading.Lock()
        self._tables: RecordTables | None = None
        self._schemes: SchemeCatalogue | None = None
        self._vocabulary: Vocabulary | None = None

    # ---- loading ---------------------------------------------------------------
    def refresh(self) -> RecordTables:
        """The tables of the current index generation: loaded from the saved snapshot, or built (and saved)."""
        generation = self.index.generation()
        if generation == self._generation and self._tables is not None:
            return self._tables
        with self._lock:
            if generation != self._generation or self._tables is None:
                key = self._snapshot_key(generation)
                tables = self._load_snapshot(key)
                if tables is None:
                    tables = build_tables(self.index)
                    self._save_snapshot(key, tables)
                self.chunk_pos = {c.id: i for i, c in enumerate(tables.chunks)}
                self._token_cache: dict[str, frozenset[str]] = {}
                self._shingles: dict[str, frozenset[str]] = {}
                self._policy_texts: dict[str, str] = {}
                self._sentences: dict[str, list[str]] = {}
                self._relevance = RelevanceFeatures(tables, self.index.lexicon, self._record_sentences)
                self._evidence = PolicyEvidence(self._title_and_text)
                self._schemes = SchemeCatalogue(tables, self.index.lexicon)
                self._vocabulary = Vocabulary(self.index.lexicon, frozenset(tables.places), tables.sound_words,
                                              tables.idf, tables.initial_words, tables.named_words,
                                              tables.everyday_sounds,
                                              name_masks({n for found in tables.name_table.values() for n, i in found
                                                          if tables.is_guide[i]}))  # services, not headlines
                self._tables, self._generation = tables, generation
        return self._tables

    def vocabulary(self) -> Vocabulary:
        """What the knowledge base contributes to reading a question (see language.understanding)."""
        self.refresh()
        assert self._vocabulary is not None
        return self._vocabulary

    def query(self, text: str) -> SearchQuery:
        """A text read for retrieval (for callers without a citizen's turn: evaluation, the benchmark)."""
        return read_search_text(text, self.vocabulary(), spelling=self.config.on("spelling"))

    # ---- saving the tables -----------------------------------------------------
    @property
    def _snapshot_path(self):
        return self.index.data_dir / "index" / "lexical.pkl"

    def _snapshot_key(self, generation: int) -> str:
        """Generation, lexicon and format: a snapshot of anything else is rebuilt, never trusted."""
        lexicon = self.index.lexicon
        return hashlib.sha256(repr((FORMAT, generation, str(self.index.vectors.collection.name),
                                    lexicon.groups, lexicon.places)).encode()).hexdigest()

    def _load_snapshot(self, key: str) -> RecordTables | None:
        try:
            with open(self._snapshot_path, "rb") as fh:
                saved = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None
        ok = isinstance(saved, dict) and saved.get("key") == key and isinstance(saved.get("tables"), RecordTables)
        return saved["tables"] if ok else None

    def _save_snapshot(self, key: str, tables: RecordTables) -> None:
        """Written to a temporary file and renamed, so a process reading it never sees half a snapshot."""
        tmp = self._snapshot_path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                pickle.dump({"key": key, "tables": tables}, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._snapshot_path)
        except OSError:
            tmp.unlink(missing_ok=True)  # a read-only data folder only costs the next process a rebuild

    # ---- looking up the knowledge base's names ---------------------------------
    def named_in(self, text: str) -> set[str]:
        """Records one of whose full names is in the text or sounds like part of it (a short form,
        "外地人能办吗" for 居住证, does not count)."""
        tables = self.refresh()
        q = normalize(text)
        hits = tables.title_hits(q, self.index.lexicon.canonical(q))
        return {tables.record_ids[i] for i in np.flatnonzero(hits)}

    def guides_titled_with(self, word: str) -> set[str]:
        """Guides whose title (事项名称) holds the word or a synonym of it."""
        return self.refresh().guides_titled_with(word, self.index.lexicon)

    def guide_count(self) -> int:
        """How many guides the index holds."""
        return int(self.refresh().is_guide.sum())

    # ---- querying --------------------------------------------------------------
    def warm_up(self) -> None:
        """Load the tables and the embedding model, and read every record's sentences for the relevance features."""
        self.search("办理")
        self._relevance.read_records(list(self.refresh().record_ids))

    def search(self, text: str, top_k: int = 5) -> list[RecordHit]:
        """`run(query(text))`."""
        return self.run(self.query(text), top_k)

    def run(self, query: SearchQuery, top_k: int = 5) -> list[RecordHit]:
        t = self.refresh()
        if not t.chunks:
            return []
        q, config, n_rec = query.text, self.config, len(t.record_ids)

        lex = np.zeros(n_rec, dtype=np.float32)
        chunk_lex: dict[int, float] = {}
        if self.mode != "dense":
            scores = t.chunk_bm25.scores(list(query.tokens))
            k = min(LEXICAL_POOL, scores.size)
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[scores[top] > 0]
            np.maximum.at(lex, t.chunk_record[top], scores[top])
            chunk_lex = {int(i): float(scores[i]) for i in top}
        dense = np.zeros(n_rec, dtype=np.float32)
        chunk_dense: dict[int, float] = {}
        asking_vector: np.ndarray | None = None
        if self.mode != "bm25":
            asking = self._asking_only(query)
            vector, *rest = self.index.embedder.embed_queries([query.dense_text, *([asking] if asking else [])])
            asking_vector = rest[0] if rest else None
            hits = self.index.vectors.query(vector, DENSE_POOL)
            floor = min((s for _, s in hits), default=0.0) - 0.02
            dense[:] = floor
            for cid, sim in hits:
                i = self.chunk_pos.get(cid)
                if i is not None:
                    chunk_dense[i] = sim
                    r = t.chunk_record[i]
                    dense[r] = max(dense[r], sim)

        asked = self._asked_dense(asking_vector, t) if asking_vector is not None else dense
        parts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        if self.mode == "bm25":
            fused = _z(lex)
        elif self.mode == "dense":
            fused = _z(dense)
        else:
            parts = (_z(lex), _z(dense), _z(t.record_bm25.scores(list(query.tokens))))
            fused = parts[0] + config.dense * parts[1] + config.record * parts[2]
        # a story names a service by a short form in the clause that asks ("…孩子明年要上学，居住证怎么办")
        lexicon = self.index.lexicon
        title_hits = (t.title_hits(q, lexicon.canonical(q)) | t.short_name_hits(query.subject_words, lexicon)
                      | t.short_name_hits(query.asking_subject_words, lexicon))
        ranking = Ranking(query, t, lexicon, config, fused, title_hits)
        fused = adjust(ranking)

        route_faq = t.close_faq(q) if config.on("faq_route") else None
        pool_size = max(top_k, EVIDENCE_POOL if parts else 1)
        order = list(np.argsort(-fused)[: pool_size * 3])
        if route_faq is not None:
            order = [route_faq] + [i for i in order if i != route_faq]
        kept = self._distinct(order, pool_size) if config.on("distinct") else order[:pool_size]
        # the candidate after the last one kept, so that the last one's margin is a real one too
        after = None
        if kept:
            below = [i for i in order[order.index(kept[-1]) + 1 :] if i not in kept]
            after = float(fused[below[0]]) if below else None
        hits = self._hits(query, kept, after, fused, dense, chunk_lex, chunk_dense, title_hits, route_faq, parts)
        for h, i in zip(hits, kept):
            h.features["ask_dense"] = float(asked[i])
        if parts and config.on("policy_evidence"):
            hits = self._reorder_policies(q, kept, hits, parts)
        self._add_relevance(query, hits[:RANKED])
        hits = self._learned(hits)
        excluded = contrasted(ranking) if config.on("contrast") else None
        ids = {t.record_ids[i] for i in np.flatnonzero(excluded)} if excluded is not None else set()
        if self.unknown_schemes(query):
            ids = {h.record_id for h in hits}  # none is named for the scheme asked about: mentioned, not answered
        hits = [replace(h, score=round(h.score * config.excluded_factor, 4)) if h.record_id in ids else h
                for h in hits]
        return hits[:top_k]

    def unknown_schemes(self, query: SearchQuery) -> list[str]:
        """The schemes (补贴, 许可, 保险…) the clauses that ask name and no record is named for (indexing.schemes);
        none when the `scheme` step is switched off."""
        self.refresh()
        if not self.config.on("scheme") or self._schemes is None:
            return []
        return self._schemes.unknown(query.asking_text or query.text)

    @property
    def learned(self) -> LearnedRanking:
        """The learned re-ranking and answer probability: the shipped weights unless others were given."""
        if self._learned_model is None:
            self._learned_model = default_learned()
        return self._learned_model

    def threshold(self, kind: str, band: str) -> float | None:
        """The answer or confirm threshold fitted with the answer probability for a record of this kind put first,
        or None when it is switched off (the assistant then reads the calibrated score with its own thresholds)."""
        return self.learned.threshold(kind, band) if self.config.on("decision") and self.mode == "hybrid" else None

    def _learned(self, hits: list[RecordHit]) -> list[RecordHit]:
        """The leading candidates re-ordered by the learned re-ranking, each scored by the probability that,
        put first, it answers the question (indexing.learned); a FAQ routed by its phrasing stays first."""
        head, tail = hits[:RANKED], hits[RANKED:]
        if not head or self.mode != "hybrid" or not (self.config.on("rerank") or self.config.on("decision")):
            return hits
        scores = self.learned.rerank_scores(head) if self.config.on("rerank") else -np.arange(len(head), dtype=float)
        if self.config.on("decision"):
            order = self.learned.order_probability(head, scores)
            for h, p, r, o in zip(head, self.learned.answer_probability(head, scores, order), scores, order):
                h.score = 0.99 if h.route == "faq" else round(float(p), 4)
                h.features.update(rerank=float(r), order=float(o))
            scores = order  # candidates in the order of the probability that they are right
        order = sorted(range(len(head)), key=lambda i: (head[i].route != "faq", -scores[i]))
        return [head[i] for i in order] + tail

    def _reorder_policies(self, q: str, kept: list[int], hits: list[RecordHit],
                          parts: tuple[np.ndarray, np.ndarray, np.ndarray]) -> list[RecordHit]:
        """The leading policies change places by how much of the question each contains (see
        indexing.evidence). A moved policy takes the score and fused value of the place it moves
        to: they say how sure the ranking is at that place, which is what the answer decision
        reads; which policy to cite is the evidence's call (NCP dev: decisions unchanged)."""
        t = self.refresh()
        places = [k for k, i in enumerate(kept[:EVIDENCE_POOL]) if t.is_policy[i]]
        candidates = [PolicyCandidate(hits[k].record_id, hits[k].fused, *(float(p[kept[k]]) for p in parts))
                      for k in places]
        moved = [hits[places[j]] for j in self._evidence.order(q, candidates)]
        out = list(hits)
        for k, hit in zip(places, moved):
            out[k] = replace(hit, score=hits[k].score, fused=hits[k].fused)
        return out

    def _asking_only(self, query: SearchQuery) -> str | None:
        """The clauses that ask, searched alone ("换身份证能让我妈替我去办不" without "我在外地读书回不来");
        None when every clause asks."""
        if not query.asking_text or normalize(query.asking_text) == normalize(query.text):
            return None
        return self.index.lexicon.expand(query.asking_text)

    def _asked_dense(self, vector: np.ndarray, t: RecordTables) -> np.ndarray:
        """Per record, the best cosine of its chunks with the clauses that ask alone."""
        hits = self.index.vectors.query(vector, DENSE_POOL)
        asked = np.full(len(t.record_ids), min((s for _, s in hits), default=0.0) - 0.02, dtype=np.float32)
        for cid, sim in hits:
            i = self.chunk_pos.get(cid)
            if i is not None:
                r = t.chunk_record[i]
                asked[r] = max(asked[r], sim)
        return asked

    def _add_relevance(self, query: SearchQuery, hits: list[RecordHit]) -> None:
        t = self.refresh()
        position = {r: i for i, r in enumerate(t.record_ids)} if hits else {}
        asked = self._relevance.query_features(query) if hits else {}
        for h in hits:
            h.features.update(asked)
            h.features.update(self._relevance.candidate_features(query, h.record_id, position[h.record_id]))

    def _record_sentences(self, record_id: str) -> list[str]:
        return _remembered(self._sentences, record_id, lambda: sentences_of(self.index.record(record_id)))

    def _title_and_text(self, record_id: str) -> tuple[str, str]:
        return self.refresh().meta[record_id].title, self._policy_text(record_id)

    def _policy_text(self, record_id: str) -> str:
        """A policy's body, read from the manifest once per index generation: the near-duplicate check
        and the re-ordering both need it for the same leading candidates."""
        return _remembered(self._policy_texts, record_id, lambda: "".join(
            s.text for s in getattr(self.index.record(record_id), "sections", [])))

    def _distinct(self, order: list[int], top_k: int) -> list[int]:
        """A reposted notice (a policy nearly identical to one ranked above it) gives its place to the next candidate."""
        t = self.refresh()
        kept: list[int] = []
        seen: list[frozenset[str]] = []
        for i in order:
            grams = self._policy_shingles(t.record_ids[i]) if t.is_policy[i] else frozenset()
            if grams and any(_near_duplicate(grams, g) for g in seen):
                continue
            kept.append(i)
            if grams:
                seen.append(grams)
            if len(kept) == top_k:
                break
        return kept

    def _policy_shingles(self, record_id: str) -> frozenset[str]:
        def shingles() -> frozenset[str]:
            text = re.sub(r"[\W_]+", "", self._policy_text(record_id))
            return frozenset(text[i : i + 5] for i in range(len(text) - 4))

        return _remembered(self._shingles, record_id, shingles)

    def _hits(self, query: SearchQuery, order: list[int], after: float | None, fused: np.ndarray, dense: np.ndarray,
              chunk_lex: dict[int, float], chunk_dense: dict[int, float], title_hits: np.ndarray,
              route_faq: int | None, parts: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> list[RecordHit]:
        t = self.refresh()
        field = aspect_fields().get(query.aspect, "")
        by_record: dict[int, list[ChunkHit]] = {}
        for i in set(chunk_lex) | set(chunk_dense):
            by_record.setdefault(int(t.chunk_record[i]), []).append(
                ChunkHit(t.chunks[i], chunk_lex.get(i, 0.0), chunk_dense.get(i, 0.0)))
        max_lex = max(chunk_lex.values(), default=0.0) or 1.0
        for hits in by_record.values():
            hits.sort(key=lambda h: -(h.lexical / max_lex + h.dense + (h.chunk.field == field)))
        top_fused = [float(fused[i]) for i in order] + ([after] if after is not None else [])
        out = []
        query_terms = {tok for tok in query.tokens if not tok.startswith("§syn")}
        for rank, i in enumerate(order):
            rid = t.record_ids[i]
            chunk_hits = by_record.get(i, [])[:3]
            covered = set()
            for h in chunk_hits:
                covered |= query_terms & self._chunk_tokens(h.chunk.id)
            subject = query.subject_tokens
            terms = query_terms & subject if subject is not None and t.is_guide[i] else query_terms
            coverage = t.idf_share(covered & terms, terms)
            margin = top_fused[rank] - (top_fused[rank + 1] if rank + 1 < len(top_fused) else top_fused[rank] - 3)
            dense_top = float(dense[i]) if self.mode != "bm25" else 0.8
            score = 0.99 if i == route_faq else calibrated(dense_top, coverage, margin, bool(title_hits[i]))
            out.append(RecordHit(
                record_id=rid, kind=t.meta[rid].kind, title=t.meta[rid].title,
                score=round(score, 4), fused=round(float(fused[i]), 4), chunks=chunk_hits,
                features={"dense": round(dense_top, 4), "coverage": round(coverage, 3),
                          "margin": round(margin, 3), "title": float(title_hits[i]),
                          **({"lex_z": float(parts[0][i]), "dense_z": float(parts[1][i]), "rec_z": float(parts[2][i])}
                             if parts else {})},
                route="faq" if i == route_faq else "",
            ))
        return out

    def _chunk_tokens(self, chunk_id: str) -> frozenset[str]:
        """A chunk's BM25 tokens, read from the manifest when first needed: keeping every chunk's
        token set in memory would cost gigabytes at 100,000 chunks."""
        return _remembered(self._token_cache, chunk_id,
                           lambda: frozenset(self.index.chunk_tokens([chunk_id]).get(chunk_id, ())))


def _remembered(cache: dict[str, T], key: str, compute: Callable[[], T], limit: int = 4096) -> T:
    """`cache[key]`, computed on first use; a full cache starts over, so a long-running server's
    per-generation caches stay bounded (policy texts and shingles at 100,000 chunks would not)."""
    value = cache.get(key)
    if value is None:
        if len(cache) >= limit:
            cache.clear()
        value = cache[key] = compute()
    return value


def _near_duplicate(a: frozenset[str], b: frozenset[str]) -> bool:
    """Jaccard ≥ NEAR_DUPLICATE; the size test settles most pairs without intersecting two long texts."""
    small, large = sorted((len(a), len(b)))
    if small < NEAR_DUPLICATE * large:
        return False
    shared = len(a & b)
    return shared >= NEAR_DUPLICATE * (len(a) + len(b) - shared)


def default_learned() -> LearnedRanking:
    """The shipped weights (indexing/models/ranking.json), read once per process."""
    global _DEFAULT_LEARNED
    if _DEFAULT_LEARNED is None:
        _DEFAULT_LEARNED = LearnedRanking.load()
    return _DEFAULT_LEARNED


_DEFAULT_LEARNED: LearnedRanking | None = None
