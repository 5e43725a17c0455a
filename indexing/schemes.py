"""Schemes a question asks about by name that the knowledge base has no record of.

"技能提升补贴怎么领", "居留许可怎么办", "大病保险起付线是多少": each names a scheme (a subsidy, a permit, an
insurance) that no record's name, alias or FAQ phrasing holds, though a record mentions its words in passing (a
policy lists 计划生育奖励扶助金 among the incomes 低保 does not count). What a record mentions in passing it does not
answer, so such a question is not answered from it. A scheme is read as the word that ends in a head of
`scheme_heads` (knowledge/lexicon/patterns.yml) with the word before it ("提升补贴"), or one word that is both
("养老保险"). It is known when a name holds it, said in synonyms' first wordings or by sound (高领津贴 is 高龄津贴
mistyped), when its other words are a service's whole name ("低保补助" is what 低保 pays), or when one name holds
its other words just before a head of the same family ("生育补贴": 生育津贴; "火化补贴": 火化费减免).
A question whether there is one ("老年人换智能手机有补贴吗", the words between as `scheme_exists` says) asks about
the word before them ("智能手机补贴"); that a record says so in one sentence is known too: "参加职业培训的，按规定享受
职业培训补贴" answers "参加职业培训有补贴吗", though no name holds it.

The names are the service catalogue: a knowledge base of notices alone (no guide) has none to check against,
and there nothing is read as unknown.
"""

from __future__ import annotations

import re
from functools import cached_property

from indexing.tables import RecordTables
from language.documents import split_sentences
from language.lexicon import Lexicon
from language.text import normalize, pinyin_key

_HAN = re.compile(r"[\u4e00-\u9fff]+")
CACHED_TEXTS = 1024


class SchemeCatalogue:
    """The names of one index generation's services and FAQs, and the schemes a text names beyond them."""

    def __init__(self, tables: RecordTables, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        data = lexicon.data
        self.families = [tuple(family) for family in data.section("scheme_heads", [])]
        self.heads = sorted({h for family in self.families for h in family}, key=len, reverse=True)
        self.fillers = data.words("stop") | data.words("generic") | data.words("aspect")
        self.exists = data.pattern("scheme_exists")
        self._chunks = tables.chunks
        has_services = bool(tables.is_guide.any())
        texts = set()
        if has_services:
            for meta in tables.meta.values():
                texts |= meta.names | meta.phrasings | {normalize(meta.title)}
            texts |= {w for group in lexicon.groups for w in group}
        self.whole = frozenset(texts)
        self.names = sorted(texts | {lexicon.canonical(t) for t in texts})
        self._unknown: dict[str, list[str]] = {}  # a turn is read by the event check, the search and the refusal

    @cached_property
    def sounds(self) -> list[str]:
        """The names' pinyin keys, read at the first scheme named (seconds at 10,000 records, not at every start)."""
        return [pinyin_key(t) for t in self.whole]

    @cached_property
    def chunk_texts(self) -> list[str]:
        """The records' text, read at the first question whether there is a scheme (about 3 s at 100,000 chunks,
        once per index generation; each such question then scans it once, its result kept with the text's)."""
        return [normalize(c.text) for c in self._chunks]

    def unknown(self, text: str) -> list[str]:
        """The schemes the text names that no record is named for, in the order said and in full as said
        ("技能提升补贴", though 提升补贴 is what is checked)."""
        if not self.names:
            return []
        if text not in self._unknown:
            if len(self._unknown) > CACHED_TEXTS:
                self._unknown.clear()
            said = [said for scheme, head, said, asks_whether in self._named(text) if not self._known(scheme, head)
                    and not (asks_whether and self._described(scheme, head))]
            self._unknown[text] = [s for s in dict.fromkeys(said) if not any(s != other and s in other for other in said)]
        return self._unknown[text]

    def _named(self, text: str) -> list[tuple[str, str, str, bool]]:
        """(scheme, head, the scheme with the words said before it, whether asked if there is one) for each scheme
        the text names."""
        found = []
        for run in _HAN.findall(text):  # a scheme's words are said together: "…多久 补助金" is none
            words = self.lexicon.dictionary_cut(run)  # not jieba's guesses: "火化费能减免" is no 费能 减免
            for i, word in enumerate(words):
                head = next((h for h in self.heads if word.endswith(h)), None)
                if head is None:
                    continue
                start, asks_whether = i, False
                if word == head:  # a head alone needs the word before it: "提升补贴", not "有补贴"
                    start = next((j for j in range(i - 1, max(i - 4, -1), -1) if self._names_something(words[j])
                                  and (j == i - 1 or self.exists.fullmatch("".join(words[j + 1 : i])))), None)
                    if start is None:
                        continue
                    asks_whether = start < i - 1
                # "智能手机补贴": the 有 between is left out
                scheme = words[start] + word if asks_whether else "".join(words[start : i + 1])
                reach, first = (start if asks_whether else i), start
                while first > 0 and first > reach - 3 and self._names_something(words[first - 1]):
                    first -= 1
                found.append((scheme, head, "".join(words[first:start]) + scheme, asks_whether))
        return found

    def _names_something(self, word: str) -> bool:
        return len(word) >= 2 and word not in self.fillers

    def _parts(self, scheme: str, head: str) -> tuple[set[str], tuple[str, ...]]:
        """The wordings of the scheme's words before its head (synonyms too), and the head's family."""
        modifier = scheme[: -len(head)]
        return set(self.lexicon.variants(modifier)) | {modifier}, next(f for f in self.families if head in f)

    def _described(self, scheme: str, head: str) -> bool:
        """Whether one sentence of a record says the scheme's other words with a head of its family."""
        wordings, family = self._parts(scheme, head)
        for text in self.chunk_texts:
            if any(w in text for w in wordings):
                for sentence in split_sentences(text):
                    if any(w in sentence for w in wordings) and any(h in sentence for h in family):
                        return True
        return False

    def _known(self, scheme: str, head: str) -> bool:
        said = self.lexicon.canonical(scheme)
        sound = pinyin_key(scheme)  # whole syllables: " an bao " is not in " ban bao "
        if any(said in name for name in self.names) or any(sound in s for s in self.sounds):
            return True
        wordings, family = self._parts(scheme, head)
        if wordings & self.whole:
            return True  # a service's own benefit: "低保补助" is what 低保 pays
        # next to its head, one character between at most: 火化费减免 says 火化补贴, 基本服务费用减免 no 服务补贴
        said_with_head = re.compile(f"(?:{'|'.join(map(re.escape, wordings))}).?(?:{'|'.join(map(re.escape, family))})")
        return any(said_with_head.search(name) for name in self.names)
