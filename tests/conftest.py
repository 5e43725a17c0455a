"""Shared fixtures. Model-loading fixtures are session-scoped and marked slow by the tests that use them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.settings import SAMPLE_KB, Settings


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
def embedder(settings):
    from indexing.embedder import Embedder, EmbeddingCache

    return Embedder(settings.embedding_model, settings.models_dir, EmbeddingCache(settings.embedding_cache))


@pytest.fixture()
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of the sample knowledge base."""
    target = tmp_path / "kb"
    shutil.copytree(SAMPLE_KB, target)
    return target


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory, embedder):
    """The sample knowledge base indexed once into a temporary data directory."""
    from indexing.index import KnowledgeIndex
    from knowledge.loaders import load_knowledge_base

    index = KnowledgeIndex(tmp_path_factory.mktemp("index"), embedder.model_name, embedder=embedder)
    index.index(load_knowledge_base(SAMPLE_KB).records)
    return index
