"""A turn read in its conversation: whether "那要多少钱", "不是本地户口呢" or "医保怎么办" asks about the service
talked about, another one it names, or an option the last reply offered; and the records it is answered from."""

from __future__ import annotations

from typing import Callable

from assistant.compose import full_text
from assistant.conversation import FOLLOW_UP_MAX_CHARS, SessionState
from assistant.service_names import ServiceReader
from indexing.retriever import RecordHit
from knowledge.models import FAQ
from language.data import language_data
from language.text import normalize
from language.understanding import ParsedQuery, content_words, is_question_word, said_plainly

OWN_FAQ_POOL, OWN_FAQ_COVERAGE = 20, 0.3  # a follow-up's own words must be in the FAQ, not only the service's
# a turn this sure on its own of a record of another service is not read in the conversation (sample colloquial
# dev conversations: 0.9 moves two turns right and none wrong; the answer threshold, about 0.6, moved four of
# them wrong, short ones such as "周末上班不" and "孩子5岁 有效期几年")
ALONE_MIN = 0.9
ELSEWHERE_ORDER = 0.5  # a turn asking an aspect is not read in the conversation when another service is this probable


class FollowUps(ServiceReader):
    def retrieve(self, q: ParsedQuery, state: SessionState) -> tuple[list[RecordHit], RecordHit | None]:
        """The turn's candidates, and the record chosen for it when the conversation settles it (an option
        picked): the turn on its own, or read about the service talked about when it follows up on it."""
        picked = self.picked_option(q, state)
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
            names_topic = self.services.names_one_of(q, [(topic_id, topic_title)])
            instead = None if names_topic else self._with_situation(q, hits, topic_id, topic_title, self.confirm_min)
            other = hits[0] if hits and hits[0].score >= self.answer_min(hits[0].kind) \
                and self.services.service_of(hits[0].record_id, hits[0].kind) != topic_id else None
            if instead or other is not None:
                q.aspect = state.asked_aspect
            if instead:
                return instead, None
            if other is not None and other.features.get("title"):
                return hits, None  # "那年检呢" after 新车上牌: 年检 is the short name of another guide
        elif topic_id and not self.services.names_one_of(q, [(topic_id, topic_title)]) \
                and (instead := self._with_situation(q, hits, topic_id, topic_title, self.answer_min)):
            return instead, None  # "医保怎么办" after 出生登记 is 新生儿医保, though the 出生登记 guide speaks of 医保
        follow_up = (topic_id and len(q.text) <= FOLLOW_UP_MAX_CHARS
                     and (q.asks_if_required or q.asks_of_a_kind or q.asks_if_qualifies
                          or self._tells_of_the_topic(q, hits, topic_id) or self._tells_its_case(q, hits, topic_id)
                          or not (hits and hits[0].record_id in self.retriever.named_in(q.text)
                                  and self.services.service_of(hits[0].record_id, hits[0].kind) != topic_id)
                          and (self._answered_unnamed(q, hits, topic_id)
                               or not self._answered_elsewhere(q, hits, topic_id)
                               and (q.starts_like_follow_up and self._known_words_only(q)
                                    or self._within_topic(q, topic_id) or self._only_in_context(q, hits, topic_id)
                                    or self._found_first(hits, topic_id)))))
        if not follow_up:
            return hits, None
        # a figure asked for ("能贷几年") is quoted from the guide sentence that gives it (see compose)
        own = None
        if q.aspect == "general" and self.services.names_a_material(q, topic_id) and (
                q.asks_if_required or q.asks_instead and not self.services.names_one_of(q, [(topic_id, topic_title)])):
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
            if top is not None and self.services.service_of(top.record_id, top.kind) == topic_id \
                    and top.score >= self.confirm_min(top.kind):
                # the conversation is evidence too: a plausible record of the service talked about answers
                top.score = max(top.score, self.answer_min(top.kind))
            return hits, None
        own.score = max(own.score, self.answer_min(own.kind))
        return [own] + [h for h in hits if h.record_id != own.record_id], own

    def picked_option(self, q: ParsedQuery, state: SessionState) -> dict | None:
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
        naming = {o["record_id"]: len(self.services.naming_words(q, [(o["record_id"], o["title"])])) for o in state.options}
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
        guides = {self.services.service_of(o["record_id"], o["kind"]) for o in state.options}
        guide = self.index.record(guides.pop()) if len(guides) == 1 else None
        return {"record_id": guide.id, "kind": guide.kind, "title": guide.title} if guide else None

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
            service = self.services.service_record(hit.record_id, hit.kind)
            if service is None or service.id == topic_id or hit.kind == "policy" or not self.services.names_its_service(q, hit):
                continue
            shared = [w for w in lexicon.words(normalize(service.title)) if len(w) >= 2 and w in topic
                      and self.services.names_a_family(w)]
            if not shared:
                continue
            about = self.retriever.run(q.search_about(" ".join(dict.fromkeys(shared))), top_k=5)
            first = next((h for h in about if self.services.service_of(h.record_id, h.kind) != topic_id), None)
            if first is not None and self.services.service_of(first.record_id, first.kind) == service.id \
                    and first.score >= floor(first.kind):
                return [first] + [h for h in about if self.services.service_of(h.record_id, h.kind) not in (topic_id,
                                                                                                 service.id)]
        return None

    def _tells_of_the_topic(self, q: ParsedQuery, hits: list[RecordHit], topic_id: str) -> bool:
        """A turn that asks nothing and says the citizen has (or lacks) what names the service its own search finds
        first (`follow_up.holds`) tells the citizen's own case: "她户口不在这 有居住证" after 老年人优待证 is not about
        居住证申领, nor "她有退休金 一个月一千二" after 低保 about 退休 (though the 低保 guide speaks only of 收入);
        "我还要办居住证" and "我想办护照" are."""
        record = self.index.record(topic_id)
        other = self.services.service_record(hits[0].record_id, hits[0].kind) if hits else None
        if record is None or other is None or other.id == topic_id \
                or language_data().pattern("asking").search(q.text):
            return False
        words = self.services.naming_words(q, [(other.id, other.title)])
        holds = language_data().pattern("follow_up.holds")
        return bool(words) and all(holds.search(q.text[:max(q.text.find(w), 0)]) for w in words)

    def _tells_its_case(self, q: ParsedQuery, hits: list[RecordHit], topic_id: str) -> bool:
        """A turn that asks nothing, finds nothing of its own worth offering, and says a word the service talked
        about uses tells the citizen's case: "我名下有辆车 十万左右" after 公租房 (whose conditions limit what is
        in a family's 名下), "我退休了 跟儿子住在上海" after 异地就医备案 (its 异地安置退休人员)."""
        record = self.index.record(topic_id)
        if record is None or language_data().pattern("asking").search(q.text) \
                or hits and hits[0].score >= self.confirm_min(hits[0].kind):
            return False
        body, lexicon = normalize(full_text(record)), q.vocabulary.lexicon
        return any(v in body for w in q.content_words if len(w) >= 2 and not is_question_word(w)
                   for v in lexicon.variants(w))

    def _picks_within_a_family(self, q: ParsedQuery, top: RecordHit) -> bool:
        """Whether the turn's first record is one of several guides titled with the word the turn names, chosen
        among them by the ranking alone: "公积金呢" after 退休 is 销户提取 (its title says 退休), not the 购房提取
        the word on its own puts first."""
        service = self.services.service_of(top.record_id, top.kind)
        return any(len(self.retriever.guides_titled_with(w)) >= 2 and service in self.retriever.guides_titled_with(w)
                   for w in q.content_words if len(w) >= 2 and not is_question_word(w))

    def _answered_elsewhere(self, q: ParsedQuery, hits: list[RecordHit], topic_id: str) -> bool:
        """Whether the turn on its own is answered, by another service than the one talked about, that it names:
        "孩子是在外地医院生的 户口能上到示例市吗" after 新生儿医保 is answered by a FAQ of 出生登记 (户口), though every
        word of it is in the 医保 guide too; "多久能批下来" after 临时救助 is not 低保's FAQ "低保多久能批下来"."""
        top = hits[0] if hits else None
        return (top is not None and top.score >= ALONE_MIN
                and self.services.service_of(top.record_id, top.kind) != topic_id and self.services.names_its_service(q, top))

    def _answered_unnamed(self, q: ParsedQuery, hits: list[RecordHit], topic_id: str) -> bool:
        """Whether the turn on its own would be answered by another service that it does not name: words any
        service shares ("钱打到哪" after 生育津贴 finds 零星报销's FAQ on where its money goes; "房东不给签咋整"
        after 居住证, the FAQ on renting without a contract for 公积金) say less than the conversation does."""
        top = hits[0] if hits else None
        return (top is not None and top.score >= self.answer_min(top.kind) and top.kind != "policy"
                and self.services.service_of(top.record_id, top.kind) != topic_id
                and not self.services.names_its_service(q, top) and not self.retriever.named_in(q.text))

    def _found_first(self, hits: list[RecordHit], topic_id: str) -> bool:
        """Whether the turn's own search puts the service talked about first, too unsure to answer on its own:
        "检测要多少钱" after 年检 (检测 is a word no record uses) is about 年检. (A turn answered on its own keeps its
        own record: "录取结果在哪看" after 入学报名 gets the FAQ on it.)"""
        top = hits[0] if hits else None
        return (top is not None and top.score < self.answer_min(top.kind)
                and self.services.service_of(top.record_id, top.kind) == topic_id)

    def _only_in_context(self, q: ParsedQuery, hits: list[RecordHit], topic_id: str) -> bool:
        """A short turn that on its own would be refused, names no record, and holds only words the knowledge
        base uses, is read in the conversation: "我是他孙子 能帮他办不" after 高龄津贴 asks about 高龄津贴. Not one
        asking an aspect of something its own search finds another service more probable than not for: "公司想换
        法人 变更登记要啥材料" after 小学入学 asks about a company, and the refusal names 公司设立登记. (A statement
        stays in the story: "我是灵活就业 自己交的医保" after 生育津贴.)"""
        top = hits[0] if hits else None
        if top is not None and (top.score >= self.answer_min(top.kind) or self.retriever.named_in(q.text)
                                or self.services.names_its_service(q, top) and (
                                    top.score >= self.confirm_min(top.kind)
                                    or q.aspect != "general" and top.features.get("order", 0.0) >= ELSEWHERE_ORDER
                                    and self.services.service_of(top.record_id, top.kind) != topic_id)):
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
        asking = said_plainly(q.search.asking_text)  # "钱打到哪个卡上" asks in the records' word: 账户
        if not any(len(w) >= 2 and not is_question_word(w) for w in lexicon.words(asking)):
            asking = said_plainly(q.search.text)
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
                   and (len(w) < 2 or about_it or own(w) or self.services.names_only(w, topic_id))
                   for w, variants in words.items())
