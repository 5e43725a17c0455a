"""Demand insights: importing message exports, mining concrete topics, stable ids, the editor loop, outputs."""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from pathlib import Path

import pytest

from demand.insights import DemandInsights
from demand.message_import import CitizenMessage, load_messages
from demand.topic_store import TopicStore
from demand.topics import mine_topics

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench" / "citizen-messages" / "messages.jsonl"

NOISE = ["投诉丽发新城小区附近搅拌站噪音扰民", "丽发新城附近搅拌站夜间噪音太大", "A2区丽发新城小区旁边搅拌站噪音扰民严重",
         "丽发新城小区附近的搅拌站噪音污染", "请处理丽发新城附近搅拌站噪音", "丽发新城小区搅拌站噪音影响休息"]
PARKING_BUNDLE = ["伊景园滨河苑捆绑销售车位", "投诉伊景园滨河苑强制捆绑车位销售", "伊景园滨河苑购房必须捆绑购买车位",
                  "A市伊景园滨河苑捆绑销售车位违法吗", "反对伊景园滨河苑捆绑车位"]
MAHJONG_ELSEWHERE = ["泉塘小区麻将馆扰民", "嘉园社区麻将馆扰民", "湘江小区麻将馆扰民严重", "申奥美域小区麻将馆扰民"]
SAME_PLACE_PARKING = ["青青家园小区停车收费太高", "青青家园停车收费不合理", "青青家园小区地面停车乱收费"]
SAME_PLACE_LIFT = ["青青家园小区电梯经常故障", "青青家园电梯故障无人维修", "青青家园小区电梯故障困人"]
SINGLES = ["A3区郝家坪小学什么时候能改扩建", "A市汽车南站何时能建好", "建议地铁7号线南延至生态动物园",
           "A市6路公交车随意变道通行", "咨询异地办理出国签证的问题", "A市磁悬浮列车只能现金支付很不方便",
           "A4区楚江北路能走大货车吗", "A市人才购房补贴申请条件是什么", "A7县特立路晚高峰太堵建议调整信号灯",
           "A2区黄兴路步行街住户粪便外排"]


def _messages(subjects: list[str], start: dt.datetime, likes: int = 0) -> list[CitizenMessage]:
    return [CitizenMessage(id=f"{start:%m%d}-{n}", subject=s, body=f"{s}，请有关部门尽快处理。",
                           time=start + dt.timedelta(days=n), likes=likes) for n, s in enumerate(subjects)]


def _corpus() -> list[CitizenMessage]:
    day = dt.datetime(2019, 5, 1, 9)
    return (_messages(NOISE, day, likes=3) + _messages(PARKING_BUNDLE, day) + _messages(MAHJONG_ELSEWHERE, day)
            + _messages(SAME_PLACE_PARKING, day) + _messages(SAME_PLACE_LIFT, day) + _messages(SINGLES, day))


def _subjects(topic) -> set[str]:
    return {m.subject for m in topic.members}


@pytest.fixture(scope="module")
def lexicon():
    from language.lexicon import Lexicon

    return Lexicon()


