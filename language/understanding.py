"""`understand(text, vocabulary) -> ParsedQuery`: everything the assistant reads from one turn of a citizen,
once. Retrieval, the dialogue, answer composition and the hotline console take what this returns;
nothing downstream parses the question again.

Two readings of the same text serve two purposes, and are named apart:
- `SearchQuery` is what retrieval needs: the text with mistyped words read as meant, its tokens without
  the knowledge base's place names, the aspect asked, the words left once the aspect wording is set aside;
- `ParsedQuery` adds what the dialogue needs from the cleaned question: its words that could name a
  service, the cues of a follow-up, the places and jurisdictions named, the figure asked, an option number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from language.aspects import (aspects_asked, asks_about_document, detect_aspect, quantities_asked,
                              without_aspect_wording)
from language.data import language_data
from language.lexicon import Lexicon
from language.question import MAX_QUESTION_CHARS, clean_question
from language.regions import places_named, regions_in, short_name
from language.spelling import Everyday, abbreviations, misspellings, mistyped_names, separated_words
from language.text import normalize


@dataclass(frozen=True)
class Vocabulary:
    """What a knowledge base contributes to reading a question: its places, the tokens it uses (with their
    rarity) and the government words a mistyped sound may stand for. The retriever builds one per index
    generation."""

    lexicon: Lexicon
    places: frozenset[str]
    sounds: dict[str, str]          # pinyin key → the one known word with that sound
    idf: dict[str, float]           # every token the knowledge base uses → its rarity
    initials: dict[str, str]        # pinyin initials → the word meant (sfz → 身份证)
    names: frozenset[str]           # words services are named with: the lexicon's and those of guides' names
    everyday: dict[str, str]        # pinyin key → an everyday word the knowledge base uses often (缴税, 预约)
    name_masks: dict[str, str] = field(default_factory=dict)  # services' names, one character masked (港澳通?证)

    def seen(self, pair: str) -> bool:
        """Whether the knowledge base has this character pair (pairs never indexed count as seen)."""
        return f"§{pair}" in self.idf or not self.lexicon.bigrams(pair)

    def knows(self, word: str) -> bool:
        """Whether the knowledge base uses the word, or a synonym group holds it, or the word is only a wrong cut:
        a word the knowledge base uses and a function character glued together ("这交" of "能在这交吗", "钱会" of
        "钱会打到…"), each of its characters known or a function character, one at least a function character."""
        if word in self.idf or self.lexicon.synonym_groups(word):
            return True
        function = self.lexicon.function_chars
        return len(word) == 2 and any(c in function for c in word) and all(
            c in function or c in self.idf for c in word)


@dataclass(frozen=True)
class SearchQuery:
    """A text as retrieval reads it."""

    original: str                   # as given
    text: str                       # normalised, mistyped words read as meant
    typos: tuple[tuple[str, str], ...]   # (typed, meant)
    places: tuple[str, ...]         # the knowledge base's places it names: they filter records, they are no topic
    tokens: tuple[str, ...]         # BM25 tokens of the text without those places
    dense_text: str                 # what is embedded: the text with its synonym groups' canonical wordings
    aspect: str                     # 材料, 流程, 费用 … or "general"
    subject_words: tuple[str, ...]  # the words left once aspect wording and aspect filler are set aside
    subject_tokens: frozenset[str] | None  # tokens a guide field must cover for an aspect question
    about_document: bool            # 文号, 发文机关, 哪天施行
    figures: frozenset[str]         # kinds of figure asked for: amount, duration
    contrasts: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]  # (side named, side excluded)
    asking_tokens: frozenset[str] = frozenset()  # tokens of the clauses that ask (a story's question, not its story)
    regions: frozenset[str] = frozenset()  # adcode prefixes of the provinces, cities and districts it names
    detail_tokens: frozenset[str] = frozenset()  # tokens once the aspect wording and its filler are set aside
    asking_text: str = ""           # the clauses that ask, as embedded for a second, focused dense search
    said: tuple[str, ...] = ()      # words it asks in other wordings ("帮他领" says 代办; a story's are only searched)
    asking_subject_words: tuple[str, ...] = ()  # subject_words of the clauses that ask ("…居住证怎么办" → 居住证)


@dataclass
class ParsedQuery:
    """One turn of a citizen, read once."""

    raw_length: int
    text: str                       # cleaned, masked, courtesy set aside: what is searched and logged
    aspect: str                     # of the text as typed (the dialogue may carry one over from a clarification)
    notices: list[str]
    aspects: tuple[str, ...]        # every aspect asked, in the order asked ("几天办好 户口页要自己去打吗")
    search: SearchQuery
    vocabulary: Vocabulary
    content_words: list[str]        # words that could name a service: none means "about the same thing"
    figures: frozenset[str]
    places: list[str]               # the knowledge base's places named, longest first
    jurisdictions: list[tuple[str, str]]  # provinces and cities named ("广州市", "广州")
    places_elsewhere: list[tuple[str, str]]  # other places whose rules it asks about ("北京现在低保标准多少")
    starts_like_follow_up: bool     # "那…", "还有…"
    asks_instead: bool              # "医保呢", "我是买房的": the same question, about another thing
    asks_if_required: bool          # "需要带身份证吗": whether the service talked about needs a document
    asks_of_a_kind: bool            # "能办临时的吗": a kind of the thing talked about (临时身份证), not 临时救助
    asks_if_qualifies: bool         # "买的二手房可以吗": whether what they have meets the service's conditions
    declines: bool                  # "不是", "都不对": none of what was offered
    about_residence: bool           # "不是本地户口呢": a circumstance of the asker, not a service
    option_number: int | None = field(default=None)  # "2", "第2个", "先说第二个": which of the things listed

    @property
    def typos(self) -> tuple[tuple[str, str], ...]:
        return self.search.typos

    def terms_to_mark(self) -> list[str]:
        """Words of the question worth marking in a passage, with the other wordings of their synonym groups,
        longest first."""
        lexicon = self.vocabulary.lexicon
        words = {w for w in lexicon.words(self.text) if len(w) >= 2}
        words |= {w for g in lexicon.synonym_groups(self.text) for w in lexicon.groups[g] if len(w) >= 2}
        return sorted(words, key=len, reverse=True)

    def search_about(self, title: str) -> SearchQuery:
        """The question read together with the service it follows up on ("护照 那要多少钱")."""
        return read_search_text(f"{title} {self.text}", self.vocabulary)


def read_search_text(text: str, vocabulary: Vocabulary, spelling: bool = True) -> SearchQuery:
    """A text as retrieval reads it; `spelling=False` leaves mistyped words as typed (to measure the step)."""
    lexicon = vocabulary.lexicon
    q = normalize(text)
    fixes = (abbreviations(q, vocabulary.initials, vocabulary.knows)
             + separated_words(q, vocabulary.names.__contains__, vocabulary.idf.__contains__)
             + misspellings(q, vocabulary.sounds, vocabulary.seen,
                             Everyday(vocabulary.everyday, lexicon.dictionary_cut, lexicon.is_word,
                                      lexicon.within_words))) if spelling else []
    q, fixes = _read_as_meant(q, fixes, vocabulary.places)
    if spelling:  # a long name one character off, read once the other typos are: "港澳通信证"
        q, names = _read_as_meant(q, mistyped_names(q, vocabulary.name_masks, lexicon.is_word), vocabulary.places)
        fixes += names
    named_places = [p for p in vocabulary.places if p in q]
    lexical_q = q
    for p in sorted(named_places, key=len, reverse=True):
        lexical_q = lexical_q.replace(p, " ")  # a district filters records; it is not a topic word
    aspect = aspect_asked(q)
    subject = subject_words(q, lexicon)
    spoken = words_said(q)
    said = spoken + names_cut_apart(q, vocabulary) + names_said_object_first(q, vocabulary)
    clauses = asking_clauses(lexical_q)
    told = set(spoken) - set(words_said(" ".join(clauses)))  # "我爸上个月走了": the story's, not asked
    asked_said = [w for w in said if w not in told]
    asking = " ".join(clauses + asked_said)
    detail = lexicon.tokens(_subject_text(" ".join([lexical_q, *asked_said]), lexicon))
    lexical_q = " ".join([lexical_q, *said])
    return SearchQuery(
        original=text, text=q, typos=tuple(fixes), places=tuple(named_places),
        tokens=tuple(lexicon.tokens(lexical_q)), dense_text=lexicon.expand(q if fixes else text, tuple(said)),
        aspect=aspect,
        subject_words=tuple(subject),
        subject_tokens=frozenset(detail) if aspect != "general" else None, detail_tokens=frozenset(detail),
        about_document=asks_about_document(q),
        figures=quantities_asked(q), contrasts=tuple(lexicon.excluded_by(q)),
        asking_tokens=frozenset(lexicon.tokens(asking)), regions=regions_in(q), asking_text=asking,
        said=tuple(asked_said), asking_subject_words=tuple(subject_words(asking, lexicon)))


def _read_as_meant(text: str, fixes: list[tuple[str, str]], places: frozenset[str]
                   ) -> tuple[str, list[tuple[str, str]]]:
    """The text with each (typed, meant) pair read as meant, and the pairs kept: not a typo cutting into a place
    the text names."""
    named = [p for p in places if p in text]
    kept = [(typed, meant) for typed, meant in fixes if not _cuts_into(text, typed, named)]
    for typed, meant in kept:
        text = text.replace(typed, meant)
    return text, kept


def _cuts_into(text: str, typed: str, places: list[str]) -> bool:
    """Whether a typo read in `text` overlaps a place it names: "想挂示例市的牌子" holds no 挂失."""
    spans = [(m.start(), m.start() + len(p)) for p in places for m in re.finditer(re.escape(p), text)]
    return any(start < end_p and start_p < start + len(typed)
               for start in (m.start() for m in re.finditer(re.escape(typed), text)) for start_p, end_p in spans)


def words_said(normalized: str) -> list[str]:
    """The words a question says in other wordings (`said_as` in patterns.yml) and does not use itself:
    "我去帮他领行不" says 代办, the word the records use."""
    data = language_data()
    table = data.section("said_as", {})
    return [word for word in table if word not in normalized and data.pattern(f"said_as.{word}").search(normalized)]


def names_cut_apart(normalized: str, vocabulary: Vocabulary) -> list[str]:
    """Words services are named with that the question holds but its segmentation cuts apart: "孩子明年上一年级"
    is cut 上一年|级, and 一年级 is a word of 小学一年级入学; or said with a 的 inside (`inside_name`): "临时的救助"."""
    cut = set(vocabulary.lexicon.words(normalized))
    inside = language_data().pattern("inside_name").finditer(normalized)
    texts = [normalized] + [normalized[:m.start()] + normalized[m.end():] for m in inside]
    spans = {text[i:i + n] for text in texts for n in range(3, 9) for i in range(len(text) - n + 1)}
    return sorted(w for w in spans & vocabulary.names if w not in cut and not is_question_word(w))


def names_said_object_first(normalized: str, vocabulary: Vocabulary) -> list[str]:
    """Words services are named with, said object first (`object_first` in patterns.yml): "户口咋上" says
    上户口, "户口还要去销吗" 销户口. The object is read two characters long, else one."""
    found = []
    for m in language_data().pattern("object_first").finditer(normalized):
        verb = m.group("verb") or m.group("verb_asked")
        for size in (2, 1):
            joined = verb + normalized[max(m.end("object") - size, 0):m.end("object")]
            if len(joined) == size + 1 and joined in vocabulary.names and joined not in normalized:
                found.append(joined)
                break
    return found


def said_plainly(normalized: str) -> str:
    """The question with each other wording of a word (`said_as`) replaced by the word: "能让别人代开吗" →
    "能代办吗", whose words the records use (代开 is none of theirs). Where the pattern names a group `said`, only
    that group is the wording and the rest the context it must stand in: "公积金能取出来吗" → "公积金能提取吗"."""
    data = language_data()

    def replaced(match: re.Match, word: str) -> str:
        if "said" not in match.re.groupindex:
            return word
        start, end = match.span("said")
        return match.group(0)[: start - match.start()] + word + match.group(0)[end - match.start():]

    for word in data.section("said_as", {}):
        normalized = data.pattern(f"said_as.{word}").sub(lambda m, w=word: replaced(m, w), normalized)
    return normalized


def aspect_asked(text: str) -> str:
    """The aspect of the clauses that ask, else of the whole message: "居住证的材料交上去了，大概几天能拿证" tells
    of the materials and asks how long."""
    return next((a for a in map(detect_aspect, (" ".join(asking_clauses(text)), text)) if a != "general"), "general")


def clauses_of(text: str) -> list[str]:
    """The clauses of a message, split at its pauses (`clause_break`)."""
    return [c for c in language_data().pattern("clause_break").split(text) if c.strip()]


def asking_clauses(text: str) -> list[str]:
    """The clauses of a message that ask something (`asking` in patterns.yml): "我在外地读书回不来，换身份证
    能让我妈替我去办不" asks only its second clause. All of it when no clause asks."""
    asking = language_data().pattern("asking")
    clauses = clauses_of(text)
    asked = [c for c in clauses if asking.search(c)]
    return asked or clauses or [text]


