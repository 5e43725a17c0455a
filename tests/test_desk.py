"""The staff consoles' rules that need no model: the transfer directory, the call script, score bands, figures
an edit leaves stale elsewhere, the date a save gives, search order, the demand log's outcomes and comments,
how the demand view reads a question, and the conditions of materials in an overview."""

from __future__ import annotations

import datetime as dt
import time
from types import SimpleNamespace
from pathlib import Path

import pytest

from assistant.compose import FOLLOW_UP_HINT, compose_guide
from assistant.demand_log import DemandLog
from assistant.service import CLARIFY_ORDER_MARGIN, Answer
from assistant.settings import SAMPLE_KB
from indexing.retriever import RecordHit
from knowledge.consistency import changes, still_stating
from knowledge.directory import Directory
from knowledge.loaders import load_knowledge_base
from ui.call_script import item_lines, script_lines
from ui.editing import dated, match_rank
from ui.hotline import score_band, source_band


@pytest.fixture(scope="module")
def records():
    return load_knowledge_base(SAMPLE_KB).records


def record(records, record_id):
    return next(r for r in records if r.id == record_id)


# ---- the transfer directory -----------------------------------------------------------
def test_the_directory_finds_a_guides_department_by_its_most_specific_name():
    directory = Directory.load(SAMPLE_KB)
    assert not directory.problems and len(directory.departments) >= 10
    assert directory.for_department("示例市公安局出入境管理支队").phone == "0000-66110120"
    assert directory.for_department("示例市公安局").name == "示例市公安局（户政）"
    assert directory.for_department("示例市各区民政局（婚姻登记处）").name == "示例市各区婚姻登记处"
    assert directory.for_question("我家的狗需要办狗证吗").name == "示例市公安局（户政）"
    assert directory.for_question("天气怎么样") is None


def test_a_bad_directory_entry_is_reported_and_the_rest_are_used(tmp_path: Path):
    (tmp_path / "directory.yml").write_text("- 部门: 甲局\n  转接电话: 0000-1\n- 部门: 乙局\n", encoding="utf-8")
    directory = Directory.load(tmp_path)
    assert [d.name for d in directory.departments] == ["甲局"]
    assert directory.problems == ["directory.yml 第 2 项：转接电话有误"]
    assert Directory.load(tmp_path / "none").departments == []


# ---- the call script ---------------------------------------------------------------------
def test_a_script_reads_every_item_of_a_list_field_on_its_own_line_without_filler(records):
    guide = record(records, "g-residence-permit")
    # the citizen's answer quoted a window of the field, items run together and the 7th left out
    quoted = "【居住证申领】申请材料：\n1. 居民身份证（原件1份）：…提交居民户口簿2. 符合标准的相片（电子件1份）\n" + FOLLOW_UP_HINT
    answer = Answer("q", "s", "answered", quoted + " [1]", citations=[_citation(guide.id, "申请材料")])
    lines = script_lines(answer, guide, None)
    items = [line for line in lines if line[:2].rstrip(".").isdigit()]
    assert items == [f"{n}. {m.describe()}" for n, m in enumerate(guide.materials, 1)] and len(items) == 7
    assert FOLLOW_UP_HINT not in lines and not any("[1]" in line for line in lines)
    assert item_lines("…提交居民户口簿2. 符合标准的相片；9:00-12:00") == ["…提交居民户口簿", "2. 符合标准的相片；9:00-12:00"]


def test_a_refusal_script_names_who_can_help_and_never_the_hotline_itself():
    refused = Answer("q", "s", "refused", "抱歉……请拨打政务服务便民热线 12345。")
    with_transfer = script_lines(refused, None, {"department": "示例市公安局（户政）", "phone": "0000-66110110"})
    assert "示例市公安局（户政）" in with_transfer[1] and "0000-66110110" in with_transfer[1]
    assert not any("12345" in line for line in with_transfer + script_lines(refused, None, None))
    clarify = Answer("q", "s", "clarify", "…", options=[{"n": 1, "title": "居住证申领"}, {"n": 2, "title": "护照"}])
    assert script_lines(clarify, None, None) == ["请问您咨询的是下面哪一项？", "1. 居住证申领", "2. 护照"]
    one = Answer("q", "s", "clarify", "…", options=[{"n": 1, "title": "居住证申领"}])
    assert script_lines(one, None, None) == ["请问您咨询的是“居住证申领”吗？"]


