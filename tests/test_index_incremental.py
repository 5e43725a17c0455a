"""Incremental indexing: only changed records are re-embedded; deletions and interruptions leave a consistent index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexing.chunking import chunk_record
from indexing.index import KnowledgeIndex
from indexing.retriever import HybridRetriever
from language.data import LEXICON_DIR
from language.lexicon import Lexicon
from knowledge.loaders import load_knowledge_base

pytestmark = pytest.mark.slow


class CountingEmbedder:
    """Wraps the real embedder and records which texts reach the model (cache misses included)."""

    def __init__(self, inner, fail_after: int | None = None) -> None:
        self.inner, self.model_name, self.texts, self.fail_after = inner, inner.model_name, [], fail_after

    def embed_passages(self, texts, progress=None):
        if self.fail_after is not None and len(self.texts) >= self.fail_after:
            raise KeyboardInterrupt
        self.texts.extend(texts)
        return self.inner.embed_passages(texts, progress)

    def embed_query(self, text):
        return self.inner.embed_query(text)


def consistent(index: KnowledgeIndex, records) -> bool:
    expected = {c.id for r in records for c in chunk_record(r)}
    manifest = {c.id for c in index.chunks()[0]}
    return expected == manifest == index.vectors.ids() and index.vectors.count() == len(expected)


def test_editing_one_guide_re_embeds_only_its_chunks(tmp_path: Path, kb_copy: Path, embedder):
    counting = CountingEmbedder(embedder)
    index = KnowledgeIndex(tmp_path, embedder.model_name, embedder=counting)
    records = load_knowledge_base(kb_copy).records
    first = index.index(records)
    assert len(first.added) == len(records)

    guide = kb_copy / "guides" / "g-passport.md"
    guide.write_text(guide.read_text(encoding="utf-8").replace("更新日期: ", "更新日期: 2026-11-20\n旧日期: ", 1)
                     .replace("\n旧日期: ", "\n# ", 1), encoding="utf-8")
    counting.texts.clear()
    records = load_knowledge_base(kb_copy).records
    second = index.index(records)
    passport = next(r for r in records if r.id == "g-passport")
    assert second.updated == ["g-passport"] and second.added == [] and second.removed == []
    assert second.unchanged == len(records) - 1
    assert sorted(counting.texts) == sorted(c.text for c in chunk_record(passport))
    assert consistent(index, records)


def test_deleted_records_leave_the_index(tmp_path: Path, kb_copy: Path, embedder):
    index = KnowledgeIndex(tmp_path, embedder.model_name, embedder=embedder)
    index.index(load_knowledge_base(kb_copy).records)
    (kb_copy / "guides" / "g-passport.md").unlink()
    records = load_knowledge_base(kb_copy).records
    report = index.index(records)
    assert report.removed == ["g-passport"]
    assert index.record("g-passport") is None
    assert consistent(index, records)


def test_interrupted_run_is_completed_by_the_next(tmp_path: Path, kb_copy: Path, embedder):
    records = load_knowledge_base(kb_copy).records
    interrupted = KnowledgeIndex(tmp_path, embedder.model_name, embedder=CountingEmbedder(embedder, fail_after=100))
    with pytest.raises(KeyboardInterrupt):
        interrupted.index(records)
    done = set(interrupted.hashes())      # read now: the resumed run writes to the same manifest
    assert 0 < len(done) < len(records)

    resumed = KnowledgeIndex(tmp_path, embedder.model_name, embedder=embedder)
    report = resumed.index(records)
    assert report.unchanged == len(done)                                    # what was committed is kept …
    assert sorted(report.added) == sorted({r.id for r in records} - done)   # … and exactly the rest is added
    assert report.updated == [] and report.removed == [] and report.repaired == 0
    assert consistent(resumed, records)


def test_vectors_the_manifest_does_not_know_are_repaired(tmp_path: Path, kb_copy: Path, embedder):
    records = load_knowledge_base(kb_copy).records
    index = KnowledgeIndex(tmp_path, embedder.model_name, embedder=embedder)
    index.index(records)
    # simulate a kill between writing vectors and committing the manifest
    import numpy as np

    index.vectors.upsert(["ghost#0"], np.ones((1, embedder.dimension), dtype=np.float32), [{"record_id": "ghost"}], ["x"])
    with index.db:
        index.db.execute("DELETE FROM records WHERE id = 'g-passport'")
    report = KnowledgeIndex(tmp_path, embedder.model_name, embedder=embedder).index(records)
    assert report.repaired >= 1 and "g-passport" in report.added
    assert consistent(index, records)


def test_a_lexicon_edit_re_tokenises_every_record(tmp_path: Path, kb_copy: Path, embedder):
    lexicon_dir = tmp_path / "lexicon"
    shutil.copytree(LEXICON_DIR, lexicon_dir)
    records = load_knowledge_base(kb_copy).records
    KnowledgeIndex(tmp_path / "data", embedder.model_name, lexicon=Lexicon(lexicon_dir), embedder=embedder).index(records)
    with (lexicon_dir / "synonyms.txt").open("a", encoding="utf-8") as fh:
        fh.write("护照 洋本本\n")
    index = KnowledgeIndex(tmp_path / "data", embedder.model_name, lexicon=Lexicon(lexicon_dir), embedder=embedder)
    report = index.index(records)
    assert report.unchanged == 0 and len(report.updated) == len(records)
    hits = HybridRetriever(index, "bm25").search("洋本本怎么办", top_k=3)
    assert "g-passport" in [h.record_id for h in hits]
    assert index.index(records).unchanged == len(records)  # and the next run has nothing to do
