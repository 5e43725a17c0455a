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

from indexing.text import LEXICON_DIR, normalize

PLACE_WORDS = ("小区|花园|家园|新城|新村|公寓|公馆|大厦|广场|山庄|苑|府|庭|郡|湾|园|城|里|院|社区|村|组|"
               "大道|路|街|巷|学校|小学|中学|大学|学院|幼儿园|医院|公司|集团|银行|酒店|宾馆|市场|商场|中心|工厂")
_ADMIN = r"[a-z]\d{0,2}[市区县]|[\u4e00-\u9fa5]{2}省"
_TOWNSHIP = r"[\u4e00-\u9fa5]{2,3}(?:街道|镇|乡)"     # spans many compounds and villages: not one place
_FUNCTION_WORDS = ("关于|反映|投诉|举报|咨询|请问|建议|希望|要求|加快|加强|推进|尽快|严惩|整治|取缔|关注|位于|地处|靠近|解决|附近|旁边|周边|周围|对面|门口|后面|"
                   "前面|里面|楼下|内的|境内|一带|紧邻|的|在|与|和|及|对|从|到|至|把|被|给|向|是|有|了|请|我|住|该|为|"
                   "由|将|已|都|也|就|还")
_NAME_THEN_PLACE_WORD = re.compile(f"^[\u4e00-\u9fa5a-z0-9]{{1,10}}(?:{PLACE_WORDS})")
_LEADING_DEICTIC = re.compile(r"^[本这那某各其此每]+")
_GENERIC = frozenset("""小区 社区 公司 学校 医院 村 组 镇 路 街 城 园 我们小区 整个小区 物业公司 开发公司 有限公司 道路 马路
    城市 农村 乡村 城乡 城区 旧城 老城 县城 市场 中心 卫生院 政府 市政府 区政府 县政府 市委市政府 地铁 高铁 银行 学院 大学 家园""".split())


_GENERIC_BIGRAMS = frozenset(w for w in PLACE_WORDS.split("|") if len(w) == 2) | {"国际", "新区", "二期", "三期", "一期"}


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
    text = text.replace("有限责任公司", "公司").replace("有限公司", "公司")
    found = []
    for segment in _boundary().split(text):
        match = _NAME_THEN_PLACE_WORD.match(_LEADING_DEICTIC.sub("", segment))
        if match is None:
            continue
        name = match.group(0)
        if len(name) >= 3 and name not in _GENERIC and not name.endswith("政府"):
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
