"""Life situations in refused questions: "孩子出生了要办哪些证" and "公司不开了怎么注销" ask for a package of
services (一件事), not one guide. Grouped by the situation they name, editors see which event packages
citizens ask for — those the knowledge base has (its life events' situations, titles and aliases) and those it
has not yet (`life_situations` in patterns.yml, each with the phrasings that name it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from knowledge.life_events import situation_phrases, states
from knowledge.loaders import load_knowledge_base
from knowledge.models import LifeEvent
from language.data import language_data
from language.lexicon import Lexicon
from language.text import normalize


@dataclass(frozen=True)
class LifeSituation:
    label: str
    phrases: tuple[tuple[str, ...], ...]     # each phrasing as its words
    event_id: str = ""                       # the knowledge base's life event for it; "" when it has none yet

    def named_in(self, text: str) -> int:
        """How much of the text its best phrasing covers (0: not named)."""
        q = normalize(text)
        return max((sum(map(len, words)) for words in self.phrases if states(words, q)), default=0)


def life_situations(kb_dir: Path, lexicon: Lexicon) -> list[LifeSituation]:
    """The knowledge base's life events, then the situations it has no event for yet."""
    events = [r for r in load_knowledge_base(kb_dir).records if isinstance(r, LifeEvent)]
    found = [LifeSituation(e.title, tuple(situation_phrases(e, lexicon)), e.id) for e in events]
    try:
        wanted = language_data().section("life_situations") or {}
    except KeyError:             # a lexicon folder without the section: only the events' own situations
        wanted = {}
    for label, phrasings in wanted.items():
        phrases = tuple(tuple(w for w in lexicon.cut(normalize(p)) if w not in lexicon.stopwords) for p in phrasings)
        found.append(LifeSituation(label, tuple(p for p in phrases if p)))
    return found


def situation_of(text: str, situations: list[LifeSituation]) -> LifeSituation | None:
    """The situation a message names most fully, or None."""
    scored = [(s.named_in(text), n) for n, s in enumerate(situations)]
    best = max(scored, default=(0, -1))
    return situations[best[1]] if best[0] else None
