"""Grounded answers without any language model: structured fields and quoted sentences, with citations.

Nothing here writes a fact of its own. A guide answer copies the asked field
(every material, in order, with 原件/复印件 and 份数); a policy answer quotes the
sentences that match the question; a FAQ answer is the approved answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import cache

from indexing.chunking import GUIDE_SECTIONS, guide_field_texts, policy_facts
from knowledge.models import FAQ, LifeEvent, Material, Policy, ServiceGuide
from language.aspects import asks_about_document, aspect_label, aspects_asked, quantities_asked
from language.data import language_data
from language.documents import document_pattern, split_sentences
from language.lexicon import Lexicon
from language.understanding import is_question_word

TITLE_WORD_WEIGHT = 0.2   # a title word identifies the document, rarely the passage
PREFERRED_BONUS = 0.5
# A quote is short when one passage clearly matches the question best, and longer when another
# matches nearly as well, so that the answer is more likely inside it (NCP dev, documents right:
# gold span in the quote for 92% of questions, against 86% with a fixed 300; median answer 254 characters).
SHORT_PASSAGE, LONG_PASSAGE, SURE_RATIO = 250, 600, 3.0
FACT_BOOST = 2.0  # a sentence holding the kind of fact asked (a phone number for "打哪个电话") weighs twice as much
ASKING_WEIGHT = 2.0
# A guide sentence in the chunk closest in meaning to the question: "寶寶出生兩個月才交醫保 出生時住院的錢能報嗎"
# shares no word with "出生之日起90日内…参保缴费的，自出生之日起享受医保待遇" but means it. Sample colloquial dev fact
# shown 0.897 → 0.905; on 318 other questions 8 answers changed, 6 for the better (0.5: four changed).
NEAR_BONUS = 1.0
SHORT_NUMBER = 3  # digits of a number said as an age, a day or a count, not as a name (12123, 12345)


@dataclass(frozen=True)
class _Figure:
    """"能领多少", "能贷几年": the figure asked for, and the words that introduce one, in a guide's text
    (`figures` in patterns.yml). The fee and the office's processing time are asked with their own wording
    and answered from their own fields."""

    number: re.Pattern[str]   # the figure itself
    words: re.Pattern[str]    # words that introduce one
    own_field: str            # the field that answers it when asked with its own wording


@cache
def _figures() -> dict[str, _Figure]:
    data = language_data()
    return {kind: _Figure(data.pattern(f"figures.{kind}.number"), data.pattern(f"figures.{kind}.words"),
                          data.section(f"figures.{kind}.own_field"))
            for kind in data.section("figures")}

FOLLOW_UP_HINT = "还可以问：要带什么材料、怎么办理、在哪里办、多久办好、要不要钱。"


@dataclass
class Citation:
    n: int
    record_id: str
    title: str
    section: str
    score: float
    kind: str
    department: str = ""
    updated: str = ""

    @classmethod
    def of(cls, n: int, record: ServiceGuide | Policy | FAQ, section: str, score: float) -> Citation:
        """The n-th source of an answer: the record, the part quoted and how sure the answer is."""
        updated = getattr(record, "updated", None)
        return cls(n, record.id, record.title, section, score, record.kind, getattr(record, "department", "") or "",
                   updated.isoformat() if updated else "")

    def as_dict(self) -> dict:
        return asdict(self)

    def reference(self) -> str:
        parts = [f"[{self.n}] 《{self.title}》", self.section, self.department,
                 f"更新于 {self.updated}" if self.updated else ""]
        return " · ".join(p for p in parts if p)


def _first_clause(text: str, limit: int = 60) -> str:
    """The first clause of a field, for the key-facts line (the full field is one question away)."""
    for sep in ("；", "。", ";"):
        if sep in text and text.index(sep) <= limit:
            return text[: text.index(sep)]
    return text if len(text) <= limit else text[:limit] + "…"


def key_facts(guide: ServiceGuide, skip: str) -> str:
    facts = []
    if skip != "location" and guide.location:
        facts.append(f"办理地点：{_first_clause(guide.location)}")
    if skip != "time_limit" and guide.time_limit.promised not in ("", "无"):
        facts.append(f"承诺时限：{guide.time_limit.promised}")
    if skip != "fees" and guide.fees:
        facts.append(f"收费：{_first_clause(guide.fees, 40)}")
    return "；".join(facts)


def compose_guide(guide: ServiceGuide, aspect: str) -> tuple[str, str]:
    """(answer text, section name) for one aspect of a guide."""
    fields = guide_field_texts(guide)
    if aspect == "general":
        names = "、".join(material_in_overview(m) for m in guide.materials)
        body = [f"【{guide.name}】由{guide.department}办理。" if guide.department else f"【{guide.name}】"]
        if guide.audience:
            body.append(f"办理对象：{guide.audience}")
        if names:
            body.append(f"需要材料：{names}（详细要求可问“要带什么材料”）")
        facts = key_facts(guide, skip="")
        if facts:
            body.append(facts)
        body.append(FOLLOW_UP_HINT)
        return "\n".join(body), GUIDE_SECTIONS["overview"]

    field = {"phone": "contact", "online": "contact"}.get(aspect, aspect)
    section = GUIDE_SECTIONS.get(field, aspect_label(aspect))
    text = fields.get(field, "").strip().removeprefix(f"{section}：").strip()  # a field headed with its own name
    if aspect == "phone" and guide.phone:
        text = f"咨询电话：{guide.phone}"
    elif aspect == "online":
        text = f"网上办理：{guide.online}" if guide.online else "该事项暂未提供网上办理入口，请到窗口办理。"
    if aspect == "conditions" and guide.audience:
        # who may apply is half of whether one may ("男的能领吗" is answered by 办理对象: 女职工)
        text = f"办理对象：{guide.audience}" + (f"\n{text}" if text else "")
    if not text:
        text = f"办事指南未列明{section}，建议拨打咨询电话{guide.phone or '12345'}确认。"
    lines = [f"【{guide.name}】{section}：", text]
    facts = key_facts(guide, skip=aspect)
    if facts and aspect in ("materials", "conditions", "process", "fees", "time_limit"):
        lines.append(facts)
    return "\n".join(lines), section


def compose_guide_aspects(guide: ServiceGuide, aspects: tuple[str, ...]) -> tuple[str, str]:
    """Several aspects asked in one message ("几天办好 户口页要自己去派出所打吗"): each field, in the order asked
    (three at most); the citation names the first."""
    parts = [compose_guide(guide, aspect) for aspect in dict.fromkeys(aspects)][:3]
    if len(parts) == 1:
        return parts[0]
    heading = f"【{guide.name}】"
    body = [text.removeprefix(heading) for text, _ in parts]
    return heading + "\n" + "\n".join(body), parts[0][1]


def compose_clause_details(guide: ServiceGuide, clauses: list[str], answered: str, lexicon: Lexicon,
                           weights: dict[str, float]) -> str:
    """Several questions in one message, one of them about a detail ("退休审批要几天 养老金从哪个月开始发"):
    the passage answering each clause that asks no aspect of its own and that the answer does not hold yet."""
    extra = []
    for clause in clauses:
        if aspects_asked(clause) or len(clauses) < 2:
            continue
        found = compose_guide_detail(guide, clause, lexicon, weights)
        if found is None:
            continue
        passage = found[0].removeprefix(f"【{guide.name}】").removesuffix(FOLLOW_UP_HINT).strip()
        body = passage.split("：\n", 1)[-1]
        if body not in answered and all(body not in e for e in extra):
            extra.append(passage)
    return "\n".join(extra)


def material_in_overview(material: Material) -> str:
    """A material as the overview lists it: with the case it is needed in when only then ("原护照（换发时提交）"),
    so a citizen does not bring, or think they need, what only some applicants do (`material_condition`)."""
    condition = language_data().pattern("material_condition").match(material.notes)
    return f"{material.name}（{condition.group(0)}）" if condition else material.name


def compose_guide_detail(guide: ServiceGuide, query: str, lexicon: Lexicon, weights: dict[str, float],
                         near: str = "", asking: frozenset[str] = frozenset()) -> tuple[str, str] | None:
    """For a question about one detail of a service ("公积金贷款最长能贷几年", "领多久"), the passage of the
    guide field that holds it, quoted: the sentence sharing the most words with the question beyond the
    service's own names, or holding a figure of the kind it asks for; one in `near` (the guide's chunk closest in
    meaning to the question) gains NEAR_BONUS, and a word said only in the story, not in the clauses that ask
    (`asking`), weighs 1/ASKING_WEIGHT: "…交了五年社保…一个月能领多少钱" asks for the sum, not the 电子社保卡.
    Each figure asked that the passage lacks is added from the sentence holding one. None when there is none,
    and the overview is the answer ("我想办公积金贷款")."""
    detail, detail_words = _detail_tokens(guide, query, lexicon)
    figures = [_figures()[kind] for kind in quantities_asked(query)]
    best: tuple[float, str, list[str], str] | None = None
    for field, sentences in _detail_fields(guide):
        for sentence in sentences:
            found = lexicon.token_set(sentence) & detail
            # a sum in 收费标准 answers "领多少" only when the sentence is about what is asked ("公租房租金多少": 租金)
            held = [f for f in figures if (field != f.own_field or found & detail_words) and f.number.search(sentence)]
            if not found & detail_words and not held:
                continue
            share = sum(weights.get(t, 1.0) / (ASKING_WEIGHT if asking and t not in asking else 1.0)
                        for t in found) / max(len(sentence), 1) ** 0.3
            share += sum(1.0 + bool(f.words.search(sentence)) for f in held)
            share += NEAR_BONUS * (bool(near) and sentence in near)
            if best is None or share > best[0]:
                best = (share, field, sentences, sentence)
    if best is None:
        return None
    _, field, sentences, sentence = best
    passage = best_passage(sentences, detail, lexicon, weights, preferred=sentence, title=guide.name)
    if sentence not in passage:  # words shared elsewhere ("最长12个月" for "每个月几号发") outweighed it: from it on
        passage = _from_sentence(sentences, sentence)
    section = GUIDE_SECTIONS[field]
    parts = [f"【{guide.name}】{section}：\n{passage.replace('**', '')}"]
    for figure in figures:  # "每月给多少 几号到账": the day's sentence was chosen, and the sum is asked too
        if not any(figure.number.search(part) for part in parts):
            held = _sentence_holding(guide, figure, detail, lexicon)
            if held is not None:
                parts.append(f"{GUIDE_SECTIONS[held[0]]}：\n{_from_sentence(*held[1:]).replace('**', '')}")
    return "\n".join([*parts, FOLLOW_UP_HINT]), section


def _detail_fields(guide: ServiceGuide) -> Iterator[tuple[str, list[str]]]:
    """The fields a detail is quoted from, each with its sentences: who it is for is in the overview, and laws are
    asked for by name."""
    for field, text in guide_field_texts(guide).items():
        if field not in ("overview", "legal_basis"):
            yield field, [s for line in text.splitlines() for s in split_sentences(line)]


def _from_sentence(sentences: list[str], sentence: str) -> str:
    """A short passage that starts at the sentence."""
    start = sentences.index(sentence)
    lo, hi, _ = _best_window(sentences, [float(i == start) for i in range(len(sentences))], SHORT_PASSAGE,
                             skip=range(start))
    return "".join(sentences[lo : hi + 1])[:SHORT_PASSAGE]


def _sentence_holding(guide: ServiceGuide, figure: _Figure, detail: set[str], lexicon: Lexicon
                      ) -> tuple[str, list[str], str] | None:
    """The field, its sentences and the sentence holding a figure of this kind that is most about the question
    (the words introducing such a figure, then the question's words), outside the field that answers it when
    it is asked with its own wording; None when no sentence holds one."""
    best: tuple[tuple[bool, int], str, list[str], str] | None = None
    for field, sentences in _detail_fields(guide):
        if field == figure.own_field:
            continue
        for sentence in sentences:
            if figure.number.search(sentence):
                key = (bool(figure.words.search(sentence)), len(detail & lexicon.token_set(sentence)))
                if best is None or key > best[0]:
                    best = (key, field, sentences, sentence)
    return best[1:] if best else None


def asks_a_detail(guide: ServiceGuide, query: str, lexicon: Lexicon) -> bool:
    """Whether the question holds words beyond the service's names ("护照能加急吗": 加急), so that an overview
    given for it should say it holds nothing on them."""
    return bool(_detail_tokens(guide, query, lexicon)[1])


def _detail_tokens(guide: ServiceGuide, query: str, lexicon: Lexicon) -> tuple[set[str], set[str]]:
    """The question's tokens beyond the service's names, and those of them that are words (two characters or
    more, no short number) or synonym groups said by a word other than a question word."""
    names = "、".join([guide.name, *guide.aliases])
    name_tokens = lexicon.token_set(names) | lexicon.groups_within(names)
    # a word, or the synonym group of one: "要照片吗" asks for the item the guide calls 相片 (a group said by a
    # question word, "多少钱" of 收费, asks the aspect, not a detail)
    said = lexicon.synonym_tokens(query, lambda wording: not is_question_word(wording))
    detail = ({t for t in lexicon.tokens(query) if not t.startswith("§syn")} | said) - name_tokens
    # a short number the citizen says (an age, a day: "孩子12岁了") names no detail, and would match the clock of
    # 12:00; a long one names something (the 12123 app)
    return detail, {t for t in detail if len(t) >= 2 and not (t.isdigit() and len(t) <= SHORT_NUMBER)
                    and (not t.startswith("§") or t in said)}


def asks_for_a_payment(guide: ServiceGuide, question: str) -> bool:
    """"每个月多少钱" about a service whose fee names no sum ("不收费") asks what the citizen is paid
    (高龄津贴), not what they pay: a detail of the guide, not its 收费标准; so does "多少钱" when the guide names
    a sum elsewhere (丧葬补助金, 公租房's rent)."""
    amount = _figures()["amount"].number
    if amount.search(guide.fees):
        return False
    return bool(language_data().pattern("per_period").search(question)) or bool(amount.search(full_text(guide)))


def facts_asked(question: str) -> re.Pattern[str] | None:
    """What the fact asked for looks like in a passage (`passage_facts`: a phone number for "打哪个电话", a date
    for "几号开学"); None when the question asks for no such fact."""
    data = language_data()
    found = [data.source(f"passage_facts.{kind}.found") for kind in data.section("passage_facts", {})
             if data.pattern(f"passage_facts.{kind}.asked").search(question)]
    return re.compile("|".join(f"(?:{f})" for f in found)) if found else None


def best_passage(sentences: list[str], query_tokens: set[str], lexicon: Lexicon, weights: dict[str, float],
                 preferred: str = "", title: str = "", spare: int = 0, facts: re.Pattern[str] | None = None) -> str:
    """The window of sentences whose opening best matches the question: SHORT_PASSAGE characters
    when no other window comes within 1/SURE_RATIO of its score, else LONG_PASSAGE (`spare` is
    taken off both, for text shown beside the quote).

    Questions restate the context an answer follows, so a window is scored by its
    sentences' matches with weights falling off 0.3× per sentence, and grows forward
    from its best start. Words that name the document rather than the passage count
    less: those of the title (×0.2), and those found in many of its sentences (weight
    log(1 + sentences / sentences with the word)²). Sentences of the `preferred` text
    (the chunks retrieval ranked first and found closest in meaning) get a bonus, and those holding the kind of
    fact asked (`facts`) weigh FACT_BOOST times more. With the chunk closest in meaning beside the first and the
    bonus at 0.5 (the first alone at 0.25 before), the gold span is in the passage for 119 rather than 116 of the
    134 NCP colloquial dev questions answered from the right notice, and for 455 of 496 formal ones either way
    (at 1.0: 122 and 457, but two sample-KB answers quoted the wrong article). Measured on NCP dev with a fixed
    300-character window, the gold span falls in it for 86% of questions whose document is
    right (without the two discounts: 82%; a window centred on the single best sentence: 68%).
    """
    if not sentences:
        return ""
    token_sets = [lexicon.token_set(s) for s in sentences]
    title_tokens = lexicon.token_set(title) if title else set()
    spread = {t: sum(t in ts for ts in token_sets) for t in query_tokens}
    weight = {t: weights.get(t, 1.0) * (TITLE_WORD_WEIGHT if t in title_tokens else 1.0)
              * (math.log(1 + len(sentences) / spread[t]) ** 2 if spread[t] else 1.0) for t in query_tokens}
    query_weight = sum(weight.values()) or 1.0
    scores = [10 * sum(weight[t] for t in query_tokens & ts) / query_weight / max(len(s), 1) ** 0.3
              + (PREFERRED_BONUS if preferred and s in preferred else 0.0) for s, ts in zip(sentences, token_sets)]
    if facts is not None:
        scores = [v * FACT_BOOST if facts.search(s) else v for s, v in zip(sentences, scores)]
    limit = SHORT_PASSAGE - spare
    lo, hi, best = _best_window(sentences, scores, limit)
    runner_up = _best_window(sentences, scores, limit, skip=range(lo, hi + 1))[2]
    if best < SURE_RATIO * runner_up:
        limit = LONG_PASSAGE - spare
        lo, hi, _ = _best_window(sentences, scores, limit)
    passage = "".join(sentences[lo : hi + 1])
    return passage if len(passage) <= limit else passage[:limit] + "…"


def _best_window(sentences: list[str], scores: list[float], max_chars: int, skip: range = range(0)
                 ) -> tuple[int, int, float]:
    """(first, last, score) of the best window of at most `max_chars` that avoids the sentences in `skip`."""
    starts = [i for i in range(len(sentences)) if i not in skip]
    if not starts:
        return 0, 0, 0.0
    values = {i: _window_score(sentences, scores, i, max_chars, skip) for i in starts}
    best = max(starts, key=lambda i: (values[i], -i))
    lo = hi = best
    total = len(sentences[best])
    while hi + 1 < len(sentences) and hi + 1 not in skip and total + len(sentences[hi + 1]) <= max_chars:
        hi += 1
        total += len(sentences[hi])
    while lo > 0 and lo - 1 not in skip and total + len(sentences[lo - 1]) <= max_chars:
        lo -= 1
        total += len(sentences[lo])
    return lo, hi, values[best]


def _window_score(sentences: list[str], scores: list[float], start: int, max_chars: int,
                  skip: range = range(0), decay: float = 0.3) -> float:
    total, weight, length, i = 0.0, 1.0, 0, start
    while i < len(sentences) and i not in skip and length + len(sentences[i]) <= max_chars:
        total += weight * scores[i]
        weight *= decay
        length += len(sentences[i])
        i += 1
    return total if i > start else scores[start]


def compose_policy(policy: Policy, query: str, lexicon: Lexicon, weights: dict[str, float],
                   preferred: str = "", asking: frozenset[str] = frozenset()) -> tuple[str, str]:
    """Quote the passage of the policy that answers; the citation carries the title and 文号. The words of the
    clauses that ask (`asking`) weigh ASKING_WEIGHT times more: a story's question, not its story, says which
    passage answers."""
    query_tokens = {t for t in lexicon.tokens(query) if not t.startswith("§syn")}
    if asking and asking != frozenset(query_tokens):
        weights = {**weights, **{t: weights.get(t, 1.0) * ASKING_WEIGHT for t in asking & query_tokens}}
    located = [(section.heading, s) for section in policy.sections for s in split_sentences(section.text)]
    facts = policy_facts(policy) if asks_about_document(query) else ""
    passage = best_passage([s for _, s in located], query_tokens, lexicon, weights,
                           preferred=preferred, title=policy.title, spare=len(facts), facts=facts_asked(query))
    heading = next((h for h, s in located if s and s in passage), "")
    prefix = f"{heading}：" if document_pattern("article_word").search(heading) else ""
    quoted = f"{prefix}“{passage}”" if passage else ""
    return "\n".join(x for x in (facts.replace("\n", "；"), quoted) if x), heading or ("文件信息" if facts else "")


def compose_faq(faq: FAQ) -> tuple[str, str]:
    """The approved answer; one that opens with a bare yes or no ("不用。…") says first which question it
    answers, since the citizen may have asked it in other words ("退休了" after 公积金提取)."""
    if language_data().pattern("yes_or_no").match(faq.answer):
        return f"关于“{faq.question.rstrip('？?')}”：{faq.answer}", "常见问题"
    return faq.answer, "常见问题"


def full_text(record: ServiceGuide | Policy | FAQ | LifeEvent) -> str:
    """The whole record as a citizen reads it: every guide section, a policy's full text, a FAQ's
    question and answer. Answers quote one part; this is the "full guide" they point to."""
    updated = getattr(record, "updated", None)
    head = f"【{record.title}】" + (f"（更新于 {updated.isoformat()}）" if updated else "")
    if isinstance(record, ServiceGuide):
        parts = [f"{GUIDE_SECTIONS[name]}：\n{text.strip()}"
                 for name, text in guide_field_texts(record).items() if text.strip()]
    elif isinstance(record, Policy):
        parts = [policy_facts(record)] + [f"{s.heading}　{s.text}" if s.heading else s.text for s in record.sections]
    elif isinstance(record, LifeEvent):
        parts = [f"适用情形：{'、'.join(record.situations)}" if record.situations else "",
                 "步骤：\n" + "\n".join(f"第{n}步 {s.name or s.guide}（{s.guide}）" + (f"，适用：{s.condition}" if s.condition else "")
                                       for n, s in enumerate(record.steps, 1)),
                 f"联办窗口：{record.joint_window}" if record.joint_window else "",
                 f"网上入口：{record.online}" if record.online else "", record.notes]
    else:
        parts = [f"问：{record.question}", f"答：{record.answer}"]
        parts += [f"相关办事指南：{record.related_guide}"] if record.related_guide else []
    return "\n\n".join([head, *(p for p in parts if p)])
