"""Dense vectors in Chroma, always with our own embeddings.

`PersistentClient` on disk by default; `HttpClient` when a server URL is
configured. The collection never gets an embedding function, so Chroma can
never try to download its default model.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

_INVALID = re.compile(r"[^a-zA-Z0-9._-]+")
# Chroma's default ef_search (100) equals our dense pool, so the tail of the pool was approximate and
# two stores holding the same vectors could disagree on it. Searching four times wider made two
# builds agree on every top-100 list (79% at 100) in a test on 3,000 clustered vectors.
EF_SEARCH = 400


def collection_name(base: str, model: str) -> str:
    """A valid Chroma name (``[a-zA-Z0-9._-]``, 3–512 chars) that differs per embedding model."""
    name = _INVALID.sub("-", f"{base}-{model}").strip("-._")
    name = re.sub(r"\.{2,}", ".", name)[:512]
    return name if len(name) >= 3 else f"{name}-kb"


class VectorStore:
    def __init__(self, name: str, path: Path | None = None, server_url: str | None = None) -> None:
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False, allow_reset=False)
        if server_url:
            url = urlparse(server_url)
            self.client = chromadb.HttpClient(host=url.hostname or "localhost", port=url.port or 8000,
                                              ssl=url.scheme == "https", settings=settings)
        elif path is not None:
            path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(path), settings=settings)
        else:
            raise ValueError("VectorStore needs a path or a server URL")
        self.collection = self.client.get_or_create_collection(
            name, embedding_function=None, configuration={"hnsw": {"space": "cosine", "ef_search": EF_SEARCH}}
        )
        if (self.collection.configuration_json.get("hnsw") or {}).get("ef_search") != EF_SEARCH:
            self.collection.modify(configuration={"hnsw": {"ef_search": EF_SEARCH}})

    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict], documents: list[str]) -> None:
        for start in range(0, len(ids), 1000):
            end = start + 1000
            self.collection.upsert(ids=ids[start:end], embeddings=vectors[start:end].tolist(),
                                   metadatas=metadatas[start:end], documents=documents[start:end])

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 1000):
            self.collection.delete(ids=ids[start : start + 1000])

    def ids(self) -> set[str]:
        found: set[str] = set()
        offset = 0
        while True:
            batch = self.collection.get(include=[], limit=5000, offset=offset)["ids"]
            found.update(batch)
            if len(batch) < 5000:
                return found
            offset += len(batch)

    def count(self) -> int:
        return self.collection.count()

    def query(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) pairs, best first.

        Chroma 1.x returns what it has when asked for more than it holds; counting first cost
        43 ms a question at 100,000 chunks, more than the search itself."""
        res = self.collection.query(query_embeddings=[vector.tolist()], n_results=k, where=where,
                                    include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0])]
