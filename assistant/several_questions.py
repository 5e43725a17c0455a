"""Several questions in one message: each is answered, or listed with how to ask it. "身份证怎么补办，还有社保卡
丢了咋办" names two services; "失业金一个月能领多少 领几个月" asks two things of one; "办护照和港澳通行证分别要多少钱"
asks one aspect of two services side by side."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from assistant.compose import FOLLOW_UP_HINT, Citation, compose_faq, compose_guide_aspects
from assistant.service_names import ServiceReader
from knowledge.models import FAQ, ServiceGuide
from language.aspects import aspect_fields
from language.data import language_data
from language.question import EmptyQuestion
from language.understanding import ParsedQuery, asking_clauses, content_words, is_question_word, understand

if TYPE_CHECKING:
    from assistant.service import Answer


class SeveralQuestions(ServiceReader):
    def list_also_asked(self, q: ParsedQuery, answer: Answer) -> list[dict]:
        """A message asking about two services ("身份证怎么补办，还有社保卡丢了咋办") is answered about one; a clause
        that asks about another service, names it by a word the one answered is not called by, and finds it
        plausibly on its own, gets that service listed first among the related ones, and the answer says how to
        ask about it: nothing the citizen asked is dropped. A clause that only qualifies ("低保户呢") asks no
        question of its own. (Notices are found for a passage, not a service: an answer quoting one is left as it is.)
        Returns the two services in the order the message asked about them (none when it asked about one)."""
        if not answer.answered or answer.citations[0].kind == "policy":
            return []
        cited = answer.citations[0]
        answered = self.services.service_record(cited.record_id, cited.kind)
        clauses = asking_clauses(q.text)
        if answered is None or len(clauses) < 2:
            return []
        lexicon = self.index.lexicon
        for place, clause in enumerate(clauses):
            words = content_words(clause, lexicon)
            own = self.services.naming_words(q, [(answered.id, answered.title)], words)
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
            service = self.services.service_record(top.record_id, top.kind)
            if service is None or service.id == answered.id or not (
                    self.services.naming_words(q, [(service.id, service.title)], words) - own):
                continue
            answer.suggestions = [{"record_id": service.id, "title": service.title, "kind": service.kind,
                                   "score": top.score}] + [s for s in answer.suggestions if s["record_id"] != service.id]
            said = language_data().pattern("enumerator").sub("", clause.split(":")[-1].strip())  # "两个事:2是办医保"
            answer.notices.append(f"您还问到《{service.title}》，以上没有回答；请接着问“{said}”。")
            services = [{"record_id": r.id, "kind": r.kind, "title": r.title} for r in (answered, service)]
            return services[::-1] if place == 0 else services
        return []

    def answer_other_clauses(self, q: ParsedQuery, answer: Answer) -> None:
        """A message asking two things of one service ("失业金一个月能领多少 领几个月") answered by a FAQ on one
        of them gets the service's FAQ on the other as well, when a clause searched on its own finds it surely:
        each question of the message is answered. (A guide's answer covers each clause's aspect and detail from
        its own fields.)"""
        if not answer.answered or answer.citations[0].kind != "faq":
            return
        clauses = asking_clauses(q.text)
        service = self.services.service_record(answer.citations[0].record_id, "faq")
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
                    or self.services.service_of(top.record_id, top.kind) != service.id):
                continue
            faq = self.index.record(top.record_id)
            text, section = compose_faq(faq)
            cite_also(answer, faq, section, top.score, text)
            cited.add(faq.id)

    def answer_joined_service(self, q: ParsedQuery, answer: Answer) -> None:
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
            cite_also(answer, guide, section, answer.citations[0].score, text.removesuffix(FOLLOW_UP_HINT).rstrip())
            return


def cite_also(answer: Answer, record: ServiceGuide | FAQ, section: str, score: float, text: str) -> None:
    """A second question of the message answered by another record: its text after the first, cited [n]."""
    n = len(answer.citations) + 1
    answer.citations.append(Citation.of(n, record, section, score))
    answer.answer += f"\n{text} [{n}]"
