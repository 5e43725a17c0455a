"""The leading policies are re-ordered by how much of the question's own wording each contains."""

from __future__ import annotations

from indexing.evidence import PolicyCandidate, PolicyEvidence, longest_shared, share_found

TEXTS = {
    "notice": ("关于支持企业复工复产的若干措施",
               "一、减免房租。对承租国有资产类经营用房的中小企业，免收1个月房租，2个月房租减半收取。"
               "二、延期缴纳社会保险费。"),
    "report": ("复工复产政策解读：中小企业房租怎么减免",
               "记者从市政府新闻发布会获悉，近期出台的政策涉及房租、社保、税收等多个方面，企业可以咨询有关部门。"),
    "digest": ("疫情防控期间惠企政策汇编",
               "本汇编收录了各级政府出台的政策。企业复工需做好防疫。房租问题请咨询主管部门。" * 3),
}


def evidence() -> PolicyEvidence:
    return PolicyEvidence(lambda record_id: TEXTS[record_id])


def candidate(record_id: str, fused: float = 3.0) -> PolicyCandidate:
    return PolicyCandidate(record_id, fused=fused, lexical=1.0, dense=1.0, record=1.0)


def test_the_notice_that_contains_the_question_comes_first():
    question = "承租国有资产类经营用房的中小企业房租怎么减免？"
    cands = [candidate("report"), candidate("digest"), candidate("notice")]
    order = evidence().order(question, cands)
    assert cands[order[0]].record_id == "notice"


def test_a_clearly_better_retrieval_score_is_not_overturned_by_a_stray_phrase():
    # of eight alike candidates, one shares a single four-character phrase with the question;
    # the one that leads retrieval on every part by a wide margin stays first
    texts = {f"p{i}": (f"第{i}号通知", "本办法自发布之日起施行。有效期五年。") for i in range(8)}
    texts["p1"] = ("第1号通知", "本办法自发布之日起施行。减免房租按有关规定执行。")
    question = "示例市低保实施办法减免房租什么时候开始施行"
    cands = [PolicyCandidate("p0", fused=7.8, lexical=2.6, dense=2.9, record=3.6)]
    cands += [PolicyCandidate(f"p{i}", fused=6.2 - 0.1 * i, lexical=2.1, dense=0.2, record=2.0) for i in range(1, 8)]
    order = PolicyEvidence(lambda record_id: texts[record_id]).order(question, cands)
    assert cands[order[0]].record_id == "p0"


def test_one_candidate_or_none_is_returned_as_it_is():
    assert evidence().order("房租", [candidate("notice")]) == [0]
    assert evidence().order("房租", []) == []


def test_shared_stretch_and_share_of_four_grams():
    assert longest_shared("中小企业房租怎么减免", "对中小企业免收房租") == 4
    assert share_found("免收房租", "免收1个月房租", 4) == 0.0
    assert share_found("中小企业", "对中小企业", 4) == 1.0
