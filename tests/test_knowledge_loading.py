"""The knowledge model and loaders: the sample base loads clean; every kind of broken file gets a clear error."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.settings import SAMPLE_KB
from knowledge.loaders import load_file, load_knowledge_base
from knowledge.models import FAQ, Policy, ServiceGuide

GOOD_GUIDE = (SAMPLE_KB / "guides" / "g-id-card-apply.md").read_text(encoding="utf-8")


def test_sample_knowledge_base_is_large_and_clean():
    result = load_knowledge_base(SAMPLE_KB)
    assert result.errors == []
    kinds = [r.kind for r in result.records]
    assert kinds.count("guide") >= 40
    assert kinds.count("policy") >= 10
    assert kinds.count("faq") >= 150


def test_guide_keeps_its_structure():
    guide = load_file(SAMPLE_KB / "guides" / "g-id-card-apply.md").records[0]
    assert isinstance(guide, ServiceGuide)
    assert guide.name == "居民身份证申领"
    assert [m.name for m in guide.materials][:2] == ["居民户口簿", "监护人居民身份证"]
    assert guide.materials[0].form == "原件" and guide.materials[0].copies == 1
    assert guide.time_limit.promised == "20个工作日"
    assert guide.source.endswith("g-id-card-apply.md")
    assert len(guide.content_hash) == 64


def test_every_faq_points_to_an_existing_guide():
    records = load_knowledge_base(SAMPLE_KB).records
    guides = {r.id for r in records if r.kind == "guide"}
    for faq in (r for r in records if isinstance(r, FAQ)):
        assert not faq.related_guide or faq.related_guide in guides, faq.id


def test_policy_body_is_split_into_articles():
    policies = [r for r in load_knowledge_base(SAMPLE_KB).records if isinstance(r, Policy)]
    structured = [p for p in policies if any("第一条" in s.heading for s in p.sections)]
    assert structured, "at least one sample policy has 第X条 structure"
    article = next(s for s in structured[0].sections if "第一条" in s.heading)
    assert article.text


def test_content_hash_changes_only_with_content(tmp_path: Path):
    path = tmp_path / "g.md"
    path.write_text(GOOD_GUIDE, encoding="utf-8")
    first = load_file(path).records[0].content_hash
    path.write_text(GOOD_GUIDE.replace("工本费20元", "工本费25元"), encoding="utf-8")
    assert load_file(path).records[0].content_hash != first


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_broken_files_are_reported_and_good_files_still_load(tmp_path: Path):
    kb = tmp_path / "kb"
    _write(kb / "guides", "good.md", GOOD_GUIDE)
    _write(kb / "guides", "bad-yaml.md", "---\nid: g-bad\n事项名称: [未闭合\n---\n")
    _write(kb / "guides", "no-name.md", GOOD_GUIDE.replace("事项名称: 居民身份证申领\n", "").replace(
        "id: g-id-card-apply", "id: g-no-name"))
    _write(kb / "guides", "materials-not-list.md", GOOD_GUIDE.replace("id: g-id-card-apply", "id: g-mat").replace(
        "申请材料:\n", "申请材料: 户口本\n不用的字段:\n"))
    (kb / "faqs").mkdir()
    (kb / "faqs" / "broken.xlsx").write_bytes(b"this is not a zip file")
    (kb / "policies").mkdir()
    (kb / "policies" / "gbk.md").write_bytes("---\nid: p-gbk\n标题: 通知\n---\n正文".encode("gbk"))

    result = load_knowledge_base(kb)
    assert [r.id for r in result.records] == ["g-id-card-apply"]
    messages = {Path(e.path).name: str(e) for e in result.errors}
    assert "YAML" in messages["bad-yaml.md"]
    assert any(e.field == "事项名称" and e.record == "g-no-name" for e in result.errors)
    assert any(e.field.startswith("申请材料") and e.record == "g-mat" for e in result.errors)
    assert "无法读取" in messages["broken.xlsx"]
    assert "UTF-8" in messages["gbk.md"] and "GBK" in messages["gbk.md"]
    for error in result.errors:
        assert str(error).startswith(error.path)


def test_bad_material_form_names_record_and_field(tmp_path: Path):
    path = _write(tmp_path, "g.md", GOOD_GUIDE.replace("形式: 原件\n    份数: 1\n  - 名称: 监护人",
                                                        "形式: 原件\n    份数: 一份\n  - 名称: 监护人"))
    errors = load_file(path).errors
    assert len(errors) == 1
    assert errors[0].record == "g-id-card-apply" and errors[0].field == "申请材料.0.份数"


def test_faq_spreadsheets_csv_and_xlsx(tmp_path: Path):
    from openpyxl import Workbook

    header = ["id", "问题", "相似问法", "答案", "关联事项", "更新日期"]
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    sheet.append(["faq-x1", "护照多少钱？", "办护照收费吗|护照费用", "普通护照每本120元。", "g-passport", "2026-05-01"])
    sheet.append(["faq-x2", "", "", "缺问题的一行", "", ""])
    book.save(tmp_path / "faq.xlsx")
    result = load_file(tmp_path / "faq.xlsx")
    assert [r.id for r in result.records] == ["faq-x1"]
    assert result.records[0].similar == ["办护照收费吗", "护照费用"]
    assert result.errors and result.errors[0].record == "faq-x2" and result.errors[0].field == "问题"

    csv_path = _write(tmp_path, "faq.csv", ",".join(header) + "\nfaq-y,问?,a|b,答案,,2026-01-01\n")
    assert load_file(csv_path).records[0].similar == ["a", "b"]


def test_json_jsonl_and_plain_policy_files(tmp_path: Path):
    guide = load_file(SAMPLE_KB / "guides" / "g-id-card-apply.md").records[0]
    data = guide.model_dump(mode="json", by_alias=True, exclude={"source"})
    _write(tmp_path, "guides.json", json.dumps([data], ensure_ascii=False))
    faq = {"id": "faq-j", "类型": "常见问题", "问题": "问？", "答案": "答。"}
    _write(tmp_path, "faqs.jsonl", json.dumps(faq, ensure_ascii=False) + "\n{broken\n")
    _write(tmp_path, "notice.txt", "示例市关于某事项的通知\n第一条 为了测试，制定本通知。\n第二条 本通知自发布之日起施行。\n")
    result = load_knowledge_base(tmp_path)
    ids = sorted(r.id for r in result.records)
    assert "g-id-card-apply" in ids and "faq-j" in ids and "p-notice" in ids
    assert [e.record for e in result.errors] == ["第2行"]
    policy = next(r for r in result.records if r.id == "p-notice")
    assert policy.name == "示例市关于某事项的通知" and len(policy.sections) == 2


def test_docx_policy(tmp_path: Path):
    import docx

    document = docx.Document()
    document.add_paragraph("示例市某某办法")
    document.add_paragraph("第一条 为规范管理，制定本办法。")
    document.save(tmp_path / "measures.docx")
    policy = load_file(tmp_path / "measures.docx").records[0]
    assert policy.name == "示例市某某办法" and "第一条" in policy.sections[0].heading


def test_duplicate_ids_are_errors(tmp_path: Path):
    _write(tmp_path / "guides", "a.md", GOOD_GUIDE)
    _write(tmp_path / "guides", "b.md", GOOD_GUIDE)
    result = load_knowledge_base(tmp_path)
    assert len(result.records) == 1
    assert "重复" in str(result.errors[0])
