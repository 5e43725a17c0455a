"""Hybrid retrieval on the sample knowledge base, the way citizens type."""

from __future__ import annotations

import pytest

from indexing.retriever import HybridRetriever
from indexing.scorers import RetrievalConfig

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def retriever(sample_index):
    r = HybridRetriever(sample_index)
    r.refresh()
    return r


@pytest.mark.parametrize("question, expected", [
    ("孩子上户口要带啥", "g-birth-registration"),
    ("办个体户需要什么", "g-individual-business"),
    ("社保卡丢了咋办", "g-social-card"),
    ("護照怎麼辦理", "g-passport"),
    ("提公积金付房租", "g-hpf-withdraw-rent"),
    ("二手房过户流程", "g-property-transfer"),
    ("领失业金的条件", "g-unemployment-benefit"),
    ("驾照到期换证去哪", "g-driving-license-renew"),
])
def test_colloquial_questions_find_the_service(retriever, question, expected):
    hits = retriever.search(question, top_k=5)
    assert hits[0].record_id == expected, [h.record_id for h in hits]


def test_hits_carry_matching_chunks_and_scores_in_unit_range(retriever):
    hits = retriever.search("结婚登记要带什么材料", top_k=5)
    # a materials question: the service's own guide answers it in full; the FAQ on the 户口簿 covers one document
    assert hits[0].record_id == "g-marriage-registration", [h.record_id for h in hits]
    assert "faq-mar-hukou-book" in [h.record_id for h in hits[1:3]], [h.record_id for h in hits]
    for h in hits:
        assert 0.0 <= h.score <= 1.0
        assert all(c.chunk.record_id == h.record_id for c in h.chunks)
    # the candidates come in the learned order: the probability that each is a right answer (a routed FAQ first)
    order = [h.features["order"] for h in hits if h.route != "faq"]
    assert len(order) >= len(hits) - 1 and order == sorted(order, reverse=True)


def test_without_the_learned_steps_candidates_come_in_fused_order(sample_index):
    plain = HybridRetriever(sample_index, config=RetrievalConfig(off=frozenset({"rerank", "decision"})))
    hits = plain.search("结婚登记要带什么材料", top_k=5)
    unrouted = [h.fused for h in hits if h.route != "faq"]   # a routed FAQ goes first whatever its score
    assert len(unrouted) >= len(hits) - 1 and unrouted == sorted(unrouted, reverse=True)
    assert plain.threshold("guide", "answer") is None  # the assistant then reads the calibrated score


def test_a_scheme_no_record_is_named_for_puts_every_candidate_below_an_answer(sample_index, retriever):
    """住宅专项维修资金 is mentioned in the new-house guide, but no service is named for it: the candidates keep their
    order, each damped below every threshold; with the `scheme` step off the guide is as sure as before."""
    damped = retriever.search("住宅维修基金怎么申请使用", top_k=3)
    plain = HybridRetriever(sample_index, config=RetrievalConfig(off=frozenset({"scheme"})))
    undamped = plain.search("住宅维修基金怎么申请使用", top_k=3)
    assert [h.record_id for h in damped] == [h.record_id for h in undamped]
    assert all(d.score <= u.score * 0.1 + 1e-4 for d, u in zip(damped, undamped))
    # a scheme said in other words than a name is known: a head of the same family (生育补贴: 生育津贴), a
    # service's own benefit (低保补助), a typo by sound (高领津贴)
    for known in ("生育补贴怎么领", "低保补助怎么申请", "高领津贴一个月给多少", "失业补助金能领多久"):
        assert retriever.search(known, top_k=1)[0].score == plain.search(known, top_k=1)[0].score


def test_an_unknown_step_is_refused_by_name():
    with pytest.raises(ValueError, match="magic"):
        RetrievalConfig(off=frozenset({"magic"}))


def test_district_named_in_question_is_detected(retriever):
    query = retriever.query("东湖区哪里办居住证")
    assert "东湖区" in query.places and not any("东湖" in t for t in query.tokens)  # a filter, not a topic word


def test_close_faq_phrasing_routes_to_that_faq(retriever, sample_index):
    faq = next(r for r in sample_index.records() if r.kind == "faq" and r.similar)
    hits = retriever.search(faq.similar[0], top_k=3)
    assert hits[0].record_id == faq.id and hits[0].route == "faq"


def test_modes_are_validated(sample_index):
    with pytest.raises(ValueError):
        HybridRetriever(sample_index, mode="magic")
