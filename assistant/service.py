"""The assistant: question in, grounded answer (or honest refusal, or a clarifying question) out.

Decisions use the retriever's score, the probability that the record answers the question (indexing.learned),
and the thresholds fitted with it (the constants below when the learned decision is switched off):
- answered: the top record scores at least the answer threshold;
- clarify:  the top two are different services, both plausible and close, and the question names neither;
            or the best match is only plausible (confirm ≤ score < answer): we ask before answering
            (and say that nothing matched exactly when no word of the question is in the services' names);
            a question that would offer one option is answered from it, with a notice that it is the closest match;
- refused:  nothing plausible; the reply says so, suggests near services, gives the hotline.
Every question is logged (masked); refused ones are the demand signal. A turn is first read in its conversation
(assistant.follow_ups); the other questions of a message are answered or listed after the decision
(assistant.several_questions); both tell services apart by their names (assistant.service_names).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from assistant.compose import (FOLLOW_UP_HINT, Citation, asks_a_detail, asks_for_a_payment, compose_clause_details,
                               compose_faq, compose_guide_aspects, compose_guide_detail, compose_policy, full_text)
from assistant.conversation import ConversationStore, SessionState, SessionStore
from assistant.demand_log import DemandLog
from assistant.follow_ups import FollowUps
from assistant.life_events import LifeEvents
from assistant.llm import LLMPhraser
from assistant.service_names import ServiceNames
from assistant.several_questions import SeveralQuestions
from indexing.index import KnowledgeIndex
from indexing.retriever import HybridRetriever, RecordHit
from indexing.scorers import RetrievalConfig
from knowledge.models import FAQ, Policy, ServiceGuide
from language.aspects import aspect_fields
from language.question import MAX_QUESTION_CHARS
from language.regions import places_named
from language.text import normalize
from language.understanding import (ParsedQuery, asking_clauses, clauses_of, content_words,
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
TENTATIVE_MIN = 0.2  # a refusal's first suggestion this probable is what a follow-up naming nothing is read about


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
        self.services = ServiceNames(index, self.retriever)
        self.follow_ups = FollowUps(self.services, self.answer_min, self.confirm_min)
        self.several = SeveralQuestions(self.services, self.answer_min, self.confirm_min)

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
        elif not self.retriever.unknown_schemes(q.search) and (event := self.events.answer(q, state)) is not None:
            # a scheme no service is named for is no step of the event ("消防许可也要办吗" is not its 食品经营许可)
            hits, answer = [], event
        elif not state.topic_id and not state.tentative_id and not state.options and names_nothing:
            hits, answer = [], self._ask_for_service(q, state)
        elif state.options and names_nothing and self.follow_ups.picked_option(q, state) is None:
            hits, answer = [], self._ask_again(q, state)
        else:
            tentative = "" if state.topic_id else state.tentative_title
            hits, chosen = self.follow_ups.retrieve(q, state)
            answer = self.events.offer(self._decide(q, hits, chosen, state), q, state)
            # "先说第2个" keeps the list for "第一个呢"
            listed = self.several.list_also_asked(q, answer) or (state.listed if q.option_number is not None else [])
            self.several.answer_other_clauses(q, answer)
            self.several.answer_joined_service(q, answer)
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
            named_alone = self.services.named_alone(q, top, hits[1:4]) or self.services.asks_alone_about(q, top, hits[1:4])
            if not (named_alone and top.score >= answer_min):
                choices = self.services.of_service(top, hits) if named_alone else hits
                # "户口本丢了怎么补办" is close to 身份证 and 社保卡 补领, but asks about neither: say so
                named = self.services.names_one_of(q, [(h.record_id, h.title) for h in hits[:3]])
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
        elif chosen is None and top is not None and top.score < answer_min and self._asked_in_story(q, top):
            top = replace(top, score=answer_min)
        if chosen is None and top is not None and confirm_min <= top.score < answer_min:
            choices = self.services.of_service(top, hits) if self.services.named_alone(q, top, hits[1:4]) else hits
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
        elif not self.services.basis_of_topic(record, state.topic_id):
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
                or top.features.get("order", 0.0) >= SURE_ORDER or self.services.names_its_service(q, top)):
            return hits
        named = next((h for h in hits[1:3] if h.kind != "policy" and h.score >= self.confirm_min(h.kind)
                      and self.services.names_its_service(q, h)), None)
        return hits if named is None else [named] + [h for h in hits if h is not named]

    @staticmethod
    def _guide_for_aspect(q: ParsedQuery, top: RecordHit, hits: list[RecordHit]) -> RecordHit | None:
        """For a 材料/流程/费用… question first answered by a policy, a guide among the next candidates that is
        probable too (CLARIFY_ORDER_FLOOR in the learned order): its field answers it in full. A notice the learned
        order is sure of (SURE_ORDER) is what was asked about ("抵押权人应当在多长时间内申请注销" quotes the notice),
        unless the clause that asks names nothing but the aspect: a story's "…听说能领丧葬费和抚恤金 需要带什么材料"
        matches the notice's articles, and asks for the guide's list. Whether a case qualifies (办理条件) is not
        swapped: "带押过户 买方和卖方的贷款银行不是一家 可以办吗" is the notice's article on 不同银行, not the list of
        the transfer guide's conditions."""
        if q.aspect not in aspect_fields() or q.aspect == "conditions":
            return None
        if top.features.get("order", 1.0) >= SURE_ORDER and q.search.asking_subject_words:
            return None
        return next((h for h in hits[1:3] if h.kind == "guide"
                     and h.features.get("order", 0.0) >= CLARIFY_ORDER_FLOOR), None)

    def _pooled_service(self, top: RecordHit, others: list[RecordHit]) -> tuple[float, RecordHit | None]:
        """How probable the top record's service is with its records just below it, and the record that speaks
        for it: "看病的钱怎么报销" is only a plausible match for 医疗费用手工（零星）报销, but a sure one for its FAQ on
        when the money arrives; "养老保险转过来要多久啊" is 0.40 for the guide and 0.31 for its FAQ on how long a
        transfer takes. Each record's probability is that it answers if put first, and any of them answering
        means the service does, so they add up (sure: answered; plausible: put to the citizen to confirm). The
        record is the most probable one when it is plausible alone, else the guide: it covers the whole service,
        a FAQ only its special case. (0, None) when no other record of the service is among them."""
        service = self.services.service_of(top.record_id, top.kind)
        same = [top] + [h for h in others if service and self.services.service_of(h.record_id, h.kind) == service]
        if len(same) < 2:
            return 0.0, None
        best = max(same, key=lambda h: h.score)
        guide = next((h for h in same if h.kind == "guide"), best)
        return sum(h.score for h in same), best if best.score >= self.confirm_min(best.kind) else guide

    def _asked_in_story(self, q: ParsedQuery, top: RecordHit) -> bool:
        """Whether the top guide is the one a story asks about when its asking clause says nothing but an aspect:
        the one the story names last, by a word only its title holds, or one its search put first among the guides
        that word titles ("身份证被偷了 补一个多少钱": 身份证 titles 申领 and 换领、补领; the search reads 补 and 被偷).
        "我和我老公结婚十年了 现在感情不和想离婚 孩子归我 需要准备什么" is 离婚登记's materials, however many words of
        the story (十年, 感情) no record uses. A story ending on another service's word names none ("灵活就业的人自己交
        职工医保 一个月多少钱": 医保, not the 灵活就业 pension guide), and a detail in the asking clause ("电动自行车上牌
        去哪上") is not answered so. (Only the first record found is answered so: put first whenever named last, it
        took "俩人商量好离婚了 可当年那本结婚证搬家弄丢了 咋办" to 结婚登记.)"""
        if q.aspect not in aspect_fields() or q.search.asking_subject_words:
            return False
        if len(asking_clauses(q.text)) == len(clauses_of(q.text)):
            return False  # no story: the clauses that ask are all there is
        named = [titled for w in q.content_words if len(w) >= 2 and not is_question_word(w)
                 and (titled := self.retriever.guides_titled_with(w))]
        return bool(named) and top.record_id in named[-1]

    def _only_service_probable(self, top: RecordHit, others: list[RecordHit]) -> bool:
        """In the learned order, every other probable record is of the top one's service: nothing to ask."""
        service = self.services.service_of(top.record_id, top.kind)
        probable = [h for h in others if h.features.get("order", 0.0) >= CLARIFY_ORDER_FLOOR]
        return bool(service) and "order" in top.features and bool(probable) and all(
            self.services.service_of(h.record_id, h.kind) == service for h in probable)

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
            self.services.basis_of_topic(self.index.record(item[0]), g) for g in guides)]
        unique = list(dict.fromkeys(listed))[:3]
        options = [{"n": n, "record_id": rid, "title": title, "kind": kind}
                   for n, (rid, title, kind) in enumerate(unique, start=1)]
        state.options, state.pending_aspect = options, q.aspect
        listing = "\n".join(f"{o['n']}. {o['title']}" for o in options)
        return Answer("", "", "clarify", template.format(listing=listing), options=options, aspect=q.aspect)

    def _hold_tentative(self, state: SessionState, record_id: str, kind: str) -> None:
        """Remember a service the assistant named but did not answer about, as its guide (a policy as itself)."""
        record = self.services.service_record(record_id, kind)
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
            if not self.services.names_one_of(q, [(offered["record_id"], offered["title"])]):
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
            paid = q.aspect == "fees" and asks_for_a_payment(record, q.text)  # what the citizen is paid
            if q.aspect == "general" or paid:
                about = " ".join([q.text, *q.search.said])  # "我去帮他领行不": the sentence on 代办
                for place in q.places:  # where the citizen is, not the detail asked about
                    about = about.replace(place, " ")
                detail = compose_guide_detail(record, about, self.index.lexicon, q.vocabulary.idf, closest,
                                              q.search.asking_tokens)
            asked = (q.aspect, *(a for a in q.aspects if a != q.aspect))  # "几天办好 户口页要自己去打吗"
            if paid and detail is None:
                asked = ("general",)  # "护理补贴一个月多少钱" of a guide naming no sum: not its 收费标准 (不收费)
            text, section = detail or compose_guide_aspects(record, asked)
            overview_only = detail is None and (paid or q.aspect == "general"
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
        if schemes := self.retriever.unknown_schemes(q.search):
            # "技能提升补贴怎么领": say what the knowledge base lacks, for the citizen and for the editors reading the log
            text = f"抱歉，知识库中还没有关于“{'、'.join(schemes)}”的办事指南或政策，为避免误导，暂不作答。"
        if elsewhere:
            places = "、".join(elsewhere)
            text = (f"抱歉，知识库中没有找到{places}的相关规定（找到的是别处的），为避免误导，暂不作答。"
                    f"{places}的规定请向当地政务服务部门咨询。")
        if near:
            text += f"\n{'知识库中的' if elsewhere else '您可以看看这些'}相关事项：" + "、".join(f"《{n['title']}》" for n in near) + "。"
        text += f"\n如需人工帮助，请拨打政务服务便民热线 {self.hotline}。您的问题已记录，我们会据此完善服务。"
        return Answer("", "", "refused", text, suggestions=near, aspect=q.aspect)

