"""Finding life events (一件事) in citizens' words: the situations an event's record names (适用情形, its title
and aliases) are what a question about it says ("孩子出生了", "老人去世了", "开个小饭馆"), so the phrasings are
learned from the records, never written into code; the words that ask for the whole chain ("要办哪些手续",
"都要跑哪些部门") are data too (`life_events.whole_chain` in patterns.yml).

Events are kept beside the search index, not in it: they state nothing of their own, so they never compete
with their guides for a single-service question ("身份证丢了怎么补办" is not an event).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indexing.index import KnowledgeIndex
from knowledge.life_events import situation_phrases, states
from knowledge.models import LifeEvent, ServiceGuide
from language.data import language_data
from language.text import normalize
from language.understanding import content_words, is_question_word, said_plainly


@dataclass(frozen=True)
class EventMatch:
    event: LifeEvent
    words: tuple[str, ...]      # the words of the situation found in the question
    whole_chain: bool           # the question asks what all is to be done ("要办哪些手续")
    names_service: bool         # the situation found is itself a service's name ("办退休", "孩子上学")
    names_step: bool            # the rest of the question names a service of the event ("…他的公积金咋取")
    other_service: bool         # the rest of the question names a service outside the event ("…高龄津贴…")
    says_more: int              # how many words of its own besides the situation and services ("…个税按多少交")

    @property
    def asks_for_event(self) -> bool:
        """Whether the event, not one service, answers: a situation stated alone ("老人去世了怎么办"), or a
        situation asked about as a whole chain (its own services may be named: "社保公积金这些一起办吗"); never when
        the question names a service outside the event."""
        if self.other_service:
            return False
        if self.whole_chain:
            return True
        return not (self.names_service or self.names_step or self.says_more)


# A question asking for a whole chain ("手续有哪些") whose situation no phrasing states word for word is matched
# by meaning: the closest phrasing (E5, the query prompt on both sides, as for symmetric tasks) from this cosine
# up. Fitted on the dev split of eval/data/life_events.jsonl and the sample gold questions (see README).
SIMILAR_MIN = 0.905   # dev: the lowest event question 0.911, the highest other question asking "哪些…" 0.896
# ...and only when no service the question names by a word of its name ("开公司" → 开公司, "户口" → 迁户口到示例市) is
# closer in meaning than that phrasing, less this margin: "开公司要办哪些手续" means 开公司 (0.953), not 开餐馆 (0.927).
SERVICE_MARGIN = 0.01  # dev: the by-meaning event questions −0.003 and +0.9 from the closest named service; others ≤ −0.019


class LifeEventIndex:
    """The events of an index generation, their situations as words, and the names of the guides."""

    def __init__(self, index: KnowledgeIndex) -> None:
        self.index = index
        self._generation: int | None = None
        self._events: list[LifeEvent] = []
        self._phrases: list[tuple[LifeEvent, tuple[str, ...]]] = []
        self._guide_names: dict[str, list[str]] = {}
        self._vectors: tuple[list[LifeEvent], np.ndarray] | None = None   # every phrasing, by meaning

    def _fresh(self) -> None:
        generation = self.index.generation()
        if generation == self._generation:
            return
        records = self.index.records()
        lexicon = self.index.lexicon
        self._events = [r for r in records if isinstance(r, LifeEvent)]
        self._guide_names = {r.id: [n for n in (normalize(x) for x in (r.title, *r.aliases)) if len(n) >= 2]
                             for r in records if isinstance(r, ServiceGuide)}
        self._phrases = [(event, words) for event in self._events for words in situation_phrases(event, lexicon)]
        self._vectors = None
        self._generation = generation

    def events(self) -> list[LifeEvent]:
        self._fresh()
        return list(self._events)

    def get(self, event_id: str) -> LifeEvent | None:
        return next((e for e in self.events() if e.id == event_id), None)

    def with_guide(self, guide_id: str) -> list[LifeEvent]:
        """The events one of whose steps is this guide."""
        return [e for e in self.events() if any(s.guide == guide_id for s in e.steps)]

    def find(self, text: str) -> EventMatch | None:
        """The event whose situation the question states most fully (every word of one of its phrasings in the
        question; the longest such phrasing wins); failing that, for a question asking for a
        whole chain, the event one of whose phrasings means the same (SIMILAR_MIN), or None."""
        self._fresh()
        q = said_plainly(normalize(text))  # "我妈上个月走了" states 妈去世
        lexicon = self.index.lexicon
        chain = language_data().pattern("life_events.whole_chain")
        best: tuple[int, LifeEvent, tuple[str, ...]] | None = None
        for event, words in self._phrases:
            if states(words, q):
                size = sum(map(len, words))
                if best is None or size > best[0]:
                    best = (size, event, words)
        rest = chain.sub(" ", q)
        said = [w for w in content_words(rest, lexicon) if len(w) >= 2 and not is_question_word(w)]
        if best is None:
            # "要办什么证" asks for a whole chain but states no situation: no event means the same
            similar = self.similar(q) if chain.search(q) and said else None
            if similar is None or similar[1] < max(SIMILAR_MIN, self._closest_named_service(q) - SERVICE_MARGIN):
                return None
            best = (0, similar[0], ())
        _, event, words = best
        stated = {w for e, phrase in self._phrases if e.id == event.id and states(phrase, q) for w in phrase}
        context = lexicon.data.words("life_context") | lexicon.data.words("aspect")  # 我要, 想办: no detail asked
        words_left = [w for w in said if w not in context and not self._part_of_situation(w, stated)]
        inside, outside = self._services_named(words_left, {s.guide for s in event.steps})
        own = [w for w in words_left if not any(w in n for names in self._guide_names.values() for n in names)]
        return EventMatch(event, words, whole_chain=bool(chain.search(q)),
                          names_service=bool(words) and any(all(w in name for w in words)
                                                            for names in self._guide_names.values() for name in names),
                          names_step=inside, other_service=outside, says_more=len(own))

    def similar(self, text: str) -> tuple[LifeEvent, float] | None:
        """The event with the phrasing closest in meaning to the question, and the cosine."""
        self._fresh()
        if not self._events:
            return None
        if self._vectors is None:
            phrasings = [(e, p) for e in self._events for p in (e.title, *e.aliases, *e.situations)]
            vectors = self.index.embedder.embed_passages([p for _, p in phrasings], kind="query")
            self._vectors = ([e for e, _ in phrasings], np.asarray(vectors))
        owners, vectors = self._vectors
        scores = vectors @ np.asarray(self.index.embedder.embed_passages([text], kind="query"))[0]
        best = int(np.argmax(scores))
        return owners[best], float(scores[best])

    def _closest_named_service(self, text: str) -> float:
        """The cosine of the question to the closest name of a guide that one of its words is part of (0 if none):
        only those, so that a knowledge base of thousands of guides embeds a few names, not all of them."""
        words = [w for w in content_words(text, self.index.lexicon) if len(w) >= 2 and not is_question_word(w)]
        names = sorted({n for names in self._guide_names.values() for n in names if any(w in n for w in words)})
        if not names:
            return 0.0
        embedder = self.index.embedder
        vectors = np.asarray(embedder.embed_passages(names, kind="query"))
        return float(np.max(vectors @ np.asarray(embedder.embed_passages([text], kind="query"))[0]))

    def _part_of_situation(self, word: str, stated: set[str]) -> bool:
        """"出生" and "刚出生" say the situation; "残疾证" holds "残疾" but names a service."""
        if any(word in s for s in stated):
            return True
        return any(s in word for s in stated) and not any(word in n for names in self._guide_names.values()
                                                          for n in names)

    def _services_named(self, words: list[str], steps: set[str]) -> tuple[bool, bool]:
        """Whether the words (those of the question besides the situation: "残疾" of 孩子残疾 is no service,
        "残疾证" is) name a service of the event's steps, and whether one names only services outside them."""
        inside = outside = False
        for w in words:
            guides = {g for g, names in self._guide_names.items() if any(w in name for name in names)}
            inside |= bool(guides & steps)
            outside |= bool(guides) and not guides & steps
        return inside, outside

    @staticmethod
    def asks_what_else(text: str) -> bool:
        """"还要办别的证吗": what else there is to do besides the service just answered (`life_events.what_else`)."""
        return bool(language_data().pattern("life_events.what_else").search(normalize(text)))

    def asks_only_whole_chain(self, text: str) -> bool:
        """"还要办别的证吗", "都要跑哪些部门": what all is to be done (`life_events.whole_chain`), and nothing else
        ("我爸妈都要办 我一个人能帮他们一起办吗" asks 一起办 of one service, for two people)."""
        chain = language_data().pattern("life_events.whole_chain")
        q = normalize(text)
        rest = content_words(chain.sub(" ", q), self.index.lexicon)
        return bool(chain.search(q)) and not any(len(w) >= 2 and not is_question_word(w) for w in rest)

    @staticmethod
    def step_number(text: str) -> int | None:
        """"第二步", "第3项": the number of the step asked about, or None."""
        data = language_data()
        number = data.pattern("life_events.step_number").search(normalize(text))
        if number is None:
            return None
        digit = number.group(1)
        return int(digit) if digit.isdigit() else data.source("life_events.digits").index(digit) + 1

    def steps_named(self, event: LifeEvent, text: str) -> list[int]:
        """The steps (1-based) a follow-up names best: by its number ("第二步") or by words of its guide's names
        or its own ("落户要带什么" → 出生登记（新生儿落户）); several when named equally ("执照怎么办" in 开办餐饮店,
        whose 个体工商户 and 公司 steps both give a 营业执照); none when it names none."""
        number = self.step_number(text)
        if number is not None:
            return [number]
        q = normalize(text)
        self._fresh()
        words = [w for w in content_words(q, self.index.lexicon) if len(w) >= 2 and not is_question_word(w)]
        if self._services_named(words, {s.guide for s in event.steps})[1]:
            return []            # "办残疾证…" after 出生: another service, not a step of this event
        scores = [max(sum(len(w) for w in words if w in name)
                      for name in [normalize(step.name), *self._guide_names.get(step.guide, [])])
                  for step in event.steps]
        best = max(scores, default=0)
        return [n for n, score in enumerate(scores, 1) if best and score == best]
