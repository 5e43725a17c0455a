"""Normalisation, tokens and structure-aware chunks."""

from __future__ import annotations

from assistant.settings import SAMPLE_KB
from indexing.chunking import chunk_record
from indexing.text import Lexicon, normalize
from knowledge.loaders import load_file, load_knowledge_base


def test_normalize_traditional_and_full_width():
    assert normalize("護照怎麼辦理？ＡＢＣ１２３") == "护照怎么办理?abc123"


def test_synonyms_meet_on_both_sides():
    lex = Lexicon()
    assert set(lex.tokens("孩子上户口")) & set(lex.tokens("出生登记"))
    assert set(lex.tokens("社保卡丢了")) & set(lex.tokens("社会保障卡补换"))
    assert "出生登记" in lex.expand("孩子上户口")


def test_editors_can_extend_synonyms(tmp_path):
    (tmp_path / "synonyms.txt").write_text("# 注释\n狗证 犬只登记\n", encoding="utf-8")
    lex = Lexicon(tmp_path)
    assert set(lex.tokens("办狗证")) & set(lex.tokens("犬只登记"))


def test_guide_is_chunked_by_field_with_its_name():
    guide = load_file(SAMPLE_KB / "guides" / "g-id-card-apply.md").records[0]
    chunks = chunk_record(guide)
    fields = [c.field for c in chunks]
    assert {"materials", "process", "fees", "time_limit", "location"} <= set(fields)
    for c in chunks:
        assert c.text.startswith("居民身份证申领")
        assert c.record_id == guide.id and c.kind == "guide" and c.region == "示例市" and c.date
    materials = next(c for c in chunks if c.field == "materials")
    assert "居民户口簿（原件1份）" in materials.text


def test_policy_chunks_follow_articles_and_faq_chunks_follow_phrasings():
    records = {r.id: r for r in load_knowledge_base(SAMPLE_KB).records}
    policy = next(r for r in records.values() if r.kind == "policy" and any("第一条" in s.heading for s in r.sections))
    chunks = chunk_record(policy)
    assert any("第一条" in c.section for c in chunks)
    assert all(len(c.text) <= 300 + len(policy.name) + 40 for c in chunks)
    faq = next(r for r in records.values() if r.kind == "faq" and r.similar)
    assert len(chunk_record(faq)) == 1 + len(faq.similar)
