"""The assistant: question in, grounded answer (or honest refusal, or a clarifying question) out.

Decisions use the retriever's score, the probability that the record answers the question (indexing.learned),
and the thresholds fitted with it (the constants below when the learned decision is switched off):
- answered: the top record scores at least the answer threshold;
- clarify:  the top two are different services, both plausible and close, and the question names neither;
            or the best match is only plausible (confirm ≤ score < answer): we ask before answering
            (and say that nothing matched exactly when no word of the question is in the services' names);
            a question that would offer one option is answered from it, with a notice that it is the closest match;
- refused:  nothing plausible; the reply says so, suggests near services, gives the hotline.
Every question is logged (masked); refused ones are the demand signal.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from typing import Callable

from assistant.compose import (FOLLOW_UP_HINT, Citation, asks_a_detail, asks_for_a_payment, compose_clause_details,
                               compose_faq, compose_guide_aspects, compose_guide_detail, compose_policy, full_text)
from assistant.conversation import FOLLOW_UP_MAX_CHARS, ConversationStore, SessionState, SessionStore
from assistant.demand_log import DemandLog
from assistant.life_events import LifeEvents
from assistant.llm import LLMPhraser
from indexing.index import KnowledgeIndex
from indexing.retriever import HybridRetriever, RecordHit
from indexing.scorers import RetrievalConfig
from knowledge.models import FAQ, Policy, ServiceGuide
from language.aspects import aspect_fields
from language.data import language_data
from language.question import MAX_QUESTION_CHARS, EmptyQuestion
from language.regions import places_named
from language.text import normalize
from language.understanding import (ParsedQuery, asking_clauses, asking_with_subject, clauses_of, content_words,
                                    is_question_word, understand)

# for the calibrated score, when the learned decision is switched off
ANSWER_MIN = 0.665    # NCP dev: 95.3% of answerable questions answered, 93.8% of unanswerable ones not
CONFIRM_MIN = 0.45    # between the two we ask which service was meant instead of guessing
SUGGEST_MIN = 0.05    # sample dev: refusals name the right service for 44 of 48 refused answerable questions (0.2: 23)
CLARIFY_MARGIN = 0.35
# two services both this probable in the learned order, and this close, are both put to the citizen
CLARIFY_ORDER_FLOOR, CLARIFY_ORDER_MARGIN = 0.2, 0.3
CLARIFY_RUNNER_UP_MIN = 0.2  # answer probability a second guide needs for a sure first one to be questioned
SURE_ORDER = 0.9  # a record this probable in the learned order is answered from, not swapped for a guide near it
OWN_FAQ_POOL, OWN_FAQ_COVERAGE = 20, 0.3  # a follow-up's own words must be in the FAQ, not only the service's
TENTATIVE_MIN = 0.2  # a refusal's first suggestion this probable is what a follow-up naming nothing is read about
# a turn this sure on its own of a record of another service is not read in the conversation (sample colloquial
# dev conversations: 0.9 moves two turns right and none wrong; the answer threshold, about 0.6, moved four of
# them wrong, short ones such as "周末上班不" and "孩子5岁 有效期几年")
ALONE_MIN = 0.9
ELSEWHERE_ORDER = 0.5  # a turn asking an aspect is not read in the conversation when another service is this probable


@dataclass
class Answer:
    question_id: str
    session_id: str
    decision: str                       # answered | clarify | refused
    answer: str
    citations: list[Citation] = field(default_factory=list)
    options: list[dict] = field(default_factory=list)
    suggestions: list[dict] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    aspect: str = "general"
    latency_ms: float = 0.0
    hits: list[RecordHit] = field(default_factory=list)   # what the answer was chosen from (not in the JSON)
    query: ParsedQuery | None = None                       # the turn as the assistant read it
    event: dict | None = None                              # the life event answered or offered (life_events)

    @property
    def answered(self) -> bool:
        return self.decision == "answered"

    def as_json(self) -> dict:
        """The public JSON of `govqa ask --json` and `POST /api/ask`; keys are only ever added."""
        return {
            "answered": self.answered, "decision": self.decision, "answer": self.answer,
            "citations": [{"n": c.n, "record_id": c.record_id, "title": c.title, "section": c.section,
                           "score": c.score, "kind": c.kind, "department": c.department, "updated": c.updated}
                          for c in self.citations],
            "latency_ms": self.latency_ms, "question_id": self.question_id, "session_id": self.session_id,
            "options": self.options, "suggestions": self.suggestions, "notices": self.notices, "aspect": self.aspect,
            "event": self.event,
        }


class Assistant:
    def __init__(self, index: KnowledgeIndex, demand_log: DemandLog, hotline: str = "12345",
                 phraser: LLMPhraser | None = None, sessions: ConversationStore | None = None,
                 max_question_chars: int = MAX_QUESTION_CHARS, retrieval: RetrievalConfig | None = None) -> None:
        self.index = index
        self.retriever = HybridRetriever(index, config=retrieval)
        self.log = demand_log
        self.hotline = hotline
        self.phraser = phraser
        self.sessions = sessions or SessionStore()
        self.max_question_chars = max_question_chars
        self.events = LifeEvents(index, hotline)

    def answer_min(self, kind: str) -> float:
        """The score at which a record of this kind (policy, guide, FAQ) put first is answered from."""
        fitted = self.retriever.threshold(kind, "answer")
        return ANSWER_MIN if fitted is None else fitted

    def confirm_min(self, kind: str) -> float:
        """The score from which, below the answer threshold, we ask which service was meant."""
        fitted = self.retriever.threshold(kind, "confirm")
        return CONFIRM_MIN if fitted is None else fitted

    def warm_up(self) -> None:
        """Load the model, the lexical index and the dictionary's word pairs (read for typos) now, so the first
        citizen does not wait for them."""
        if self.index.hashes():
            self.retriever.warm_up()
            self.index.lexicon.within_words("办理")

    def ask(self, question: str, session_id: str | None = None, channel: str = "cli") -> Answer:
        """Raises EmptyQuestion for input with nothing to answer (nothing is logged then)."""
        start = time.perf_counter()
        q = understand(question, self.retriever.vocabulary(), self.max_question_chars)
        sid, state = self.sessions.get(session_id)
        names_nothing = not q.content_words
        listed: list[dict] = []
        if state.options and q.declines and not q.content_words:
            hits, answer = [], self._declined(state)
        elif (event := self.events.answer(q, state)) is not None:
            hits, answer = [], event
        elif not state.topic_id and not state.tentative_id and not state.options and names_nothing:
            hits, answer = [], self._ask_for_service(q, state)
        elif state.options and names_nothing and self._picked_option(q, state) is None:
            hits, answer = [], self._ask_again(q, state)
        else:
            tentative = "" if state.topic_id else state.tentative_title
            hits, chosen = self._retrieve(q, state)
            answer = self.events.offer(self._decide(q, hits, chosen, state), q, state)
            # "先说第2个" keeps the list for "第一个呢"
            listed = self._list_also_asked(q, answer) or (state.listed if q.option_number is not None else [])
            self._answer_other_clauses(q, answer)
            self._answer_joined_service(q, answer)
            if tentative and answer.answered and state.topic_title == tentative:
                answer.notices.append(f"您没有说明是哪项业务，以上按《{tentative}》回答；如果不是，请告诉我事项名称。")
        state.listed = listed
        state.asked_aspect = q.aspect if answer.answered else "general"
        answer.session_id, answer.hits, answer.query = sid, hits, q
        typos = [f"“{typed}”按“{meant}”理解" for typed, meant in q.typos]
        answer.notices = q.notices + (["已将" + "，".join(typos) + "。"] if typos else []) + answer.notices
        answer.latency_ms = round((time.perf_counter() - start) * 1000, 1)
        answer.question_id = self.log.record(
            session_id=sid, channel=channel, question=q.text, decision=answer.decision, aspect=q.aspect,
            top_ids=[h.record_id for h in hits[:5]], top_scores=[h.score for h in hits[:5]],
            latency_ms=answer.latency_ms)
        state.turns += 1
        self.sessions.save(sid, state)
        return answer

    # ---- retrieval with conversation context ---------------------------------
    def _retrieve(self, q: ParsedQuery, state: SessionState) -> tuple[list[RecordHit], RecordHit | None]:
        picked = self._picked_option(q, state)
        if picked is not None:
            hits = self.retriever.run(q.search_about(picked["title"]), top_k=5)
            chosen = next((h for h in hits if h.record_id == picked["record_id"]), None)
            if chosen is None:
                chosen = RecordHit(picked["record_id"], picked["kind"], picked["title"], 1.0, 0.0)
            chosen.score = max(chosen.score, self.answer_min(chosen.kind))
            q.aspect = q.aspect if q.aspect != "general" else state.pending_aspect
            return [chosen] + [h for h in hits if h.record_id != chosen.record_id], chosen
        if q.aspect == "general" and not state.options:
            q.aspect = state.pending_aspect  # the service named after "在哪里办" → "哪项业务？"
        topic_id, topic_title = ((state.topic_id, state.topic_title) if state.topic_id
                                 else (state.tentative_id, state.tentative_title))
        # with a topic, one deeper search serves both the question on its own and the look for the topic's FAQ
        found = self.retriever.run(q.search, top_k=OWN_FAQ_POOL if topic_id else 5)
        hits = found[:5]
        if topic_id and q.asks_instead and q.aspect == "general":
            # "港澳通行证呢" after "护照要多少钱" asks the fee of another service; "那不是本地户口呢" asks no fee;
            # "签注呢" after 台湾通行证 names a part of the service talked about, not 港澳's
            names_topic = self._names_one_of(q, [(topic_id, topic_title)])
            instead = None if names_topic else self._with_situation(q, hits, topic_id, topic_title, self.confirm_min)
            other = hits[0] if hits and hits[0].score >= self.answer_min(hits[0].kind) \
                and self._service_of(hits[0].record_id, hits[0].kind) != topic_id else None
            if instead or other is not None:
                q.aspect = state.asked_aspect
            if instead:
                return instead, None
            if other is not None and other.features.get("title"):
                return hits, None  # "那年检呢" after 新车上牌: 年检 is the short name of another guide
        elif topic_id and not self._names_one_of(q, [(topic_id, topic_title)]) \
                and (instead := self._with_situation(q, hits, topic_id, topic_title, self.answer_min)):
            return instead, None  # "医保怎么办" after 出生登记 is 新生儿医保, though the 出生登记 guide speaks of 医保
        follow_up = (topic_id and len(q.text) <= FOLLOW_UP_MAX_CHARS
                     and (q.asks_if_required or q.asks_of_a_kind or q.asks_if_qualifies
                          or not (hits and hits[0].record_id in self.retriever.named_in(q.text)
                                  and self._service_of(hits[0].record_id, hits[0].kind) != topic_id)
                          and (q.starts_like_follow_up and self._known_words_only(q)
                               or self._answered_unnamed(q, hits, topic_id)
                               or not self._answered_elsewhere(q, hits, topic_id)
                               and (self._within_topic(q, topic_id) or self._only_in_context(q, hits, topic_id)
                                    or self._found_first(hits, topic_id)))))
        if not follow_up:
            return hits, None
        # a figure asked for ("能贷几年") is quoted from the guide sentence that gives it (see compose)
        own = None
        if q.aspect == "general" and self._names_a_material(q, topic_id) and (
                q.asks_if_required or q.asks_instead and not self._names_one_of(q, [(topic_id, topic_title)])):
            # "要照片吗", "照片呢": the list says how many and of what kind (not 结婚证补领's FAQ); "廉租房呢"
            # after 公租房 names the service itself, whatever item's name holds it
            q.aspect = "materials"
        if q.aspect == "general" and not q.figures:
            own = self._own_faq(found, topic_id)
        if own is None and q.aspect == "general" and (q.about_residence or q.asks_if_qualifies):
            q.aspect = "conditions"  # "不是本地户口呢", "买的二手房可以吗" ask whether the service is open to them
        hits = self.retriever.run(q.search_about(topic_title), top_k=5)
        if own is None:
            top = hits[0] if hits else None
            if top is not None and self._service_of(top.record_id, top.kind) == topic_id \
                    and top.score >= self.confirm_min(top.kind):
                # the conversation is evidence too: a plausible record of the service talked about answers
                top.score = max(top.score, self.answer_min(top.kind))
            return hits, None
        own.score = max(own.score, self.answer_min(own.kind))
        return [own] + [h for h in hits if h.record_id != own.record_id], own

    def _with_situation(self, q: ParsedQuery, hits: list[RecordHit], topic_id: str, topic_title: str,
                        floor: Callable[[str], float]) -> list[RecordHit] | None:
        """A short turn naming another service than the one talked about, read with what their titles share:
        "医保怎么办" after 出生登记（新生儿落户） is 新生儿医保 (新生儿参加城乡居民基本医疗保险: 新生儿), not one of every
        医保 guide; "我是买房的" after 销户提取住房公积金 is 购买住房提取住房公积金. Among the turn's own candidates,
        the first of another service that the turn names, whose title shares a word with the one talked about,
        and that comes first when the turn is read with the shared words, as probable as `floor`."""
        top = hits[0] if hits else None
        if len(q.text) > FOLLOW_UP_MAX_CHARS or top is not None and top.score >= self.answer_min(top.kind) \
                and not self._picks_within_a_family(q, top):
            return None
        lexicon, topic = self.index.lexicon, normalize(topic_title)
        for hit in hits:
            service = self._service_record(hit.record_id, hit.kind)
            if service is None or service.id == topic_id or hit.kind == "policy" or not self._names_its_service(q, hit):
                continue
            shared = [w for w in lexicon.words(normalize(service.title)) if len(w) >= 2 and w in topic
                      and self._names_a_family(w)]
            if not shared:
                continue
            about = self.retriever.run(q.search_about(" ".join(dict.fromkeys(shared))), top_k=5)
            first = next((h for h in about if self._service_of(h.record_id, h.kind) != topic_id), None)
            if first is not None and self._service_of(first.record_id, first.kind) == service.id \
                    and first.score >= floor(first.kind):
                return [first] + [h for h in about if self._service_of(h.record_id, h.kind) not in (topic_id,
                                                                                                 service.id)]
        return None

    def _picks_within_a_family(self, q: ParsedQuery, top: RecordHit) -> bool:
        """Whether the turn's first record is one of several guides titled with the word the turn names, chosen
        among them by the ranking alone: "公积金呢" after 退休 is 销户提取 (its title says 退休), not the 购房提取
        the word on its own puts first."""
        service = self._service_of(top.record_id, top.kind)
        return any(len(self.retriever.guides_titled_with(w)) >= 2 and service in self.retriever.guides_titled_with(w)
                   for w in q.content_words if len(w) >= 2 and not is_question_word(w))

    def _names_a_family(self, word: str) -> bool:
        """Whether a word of guides' titles names a family of services (新生儿, 住房公积金), not a kind of act
        that many are (登记 titles a fifth of the sample guides): at most a tenth of the guides are titled with it."""
        return len(self.retriever.guides_titled_with(word)) <= max(2, self.retriever.guide_count() // 10)

    def _answered_elsewhere(self, q: ParsedQuery, hits: list[RecordHit], topic_id: str) -> bool:
        """Whether the turn on its own is answered, by another service than the one talked about, that it names:
        "孩子是在外地医院生的 户口能上到示例市吗" after 新生儿医保 is answered by a FAQ of 出生登记 (户口), though every
        word of it is in the 医保 guide too; "多久能批下来" after 临时救助 is not 低保's FAQ "低保多久能批下来"."""
        top = hits[0] if hits else None
        return (top is not None and top.score >= ALONE_MIN
                and self._service_of(top.record_id, top.kind) != topic_id and self._names_its_service(q, top))

    def _answered_unnamed(self, q: ParsedQuery, hits: list[RecordHit], topic_id: str) -> bool:
        """Whether the turn on its own would be answered by another service that it does not name: words any
        service shares ("钱打到哪" after 生育津贴 finds 零星报销's FAQ on where its money goes; "房东不给签咋整"
        after 居住证, the FAQ on renting without a contract for 公积金) say less than the conversation does."""
        top = hits[0] if hits else None
        return (top is not None and top.score >= self.answer_min(top.kind) and top.kind != "policy"
                and self._service_of(top.record_id, top.kind) != topic_id
                and not self._names_its_service(q, top) and not self.retriever.named_in(q.text))

    def _found_first(self, hits: list[RecordHit], topic_id: str) -> bool:
        """Whether the turn's own search puts the service talked about first, too unsure to answer on its own:
        "检测要多少钱" after 年检 (检测 is a word no record uses) is about 年检. (A turn answered on its own keeps its
        own record: "录取结果在哪看" after 入学报名 gets the FAQ on it.)"""
        top = hits[0] if hits else None
        return (top is not None and top.score < self.answer_min(top.kind)
                and self._service_of(top.record_id, top.kind) == topic_id)

    def _only_in_context(self, q: ParsedQuery, hits: list[RecordHit], topic_id: str) -> bool:
        """A short turn that on its own would be refused, names no record, and holds only words the knowledge
        base uses, is read in the conversation: "我是他孙子 能帮他办不" after 高龄津贴 asks about 高龄津贴. Not one
        asking an aspect of something its own search finds another service more probable than not for: "公司想换
        法人 变更登记要啥材料" after 小学入学 asks about a company, and the refusal names 公司设立登记. (A statement
        stays in the story: "我是灵活就业 自己交的医保" after 生育津贴.)"""
        top = hits[0] if hits else None
        if top is not None and (top.score >= self.answer_min(top.kind) or self.retriever.named_in(q.text)
                                or self._names_its_service(q, top) and (
                                    top.score >= self.confirm_min(top.kind)
                                    or q.aspect != "general" and top.features.get("order", 0.0) >= ELSEWHERE_ORDER
                                    and self._service_of(top.record_id, top.kind) != topic_id)):
            return False
        return self._known_words_only(q) and not any(self._names_another_service(q, w, topic_id)
                                                     for w in q.content_words)

    def _names_another_service(self, q: ParsedQuery, word: str, topic_id: str) -> bool:
        """Whether the word is one of the lexicon's names of a service (a synonym group's word) that names other
        guides, not the one talked about, and that its record never uses: "不是 我问的是护照" after 身份证补领 is
        about 护照, while "我是灵活就业 自己交的医保" after 生育津贴 tells who claims it (the guide says 灵活就业人员)."""
        lexicon = q.vocabulary.lexicon
        if len(word) < 2 or not lexicon.synonym_groups(word):
            return False
        titled = self.retriever.guides_titled_with(word)
        record = self.index.record(topic_id) if titled and topic_id not in titled else None
        if record is None:
            return False
        body = normalize(full_text(record))
        return not any(v in body for v in lexicon.variants(word))

    @staticmethod
    def _known_words_only(q: ParsedQuery) -> bool:
        """Whether every content word of the clauses that ask is one the knowledge base uses: "那天要是下雨咋整"
        after 结婚登记 starts like a follow-up, but 下雨 is in no record, so it is not about the service talked
        about; "他走不动路 我去代办行不" tells its story in words no record uses, and asks in words they do.
        Clauses that ask in no word of their own ("吃啥药好") are read with their story ("他膝盖老疼")."""
        lexicon = q.vocabulary.lexicon
        asking = q.search.asking_text
        if not any(len(w) >= 2 and not is_question_word(w) for w in lexicon.words(asking)):
            asking = q.search.text
        return all(len(w) < 2 or is_question_word(w) or q.vocabulary.knows(w)
                   for w in content_words(asking, lexicon))

    def _own_faq(self, found: list[RecordHit], guide_id: str) -> RecordHit | None:
        """Among the follow-up's own search results, a FAQ of the service talked about: "不是本地户口呢" after 护照
        is answered by "外地户口可以在示例市办护照吗", which the guide's title would outrank in a search for both."""
        for hit in found:
            if hit.kind == "faq" and hit.features.get("coverage", 0.0) >= OWN_FAQ_COVERAGE:
                record = self.index.record(hit.record_id)
                if isinstance(record, FAQ) and record.related_guide == guide_id:
                    return hit
        return None

    def _within_topic(self, q: ParsedQuery, topic_id: str) -> bool:
        """Whether each content word of a question is one the conversation's record uses, or one the knowledge
        base knows that names no service, and none names another service: "有效期几年" after 台湾通行证 and
        "需要预约吗" after 护照 ask about the service talked about; "狗证多久能办好" (狗证: unknown) and
        "身份证多久能拿到" after 护照 start something new, though the passport guide lists the 身份证."""
        # 能贷 → 贷; a synonym counts as the word (丢了: the guide says 遗失)
        lexicon = q.vocabulary.lexicon
        function_chars = "".join(lexicon.data.words("function_char"))
        words = {w.strip(function_chars): lexicon.variants(w) for w in q.content_words}
        words = {w: variants for w, variants in words.items() if w and not is_question_word(w)}
        if not words:
            return True  # "在哪里办", "那要多少钱"
        record = self.index.record(topic_id)
        if record is None:
            return False
        body, known = normalize(full_text(record)), q.vocabulary.idf
        names = [normalize(n) for n in (record.title, *getattr(record, "aliases", ()))]

        def own(word: str) -> bool:
            return any(word in n for n in names)

        # a word only this record's names hold says the question is about it, whatever else it holds:
        # "备案后报销比例会降吗" after 异地就医备案 is not about 零星报销 (报销 is in that title)
        about_it = any(len(w) >= 2 and own(w) and self.retriever.guides_titled_with(w) <= {topic_id}
                       for w in words)
        # one character (贷, 证) is part of many names without naming any service; a word of the record's own
        # names ("异地" of 身份证异地补办, "签注" of 居住证签注) is about it, whatever other title holds it
        return all((about_it or any(v in body or (len(v) >= 2 and v in known) for v in (w, *variants)))
                   and (len(w) < 2 or about_it or own(w) or self._names_only(w, topic_id))
                   for w, variants in words.items())

    def _names_only(self, word: str, guide_id: str) -> bool:
        """Whether the word is in no guide's title but, if any, this guide's."""
        named = self.retriever.guides_titled_with(word)
        return not named or guide_id in named

    def _picked_option(self, q: ParsedQuery, state: SessionState) -> dict | None:
        """The option the reply picks: by its number or title, or by naming just one of the services offered
        ("个体户那种" picks 个体工商户设立登记 over 有限责任公司设立登记; over a FAQ about 个体户 too, whose guide it is).
        With no options, "先说第2个" picks by its number a service the last message asked about."""
        if q.declines and q.option_number is None and not state.options:
            return None
        if not state.options:
            number = q.option_number
            return state.listed[number - 1] if number is not None and 0 < number <= len(state.listed) else None
        if q.option_number is not None and q.option_number <= len(state.options):
            return state.options[q.option_number - 1]
        titled = next((o for o in state.options if o["title"] and normalize(o["title"]) in q.text), None)
        if titled is not None:
            return titled
        # "二手房过户要交哪些税" after 1. 二手房转移登记 2. 二手房过户要交哪些税？ names both: the one naming most
        # of its words is meant; between equals, the guide
        naming = {o["record_id"]: len(self._naming_words(q, [(o["record_id"], o["title"])])) for o in state.options}
        most = max(naming.values(), default=0)
        named = [o for o in state.options if most and naming[o["record_id"]] == most]
        if len(named) > 1:
            named = [o for o in named if o["kind"] == "guide"]
        if not named:
            # "我是要换" after 1. 居民身份证申领 2. 居民身份证换领、补领: a character only one option's title holds
            chars = {w for w in q.content_words if len(w) == 1 and not is_question_word(w)}
            holding = [o for o in state.options if chars & set(normalize(o["title"]))]
            named = holding if len(holding) == 1 else []
        if named or q.content_words or q.declines:
            # "不是的 我问的是港澳通行证": an option the rest names is picked, else none; what follows is searched
            return named[0] if len(named) == 1 else None
        # "要多久" after "您想了解的是：1. 个体工商户设立登记" asks about the one service offered
        guides = {self._service_of(o["record_id"], o["kind"]) for o in state.options}
        guide = self.index.record(guides.pop()) if len(guides) == 1 else None
        return {"record_id": guide.id, "kind": guide.kind, "title": guide.title} if guide else None

    # ---- deciding and composing ----------------------------------------------
    def _decide(self, q: ParsedQuery, hits: list[RecordHit], chosen: RecordHit | None, state: SessionState) -> Answer:
        state.options, state.pending_aspect = [], "general"
        tentative = state.tentative_id, state.tentative_title
        state.tentative_id = state.tentative_title = ""
        not_found = ("没有找到完全对应的答案。您想了解的是下面哪一项？请回复序号：\n{listing}\n"
                     f"都不是的话，可以换个说法，或拨打政务服务便民热线 {self.hotline}。")
        if chosen is None:
            hits = self._named_service_first(q, hits)
        top = chosen or (hits[0] if hits else None)
        answer_min, confirm_min = (self.answer_min(top.kind), self.confirm_min(top.kind)) if top else (1.0, 1.0)
        top_record = self.index.record(top.record_id) if chosen is None and top is not None else None
        if top_record is not None and top.score >= confirm_min and (elsewhere := self._rules_elsewhere(q, top_record)):
            # "上海落户积分要多少分": our 户口迁入 is plausible, but neither it nor a choice of ours is Shanghai's rule
            state.topic_id = state.topic_title = ""
            return self._refusal(q, hits, elsewhere)
        if chosen is None and self._should_clarify(q, hits):
            # "身份证弄丢了 户口在老家" names 身份证: 社保卡补换, close as it is, is no option beside it
            named_alone = self._named_alone(q, top, hits[1:4]) or self._asks_alone_about(q, top, hits[1:4])
            if not (named_alone and top.score >= answer_min):
                choices = self._of_service(top, hits) if named_alone else hits
                # "户口本丢了怎么补办" is close to 身份证 and 社保卡 补领, but asks about neither: say so
                named = self._names_one_of(q, [(h.record_id, h.title) for h in hits[:3]])
                asked = self._ask_which(q, choices, state, answer_min * 0.8,
                                        "您想咨询的是下面哪一项？请回复序号或事项名称：\n{listing}" if named else not_found)
                return self._answer_only_option(q, choices, state, asked) or self._affirm(q, hits, asked, state)
        mass, pooled = self._pooled_service(top, hits[1:3]) if chosen is None and top is not None \
            and top.score < answer_min else (0.0, None)
        if pooled is not None and mass >= answer_min:
            # the service is sure: its most probable record answers when plausible, else the one its service offers
            # ("买了房子 能把户口迁过来吗": the guide, not the FAQ on parents the learned order puts first by a hair)
            top = replace(pooled, score=answer_min)
        elif pooled is not None and top.score < confirm_min <= mass:
            # and plausible together, though none of them alone: ask to confirm the service rather than refuse
            # ("社保卡能代领吗": 0.46 for the guide, 0.14 for its FAQ on 代办)
            top = replace(pooled, score=confirm_min)
            hits = [top] + [h for h in hits if h.record_id != top.record_id]
        elif (chosen is None and top is not None and confirm_min <= top.score < answer_min
                and self._only_service_probable(top, hits[1:3])):
            top = replace(top, score=answer_min)
        elif chosen is None and top is not None and top.score < answer_min and top.record_id == self._asked_in_story(q):
            top = replace(top, score=answer_min)
        if chosen is None and top is not None and confirm_min <= top.score < answer_min:
            choices = self._of_service(top, hits) if self._named_alone(q, top, hits[1:4]) else hits
            asked = self._ask_which(q, choices, state, confirm_min, not_found)
            return self._answer_only_option(q, choices, state, asked) or self._affirm(q, hits, asked, state)
        record = self.index.record(top.record_id) if top is not None and top.score >= answer_min else None
        if record is None:
            # the conversation moved on to something we cannot answer; what comes next may be about the service
            # the refusal suggests first, or else still about the one talked about
            refusal = self._refusal(q, hits)
            first = refusal.suggestions[0] if refusal.suggestions else None
            if first is not None and first["score"] >= TENTATIVE_MIN:
                self._hold_tentative(state, first["record_id"], first["kind"])
            elif state.topic_id:
                state.tentative_id, state.tentative_title = state.topic_id, state.topic_title
            else:
                state.tentative_id, state.tentative_title = tentative
            state.topic_id = state.topic_title = ""
            return refusal
        if (isinstance(record, FAQ) and top.route != "faq" and q.aspect in aspect_fields()
                and q.aspect != "conditions" and record.related_guide):
            # 材料/流程/费用… are answered in full by the guide's own field, not by a FAQ about a special case,
            # unless the learned order finds the guide improbable ("社保卡在哪激活" is the FAQ's case only);
            # whether one's own case qualifies ("租的房子能办不") is the FAQ's, when it is about that case
            guide = self.index.record(record.related_guide)
            guide_hit = next((h for h in hits if h.record_id == record.related_guide), None)
            if guide_hit is not None and guide_hit.features.get("order", 1.0) < CLARIFY_ORDER_FLOOR:
                guide = None
            if guide is not None:
                record = guide
                top = next((h for h in hits if h.record_id == guide.id), None) or RecordHit(
                    guide.id, guide.kind, guide.title, top.score, top.fused)
        guide_hit = self._guide_for_aspect(q, top, hits) if isinstance(record, Policy) else None
        if guide_hit is not None:
            # and by a guide close behind, rather than by the policy it is carried out under
            record, top = self.index.record(guide_hit.record_id), replace(guide_hit, score=top.score)
        if elsewhere := self._rules_elsewhere(q, record):
            state.topic_id = state.topic_title = ""
            return self._refusal(q, hits, elsewhere)
        if record.kind == "guide" or (record.kind == "faq" and record.related_guide):
            guide_id = record.id if record.kind == "guide" else record.related_guide
            guide = self.index.record(guide_id)
            state.topic_id, state.topic_title = guide_id, guide.title if guide else record.title
        elif not self._basis_of_topic(record, state.topic_id):
            state.topic_id, state.topic_title = record.id, record.title
        return self._compose(q, top, record, hits)

    def _named_service_first(self, q: ParsedQuery, hits: list[RecordHit]) -> list[RecordHit]:
        """A guide or FAQ of a service the question names comes before one of a service it does not name, when
        plausible itself: "结婚证丢了" names 结婚登记 (结婚证), and its FAQ on 补领 answers it, not 离婚登记's FAQ
        "结婚证丢了能协议离婚吗", which the learned order put first (0.82; one it is sure of stays first, as does a
        FAQ asked in its own words)."""
        top = hits[0] if hits else None
        if top is not None and top.kind == "policy":
            # "门诊慢特病" names the guide; the notice it is carried out under came first by a hair in the order,
            # though the guide is the more probable answer
            guide = next((h for h in hits[1:3] if h.kind == "guide" and h.features.get("title")
                          and h.score >= top.score), None)
            return hits if guide is None else [guide] + [h for h in hits if h is not guide]
        if (top is None or len(hits) < 2 or top.route == "faq"
                or top.features.get("order", 0.0) >= SURE_ORDER or self._names_its_service(q, top)):
            return hits
        named = next((h for h in hits[1:3] if h.kind != "policy" and h.score >= self.confirm_min(h.kind)
                      and self._names_its_service(q, h)), None)
        return hits if named is None else [named] + [h for h in hits if h is not named]

    def _names_its_service(self, q: ParsedQuery, hit: RecordHit) -> bool:
        service = self._service_record(hit.record_id, hit.kind)
        return service is not None and self._names_one_of(q, [(service.id, service.title)])

    def _list_also_asked(self, q: ParsedQuery, answer: Answer) -> list[dict]:
        """A message asking about two services ("身份证怎么补办，还有社保卡丢了咋办") is answered about one; a clause
        that asks about another service, names it by a word the one answered is not called by, and finds it
        plausibly on its own, gets that service listed first among the related ones, and the answer says how to
        ask about it: nothing the citizen asked is dropped. A clause that only qualifies ("低保户呢") asks no
        question of its own. (Notices are found for a passage, not a service: an answer quoting one is left as it is.)
        Returns the two services in the order the message asked about them (none when it asked about one)."""
        if not answer.answered or answer.citations[0].kind == "policy":
            return []
        cited = answer.citations[0]
        answered = self._service_record(cited.record_id, cited.kind)
        clauses = asking_clauses(q.text)
        if answered is None or len(clauses) < 2:
            return []
        lexicon = self.index.lexicon
        for place, clause in enumerate(clauses):
            words = content_words(clause, lexicon)
            own = self._naming_words(q, [(answered.id, answered.title)], words)
            if not any(self.retriever.guides_titled_with(w) - {answered.id} for w in words if len(w) >= 2
                       and w not in own):
                continue  # no other service's title is named: nothing to search for (a search costs ~30 ms)
            asked = understand(clause, self.retriever.vocabulary())  # it names a title: never empty
            if asked.aspect == "general" and not any(is_question_word(w) for w in lexicon.cut(clause)):
                continue
            hits = self.retriever.run(asked.search, top_k=3)
            top = hits[0] if hits else None
            if top is None or top.kind == "policy" or top.score < self.confirm_min(top.kind):
                continue
            service = self._service_record(top.record_id, top.kind)
            if service is None or service.id == answered.id or not (
                    self._naming_words(q, [(service.id, service.title)], words) - own):
                continue
            answer.suggestions = [{"record_id": service.id, "title": service.title, "kind": service.kind,
                                   "score": top.score}] + [s for s in answer.suggestions if s["record_id"] != service.id]
            said = language_data().pattern("enumerator").sub("", clause.split(":")[-1].strip())  # "两个事:2是办医保"
            answer.notices.append(f"您还问到《{service.title}》，以上没有回答；请接着问“{said}”。")
            services = [{"record_id": r.id, "kind": r.kind, "title": r.title} for r in (answered, service)]
            return services[::-1] if place == 0 else services
        return []

    def _answer_other_clauses(self, q: ParsedQuery, answer: Answer) -> None:
        """A message asking two things of one service ("失业金一个月能领多少 领几个月") answered by a FAQ on one
        of them gets the service's FAQ on the other as well, when a clause searched on its own finds it surely:
        each question of the message is answered. (A guide's answer covers each clause's aspect and detail from
        its own fields.)"""
        if not answer.answered or answer.citations[0].kind != "faq":
            return
        clauses = asking_clauses(q.text)
        service = self._service_record(answer.citations[0].record_id, "faq")
        if len(clauses) < 2 or service is None:
            return
        cited = {c.record_id for c in answer.citations}
        for clause in clauses:
            try:
                asked = understand(clause, self.retriever.vocabulary())
            except EmptyQuestion:
                continue
            # on its own: "要带啥" after "结婚证丢了" is the 补领 FAQ's, not what the marriage guide's FAQs say
            # of 要带 (and the guide, if named, may be first: its best FAQ is what the clause asks)
            top = next((h for h in self.retriever.run(asked.search, top_k=3)
                        if h.kind == "faq"), None)
            if (top is None or top.record_id in cited or top.score < self.answer_min("faq")
                    or self._service_of(top.record_id, top.kind) != service.id):
                continue
            faq = self.index.record(top.record_id)
            text, section = compose_faq(faq)
            _cite_also(answer, faq, section, top.score, text)
            cited.add(faq.id)

    def _answer_joined_service(self, q: ParsedQuery, answer: Answer) -> None:
        """An aspect asked of two services named side by side ("办护照和港澳通行证分别要多少钱"): the one answered,
        and the other's same field after it, cited [2]. The other is named by a word only its title holds, joined
        to the rest by `joined` (和, 跟, 、…): a service told of in a story ("办了居住证 现在想办护照") is not asked about."""
        if not answer.answered or answer.citations[0].kind != "guide" or q.aspect not in aspect_fields():
            return
        cited = {c.record_id for c in answer.citations}
        joined = language_data().source("joined")
        for w in q.content_words:
            titled = self.retriever.guides_titled_with(w) if len(w) >= 2 and not is_question_word(w) else set()
            if len(titled) != 1 or titled <= cited:
                continue
            at = q.text.find(w)
            before, after = q.text[:at].rstrip(), q.text[at + len(w):].lstrip()
            if not (re.search(f"(?:{joined})$", before) or re.match(f"(?:{joined})", after)):
                continue
            guide = self.index.record(titled.pop())
            text, section = compose_guide_aspects(guide, (q.aspect,))
            _cite_also(answer, guide, section, answer.citations[0].score, text.removesuffix(FOLLOW_UP_HINT).rstrip())
            return

    def _names_a_material(self, q: ParsedQuery, guide_id: str) -> bool:
        """Whether a word of the turn, or a synonym of it, is in the name of one of the guide's materials."""
        guide = self.index.record(guide_id)
        names = [normalize(m.name) for m in guide.materials] if isinstance(guide, ServiceGuide) else []
        lexicon = q.vocabulary.lexicon
        return any(v in name for w in q.content_words if len(w) >= 2 and not is_question_word(w)
                   for v in lexicon.variants(w) for name in names)

    def _basis_of_topic(self, record: ServiceGuide | Policy | FAQ, topic_id: str) -> bool:
        """Whether a policy is one the guide talked about is set by (设定依据): "我住的是单位宿舍" after 居住证 is
        answered by an article of the 居住证 measures, and "那要多久" after it still asks about the guide."""
        guide = self.index.record(topic_id) if topic_id else None
        return isinstance(record, Policy) and isinstance(guide, ServiceGuide) and any(
            normalize(record.title) in normalize(basis) for basis in guide.legal_basis)

    @staticmethod
    def _guide_for_aspect(q: ParsedQuery, top: RecordHit, hits: list[RecordHit]) -> RecordHit | None:
        """For a 材料/流程/费用… question first answered by a policy, a guide among the next candidates that is
        probable too (CLARIFY_ORDER_FLOOR in the learned order): its field answers it in full. A notice the learned
        order is sure of (SURE_ORDER) is what was asked about ("抵押权人应当在多长时间内申请注销" quotes the notice),
        unless the clause that asks names nothing but the aspect: a story's "…听说能领丧葬费和抚恤金 需要带什么材料"
        matches the notice's articles, and asks for the guide's list."""
        if q.aspect not in aspect_fields():
            return None
        if top.features.get("order", 1.0) >= SURE_ORDER and q.search.asking_subject_words:
            return None
        return next((h for h in hits[1:3] if h.kind == "guide"
                     and h.features.get("order", 0.0) >= CLARIFY_ORDER_FLOOR), None)

    def _service_of(self, record_id: str, kind: str) -> str:
        """The guide a record belongs to: itself, or a FAQ's guide ("" for a policy or a FAQ without one)."""
        return record_id if kind == "guide" else getattr(self.index.record(record_id), "related_guide", "")

    def _service_record(self, record_id: str, kind: str) -> ServiceGuide | Policy | FAQ | None:
        """The record that stands for a record's service: its guide, or itself (a policy, a FAQ without one)."""
        return self.index.record(self._service_of(record_id, kind) or record_id)

    def _pooled_service(self, top: RecordHit, others: list[RecordHit]) -> tuple[float, RecordHit | None]:
        """How probable the top record's service is with its records just below it, and the record that speaks
        for it: "看病的钱怎么报销" is only a plausible match for 医疗费用手工（零星）报销, but a sure one for its FAQ on
        when the money arrives; "养老保险转过来要多久啊" is 0.40 for the guide and 0.31 for its FAQ on how long a
        transfer takes. Each record's probability is that it answers if put first, and any of them answering
        means the service does, so they add up (sure: answered; plausible: put to the citizen to confirm). The
        record is the most probable one when it is plausible alone, else the guide: it covers the whole service,
        a FAQ only its special case. (0, None) when no other record of the service is among them."""
        service = self._service_of(top.record_id, top.kind)
        same = [top] + [h for h in others if service and self._service_of(h.record_id, h.kind) == service]
        if len(same) < 2:
            return 0.0, None
        best = max(same, key=lambda h: h.score)
        guide = next((h for h in same if h.kind == "guide"), best)
        return sum(h.score for h in same), best if best.score >= self.confirm_min(best.kind) else guide

    def _asked_in_story(self, q: ParsedQuery) -> str | None:
        """The guide a story asks about when its asking clause says nothing but an aspect: the one the story names
        last, by a word only its title holds. "我和我老公结婚十年了 现在感情不和想离婚 孩子归我 需要准备什么" is
        离婚登记's materials, however many words of the story (十年, 感情) no record uses. A story ending on another
        service's word names none ("灵活就业的人自己交职工医保 一个月多少钱": 医保, not the 灵活就业 pension guide), and
        a detail in the asking clause ("电动自行车上牌去哪上") is not answered so. (Only the first record found is
        answered so: put first whenever named last, it took "俩人商量好离婚了 可当年那本结婚证搬家弄丢了 咋办" to
        结婚登记.)"""
        if q.aspect not in aspect_fields() or q.search.asking_subject_words:
            return None
        if len(asking_clauses(q.text)) == len(clauses_of(q.text)):
            return None  # no story: the clauses that ask are all there is
        named = [titled for w in q.content_words if len(w) >= 2 and not is_question_word(w)
                 and (titled := self.retriever.guides_titled_with(w))]
        return next(iter(named[-1])) if named and len(named[-1]) == 1 else None

    def _only_service_probable(self, top: RecordHit, others: list[RecordHit]) -> bool:
        """In the learned order, every other probable record is of the top one's service: nothing to ask."""
        service = self._service_of(top.record_id, top.kind)
        probable = [h for h in others if h.features.get("order", 0.0) >= CLARIFY_ORDER_FLOOR]
        return bool(service) and "order" in top.features and bool(probable) and all(
            self._service_of(h.record_id, h.kind) == service for h in probable)

    @staticmethod
    def _ask_for_service(q: ParsedQuery, state: SessionState) -> Answer:
        """"在哪里办" with no service named and none talked about: any answer would be a guess. The aspect
        is kept, so that the service named next ("护照") is answered about where to go."""
        state.options, state.pending_aspect = [], q.aspect
        example = f"“居住证{q.text}”" if len(q.text) <= 12 else "“居住证要带什么材料”"
        return Answer("", "", "clarify", f"请问您要咨询哪项业务？请告诉我事项名称，例如{example}。", aspect=q.aspect)

    def _declined(self, state: SessionState) -> Answer:
        """"不是" to "您问的是《…》吗": none of the services offered is meant, so none is answered from; the
        question stays logged as not answered, and the citizen is asked to say it another way."""
        which = "这一项" if len(state.options) == 1 else "这几项"
        state.options, state.pending_aspect = [], "general"
        state.tentative_id = state.tentative_title = ""
        return Answer("", "", "clarify", f"好的，不是{which}。请换个说法告诉我您要办的事，例如“居住证要带什么材料”；"
                      f"也可以拨打政务服务便民热线 {self.hotline}。")

    @staticmethod
    def _ask_again(q: ParsedQuery, state: SessionState) -> Answer:
        """"要什么材料" while the services offered are still to be chosen from: ask for the choice again, and
        keep what was asked for the service chosen next."""
        if q.aspect != "general":
            state.pending_aspect = q.aspect
        listing = "\n".join(f"{o['n']}. {o['title']}" for o in state.options)
        return Answer("", "", "clarify", f"请先告诉我您咨询的是哪一项，回复序号即可：\n{listing}",
                      options=state.options, aspect=state.pending_aspect)

    def _ask_which(self, q: ParsedQuery, hits: list[RecordHit], state: SessionState, min_score: float,
                   template: str) -> Answer:
        """A clarifying question listing the plausible records, each FAQ followed by its guide (the FAQ
        covers one special case, the guide the service as a whole); the session remembers them for "1"/"2" replies."""
        listed: list[tuple[str, str, str]] = []
        # services before policies: the citizen chooses what to do; a record as probable as CLARIFY_ORDER_FLOOR
        # in the learned order is an option too
        for h in sorted(hits[:4], key=lambda h: h.kind == "policy"):
            if h.score < min_score and h.features.get("order", 0.0) < CLARIFY_ORDER_FLOOR:
                continue
            listed.append((h.record_id, h.title, h.kind))
            guide_id = getattr(self.index.record(h.record_id), "related_guide", "")
            guide = self.index.record(guide_id) if guide_id else None
            if guide is not None:
                listed.append((guide.id, guide.title, guide.kind))
        # a notice a listed guide is set by (设定依据) is no other choice: "买了套新房 公积金能取吗" is 购房提取
        guides = [rid for rid, _, kind in listed if kind == "guide"]
        listed = [item for item in listed if item[2] != "policy" or not any(
            self._basis_of_topic(self.index.record(item[0]), g) for g in guides)]
        unique = list(dict.fromkeys(listed))[:3]
        options = [{"n": n, "record_id": rid, "title": title, "kind": kind}
                   for n, (rid, title, kind) in enumerate(unique, start=1)]
        state.options, state.pending_aspect = options, q.aspect
        listing = "\n".join(f"{o['n']}. {o['title']}" for o in options)
        return Answer("", "", "clarify", template.format(listing=listing), options=options, aspect=q.aspect)

    def _hold_tentative(self, state: SessionState, record_id: str, kind: str) -> None:
        """Remember a service the assistant named but did not answer about, as its guide (a policy as itself)."""
        record = self._service_record(record_id, kind)
        if record is not None:
            state.tentative_id, state.tentative_title = record.id, record.title

    def _one_record_offered(self, options: list[dict]) -> bool:
        """One option, or a FAQ followed only by the guide it belongs to: no choice to put. (A guide followed by
        its FAQ is one: the FAQ may be the special case asked about, "外省缴存的公积金…能贷款吗".)"""
        guide = getattr(self.index.record(options[0]["record_id"]), "related_guide", "") if options else ""
        return len(options) == 1 or bool(guide) and all(o["record_id"] == guide for o in options[1:])

    def _affirm(self, q: ParsedQuery, hits: list[RecordHit], asked: Answer, state: SessionState) -> Answer:
        """One record offered is no choice: ask the citizen to confirm it instead (a reply naming nothing, "是",
        picks it; one asking more about it, "人在外地能检吗", is read about it). Unless the question names nothing
        of it: "房东不退押金" shares words with a FAQ on 租房提取, and "您问的是…吗" would put an unrelated service to
        the citizen; that is a refusal, which lists it among the related services."""
        if self._one_record_offered(asked.options):
            offered = asked.options[0]
            if not self._names_one_of(q, [(offered["record_id"], offered["title"])]):
                state.options, state.pending_aspect = [], "general"
                return self._refusal(q, hits)
            asked.options = state.options = asked.options[:1]
            self._hold_tentative(state, asked.options[0]["record_id"], asked.options[0]["kind"])
            asked.answer = (f"您问的是《{asked.options[0]['title']}》吗？是的话请回复“是”；不是的话，可以换个说法，"
                            f"或拨打政务服务便民热线 {self.hotline}。")
        return asked

    def _answer_only_option(self, q: ParsedQuery, hits: list[RecordHit], state: SessionState,
                            asked: Answer) -> Answer | None:
        """A clarifying question offering one record (a FAQ may come with its own guide) asks nothing: answer from
        it, saying that it is only the closest match. None when there is a choice, or when the question holds a word the
        knowledge base never uses ("二手车过户" is close to 二手房过户, but about something else). A city named
        ("广州市办护照…") is no such word: the answer says the knowledge base gives its own locality's rules.
        Nor a notice: it is found for a passage, not for a service, and one found with so little certainty is a
        guess at the passage (NCP colloquial dev: of those answered so, none right)."""
        record = self.index.record(asked.options[0]["record_id"]) if self._one_record_offered(asked.options) else None
        if record is not None and record.kind == "policy":
            return None
        text = q.search.text
        for place in [city for city, _ in q.jurisdictions] + [name for _, name, _ in places_named(text)]:
            text = text.replace(place, " ")  # "户口在四川那边": where the citizen is from, no other subject
        words = content_words(text, q.vocabulary.lexicon)
        if record is None or any(len(w) >= 2 and not is_question_word(w) and not q.vocabulary.knows(w) for w in words) \
                or self._rules_elsewhere(q, record):
            return None
        state.options, state.pending_aspect = [], "general"
        guide_id = record.id if record.kind == "guide" else getattr(record, "related_guide", "")
        guide = self.index.record(guide_id) if guide_id else None
        state.topic_id, state.topic_title = (guide.id, guide.title) if guide else (record.id, record.title)
        top = next((h for h in hits if h.record_id == record.id), None) or RecordHit(
            record.id, record.kind, record.title, self.confirm_min(record.kind), 0.0)
        return self._compose(q, top, record, hits, closest_match=True)

    def _names_one_of(self, q: ParsedQuery, records: list[tuple[str, str]]) -> bool:
        """Whether a content word of the question is part of the names of one of these (id, title) records,
        or a synonym of one."""
        return bool(self._naming_words(q, records))

    def _of_service(self, top: RecordHit, hits: list[RecordHit]) -> list[RecordHit]:
        """The top record and the others of its service (a guide's FAQs stay options beside it)."""
        service = self._service_of(top.record_id, top.kind)
        return [h for h in hits if h.record_id == top.record_id
                or (service and self._service_of(h.record_id, h.kind) == service)]

    def _named_alone(self, q: ParsedQuery, first: RecordHit, others: list[RecordHit],
                     words: list[str] | None = None) -> bool:
        """The question names the first record's service by a word none of the other services is called by,
        and names none of them so ("身份证弄丢了 户口在四川": 身份证, and nothing only 社保卡补换 is called by):
        there is nothing to choose."""
        service = self._service_of(first.record_id, first.kind)
        mine = self._naming_words(q, [(first.record_id, first.title)], words)
        for h in others:
            if service and self._service_of(h.record_id, h.kind) == service:
                continue
            theirs = self._naming_words(q, [(h.record_id, h.title)], words)
            if not mine - theirs or theirs - mine:
                return False
        return bool(mine)

    def _asks_alone_about(self, q: ParsedQuery, first: RecordHit, others: list[RecordHit]) -> bool:
        """The clauses that ask name the first record's service alone, though the story before them names
        another ("买了二手房 水电燃气怎么过户": the house is bought; what is asked is 水电气过户)."""
        asking = content_words(" ".join(asking_with_subject(q.text, self.index.lexicon)), self.index.lexicon)
        return self._named_alone(q, first, others, asking)

    def _naming_words(self, q: ParsedQuery, records: list[tuple[str, str]],
                      words: list[str] | None = None) -> set[str]:
        """The content words of the question (or these words of it) that are part of these (id, title) records'
        names, or synonyms."""
        names = []
        for record_id, title in records:
            record = self.index.record(record_id)
            names += [normalize(n) for n in (title, *getattr(record, "aliases", ()))]
        groups = {g for n in names for g in self.index.lexicon.synonym_groups(n)}
        return {w for w in (q.content_words if words is None else words) if len(w) >= 2
                and not is_question_word(w)  # "一年大概多少钱": a length of time, not 一年级入学
                and not any(w in place for place in q.places)  # "我在示例市打工": where, not which service
                and (any(w in n for n in names) or groups & set(self.index.lexicon.synonym_groups(w)))}

    def _should_clarify(self, q: ParsedQuery, hits: list[RecordHit]) -> bool:
        """Two guides of different services both answer, about as well, and the question names neither by
        its full name: "提取公积金要什么材料" (租房, 购房 or 销户提取?), "营业执照怎么办" (个体户 or 公司?)."""
        if not hits or hits[0].route == "faq" or hits[0].features.get("title"):
            return False
        if "order" in hits[0].features:  # the learned order: the two best guides, below anything but a sure FAQ or notice
            if hits[0].kind != "guide" and hits[0].score >= self.answer_min(hits[0].kind):
                return False  # a sure FAQ or notice is what was asked about
            guides = [h for h in hits[:4] if h.kind == "guide"]
            if len(guides) < 2 or hits[0].score < self.confirm_min(hits[0].kind):
                return False
            a, b = guides[0], guides[1]
            if a.score >= self.answer_min(a.kind) and b.score < CLARIFY_RUNNER_UP_MIN and not any(
                    {a.record_id, b.record_id} <= self.retriever.guides_titled_with(w) for w in q.content_words):
                # "孩子…想转到示例市来 要啥材料": 转学 is sure, 一年级入学 close in order but improbable; "提取公积金
                # 要什么材料" names a word both titles hold, and which withdrawal is for the citizen to say
                return False
            return (b.features.get("order", 0.0) >= CLARIFY_ORDER_FLOOR
                    and a.features.get("order", 0.0) - b.features.get("order", 0.0) < CLARIFY_ORDER_MARGIN)
        a = hits[0]
        others = [h for h in hits[1:4] if h.kind == "guide" and h.record_id != a.record_id]
        if a.kind != "guide" or not others:
            return False
        b = others[0]
        return (a.score >= self.answer_min(a.kind) and b.score >= self.answer_min(b.kind)
                and a.fused - b.fused < CLARIFY_MARGIN)

    def _compose(self, q: ParsedQuery, top: RecordHit, record, hits: list[RecordHit],
                 closest_match: bool = False) -> Answer:
        """The answer from the record; `closest_match`: it is only the closest, and the answer says so."""
        closest = max(top.chunks, key=lambda c: c.dense).chunk.text if top.chunks else ""  # closest in meaning
        overview_only = False  # "护照能加急吗": no sentence of the guide is about 加急, so its overview says so
        if isinstance(record, ServiceGuide):
            detail = None
            if q.aspect == "general" or (q.aspect == "fees" and asks_for_a_payment(record, q.text)):
                about = " ".join([q.text, *q.search.said])  # "我去帮他领行不": the sentence on 代办
                for place in q.places:  # where the citizen is, not the detail asked about
                    about = about.replace(place, " ")
                detail = compose_guide_detail(record, about, self.index.lexicon, q.vocabulary.idf, closest)
            asked = (q.aspect, *(a for a in q.aspects if a != q.aspect))  # "几天办好 户口页要自己去打吗"
            text, section = detail or compose_guide_aspects(record, asked)
            overview_only = (detail is None and q.aspect == "general"
                             and asks_a_detail(record, q.search.text, self.index.lexicon))
            if detail is None:
                more = compose_clause_details(record, asking_clauses(q.text), text, self.index.lexicon,
                                              q.vocabulary.idf)
                text = f"{text.removesuffix(FOLLOW_UP_HINT).rstrip()}\n{more}" if more else text
        elif isinstance(record, Policy):
            # the chunk retrieval ranked first, and the one closest in meaning to the question
            preferred = "\n".join(dict.fromkeys([top.chunks[0].chunk.text, closest])) if top.chunks else ""
            text, section = compose_policy(record, q.text, self.index.lexicon, q.vocabulary.idf, preferred,
                                           q.search.asking_tokens)
        else:
            text, section = compose_faq(record)
        citation = Citation.of(1, record, section, top.score)
        related = [{"record_id": h.record_id, "title": h.title, "kind": h.kind, "score": h.score}
                   for h in hits if h.record_id != record.id and h.score >= SUGGEST_MIN][:3]
        answer_text = f"{text} [1]"
        if self.phraser is not None:
            required = [m.name for m in record.materials] if isinstance(record, ServiceGuide) and q.aspect == "materials" else []
            phrased = self.phraser.phrase(q.text, {1: f"《{record.title}》{section}：{text}"}, required)
            if phrased:
                answer_text = phrased
        elsewhere = self._elsewhere(q, record)
        notices = [f"所引内容没有提到{'、'.join(elsewhere)}，仅供参考，请以当地规定为准。"] if elsewhere else []
        if closest_match:
            notices.append(f"没有找到与问题完全对应的内容，以上是最接近的《{record.title}》，仅供参考；"
                           "如果不是您要问的，请换个说法。")
        elif overview_only:
            notices.append(f"办事指南里没有与您所问细节直接对应的说明，以上是《{record.title}》的基本信息；"
                           f"具体情况请拨打政务服务便民热线 {self.hotline} 咨询。")
        return Answer("", "", "answered", answer_text, citations=[citation], suggestions=related, notices=notices,
                      aspect=q.aspect)

    @staticmethod
    def _elsewhere(q: ParsedQuery, record: ServiceGuide | Policy | FAQ) -> list[str]:
        """Provinces and cities the question names ("广州市办护照…") that are neither places of this knowledge
        base nor in the record answering it: the answer gives local rules, and the citizen should know."""
        if q.places:
            return []  # "浙江省的社保卡能在示例市用吗" asks about here
        body = normalize(full_text(record)) if q.jurisdictions else ""
        return [full for full, name in q.jurisdictions if name not in body]

    def _rules_elsewhere(self, q: ParsedQuery, record: ServiceGuide | Policy | FAQ) -> list[str]:
        """Places whose rules the question asks about ("北京现在低保标准多少") that a record declaring where it
        applies (适用地区; a FAQ: its guide's) neither applies to nor mentions: its rules are another locality's,
        and answering with them would mislead. A record that declares no region (a notice in a corpus of many
        places' notices, which often says only "本市") is never judged so."""
        if not q.places_elsewhere:
            return []
        guide = self.index.record(record.related_guide) if isinstance(record, FAQ) and record.related_guide else None
        region = record.region or (guide.region if guide is not None else "")
        if not region:
            return []
        body = normalize(region + full_text(record))
        return [name for name, short in q.places_elsewhere if short not in body]

    def _refusal(self, q: ParsedQuery, hits: list[RecordHit], elsewhere: list[str] | None = None) -> Answer:
        near = [{"record_id": h.record_id, "title": h.title, "kind": h.kind, "score": h.score}
                for h in hits if h.score >= SUGGEST_MIN and h.kind != "faq"][:3]
        text = "抱歉，知识库中没有找到能回答这个问题的内容，为避免误导，暂不作答。"
        if elsewhere:
            places = "、".join(elsewhere)
            text = (f"抱歉，知识库中没有找到{places}的相关规定（找到的是别处的），为避免误导，暂不作答。"
                    f"{places}的规定请向当地政务服务部门咨询。")
        if near:
            text += f"\n{'知识库中的' if elsewhere else '您可以看看这些'}相关事项：" + "、".join(f"《{n['title']}》" for n in near) + "。"
        text += f"\n如需人工帮助，请拨打政务服务便民热线 {self.hotline}。您的问题已记录，我们会据此完善服务。"
        return Answer("", "", "refused", text, suggestions=near, aspect=q.aspect)


def _cite_also(answer: Answer, record: ServiceGuide | FAQ, section: str, score: float, text: str) -> None:
    """A second question of the message answered by another record: its text after the first, cited [n]."""
    n = len(answer.citations) + 1
    answer.citations.append(Citation.of(n, record, section, score))
    answer.answer += f"\n{text} [{n}]"
