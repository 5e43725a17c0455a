"""Concrete places named in a citizen's message: residential compounds, villages, roads, schools, companies.

"噪音扰民" is a category; "丽发新城小区 噪音扰民" is one issue an office can act on. So
demand topics need the place, and they need it from any city's messages without a
gazetteer. A place here is a run of name characters ending in a place word (小区, 村,
路, 学校, 公司 …), cut at punctuation, at administrative units (A市, 东湖区, 西地省, 暮云街道,
春华镇 — too broad to be one place) and at the function words that surround names in
complaints ("反映…", "…附近", "在…的"). jieba's part-of-speech tags (ns/nt) were
tried: on these messages they split most compound names and cost ~10 s per
4,000 messages, so the rule-based cut is used.
"""

from __future__ import annotations

import re
from functools import lru_cache

from language.data import LEXICON_DIR, language_data
from language.text import normalize

_DATA = language_data()
PLACE_WORDS = _DATA.source("place_names.place_words")
_ADMIN = _DATA.source("place_names.admin")
_TOWNSHIP = _DATA.source("place_names.township")     # spans many compounds and villages: not one place
_FUNCTION_WORDS = _DATA.source("place_names.function_words")
_NAME_THEN_PLACE_WORD = re.compile(rf"^[\u4e00-\u9fa5a-z0-9]{{1,10}}(?:{PLACE_WORDS})")
_LEADING_DEICTIC = _DATA.pattern("place_names.leading_deictic")
_COMPANY = _DATA.pattern("place_names.company")
_NOT_A_PLACE = _DATA.pattern("place_names.not_a_place")
_GENERIC = _DATA.words("place_generic")
_GENERIC_BIGRAMS = frozenset(w for w in PLACE_WORDS.split("|") if len(w) == 2) | frozenset(
    _DATA.source("place_names.generic_bigrams").split("|"))


@lru_cache(maxsize=1)
def _boundary() -> re.Pattern[str]:
    """Administrative units from the lexicon's place list are boundaries too (a district is not one place)."""
    path = LEXICON_DIR / "places.txt"
    regions = [normalize(line.strip()) for line in path.read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.lstrip().startswith("#")] if path.exists() else []
    listed = "|".join(re.escape(r) for r in sorted(regions, key=len, reverse=True))
    return re.compile("|".join(p for p in (r"[^\u4e00-\u9fa5a-z0-9]", _ADMIN, listed, _TOWNSHIP, _FUNCTION_WORDS) if p))


def places(text: str) -> list[str]:
    """Place names in order of appearance (text should be `normalize`d: administrative codes are lower case)."""
    text = _COMPANY.sub("公司", text)
    found = []
    for segment in _boundary().split(text):
        match = _NAME_THEN_PLACE_WORD.match(_LEADING_DEICTIC.sub("", segment))
        if match is None:
            continue
        name = match.group(0)
        if len(name) >= 3 and name not in _GENERIC and not _NOT_A_PLACE.search(name):
            found.append(name)
    return found


def name_bigrams(names: list[str]) -> list[str]:
    """Character bigrams of place names without the generic place words themselves, so that 泉塘小区 and
    湘江小区 share nothing while 丽发新城 and 丽发新城小区 share everything that identifies them."""
    grams = [name[i:i + 2] for name in names for i in range(len(name) - 1)]
    return [g for g in grams if g not in _GENERIC_BIGRAMS]


def strip_admin(text: str) -> str:
    """Text without administrative units (A市, A3区, 西地省, 春华镇): they say where, but not which issue."""
    return re.sub(f"{_ADMIN}|{_TOWNSHIP}", " ", text)
