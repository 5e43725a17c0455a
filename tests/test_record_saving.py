"""Saving one record back into the knowledge-base folder (KnowledgeBaseStore.save), in every editable format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.settings import SAMPLE_KB
from knowledge.loaders import load_file, load_knowledge_base
from knowledge.models import FAQ, Policy, PolicySection, ServiceGuide
from knowledge.policy_text import split_sections
from knowledge.store import KnowledgeBaseStore
from knowledge.writer import policy_body


def hashes(root: Path) -> dict[str, str]:
    return {r.id: r.content_hash for r in load_knowledge_base(root).records}


def faq(record_id: str, answer: str = "可以。", **extra) -> FAQ:
    return FAQ(id=record_id, question=f"{record_id} 的问题？", answer=answer, **extra)


def test_every_sample_policy_body_is_written_as_text_that_splits_back_the_same():
    policies = [r for r in load_knowledge_base(SAMPLE_KB).records if isinstance(r, Policy)]
    assert len(policies) >= 10
    for policy in policies:
        assert split_sections(policy_body(policy.sections)) == policy.sections, policy.id


def test_saving_records_unchanged_reads_back_identical_in_the_layout_of_format_md(kb_copy: Path):
    before = hashes(kb_copy)
    store = KnowledgeBaseStore(kb_copy)
    guide = load_file(kb_copy / "guides" / "g-passport.md").records[0]
    policy = load_file(kb_copy / "policies" / "p-housing-hpf-withdraw-measures.md").records[0]
    store.save(guide)
    store.save(policy)
    assert hashes(kb_copy) == before
    text = (kb_copy / "guides" / "g-passport.md").read_text(encoding="utf-8")
    assert text.startswith("---\nid: g-passport\n类型: 办事指南\n事项名称: ") and "\n别名: [办护照, " in text
    assert "\n申请材料:\n  - 名称: 居民身份证\n    形式: 原件\n" in text and "\n---\n温馨提示：" in text
    assert "\n# 第三章 租房提取\n\n第七条 " in (kb_copy / "policies" / "p-housing-hpf-withdraw-measures.md").read_text(
        encoding="utf-8")


def test_an_edited_faq_row_changes_and_the_other_rows_stay_byte_identical(kb_copy: Path):
    table = kb_copy / "faqs" / "police.csv"
    lines = table.read_text(encoding="utf-8").splitlines()
    target = load_file(table).records[1]
    KnowledgeBaseStore(kb_copy).save(target.model_copy(update={"answer": "新的答案，含逗号,和“引号”。"}))
    after = table.read_text(encoding="utf-8").splitlines()
    assert after[:2] + after[3:] == lines[:2] + lines[3:]
    assert load_file(table).records[1].answer == "新的答案，含逗号,和“引号”。"


@pytest.mark.parametrize("name", ["extra.json", "extra.jsonl", "extra.xlsx"])
def test_json_jsonl_and_xlsx_tables_are_edited_in_place(kb_copy: Path, name: str):
    path = kb_copy / "faqs" / name
    store = KnowledgeBaseStore(kb_copy)
    if name.endswith(".xlsx"):
        from openpyxl import Workbook

        book = Workbook()
        book.active.append(["id", "问题", "相似问法", "答案", "关联事项", "更新日期"])
        book.active.append(["faq-x-one", "一？", "", "一。", "", ""])
        book.active.append(["faq-x-two", "二？", "", "二。", "", ""])
        book.save(path)
    else:
        items = [{"id": "faq-x-one", "类型": "常见问题", "问题": "一？", "答案": "一。"},
                 {"id": "faq-x-two", "类型": "常见问题", "问题": "二？", "答案": "二。"}]
        path.write_text(json.dumps(items, ensure_ascii=False) if name.endswith(".json")
                        else "\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n", encoding="utf-8")
    one = next(r for r in load_file(path).records if r.id == "faq-x-one")
    assert store.save(one.model_copy(update={"answer": "改过的一。", "similar": ["第一个"]})) == path
    saved = {r.id: r for r in load_file(path).records}
    assert [saved["faq-x-one"].answer, saved["faq-x-one"].similar, saved["faq-x-two"].answer] == \
        ["改过的一。", ["第一个"], "二。"]


def test_new_records_go_where_editors_would_put_them(kb_copy: Path):
    store = KnowledgeBaseStore(kb_copy)
    guide = next(r for r in load_knowledge_base(kb_copy).records if isinstance(r, ServiceGuide))
    assert store.save(faq("faq-passport-new", related_guide="g-passport")).name == "police.csv"
    assert store.save(faq("faq-standalone")) == kb_copy / "faqs" / "added.csv"
    new_guide = guide.model_copy(update={"id": "g-new-service"})
    assert store.save(new_guide) == kb_copy / "guides" / "g-new-service.md"
    assert {"faq-passport-new", "faq-standalone", "g-new-service"} <= set(hashes(kb_copy))


def test_a_policy_whose_text_would_split_differently_keeps_its_sections_in_yaml(kb_copy: Path):
    policy = Policy(id="p-odd", name="奇怪的通知", sections=[
        PolicySection(heading="第一条", text="第一款内容。\n第二条 这一行看起来像新的一条，但属于第一条。")])
    path = KnowledgeBaseStore(kb_copy).save(policy)
    assert "正文:" in path.read_text(encoding="utf-8")
    assert load_file(path).records[0].content_hash == policy.content_hash


def test_records_from_unstructured_files_are_refused_and_left_alone(kb_copy: Path):
    path = kb_copy / "policies" / "p-plain.txt"
    path.write_text("示例通知\n第一条 内容。\n", encoding="utf-8")
    record = load_file(path).records[0]
    with pytest.raises(ValueError, match="不能在线编辑"):
        KnowledgeBaseStore(kb_copy).save(record.model_copy(update={"name": "改名"}))
    assert path.read_text(encoding="utf-8") == "示例通知\n第一条 内容。\n"


def test_a_record_cannot_change_kind(kb_copy: Path):
    with pytest.raises(ValueError, match="不能改变类型"):
        KnowledgeBaseStore(kb_copy).save(faq("g-passport"))
