"""Words citizens mistype by sound (身份正, 低宝, 签住, 公祖房), or type as pinyin initials (sfz, gjj, sbk), read
as the government word they meant.

Only words the knowledge base never uses are corrected, and only to a known word
(the lexicon's, or one of a guide's name) with exactly the same toneless pinyin and
at least one character in common (not a particle such as 了), and never a negated verb (工资不发 is not 补发). On the
sample gold sets this corrects 24 of 417 questions, none wrongly; on the 1,326 NCP questions, none. No dictionary
word may run across a two-character typo's edges (换|法人 is no 换发, 就|一辆 no 就医): over every question set
read with the sample knowledge base's words, 19 such false readings are gone (3 of them sample colloquial, 16 NCP
questions) and one true one is lost (小报|明: "幼升小报明" keeps 报明).
A two-character pair may also be an everyday word the knowledge base uses often (教税 → 缴税, 预月 → 预约), read
more strictly (`Everyday`): on the NCP colloquial dev set 10 of 200 questions, none wrongly; on the sample sets one
(账上 → 掌上).
A service's name of five characters or more typed with one character wrong that begins with the same sound
("港澳通信证": 信 xin for 行 xing, and 通信 is a word the knowledge base uses) is still that name (`mistyped_names`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

from pypinyin import lazy_pinyin

from language.data import language_data
from language.text import pinyin_key

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
# a run of 2–4 latin letters standing alone, each a letter a pinyin syllable can start with (not i, u, v)
_INITIALS_RUN = re.compile(r"(?<![a-z])[abcdefghjklmnopqrstwxyz]{2,4}(?![a-z])")
INITIALS_MARGIN = 0.7  # in rarity (idf, natural log): the word chosen is used at least twice as often as the next


def known_sounds(words: Iterable[str]) -> dict[str, str]:
    """Pinyin key → word, for words of 2–4 Chinese characters whose sound no other word shares."""
    by_sound: dict[str, set[str]] = {}
    for word in set(words):
        if 2 <= len(word) <= 4 and _CJK_RUN.fullmatch(word):
            by_sound.setdefault(pinyin_key(word), set()).add(word)
    return {sound: next(iter(ws)) for sound, ws in by_sound.items() if len(ws) == 1}


def known_initials(words: Iterable[str], rarity: dict[str, float]) -> dict[str, str]:
    """Pinyin initials → the word the knowledge base uses most among the words of 2–4 Chinese characters with
    those initials ("sfz" → 身份证), when it is used clearly more than any other; learned from the knowledge
    base, so a city's own services get their abbreviations without a list."""
    by_initials: dict[str, list[tuple[float, str]]] = {}
    for word in set(words):
        if 2 <= len(word) <= 4 and _CJK_RUN.fullmatch(word) and word in rarity:
            initials = "".join(syllable[0] for syllable in lazy_pinyin(word))
            by_initials.setdefault(initials, []).append((rarity[word], word))
    chosen = {}
    for initials, found in by_initials.items():
        found.sort()
        if len(found) == 1 or found[1][0] - found[0][0] >= INITIALS_MARGIN:
            chosen[initials] = found[0][1]
    return chosen


def abbreviations(text: str, initials: dict[str, str], known: Callable[[str], bool]) -> list[tuple[str, str]]:
    """(typed, meant) pairs for the pinyin initials in normalised `text` that the knowledge base does not use
    as they are (an "app" it names stays an app)."""
    return [(run, initials[run]) for run in dict.fromkeys(_INITIALS_RUN.findall(text))
            if run in initials and not known(run)]


MISTYPED_NAME_MIN = 5  # characters: a shorter name one character off is as often another word (加居民医保)
MISTYPED_NAME_MAX = 12  # a citizen types a service's name, not a notice's headline


def name_masks(names: Iterable[str]) -> dict[str, str]:
    """Each name of MISTYPED_NAME_MIN to MISTYPED_NAME_MAX characters with one character masked ("港澳通?证") → the
    name; a mask two names share is left out."""
    masks: dict[str, str | None] = {}
    for name in set(names):
        if MISTYPED_NAME_MIN <= len(name) <= MISTYPED_NAME_MAX and _CJK_RUN.fullmatch(name):
            for k in range(len(name)):
                key = f"{name[:k]}?{name[k + 1:]}"
                masks[key] = name if masks.get(key, name) == name else None
    return {key: name for key, name in masks.items() if name is not None}


def mistyped_names(text: str, masks: dict[str, str], is_word: Callable[[str], bool]) -> list[tuple[str, str]]:
    """(typed, meant) pairs for a name typed with one character wrong whose sound begins like the right one's. A
    wrong first or last character is no typo when it makes a dictionary word with the character beside it
    ("参加居民医保" is no 交居民医保)."""
    found = []
    for run in _CJK_RUN.findall(text):
        for size in range(MISTYPED_NAME_MAX, MISTYPED_NAME_MIN - 1, -1):
            for i in range(len(run) - size + 1):
                typed = run[i : i + size]
                for k in range(size):
                    meant = masks.get(f"{typed[:k]}?{typed[k + 1:]}")
                    if meant is None or meant == typed or meant in text or _initial(typed[k]) != _initial(meant[k]):
                        continue
                    if k == 0 and i > 0 and is_word(run[i - 1 : i + 1]) or \
                            k == size - 1 and is_word(run[i + size - 1 : i + size + 1]):
                        continue
                    found.append((typed, meant))
    return found


