"""Shared fixtures. Model-loading fixtures are session-scoped and marked slow by the tests that use them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# web tests send many questions and logins from one address; the rate limits have tests of their own
os.environ.setdefault("GOVQA_RATE_LIMIT", "off")
os.environ.setdefault("GOVQA_LOGIN_RATE_LIMIT", "off")
os.environ.setdefault("GOVQA_WRITE_RATE_LIMIT", "off")

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


@pytest.fixture(scope="session")
def indexed_data_dir(tmp_path_factory, settings, sample_index) -> Path:
    """A data directory as `govqa index` leaves it, for tests that run the command line in a subprocess.
    Shared: tests copy it (`shutil.copytree(..., symlinks=True)`) before writing to it.

    The model is linked, not copied; the embedding cache (warm once `sample_index` exists) is copied.
    """
    import sqlite3
    import subprocess
    import sys

    data = tmp_path_factory.mktemp("data")
    (data / "models").symlink_to(settings.models_dir, target_is_directory=True)
    (data / "cache").mkdir()
    with sqlite3.connect(settings.embedding_cache) as src, sqlite3.connect(data / "cache" / "embeddings.sqlite") as dst:
        src.backup(dst)     # a consistent copy, including what is still in the write-ahead log
    subprocess.run([sys.executable, "-m", "ui.cli", "index", "--kb", str(SAMPLE_KB)],
                   env={**os.environ, "GOVQA_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"},
                   check=True, capture_output=True, timeout=600)
    return data


@pytest.fixture()
def data_dir_copy(indexed_data_dir: Path, tmp_path: Path) -> Path:
    """This test's own copy of the indexed data directory, to write to (the model stays linked)."""
    data = tmp_path / "data"
    shutil.copytree(indexed_data_dir, data, symlinks=True)
    return data
