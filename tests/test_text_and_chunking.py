"""Normalisation, tokens and structure-aware chunks."""

from __future__ import annotations

import pytest

from assistant.compose import LONG_PASSAGE, SHORT_PASSAGE, compose_policy
from assistant.settings import SAMPLE_KB
from language.aspects import detect_aspect
from indexing.chunking import chunk_record
from language.lexicon import Lexicon
from language.text import normalize
from knowledge.loaders import load_file, load_knowledge_base
from knowledge.models import Policy, PolicySection


def test_normalize_traditional_and_full_width():
    assert normalize("護照怎麼辦理？ＡＢＣ１２３") == "护照怎么办理?abc123"


@pytest.mark.parametrize("question, aspect", [
    ("失业金咨询电话多少", "phone"), ("公积金找谁咨询", "phone"), ("社保卡热线", "phone"),
    ("咨询户口迁移", "general"), ("外来务工人员落户咨询", "general"),  # citizens open any question with 咨询
    ("咨询一下护照怎么办", "process"),
    ("护照多久能拿到", "time_limit"), ("居住证办理要多长时间", "time_limit"),
    ("失业金能领多久", "general"), ("公积金贷款最长能贷多久", "general"),  # how long a benefit lasts
    ("欠了几个月房租 日子过不下去了", "general"), ("办下来要几天", "time_limit"),  # a story's span is no time question
    ("护理补贴多少钱", "general"), ("补助多少钱", "general"), ("办护照多少钱", "fees"),  # a benefit's sum: no fee
    ("失业保险金咋个领", "process"), ("身份证咋补", "process"), ("房东不肯咋个办", "general"),  # 咋个: dialect 怎么
    ("钱会打到哪个卡上", "general"), ("寄到哪家银行", "general"), ("办好了寄到哪", "location"),  # which card, not where
    ("在外省交的社保 咋转过来", "process"), ("医保怎么转", "process"),  # 转: the transfer's steps
    ("办护照要几多钱", "fees"), ("失业金一个月发几多钱", "general"),  # 几多: 多少 in Cantonese and Hubei
    ("钱打到哪里", "general"), ("钱转到哪儿了", "general"), ("到哪儿办", "location"),  # 打到/转到: to which account
    ("新生儿医保要交好多钱", "fees"), ("居住证好久能拿到", "time_limit"),  # 好多钱, 好久: 多少钱, 多久 in Sichuan
    ("花了好多钱能报吗", "general"), ("等了好久了", "general"),  # a lot of money, a long wait: no question of it
    ("婚假有几天", "general"), ("产假多少天", "general"),  # how long a leave lasts, not how long the office takes
    ("我爸前几天去世了", "general"), ("车辆年检可以提前多久去做", "general"),  # days ago; how early, not how long
    ("提前几天预约", "general"), ("身份证几天能拿到", "time_limit"),
    ("居住证啥时候好", "time_limit"), ("什么时候能下来", "time_limit"), ("啥时候领", "general"),
    ("结婚登记中午休息吗", "location"), ("礼拜天能办吗", "location"), ("有什么要注意的", "notes"),
    ("办老年卡要啥", "materials"), ("办身份证需要些什么", "materials"), ("要提供哪些东西", "materials"),
    ("要啥条件", "conditions"), ("需要什么手续", "process"), ("我要啥时候去", "general"),  # 要啥: the things to bring
    ("得掏多少", "fees"), ("要交多少年", "general"), ("多快能拿到", "time_limit"), ("几时能办好", "time_limit"),
    ("身份证过期了在那里换", "location"), ("户口在那里", "general"),  # 那里 typed for 哪里, before a verb only
    ("上哪办", "location"), ("去啥地方办", "location"), ("找哪个部门", "location"),
    ("我能办不", "conditions"), ("咋弄", "process"), ("驾照快到期了咋整", "general"),  # 咋整: what to do, no steps
    ("公积金怎么提取", "general"),  # 提 is part of the service's name: which withdrawal, not its steps
    ("二手房过户的法律依据", "legal_basis"), ("什么情况下可以申请法律援助", "conditions"), ("法律援助", "general"),
])
def test_the_aspect_asked(question, aspect):
    assert detect_aspect(question) == aspect


def test_synonyms_meet_on_both_sides():
    lex = Lexicon()
    assert set(lex.tokens("孩子上户口")) & set(lex.tokens("出生登记"))
    assert set(lex.tokens("社保卡丢了")) & set(lex.tokens("社会保障卡补换"))
    assert "出生登记" in lex.expand("孩子上户口")
    assert set(lex.tokens("车子要去检测站吗")) & set(lex.tokens("机动车检验合格标志核发"))


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


def _notice(sentences: list[str]) -> Policy:
    return Policy(id="p-notice", name="关于做好疫情期间便民服务的通知", sections=[PolicySection(text="".join(sentences))])


FILLER = [f"第{n}项工作由各街道按照属地管理原则统筹安排并及时向社会公布进展情况。" for n in range(12)]


def test_a_policy_answer_quotes_the_matching_passage_briefly_when_it_is_clear():
    sentences = FILLER[:6] + ["养犬登记证到期未年检的，由公安机关责令限期补办年检手续。"] + FILLER[6:]
    text, _ = compose_policy(_notice(sentences), "养犬登记证到期没年检怎么办", Lexicon(), {})
    assert "责令限期补办年检手续" in text
    assert len(text) <= SHORT_PASSAGE + 3  # the quote marks and a possible ellipsis


def test_a_policy_answer_asked_for_a_phone_number_quotes_the_sentence_that_gives_one():
    sentences = (["隔离期间有困难的，社区会上门了解。"] + FILLER + FILLER[:6]
                 + ["隔离期间有困难可拨打0971-6265952。"] + FILLER[6:])
    text, _ = compose_policy(_notice(sentences), "隔离期间有困难打哪个电话", Lexicon(), {})
    assert "0971-6265952" in text


def test_a_policy_answer_quotes_more_when_two_passages_match_alike():
    alike = "申请临时救助的家庭可向户籍所在地乡镇人民政府提出申请。"
    sentences = [alike] + FILLER[:5] + ["临时救助申请也可由居住地乡镇人民政府受理。"] + FILLER[5:]
    text, _ = compose_policy(_notice(sentences), "临时救助向哪个乡镇政府申请", Lexicon(), {})
    assert SHORT_PASSAGE < len(text) <= LONG_PASSAGE + 3
