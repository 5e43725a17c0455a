"""Life events (一件事, issue 23) through the public entry points: the knowledge base's files and `govqa kb`,
`Assistant.ask`, `govqa eval events`, the HTTP API and the demand topics."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.demand_log import DemandLog
from assistant.service import Assistant
from assistant.settings import SAMPLE_KB
from demand.life_situations import life_situations
from demand.message_import import CitizenMessage
from demand.topics import mine_topics
from indexing.index import KnowledgeIndex
from knowledge.life_events import document_key, plan
from knowledge.loaders import load_knowledge_base
from knowledge.models import LifeEvent, ServiceGuide
from language.lexicon import Lexicon
from ui.app import create_app
from ui.auth import Accounts
from ui.cli import main

EVENTS = ("e-newborn", "e-school-entry", "e-restaurant", "e-marriage-hukou", "e-retirement", "e-house-transfer",
          "e-disability", "e-after-death")
EDITOR = ("ed", "editor-pass-1")
AGENT = ("op", "agent-pass-1")
BROKEN_EVENT = """---
id: e-broken
类型: 一件事
标题: 测试一件事
适用情形: [测试情形]
步骤:
  - 事项: g-birth-registration
  - 事项: g-no-such-guide
    名称: 不存在的事项
  - 事项: g-social-card
    所需材料: [不存在的材料]
