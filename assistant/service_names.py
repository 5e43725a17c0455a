"""Which service a record is of, and what a question calls it: the words of services' names (titles, aliases,
their synonyms) that the assistant reads to tell services apart, in a turn, a clarification or a conversation."""

from __future__ import annotations

from typing import Callable

from indexing.index import KnowledgeIndex
from indexing.retriever import HybridRetriever, RecordHit
from knowledge.models import FAQ, Policy, ServiceGuide
from language.text import normalize
from language.understanding import ParsedQuery, asking_with_subject, content_words, is_question_word


class ServiceNames:
    def __init__(self, index: KnowledgeIndex, retriever: HybridRetriever) -> None:
        self.index = index
        self.retriever = retriever

    def service_of(self, record_id: str, kind: str) -> str:
        """The guide a record belongs to: itself, or a FAQ's guide ("" for a policy or a FAQ without one)."""
        return record_id if kind == "guide" else getattr(self.index.record(record_id), "related_guide", "")

    def service_record(self, record_id: str, kind: str) -> ServiceGuide | Policy | FAQ | None:
        """The record that stands for a record's service: its guide, or itself (a policy, a FAQ without one)."""
        return self.index.record(self.service_of(record_id, kind) or record_id)

    def naming_words(self, q: ParsedQuery, records: list[tuple[str, str]],
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

    def names_one_of(self, q: ParsedQuery, records: list[tuple[str, str]]) -> bool:
        """Whether a content word of the question is part of the names of one of these (id, title) records,
        or a synonym of one."""
        return bool(self.naming_words(q, records))

    def names_its_service(self, q: ParsedQuery, hit: RecordHit) -> bool:
        service = self.service_record(hit.record_id, hit.kind)
        return service is not None and self.names_one_of(q, [(service.id, service.title)])

    def names_a_family(self, word: str) -> bool:
        """Whether a word of guides' titles names a family of services (新生儿, 住房公积金), not a kind of act
        that many are (登记 titles a fifth of the sample guides): at most a tenth of the guides are titled with it."""
        return len(self.retriever.guides_titled_with(word)) <= max(2, self.retriever.guide_count() // 10)

    def names_only(self, word: str, guide_id: str) -> bool:
        """Whether the word is in no guide's title but, if any, this guide's."""
        named = self.retriever.guides_titled_with(word)
        return not named or guide_id in named

    def names_a_material(self, q: ParsedQuery, guide_id: str) -> bool:
        """Whether a word of the turn, or a synonym of it, is in the name of one of the guide's materials."""
        guide = self.index.record(guide_id)
        names = [normalize(m.name) for m in guide.materials] if isinstance(guide, ServiceGuide) else []
        lexicon = q.vocabulary.lexicon
        return any(v in name for w in q.content_words if len(w) >= 2 and not is_question_word(w)
                   for v in lexicon.variants(w) for name in names)

    def basis_of_topic(self, record: ServiceGuide | Policy | FAQ, topic_id: str) -> bool:
        """Whether a policy is one the guide talked about is set by (设定依据): "我住的是单位宿舍" after 居住证 is
        answered by an article of the 居住证 measures, and "那要多久" after it still asks about the guide."""
        guide = self.index.record(topic_id) if topic_id else None
        return isinstance(record, Policy) and isinstance(guide, ServiceGuide) and any(
            normalize(record.title) in normalize(basis) for basis in guide.legal_basis)

    def of_service(self, top: RecordHit, hits: list[RecordHit]) -> list[RecordHit]:
        """The top record and the others of its service (a guide's FAQs stay options beside it)."""
        service = self.service_of(top.record_id, top.kind)
        return [h for h in hits if h.record_id == top.record_id
                or (service and self.service_of(h.record_id, h.kind) == service)]

    def named_alone(self, q: ParsedQuery, first: RecordHit, others: list[RecordHit],
                    words: list[str] | None = None) -> bool:
        """The question names the first record's service by a word none of the other services is called by,
        and names none of them so ("身份证弄丢了 户口在四川": 身份证, and nothing only 社保卡补换 is called by):
        there is nothing to choose."""
        service = self.service_of(first.record_id, first.kind)
        mine = self.naming_words(q, [(first.record_id, first.title)], words)
        for h in others:
            if service and self.service_of(h.record_id, h.kind) == service:
                continue
            theirs = self.naming_words(q, [(h.record_id, h.title)], words)
            if not mine - theirs or theirs - mine:
                return False
        return bool(mine)

    def asks_alone_about(self, q: ParsedQuery, first: RecordHit, others: list[RecordHit]) -> bool:
        """The clauses that ask name the first record's service alone, though the story before them names
        another ("买了二手房 水电燃气怎么过户": the house is bought; what is asked is 水电气过户)."""
        asking = content_words(" ".join(asking_with_subject(q.text, self.index.lexicon)), self.index.lexicon)
        return self.named_alone(q, first, others, asking)


class ServiceReader:
    """What reads a turn against the services (assistant.follow_ups, assistant.several_questions): their names,
    the index and retriever behind them, and the assistant's thresholds for a record of a kind put first."""

    def __init__(self, services: ServiceNames, answer_min: Callable[[str], float],
                 confirm_min: Callable[[str], float]) -> None:
        self.services = services
        self.index = services.index
        self.retriever = services.retriever
        self.answer_min = answer_min
        self.confirm_min = confirm_min
