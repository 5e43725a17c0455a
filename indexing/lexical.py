"""BM25 over jieba tokens (bm25s sparse matrices), rebuilt in memory from the chunk table."""

from __future__ import annotations

import numpy as np
import bm25s


class BM25Index:
    """Chunk-level BM25. Built from pre-tokenised chunks; `search` returns (position, score) pairs."""

    def __init__(self, tokenized: list[list[str]], k1: float = 0.9, b: float = 0.4) -> None:
        if k1 <= 0 or not 0 <= b <= 1:
            raise ValueError("BM25 needs k1 > 0 and 0 <= b <= 1")
        self.size = len(tokenized)
        self.vocab: dict[str, int] = {}
        ids = [[self.vocab.setdefault(t, len(self.vocab)) for t in toks] or [self._empty()] for toks in tokenized]
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        if self.size:
            self._bm25.index(bm25s.tokenization.Tokenized(ids=ids, vocab=self.vocab), show_progress=False)

    def _empty(self) -> int:
        return self.vocab.setdefault("§empty", len(self.vocab))

    def scores(self, tokens: list[str]) -> np.ndarray:
        known = [self.vocab[t] for t in tokens if t in self.vocab]
        if not known or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def search(self, tokens: list[str], k: int) -> list[tuple[int, float]]:
        s = self.scores(tokens)
        if not s.size:
            return []
        k = min(k, s.size)
        top = np.argpartition(-s, k - 1)[:k]
        top = top[np.argsort(-s[top])]
        return [(int(i), float(s[i])) for i in top if s[i] > 0]