def asking_with_subject(text: str, lexicon: Lexicon) -> list[str]:
    """The clauses that ask, with the clause before them when they name nothing themselves: in
    "在外地领的结婚证 现在想在示例市离婚 能办吗" what 能办吗 asks about is 离婚."""
    asked = asking_clauses(text)
    if any(len(w) >= 2 and not is_question_word(w) for w in content_words(" ".join(asked), lexicon)):
        return asked
    clauses = clauses_of(text)
    first = clauses.index(asked[0]) if asked[0] in clauses else 0
    return clauses[first - 1:first] + asked


def understand(raw: str, vocabulary: Vocabulary, max_chars: int = MAX_QUESTION_CHARS) -> ParsedQuery:
    """Raises EmptyQuestion for input with nothing to answer (its message is the reply)."""
    data, lexicon = language_data(), vocabulary.lexicon
    clean = clean_question(raw, max_chars)
    text = clean.text
    jurisdiction = data.pattern("jurisdiction")
    asks_instead = bool(data.pattern("follow_up.instead").match(text))
    return ParsedQuery(
        raw_length=clean.raw_length, text=text, aspect=aspect_asked(text), notices=list(clean.notices),
        aspects=aspects_asked(text),
        search=read_search_text(text, vocabulary), vocabulary=vocabulary,
        content_words=content_words(said_plainly(text), lexicon), figures=quantities_asked(text),
        places=sorted({p for p in vocabulary.places if p in normalize(text)}, key=len, reverse=True),
        jurisdictions=[(m.group(0), m.group(1)) for m in map(jurisdiction.fullmatch, dict.fromkeys(lexicon.cut(text)))
                       if m],
        places_elsewhere=places_asked_about(text, vocabulary),
        starts_like_follow_up=bool(data.pattern("follow_up.start").match(text)),
        asks_instead=asks_instead,
        asks_if_required=bool(data.pattern("follow_up.requires").match(text)),
        asks_of_a_kind=bool(data.pattern("follow_up.kind").match(text)) and not asks_instead,
        asks_if_qualifies=bool(data.pattern("follow_up.qualifies").match(text)),
        declines=bool(data.pattern("follow_up.decline").match(text)),
        about_residence=bool(data.pattern("follow_up.residence").search(text)),
        option_number=option_number(text))