# ---- import -----------------------------------------------------------------
def test_import_reads_english_jsonl_and_chinese_xlsx_alike_and_masks_personal_data(tmp_path: Path):
    from openpyxl import Workbook

    rows = [{"id": 1, "subject": "丽发新城搅拌站噪音", "body": "我的电话13812345678，晚上太吵", "time": "2019/2/28 11:25:05",
             "likes": 3},
            {"id": 2, "subject": "伊景园滨河苑捆绑车位", "body": "强制捆绑", "time": "2019-03-01 08:00:00", "likes": 0}]
    jsonl = tmp_path / "messages.jsonl"
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{not json\n", encoding="utf-8")
    book = Workbook()
    book.active.append(["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "反对数", "点赞数"])
    for r in rows:
        book.active.append([r["id"], "A000", r["subject"], r["time"], r["body"], 0, r["likes"]])
    book.active.append([3, "A001", "", "2019-03-02", "", 0, 0])           # nothing to read: reported, skipped
    xlsx = tmp_path / "messages.xlsx"
    book.save(xlsx)

    from_jsonl, from_xlsx = load_messages(jsonl), load_messages(xlsx)
    assert [m.key for m in from_jsonl.messages] == [m.key for m in from_xlsx.messages]
    first = from_jsonl.messages[0]
    assert first.time == dt.datetime(2019, 2, 28, 11, 25, 5) and first.likes == 3
    assert "13812345678" not in first.body and "[手机号]" in first.body
    assert len(from_jsonl.errors) == 1 and "第3行" in from_jsonl.errors[0]
    assert len(from_xlsx.errors) == 1 and "第4行" in from_xlsx.errors[0]


def test_import_refuses_unreadable_files_with_a_message(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(ValueError, match="不支持"):
        load_messages(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="不存在"):
        load_messages(tmp_path / "missing.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"subject": "x", "time": "昨天"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="没有可导入的留言"):
        load_messages(tmp_path / "bad.jsonl")


# ---- mining -----------------------------------------------------------------
def test_topics_are_one_place_and_one_problem(lexicon):
    result = mine_topics(_corpus(), lexicon=lexicon)
    by_subjects = {frozenset(_subjects(t)): t for t in result.topics}
    noise, bundle = by_subjects.get(frozenset(NOISE)), by_subjects.get(frozenset(PARKING_BUNDLE))
    assert noise is not None and "丽发新城" in noise.label and "搅拌站" in noise.keywords
    assert bundle is not None and "伊景园滨河苑" in bundle.label
    assert frozenset(SAME_PLACE_PARKING) in by_subjects and frozenset(SAME_PLACE_LIFT) in by_subjects
    for topic in result.topics:         # the same complaint in four different compounds is four issues
        assert len(_subjects(topic) & set(MAHJONG_ELSEWHERE)) <= 1
    assert result.topics[0] is noise    # the largest, and the most liked
    assert len(noise.examples) == 3 and set(noise.examples) <= set(NOISE)
    assert noise.first_seen == dt.date(2019, 5, 1) and noise.last_seen == dt.date(2019, 5, 6)
    assert sum(noise.series().values()) == 6 and noise.likes == 18


def test_trend_compares_the_last_window_with_the_one_before(lexicon):
    old = _messages(NOISE[:2], dt.datetime(2019, 3, 1))
    recent = _messages(NOISE[2:], dt.datetime(2019, 4, 20))
    topic = next(t for t in mine_topics(old + recent, lexicon=lexicon).topics if "丽发新城" in t.label)
    assert (topic.recent, topic.previous, topic.trend) == (4, 2, "rising") and topic.growth == 1.0


def test_topic_ids_stay_stable_as_new_messages_arrive(tmp_path: Path, lexicon):
    store = TopicStore(tmp_path / "topics.sqlite")
    first = mine_topics(_corpus(), lexicon=lexicon).topics
    store.assign(first)
    ids = {frozenset(_subjects(t)): t.id for t in first}
    assert len(set(ids.values())) == len(first) and all(i.startswith("t") for i in ids.values())

    later = _messages(["丽发新城附近搅拌站又开始夜间施工噪音扰民", "丽发新城小区搅拌站噪音还是没人管"], dt.datetime(2019, 6, 1))
    second = mine_topics(_corpus() + later, lexicon=lexicon).topics
    store.assign(second)
    grown = next(t for t in second if set(NOISE) <= _subjects(t))
    assert grown.size == len(NOISE) + 2 and grown.id == ids[frozenset(NOISE)]
    bundle = next(t for t in second if _subjects(t) == set(PARKING_BUNDLE))
    assert bundle.id == ids[frozenset(PARKING_BUNDLE)]

    # a separate export about the same issue, none of the same messages: matched by place and keywords
    fresh = mine_topics(_messages(["丽发新城搅拌站噪音扰民何时解决", "丽发新城小区附近搅拌站噪音严重",
                                   "丽发新城旁搅拌站噪音"], dt.datetime(2019, 7, 1)), lexicon=lexicon).topics
    store.assign(fresh)
    assert fresh[0].id == ids[frozenset(NOISE)]


# ---- editor loop and outputs (no model) --------------------------------------
@pytest.fixture()
def corpus_file(tmp_path: Path) -> Path:
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(json.dumps({"id": m.id, "subject": m.subject, "body": m.body,
                                          "time": m.time.isoformat(sep=" "), "likes": m.likes}, ensure_ascii=False)
                              for m in _corpus()), encoding="utf-8")
    return path


def test_resolving_shows_who_and_when_in_later_runs_and_on_the_dashboard(tmp_path: Path, kb_copy: Path,
                                                                         corpus_file: Path):
    insights = DemandInsights(tmp_path / "data", kb_copy)
    output = insights.topics(corpus_file, semantic=False)
    noise = next(t for t in output["topics"] if "丽发新城" in t["label"])
    assert noise["resolved"] is False
    with pytest.raises(KeyError):
        insights.resolve(noise["id"], "no-such-record", "张编辑")
    with pytest.raises(KeyError):
        insights.resolve("t9999", "g-passport", "张编辑")
    resolved = insights.resolve(noise["id"], "g-passport", "张编辑")
    assert resolved["resolved"] and resolved["resolved_by"] == "张编辑" and resolved["resolved_at"]

    board = insights.dashboard(top=3)
    assert board["topics"][0]["id"] == noise["id"] and board["topics"][0]["resolved_by"] == "张编辑"
    assert [b["topic"] for b in board["bar"]] == [t["label"] for t in board["topics"]]
    assert {p["id"] for p in board["line"]} == {t["id"] for t in board["topics"]}
    assert sum(p["count"] for p in board["line"] if p["id"] == noise["id"]) == noise["size"]

    again = insights.topics(corpus_file, semantic=False)
    same = next(t for t in again["topics"] if t["id"] == noise["id"])
    assert same["resolved"] and same["record_id"] == "g-passport" and same["asked_since_resolved"] == 0


def test_export_writes_a_weekly_report_as_csv_or_xlsx(tmp_path: Path, kb_copy: Path, corpus_file: Path):
    from openpyxl import load_workbook

    insights = DemandInsights(tmp_path / "data", kb_copy)
    with pytest.raises(ValueError, match="demand topics"):
        insights.export(tmp_path / "report.csv")
    output = insights.topics(corpus_file, semantic=False)
    rows = list(csv.reader((insights.export(tmp_path / "report.csv")).read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:3] == ["编号", "话题", "留言数"] and len(rows) == 1 + output["n_topics"]
    book = load_workbook(insights.export(tmp_path / "report.xlsx", top=2))
    assert book.sheetnames == ["话题", "趋势"] and book["话题"].max_row == 3
    with pytest.raises(ValueError, match=".csv 或 .xlsx"):
        insights.export(tmp_path / "report.pdf")


def test_cli_prints_the_required_json(tmp_path: Path, corpus_file: Path, monkeypatch, capsys):
    from ui.cli import main

    monkeypatch.setenv("GOVQA_DATA_DIR", str(tmp_path / "data"))
    assert main(["demand", "topics", "--input", str(corpus_file), "--top", "2", "--lexical", "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert {"topics", "n_messages", "seconds"} <= set(output) and output["n_messages"] == len(_corpus())
    assert len(output["topics"]) == 2
    for topic in output["topics"]:
        assert {"id", "label", "keywords", "size", "examples", "first_seen", "last_seen", "trend"} <= set(topic)
    assert main(["demand", "topics", "--input", str(tmp_path / "missing.xlsx")]) == 2
    assert main(["demand", "topics", "--since", "yesterday"]) == 2
    assert main(["demand", "export", "--out", str(tmp_path / "r.xlsx")]) == 0 and (tmp_path / "r.xlsx").exists()


@pytest.mark.slow   # no model, but benchmark-sized: it alone would take a sixth of `make test-fast`'s minute
@pytest.mark.skipif(not BENCH.exists(), reason="benchmark messages not present")
def test_bench_messages_give_their_known_hot_issues_quickly(lexicon):
    """The 4,326 问政 messages, lexical grouping only (no model; it merges fewer paraphrases than with
    embeddings, see README): the two best-known hot issues of this set lead. It took 18–20 s on the shared
    2-core development machine; the bound leaves room for a busier one."""
    started = time.perf_counter()
    result = mine_topics(load_messages(BENCH).messages, lexicon=lexicon)
    assert time.perf_counter() - started < 120
    largest = sorted(result.topics, key=lambda t: -t.size)[:3]
    assert any("伊景园滨河苑" in t.label and "捆绑" in t.keywords and t.size >= 20 for t in largest)
    assert any("丽发新城" in t.label and "搅拌站" in t.keywords and t.size >= 10 for t in largest)


# ---- the editor loop through the assistant (loads the model) -----------------
@pytest.mark.slow
def test_resolving_a_topic_with_a_new_faq_answers_the_next_matching_question(tmp_path: Path, kb_copy: Path,
                                                                             embedder):
    from assistant.demand_log import DemandLog
    from assistant.service import Assistant
    from indexing.index import KnowledgeIndex
    from knowledge.loaders import load_knowledge_base

    data = tmp_path / "data"
    index = KnowledgeIndex(data, embedder.model_name, embedder=embedder)
    index.index(load_knowledge_base(kb_copy).records)
    assistant = Assistant(index, DemandLog(data / "demand.sqlite"))
    for question in ("养狗需要办狗证吗", "家里养的狗要去哪里办狗证", "办狗证需要什么材料"):
        assert assistant.ask(question).decision == "refused"

    insights = DemandInsights(data, kb_copy, embedder=lambda: embedder, index=lambda: index)
    topic = next(t for t in insights.topics()["topics"] if "狗证" in "".join(t["examples"]))
    assert topic["size"] >= 2 and not topic["resolved"]

    faq = tmp_path / "dog.csv"
    faq.write_text("id,问题,相似问法,答案,关联事项,更新日期\n"
                   "faq-dog-licence,养狗需要办狗证吗？,去哪里办狗证|办狗证要什么材料,"
                   "需要。在示例市城区养犬应办理养犬登记证（狗证）：携带身份证、犬只免疫证明到所在区公安分局养犬登记窗口办理。,,"
                   "2026-11-27\n", encoding="utf-8")
    insights.resolve(topic["id"], "faq-dog-licence", "张编辑", new_file=faq)

    answer = assistant.ask("我家的狗要办狗证吗")
    assert answer.decision == "answered" and answer.citations[0].record_id == "faq-dog-licence"
    later = next(t for t in insights.topics()["topics"] if t["id"] == topic["id"])
    assert later["resolved"] and later["resolved_by"] == "张编辑" and later["record_id"] == "faq-dog-licence"