def _initial(char: str) -> str:
    syllable = lazy_pinyin(char)[0]
    return syllable[:2] if syllable[:2] in ("zh", "ch", "sh") else syllable[:1]


def separated_words(text: str, named: Callable[[str], bool], known: Callable[[str], bool]) -> list[tuple[str, str]]:
    """(typed, meant) pairs for a word citizens split with 个 (`separable` in patterns.yml): "转个学" is 转学
    when 转学 names a service (`named`) and the knowledge base does not use the split wording (`known`);
    the longest joining wins ("上个户口" → 上户口)."""
    found = []
    for m in language_data().pattern("separable").finditer(text):
        head, tail, typed = m.group("head"), m.group("tail"), m.group(0)
        readings = [(head + tail, typed)] + ([(head + tail[0], typed[:-1])] if len(tail) == 2 else [])
        for joined, split in readings:
            if named(joined) and not known(split):
                found.append((split, joined))
                break
    return found


def everyday_sounds(document_frequency: dict[str, int], is_word: Callable[[str], bool], min_chunks: int,
                    named: dict[str, str]) -> dict[str, str]:
    """Pinyin key → an everyday two-character word the knowledge base uses often (in `min_chunks` chunks or more)
    and the dictionary knows, for sounds no `named` word has: a notice corpus names no services, yet citizens
    mistype its words too (教税, 预月, 发漂)."""
    common = known_sounds(w for w, n in document_frequency.items()
                          if len(w) == 2 and n >= min_chunks and is_word(w))
    return {sound: word for sound, word in common.items() if sound not in named}


@dataclass(frozen=True)
class Everyday:
    """Everyday words a two-character typo may stand for, read more strictly than the words services are named
    with: the typed pair is no dictionary word and is found in none (考研, 干活, 多远 are meant), and a particle or
    question character (吗, 几) is never the one mistyped (24号吗 is not 号码, 打几折 not 打击). That no dictionary word
    runs across its edges (老公|能 is not 功能, 公司|想 not 思想) `misspellings` checks for every two-character typo."""

    sounds: dict[str, str]
    cut: Callable[[str], list[str]]    # dictionary words only (for `word_interiors`): guessed words would be typos
    is_word: Callable[[str], bool]
    within_words: Callable[[str], bool]

    def meant(self, run: str, at: int, key: str, never_mistyped: Callable[[str], bool]) -> str | None:
        meant, typed = self.sounds.get(key), run[at : at + 2]
        if meant is None or self.is_word(typed) or self.within_words(typed):
            return None
        return None if any(a != b and never_mistyped(a) for a, b in zip(typed, meant)) else meant


def word_interiors(run: str, cut: Callable[[str], list[str]]) -> set[int]:
    """Positions inside a dictionary word of two or more characters of `run` (cut by `cut`)."""
    inside, at = set(), 0
    for word in cut(run):
        start = run.find(word, at)
        if start < 0:
            continue
        if len(word) >= 2:
            inside |= set(range(start + 1, start + len(word)))
        at = start + len(word)
    return inside


def misspellings(text: str, sounds: dict[str, str], seen: Callable[[str], bool],
                 everyday: Everyday | None = None) -> list[tuple[str, str]]:
    """(typed, meant) pairs in normalised `text`; `seen(pair)` tells whether the knowledge base has a character pair.

    Two characters between two pairs the knowledge base does have ("宝宝|报户口",
    "重新|鉴定") are a word boundary, not a typo. A negated verb (不发, 没办: tag `negation`) is not a
    mistyped 补发, and a shared particle (调了 and 掉了: tag `particle`) is no sign of a typo. A pair no word
    services are named with sounds like may be an `everyday` word mistyped, read more strictly.
    """
    data = language_data()
    negations, particles = data.words("negation"), data.words("particle")
    function_chars, question_word = particles | data.words("question_char"), data.pattern("follow_up.question_word")

    def never_mistyped(char: str) -> bool:
        return char in function_chars or bool(question_word.match(char))

    fixes: list[tuple[str, str]] = []
    for run in _CJK_RUN.findall(text):
        syllables = lazy_pinyin(run)
        if len(syllables) != len(run):
            continue
        # a dictionary word across a two-character typo's edge is what was typed: "想换法人" holds 法人, not a
        # mistyped 换发 (three characters, "残疾正要带", are read as before: 正要 is a word too)
        inside = word_interiors(run, everyday.cut) if everyday is not None else set()
        i = 0
        while i < len(run) - 1:
            for size in (4, 3, 2):
                typed = run[i : i + size]
                if len(typed) < size or typed[0] in negations:
                    continue
                if all(seen(typed[k : k + 2]) for k in range(size - 1)):
                    continue
                if size == 2 and 0 < i < len(run) - 2 and seen(run[i - 1 : i + 1]) and seen(run[i + 1 : i + 3]):
                    continue
                if size == 2 and (i in inside or i + 2 in inside):
                    continue
                key = " " + " ".join(syllables[i : i + size]) + " "
                meant = sounds.get(key) or (everyday.meant(run, i, key, never_mistyped)
                                            if everyday is not None and size == 2 else None)
                if meant and meant != typed and any(a == b and a not in particles for a, b in zip(typed, meant)):
                    fixes.append((typed, meant))
                    i += size - 1
                    break
            i += 1
    return fixes