更新日期: 2026-11-20
---
"""


def run(capsys, monkeypatch, kb: Path, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("GOVQA_KB_DIR", str(kb))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def sample() -> tuple[dict[str, LifeEvent], dict[str, ServiceGuide]]:
    records = load_knowledge_base(SAMPLE_KB).records
    return ({r.id: r for r in records if isinstance(r, LifeEvent)},
            {r.id: r for r in records if isinstance(r, ServiceGuide)})


# ---- the record, its files and its checks (no model) ------------------------------------------
def test_the_sample_knowledge_base_has_eight_complete_life_events():
    result = load_knowledge_base(SAMPLE_KB)
    assert result.errors == []
    events, guides = sample()
    assert set(EVENTS) <= set(events)
    for event in events.values():
        assert event.situations and event.joint_window and len(event.steps) >= 3, event.id
        assert all(step.guide in guides for step in event.steps), event.id
    chain = [s.guide for s in events["e-after-death"].steps]
    assert chain[:3] == ["g-death-registration", "g-funeral-subsidy", "g-pension-survivor"]


def test_one_merged_checklist_lists_each_document_once_with_the_steps_that_use_it():
    events, guides = sample()
    laid_out = plan(events["e-newborn"], guides, Lexicon())
    by_name = {item.name: item for item in laid_out.checklist}
    assert by_name["出生医学证明"].steps == [1, 2, 4]                # 《出生医学证明》 and 出生医学证明: one document
    assert by_name["出生医学证明"].original
    assert by_name["居民身份证"].steps == [1, 2, 3]                  # the parents' and the guardian's: one document
    keys = [document_key(item.name, Lexicon()) for item in laid_out.checklist]
    assert len(keys) == len(set(keys))
    uses = [use for item in laid_out.checklist for use in item.uses]
    for step in laid_out.steps:                                       # nothing a step needs is left out
        assert all(f"第{step.n}步：{m.describe()}" in uses for m in step.materials)
    # a step may take only the materials the event needs from its guide
    after = plan(events["e-after-death"], guides)
    assert [m.name for m in after.steps[3].materials] == [
        "本人名下银行储蓄卡（Ⅰ类账户）", "《住房公积金提取申请表》", "死亡证明、继承权公证书或人民法院生效法律文书"]
    assert "工作日" in laid_out.total_time() and "收费" in laid_out.total_fees()


def test_validate_reports_a_step_naming_no_guide_and_bad_fields_in_chinese(capsys, monkeypatch, kb_copy: Path):
    assert run(capsys, monkeypatch, kb_copy, "kb", "validate")[0] == 0
    (kb_copy / "events" / "e-broken.md").write_text(BROKEN_EVENT, encoding="utf-8")
    (kb_copy / "events" / "e-empty.md").write_text("---\nid: e-empty\n类型: 一件事\n步骤: []\n---\n", encoding="utf-8")
    code, out, _ = run(capsys, monkeypatch, kb_copy, "kb", "validate")
    assert code == 1
    assert "记录 e-broken：字段 步骤.1.事项：没有 id 为 g-no-such-guide 的办事指南（第2步）" in out
    assert "字段 步骤.2.所需材料：“不存在的材料”不在办事指南 g-social-card 的申请材料中（第3步）" in out
    assert "记录 e-empty：字段 标题：缺少必填字段" in out and "记录 e-empty：字段 步骤：至少要有 1 项" in out
    assert "记录 e-empty：字段 更新日期：缺少必填字段" in out
    # a guide removed from under an event: the event is reported, still loaded with its other steps
    (kb_copy / "events" / "e-broken.md").unlink()
    (kb_copy / "events" / "e-empty.md").unlink()
    assert run(capsys, monkeypatch, kb_copy, "kb", "remove", "g-funeral-subsidy")[0] == 0
    code, out, _ = run(capsys, monkeypatch, kb_copy, "kb", "validate")
    assert code == 1 and out.strip() == (f"{kb_copy / 'events' / 'e-after-death.md'}：记录 e-after-death：字段 步骤.1.事项："
                                         "没有 id 为 g-funeral-subsidy 的办事指南（第2步）")
    assert any(r.id == "e-after-death" for r in load_knowledge_base(kb_copy).records)


def test_kb_commands_list_show_add_remove_and_keep_history_of_events(capsys, monkeypatch, kb_copy: Path,
                                                                     tmp_path: Path):
    code, out, _ = run(capsys, monkeypatch, kb_copy, "kb", "list", "--kind", "event", "--json")
    assert code == 0 and {e["id"] for e in json.loads(out)} == set(EVENTS)
    code, out, _ = run(capsys, monkeypatch, kb_copy, "kb", "show", "e-newborn", "--json")
    shown = json.loads(out)
    assert shown["kind"] == "event" and shown["record"]["类型"] == "一件事"
    assert "第1步 出生登记（上户口）（g-birth-registration）" in shown["text"]
    broken = tmp_path / "e-broken.md"
    broken.write_text(BROKEN_EVENT, encoding="utf-8")
    code, _, err = run(capsys, monkeypatch, kb_copy, "kb", "add", str(broken))
    assert code != 0 and "没有 id 为 g-no-such-guide 的办事指南" in err
    good = tmp_path / "e-test.md"
    good.write_text(BROKEN_EVENT.replace("e-broken", "e-test").replace(
        "  - 事项: g-no-such-guide\n    名称: 不存在的事项\n", "").replace("    所需材料: [不存在的材料]\n", ""),
        encoding="utf-8")
    code, out, _ = run(capsys, monkeypatch, kb_copy, "kb", "add", str(good))
    assert code == 0 and (kb_copy / "events" / "e-test.md").exists()
    assert run(capsys, monkeypatch, kb_copy, "kb", "remove", "e-test")[0] == 0
    code, out, _ = run(capsys, monkeypatch, kb_copy, "kb", "history", "e-test", "--json")
    assert [v["action"] for v in json.loads(out)] == ["add", "remove"]


def test_refused_questions_naming_a_life_situation_are_one_demand_topic():
    now = dt.datetime(2026, 11, 30, 10)
    texts = ["孩子出生了要办哪些证", "宝宝出生以后都要办什么", "我家宝宝刚出生要跑哪些部门",
             "公司不开了怎么注销", "注销公司要办哪些手续", "小区门口垃圾没人清", "小区门口垃圾堆了好几天"]
    messages = [CitizenMessage(id=f"m{n}", subject=t, body="", time=now - dt.timedelta(days=n))
                for n, t in enumerate(texts)]
    lexicon = Lexicon()
    result = mine_topics(messages, lexicon=lexicon, situations=life_situations(SAMPLE_KB, lexicon))
    topics = {t["label"]: t for t in (t.as_json() for t in result.topics)}
    newborn = topics["一件事·新生儿出生一件事"]
    assert newborn["size"] == 3 and newborn["life_event"] == "e-newborn"
    wanted = topics["一件事·企业注销"]        # a package citizens ask for that the knowledge base lacks
    assert wanted["size"] == 2 and wanted["life_event"] == ""
    assert not any("孩子出生" in e for label, t in topics.items() if not label.startswith("一件事") for e in t["examples"])


# ---- answers (the model) ------------------------------------------------------------------
@pytest.fixture()
def assistant(sample_index, tmp_path: Path) -> Assistant:
    return Assistant(sample_index, DemandLog(tmp_path / "demand.sqlite"))


@pytest.mark.slow
@pytest.mark.parametrize("question, event", [
    ("孩子出生了要办哪些证", "e-newborn"),
    ("我要开个小饭馆都要跑哪些部门", "e-restaurant"),
    ("老人去世了后事要办哪些手续", "e-after-death"),
    ("快退休了要办哪些手续", "e-retirement"),
    ("买二手房要办哪些手续 水电气也要过户吗", "e-house-transfer"),
])
def test_a_life_situation_gets_the_whole_chain_one_checklist_and_one_route(assistant, question, event):
    answer = assistant.ask(question)
    assert answer.decision == "answered" and answer.event["id"] == event and answer.event["role"] == "event"
    steps = answer.event["steps"]
    positions = [answer.answer.index(f"第{s['n']}步 {s['title']}") for s in steps]
    assert positions == sorted(positions)                              # in order
    assert [c.record_id for c in answer.citations] == [s["record_id"] for s in steps]   # each linked to its guide
    for s in steps:
        if s["condition"]:
            assert f"第{s['n']}步 {s['title']}（适用：{s['condition']}）" in answer.answer
    names = [item["name"] for item in answer.event["checklist"]]
    assert len(names) == len(set(names)) and all(name in answer.answer for name in names)
    assert "联办窗口（建议先到这里" in answer.answer
    assert answer.answer.index("联办窗口") < answer.answer.index("材料清单")
    assert "承诺时限相加" in answer.answer and "收费" in answer.answer


@pytest.mark.slow
@pytest.mark.parametrize("question, event, opening", [
    ("我爸去世了", "e-after-death", "“身后一件事”共4步"),
    ("我妈上个月走了", "e-after-death", "“身后一件事”共4步"),
    ("老人前几天不在了 后事怎么办", "e-after-death", "“身后一件事”共4步"),
    ("我要开个小饭馆", "e-restaurant", "“开办餐饮店一件事”共4步"),
    ("娃出生了 办证要跑几个地方", "e-newborn", "“新生儿出生一件事”共4步"),  # 办证 alone names no service
])
def test_a_life_situation_told_in_the_citizens_words_gets_the_event(assistant, question, event, opening):
    """"我妈上个月走了" says 去世 (said_as), and with the relative kept it states the event's 妈去世; the time said
    (上个月, 前几天: life_context) and the wish (我要: aspect filler) are no detail of their own. "去世了" alone is
    part of a guide's alias, so without the relative it named a service and no event was offered; 办证 is part of
    新房办证 only, and alone names none."""
    answer = assistant.ask(question)
    assert answer.decision == "answered" and answer.event["id"] == event
    assert answer.answer.startswith(opening)


@pytest.mark.slow
def test_a_follow_up_about_one_step_answers_that_step(assistant):
    first = assistant.ask("孩子出生了要办哪些证")
    second = assistant.ask("第二步要多久", session_id=first.session_id)
    assert second.answered and second.citations[0].record_id == "g-newborn-medical"
    assert second.aspect == "time_limit" and "第2步" in second.answer and "即时办结" in second.answer
    third = assistant.ask("落户要带什么", session_id=first.session_id)
    assert third.citations[0].record_id == "g-birth-registration" and third.aspect == "materials"
    assert "出生医学证明（原件1份）" in third.answer
    fourth = assistant.ask("那要多少钱", session_id=first.session_id)       # the step talked about
    assert fourth.citations[0].record_id == "g-birth-registration" and fourth.aspect == "fees"


@pytest.mark.slow
def test_a_follow_up_naming_two_steps_alike_asks_which_and_the_reply_picks_one(assistant):
    """开办餐饮店: 个体工商户 and 公司 both give a 营业执照, one or the other; "执照怎么办" was the 公司 guide."""
    first = assistant.ask("我想开个小吃店")
    assert first.event["id"] == "e-restaurant"
    which = assistant.ask("执照怎么办", session_id=first.session_id)
    assert which.decision == "clarify"
    assert [o["record_id"] for o in which.options] == ["g-individual-business", "g-company-setup"]
    assert "（适用：以个体工商户经营的）" in which.answer
    picked = assistant.ask("1", session_id=first.session_id)
    assert picked.answered and picked.citations[0].record_id == "g-individual-business"
    assert any("办理公司营业执照（适用：以公司形式经营的" in n for n in picked.notices)   # the other choice, said so
    after = assistant.ask("要多久", session_id=first.session_id)
    assert after.citations[0].record_id == "g-individual-business" and after.aspect == "time_limit"


@pytest.mark.slow
def test_a_service_that_belongs_to_an_event_is_answered_and_offers_the_event(assistant):
    answer = assistant.ask("新生儿医保怎么办")
    assert answer.answered and answer.citations[0].record_id == "g-newborn-medical"
    assert answer.event["role"] == "offer" and answer.event["step"] == 2
    assert any(n.startswith("这是“新生儿出生一件事”的第2步，还需要：出生登记（上户口）") for n in answer.notices)
    after = assistant.ask("第三步呢", session_id=answer.session_id)
    assert after.citations[0].record_id == "g-social-card" and "第3步" in after.answer


@pytest.mark.slow
def test_an_event_the_question_does_not_speak_of_is_offered_only_for_its_situation(assistant):
    """居住证 is the first step of 教育入学一件事, but a migrant worker asking about it may have no child at school."""
    answer = assistant.ask("四川户口 在示例市能办居住证吗")
    assert answer.answered and answer.citations[0].record_id == "g-residence-permit"
    assert any(n.startswith("如果您是为“孩子上小学”办理，这是“教育入学一件事”的第1步") for n in answer.notices)


@pytest.mark.slow
@pytest.mark.parametrize("question, guide", [
    ("身份证丢了怎么补办", "g-id-card-renew"),
    ("结婚登记要带什么", "g-marriage-registration"),
    ("老人去世了他的公积金咋取", "faq-hpf-close-deceased"),
    ("二手房过户需要带什么材料", "g-property-transfer"),
    ("办退休要带什么材料", "g-retirement"),
    # asking for "哪些手续" like an event, but naming a service closer in meaning than any event's situation
    ("开公司要办哪些手续", "g-company-setup"),
    ("孩子上户口要办哪些手续", "g-birth-registration"),
])
def test_a_single_service_question_is_not_taken_for_an_event(assistant, question, guide):
    answer = assistant.ask(question)
    assert answer.answered and answer.citations[0].record_id == guide
    assert answer.event is None or answer.event["role"] == "offer"
    assert assistant.ask("公积金怎么提取").decision == "clarify"      # as before: which of the three withdrawals


@pytest.mark.slow
def test_an_event_with_a_missing_guide_lists_the_other_steps_and_says_one_is_missing(embedder, kb_copy, tmp_path):
    (kb_copy / "guides" / "g-funeral-subsidy.md").unlink()
    index = KnowledgeIndex(tmp_path / "data", embedder.model_name, embedder=embedder)
    index.index(load_knowledge_base(kb_copy).records)
    assistant = Assistant(index, DemandLog(tmp_path / "demand.sqlite"))
    answer = assistant.ask("老人去世了后事要办哪些手续")
    assert answer.answered and answer.event["id"] == "e-after-death"
    assert "第2步 惠民殡葬费用减免（该事项的办事指南暂缺）" in answer.answer
    assert "第2步“惠民殡葬费用减免”的办事指南暂缺" in answer.answer
    assert "g-funeral-subsidy" not in [c.record_id for c in answer.citations]
    assert [s["missing"] for s in answer.event["steps"]] == [False, True, False, False]
    step = assistant.ask("第二步要带什么", session_id=answer.session_id)
    assert step.answered and not step.citations and "暂缺" in step.answer


@pytest.mark.slow
def test_eval_events_reports_the_figures(capsys, sample_index):
    """The shared data folder's model and warm embedding cache (`sample_index` warmed it); the index is temporary."""
    from ui import cli

    assert cli.main(["eval", "events", "--split", "dev", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["split"] == "dev" and figures["event_questions"] >= 30 and figures["service_questions"] >= 10
    assert figures["event_found"] >= 0.9 and figures["service_kept"] == 1.0
    assert figures["steps_complete"] == 1.0 and figures["checklist_complete"] == 1.0
    assert figures["checklist_duplicates"] == 0 and figures["checklist_missing"] == 0


@pytest.mark.slow
def test_the_api_gives_the_event_and_the_hotline_its_checklist_to_read_out(tmp_path, settings, embedder):
    kb = tmp_path / "kb"
    shutil.copytree(SAMPLE_KB, kb)
    settings = dataclasses.replace(settings, data_dir=tmp_path / "data", kb_dir=kb)
    index = KnowledgeIndex(settings.data_dir, settings.embedding_model, embedder=embedder)
    index.index(load_knowledge_base(kb).records)
    accounts = Accounts(tmp_path / "users.json")
    accounts.add(EDITOR[0], "editor", EDITOR[1])
    app = create_app(settings, Assistant(index, DemandLog(settings.data_dir / "demand.sqlite")), accounts)
    with TestClient(app) as client:
        data = client.post("/api/ask", json={"question": "老人去世了后事要办哪些手续"}).json()
        assert data["event"]["id"] == "e-after-death" and len(data["event"]["steps"]) == 4
        assert data["event"]["checklist"][0]["name"] == "居民死亡医学证明（推断）书"
        assert client.post("/api/login", json={"username": EDITOR[0], "password": EDITOR[1]}).status_code == 200
        hotline = client.post("/api/agent/ask", json={"question": "孩子出生了要办哪些证"}).json()
        card = hotline["event"]
        assert card["title"] == "新生儿出生一件事" and card["steps"][0].startswith("1. 出生登记（上户口）")
        assert any(line.startswith("1. 出生医学证明（原件、复印件1份，带原件，第1、2、4步用）")
                   for line in card["checklist_lines"])
        assert card["text"].startswith("新生儿出生一件事：") and "合并材料清单：" in card["text"]
        # the editor: a step naming no guide is refused on save, field by field; a good event is saved and dated
        fields = {"id": "e-test", "标题": "测试一件事", "步骤": [{"事项": "g-birth-registration"},
                                                         {"事项": "g-no-such-guide"}]}
        response = client.post("/api/editor/records", json={"kind": "event", "fields": fields})
        assert response.status_code == 422
        assert response.json()["problems"] == [{"field": "步骤.1.事项",
                                                "message": "没有 id 为 g-no-such-guide 的办事指南（第2步）"}]
        fields["步骤"] = fields["步骤"][:1]
        saved = client.post("/api/editor/records", json={"kind": "event", "fields": fields})
        assert saved.status_code == 201 and saved.json()["source"] == "events/e-test.md"
        assert saved.json()["updated"] == dt.date.today().isoformat()
        schema = client.get("/api/editor/schema").json()
        assert "步骤" in schema["event"]["properties"]


def test_a_whole_chain_asked_with_no_situation_is_no_event(assistant):
    """"要办什么证" asks for a chain but states no situation: no event means the same, however close in meaning."""
    answer = assistant.ask("要办什么证")
    assert "一件事" not in answer.answer and not answer.citations