def option_number(text: str) -> int | None:
    """The number of an option or listed question the text picks: all of it ("2", "第2个") or an ordinal in it
    ("先说第二个 要交多少钱")."""
    data = language_data()
    whole = data.pattern("follow_up.option_number").fullmatch(text)
    if whole:
        return int(whole.group(1))
    said = data.pattern("follow_up.ordinal").search(text)
    if said is None:
        return None
    numeral = said.group(1)
    return int(numeral) if numeral.isdigit() else data.section("follow_up.ordinal_values").get(numeral)


def places_asked_about(text: str, vocabulary: Vocabulary) -> list[tuple[str, str]]:
    """(name, short name) of each place outside the knowledge base whose rules a clause asks about: the place
    opens the clause ("北京现在低保标准多少", "上海落户积分要多少分"). Not where the asker comes from ("四川户口…",
    `elsewhere.origin` in patterns.yml), is ("在深圳上班…") or goes ("去香港玩…"), and nothing when the text
    also names this knowledge base's places or says "here" (`elsewhere.here`)."""
    data = language_data()
    normalized = normalize(text)
    if any(p in normalized for p in vocabulary.places) or data.pattern("elsewhere.here").search(normalized):
        return []
    lead, origin = data.pattern("elsewhere.lead"), data.pattern("elsewhere.origin")
    found = []
    for clause in data.pattern("clause_break").split(normalized):
        start = lead.match(clause).end()
        for at, name, _ in places_named(clause):
            if at == start and not origin.match(clause[at + len(name):]):
                found.append((name, short_name(name)))
    return list(dict.fromkeys(found))


