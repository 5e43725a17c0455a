"""The composition root: the one place that knows how the assistant's parts are built from the settings.

Every entry point (the `govqa` commands, the web server, the evaluation commands) opens the index,
the embedding model and the assistant here, so they are all built the same way. Imports are inside
the functions so that a command pays only for what it opens: the answering pipeline alone takes over
a second to import, and `govqa kb …` needs none of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.service import Assistant
    from indexing.embedder import Embedder
    from indexing.index import KnowledgeIndex


def open_index(settings: Settings) -> KnowledgeIndex:
    from indexing.index import KnowledgeIndex

    return KnowledgeIndex(settings.data_dir, settings.embedding_model, settings.chroma_url,
                          backend=settings.embedding_backend)


def open_embedder(settings: Settings) -> Embedder:
    """The embedding model with the data directory's cache, outside any index (evaluation, demand topics)."""
    from indexing.embedder import Embedder, EmbeddingCache

    return Embedder(settings.embedding_model, settings.models_dir, EmbeddingCache(settings.embedding_cache),
                    backend=settings.embedding_backend)


def build_assistant(settings: Settings) -> Assistant:
    """The assistant over the data directory's index, demand log and sessions; phrased by an LLM when one is set."""
    from assistant.conversation import SQLiteSessionStore
    from assistant.demand_log import DemandLog
    from assistant.llm import LLMPhraser, from_env
    from assistant.service import Assistant

    model = from_env()
    return Assistant(open_index(settings), DemandLog(settings.data_dir / "demand.sqlite"), settings.hotline,
                     phraser=LLMPhraser(model) if model else None,
                     sessions=SQLiteSessionStore(settings.data_dir / "sessions.sqlite"),
                     max_question_chars=settings.max_question_chars)
