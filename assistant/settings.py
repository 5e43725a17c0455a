"""Configuration from environment variables, with defaults that need no server."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from language.question import MAX_QUESTION_CHARS
from indexing.embedder import BACKENDS, DEFAULT_MODEL

SAMPLE_KB = Path(__file__).resolve().parent.parent / "knowledge" / "samples"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    kb_dir: Path
    embedding_model: str = DEFAULT_MODEL
    embedding_backend: str = "fp32"
    chroma_url: str | None = None
    hotline: str = "12345"
    max_question_chars: int = MAX_QUESTION_CHARS

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            data_dir=Path(os.environ.get("GOVQA_DATA_DIR", "data")).resolve(),
            kb_dir=Path(os.environ.get("GOVQA_KB_DIR", str(SAMPLE_KB))).resolve(),
            embedding_model=os.environ.get("GOVQA_EMBEDDING_MODEL", DEFAULT_MODEL),
            embedding_backend=_choice("GOVQA_EMBEDDING_BACKEND", BACKENDS),
            chroma_url=os.environ.get("GOVQA_CHROMA_URL") or None,
            hotline=os.environ.get("GOVQA_HOTLINE", "12345"),
            max_question_chars=_positive_int("GOVQA_MAX_QUESTION_CHARS", MAX_QUESTION_CHARS),
        )

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def embedding_cache(self) -> Path:
        return self.data_dir / "cache" / "embeddings.sqlite"


def _choice(name: str, allowed: tuple[str, ...]) -> str:
    """The variable's value, or the first allowed one when unset; anything else stops with a message."""
    value = os.environ.get(name, "").strip() or allowed[0]
    if value not in allowed:
        raise ValueError(f"环境变量 {name} 应为 {' 或 '.join(allowed)}，现在是 {value!r}")
    return value


def _positive_int(name: str, default: int) -> int:
    """A misconfigured limit stops the program with a message naming the variable, not a traceback."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"环境变量 {name} 应为正整数，现在是 {value!r}")
    return int(value)