def test_score_bands_are_the_assistants_own_thresholds():
    assert score_band(0.6, 0.6, 0.45) == "high" and score_band(0.6 - 1e-6, 0.6, 0.45) == "medium"
    assert score_band(0.45, 0.6, 0.45) == "medium" and score_band(0.45 - 1e-6, 0.6, 0.45) == "low"
    best = RecordHit("faq-reimburse-time", "faq", "手工报销的钱多久能到账？", 0.999, 5.5, features={"order": 0.9})
    close = RecordHit("g-medical-reimburse", "guide", "医疗费用手工（零星）报销", 0.99, 5.0,
                      features={"order": 0.9 - CLARIFY_ORDER_MARGIN / 2})
    far = RecordHit("g-hpf-withdraw-rent", "guide", "租赁住房提取住房公积金", 0.994, 5.4,
                    features={"order": 0.9 - CLARIFY_ORDER_MARGIN - 0.01})
    bands = SimpleNamespace(answer_min=lambda kind: 0.6, confirm_min=lambda kind: 0.45)  # the assistant's thresholds
    assert [source_band(bands, h, best, h.score) for h in (best, close, far)] == ["high", "high", "low"]


def _citation(record_id: str, section: str):
    from assistant.compose import Citation

    return Citation(1, record_id, "", section, 1.0, "guide")


# ---- editing -----------------------------------------------------------------------------
def test_a_changed_fee_lists_the_faq_that_still_states_the_old_one(records):
    guide = record(records, "g-passport")
    edited = guide.model_copy(update={"fees": guide.fees.replace("120元", "160元"), "phone": "0000-66110199"})
    found = {(c.kind.code, c.old, c.new): [r["id"] for r in still_stating(c, edited, records)]
             for c in changes(guide, edited)}
    assert found == {("fee", "120元", "160元"): ["faq-passport-fee"],
                     ("phone", "0000-66110120", "0000-66110199"): ["g-hk-macao-permit", "g-taiwan-permit"]}
    assert changes(guide, guide) == []


def test_a_save_dates_a_changed_record_unless_the_editor_set_the_date(records):
    guide = record(records, "g-passport")
    today = dt.date.today()
    assert dated(guide.model_copy(update={"fees": "160元"}), guide).updated == today
    assert dated(guide, guide).updated == guide.updated                       # nothing changed
    chosen = guide.model_copy(update={"fees": "160元", "updated": dt.date(2026, 3, 1)})
    assert dated(chosen, guide).updated == dt.date(2026, 3, 1)


def test_search_puts_title_matches_first(records):
    found = [r for r in records if "护照" in r.model_dump_json()]
    ranked = sorted(found, key=lambda r: match_rank(r, "护照"))
    assert ranked[0].id == "g-passport" and all("护照" in r.title for r in ranked[:5])


# ---- the demand log ------------------------------------------------------------------------
def test_outcomes_and_comments_are_masked_and_a_comment_completes_its_rating(tmp_path: Path):
    log = DemandLog(tmp_path / "demand.sqlite")
    qid = log.record(session_id="s", channel="hotline", question="公积金能还信用卡吗", decision="answered",
                     aspect="general", top_ids=["g-hpf-loan"], top_scores=[0.9], latency_ms=1.0)
    log.keep_answer(qid, "【住房公积金个人住房贷款】…", "g-hpf-loan")
    log.feedback(qid, False)
    log.feedback(qid, False, "电话13812345678没人接")
    log.record_outcome(qid, "transferred", department="示例市住房公积金管理中心",
                       notes="来电人身份证110101199001011234", author="op")
    row = log.recent()[0]
    assert row["unhelpful"] == 1 and row["comments"] == ["电话[手机号]没人接"]
    assert (row["outcome"], row["department"], row["notes"]) == ("transferred", "示例市住房公积金管理中心",
                                                                 "来电人身份证[身份证号]")
    assert row["answer"].startswith("【住房公积金") and row["record_id"] == "g-hpf-loan"
    assert [s["id"] for s in log.signal_questions()] == [qid]
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"13812345678" not in raw and b"110101199001011234" not in raw
    with pytest.raises(ValueError):
        log.record_outcome(qid, "lost")
    with pytest.raises(KeyError):
        log.record_outcome("no-such-question", "resolved")


def test_material_conditions_stay_in_the_overview(records):
    text, _ = compose_guide(record(records, "g-passport"), "general")
    assert "原护照（换发时提交）" in text and "证件遗失（被盗）报失单（补发时提交）" in text
    assert "居民身份证、" in text            # a material every applicant brings has no condition
    text, _ = compose_guide(record(records, "g-hpf-withdraw-rent"), "general")
    assert "结婚证（已婚职工提交）" in text and "授权委托书及受托人居民身份证（本人因故不能到场、委托他人代办时提交）" in text


def test_recent_reads_only_the_window_asked_for(tmp_path: Path):
    log = DemandLog(tmp_path / "demand.sqlite")
    log.record(session_id="s", channel="widget", question="护照", decision="answered", aspect="general",
               top_ids=[], top_scores=[], latency_ms=1.0)
    assert len(log.recent()) == 1 and log.recent(since=time.time() + 60) == []