def subject_words(normalized: str, lexicon: Lexicon) -> list[str]:
    """The words of a question left once its aspect wording, filler (tags `aspect` and `stop`: "我们想离婚" leaves
    离婚) and question words ("要什么材料" leaves 什么) are set aside."""
    filler = lexicon.data.words("aspect") | lexicon.data.words("stop")
    return [w for w in lexicon.cut(without_aspect_wording(normalized))
            if len(w) >= 2 and w not in filler and not is_question_word(w)]


def _subject_text(normalized: str, lexicon: Lexicon) -> str:
    """The question without its aspect wording and filler: what a guide's field must cover, since
    its 办理时限 answers "多久能拿到" without ever using those words."""
    text = without_aspect_wording(normalized)
    for w in sorted(lexicon.data.words("aspect"), key=lambda w: (-len(w), w)):  # longest first, the same every run
        text = text.replace(w, " ")
    return text


def content_words(text: str, lexicon: Lexicon) -> list[str]:
    """Words that could name a service: what is left once the aspect wording, where the asker lives, words
    that name no service (tag `generic`) and lone function characters (tag `function_char`) are set aside."""
    data = lexicon.data
    generic, function_chars = data.words("generic"), data.words("function_char")
    residence = data.pattern("follow_up.residence")
    return [w for w in lexicon.words(residence.sub(" ", without_aspect_wording(text)))
            if w not in generic and not (len(w) == 1 and w in function_chars)]


def is_question_word(word: str) -> bool:
    """"几年", "多少", "每个月", "72": words that ask rather than name; no record has to use them."""
    return bool(language_data().pattern("follow_up.question_word").match(word))
