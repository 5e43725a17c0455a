"""Configuration from environment variables, with defaults that need no server."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from indexing.embedder import DEFAULT_MODEL

SAMPLE_KB = Path(__file__).resolve().parent.parent / "knowledge" / "samples"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    kb_dir: Path
    embedding_model: str = DEFAULT_MODEL
    chroma_url: str | None = None
    hotline: str = "12345"

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            data_dir=Path(os.environ.get("GOVQA_DATA_DIR", "data")).resolve(),
            kb_dir=Path(os.environ.get("GOVQA_KB_DIR", str(SAMPLE_KB))).resolve(),
            embedding_model=os.environ.get("GOVQA_EMBEDDING_MODEL", DEFAULT_MODEL),
            chroma_url=os.environ.get("GOVQA_CHROMA_URL") or None,
            hotline=os.environ.get("GOVQA_HOTLINE", "12345"),
        )

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def embedding_cache(self) -> Path:
        return self.data_dir / "cache" / "embeddings.sqlite"
