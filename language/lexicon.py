"""jieba with the government user dictionary, the editable synonym table, places and contrasts, and the
tagged word lists and patterns of `knowledge/lexicon/`.

Indexing and querying both go through `Lexicon.tokens`, so a synonym group (社保 ↔ 社会保险,
上户口 ↔ 出生登记) becomes one token that either wording produces.
"""

from __future__ import annotations

import hashlib
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

import jieba

from language.data import LEXICON_DIR, LanguageData, language_data
from language.text import normalize

jieba.setLogLevel(logging.WARNING)

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}")
# what the indexed tokens depend on: an edit of one of these means re-tokenising every chunk
_TOKEN_FILES = ("userdict.txt", "synonyms.txt", "places.txt", "fillers.txt")


class Lexicon:
    """The words of one lexicon folder: segmentation, synonyms, places, contrasts, tagged lists and patterns."""

    def __init__(self, directory: Path = LEXICON_DIR) -> None:
        self.directory = directory
        self.data: LanguageData = language_data(directory)
        self.stopwords = self.data.words("stop")
        self._question_chars = self.data.words("question_char")
        # single characters that name nothing: stop words, particles, function characters (for wrong cuts)
        self.function_chars = frozenset(w for tag in ("stop", "particle", "function_char", "question_char")
                                        for w in self.data.words(tag) if len(w) == 1)
        self._jieba = jieba.Tokenizer()
        self._pairs_in_words: frozenset[str] | None = None
        self.groups: list[list[str]] = []
        self.places: list[str] = []
        self.dictionary_words: list[str] = []
        self.contrasts: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
        self._load()

    def _load(self) -> None:
        digest = hashlib.sha256()
        for name in _TOKEN_FILES:
            path = self.directory / name
            digest.update(name.encode() + (path.read_bytes() if path.exists() else b""))
        self.fingerprint = digest.hexdigest()[:16]
        for parts in self._lines("userdict.txt"):
            self.dictionary_words.append(normalize(parts[0]))
            self._jieba.add_word(parts[0], int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None)
        for parts in self._lines("synonyms.txt"):
            words = [normalize(w) for w in parts]
            if len(words) >= 2:
                self.groups.append(words)
                for w in words:
                    self._jieba.add_word(w, 50000)
        self.places = [normalize(" ".join(parts)) for parts in self._lines("places.txt")]
        for parts in self._lines("contrasts.txt"):
            sides = [tuple(normalize(w) for w in side.split()) for side in " ".join(parts).split("|")]
            if len(sides) == 2 and all(sides):
                self.contrasts.append((sides[0], sides[1]))
        variants = sorted({w for g in self.groups for w in g}, key=len, reverse=True)
        self._group_of = {w: i for i, g in enumerate(self.groups) for w in g}
        self._variant_re = re.compile("|".join(map(re.escape, variants))) if variants else None

    def _lines(self, name: str) -> list[list[str]]:
        """The non-comment lines of a lexicon file, split at whitespace."""
        path = self.directory / name
        if not path.exists():
            return []
        return [line.split() for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.lstrip().startswith("#")]

    def words(self, text: str) -> list[str]:
        """Content words of normalised text: jieba's search-mode cut without stopwords or punctuation."""
        out = []
        for tok in self._jieba.cut_for_search(text):
            tok = tok.strip()
            if tok and tok not in self.stopwords and not _PUNCT.fullmatch(tok):
                out.append(tok)
        return out

    def cut(self, text: str) -> list[str]:
        """jieba's precise-mode words (no overlapping sub-words, punctuation dropped), for labels people read."""
        return [tok for tok in (t.strip() for t in self._jieba.cut(text)) if tok and not _PUNCT.fullmatch(tok)]

    def dictionary_cut(self, text: str) -> list[str]:
        """jieba's words from its dictionary alone: no guessing of unknown words, which would make words of typos."""
        return [tok for tok in (t.strip() for t in self._jieba.cut(text, HMM=False)) if tok and not _PUNCT.fullmatch(tok)]

    def is_word(self, text: str) -> bool:
        """Whether jieba's dictionary (with the government user dictionary) holds the text as a word."""
        self._jieba.check_initialized()
        return self._jieba.FREQ.get(text, 0) > 0

    def within_words(self, pair: str) -> bool:
        """Whether the character pair occurs inside a dictionary word of three or more characters (多远 in 多远处):
        such a pair is language, not a typo."""
        if self._pairs_in_words is None:
            self._jieba.check_initialized()
            self._pairs_in_words = frozenset(w[i : i + 2] for w, n in self._jieba.FREQ.items() if n > 0 and len(w) >= 3
                                             for i in range(len(w) - 1))
        return pair in self._pairs_in_words

    def bigrams(self, text: str) -> list[str]:
        """Overlapping character bigrams of each run of Chinese characters, prefixed to keep them apart from words.

        Bigrams made of question words ("怎么", "么办", "哪里") are left out: they match every FAQ phrasing.
        """
        out = []
        for run in _CJK_RUN.findall(text):
            for i in range(len(run) - 1):
                pair = run[i : i + 2]
                if pair not in self.stopwords and not (self._question_chars & set(pair)):
                    out.append(f"§{pair}")
        return out

    def synonym_groups(self, text: str) -> list[int]:
        """Ids of synonym groups any of whose wordings occur in the text, read left to right, longest wording
        first (so 机动车检验 hides the 机动车 in it; `groups_within` reads overlapping wordings too)."""
        if not self._variant_re:
            return []
        return sorted({self._group_of[m.group(0)] for m in self._variant_re.finditer(text)})

    def synonym_tokens(self, text: str, said_by: Callable[[str], bool]) -> set[str]:
        """The tokens (as `tokens` reads them) of the synonym groups the text says in a wording `said_by` accepts:
        "要多少钱" says 收费's group only by a question word."""
        if not self._variant_re:
            return set()
        return {f"§syn{self._group_of[m.group(0)]}" for m in self._variant_re.finditer(text) if said_by(m.group(0))}

    def canonical(self, text: str) -> str:
        """The text with each synonym said as its group's first wording ("娃娃上小学" → "子女上小学"), so that a
        name said with another wording of a group still matches."""
        if not self._variant_re:
            return text
        return self._variant_re.sub(lambda m: self.groups[self._group_of[m.group(0)]][0], text)

    def groups_within(self, text: str) -> set[str]:
        """The synonym tokens of every group a wording of which occurs in the text, overlapping ones too:
        "机动车检验合格标志" holds 机动车 as well as the longer 机动车检验 that `synonym_groups` reads."""
        return {f"§syn{i}" for w, i in self._group_of.items() if w in text}

    def variants(self, word: str) -> list[str]:
        """The word and the other wordings of its synonym group ("掉了" → 遗失, 丢失, 丢了 …)."""
        group = self._group_of.get(word)
        return [word] if group is None else [word, *(w for w in self.groups[group] if w != word)]

    def excluded_by(self, text: str) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """(named, excluded) qualifier pairs where the text names one side of a contrast and not the
        other: "居民养老保险怎么交" names 居民 and so excludes a service named only for 职工."""
        out = []
        for a, b in self.contrasts:
            has_a, has_b = any(w in text for w in a), any(w in text for w in b)
            if has_a != has_b:
                out.append((a, b) if has_a else (b, a))
        return out

    def tokens(self, text: str) -> list[str]:
        """BM25 tokens: content words, Chinese character bigrams, and one token per synonym group mentioned.

        Bigrams catch the partial-word matches jieba's segmentation misses (measured on
        the NCP dev split: hit@1 0.81 → 0.84 for BM25 alone).
        """
        text = normalize(text)
        return self.words(text) + self.bigrams(text) + [f"§syn{g}" for g in self.synonym_groups(text)]

    @lru_cache(maxsize=65536)
    def token_set(self, text: str) -> frozenset[str]:
        """Cached `tokens` as a set, for scoring the same sentences again and again."""
        return frozenset(self.tokens(text))

    def expand(self, text: str, also: tuple[str, ...] = ()) -> str:
        """The question with the canonical wording of each synonym group appended (for dense search), and the
        words `also` that it says in other wordings."""
        text = normalize(text)
        extra = [self.groups[g][0] for g in self.synonym_groups(text) if self.groups[g][0] not in text]
        extra += [w for w in also if w not in text and w not in extra]
        return f"{text}（{' '.join(extra)}）" if extra else text
