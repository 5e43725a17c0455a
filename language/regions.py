"""China's provinces, cities and districts (the adcode table shipped in the `cpca` package, MIT), to read which
place a question and a document are about: "我们邢台小区里…" is about 河北, and a notice of 河北省 answers it
before one of 云南. Short forms count (湖北 for 湖北省, 通州 for 通州区); a place is known with the city and
province it belongs to, so a question naming a district matches a notice of its city or province."""

from __future__ import annotations

import csv
from functools import cache
from importlib.util import find_spec
from pathlib import Path

import ahocorasick

# a district's or county's name without its suffix counts only when it is no everyday word (资源县 → 资源 does not;
# 通州区 → 通州 does): jieba's general-language rarity (idf.txt) decides
SHORT_FORM_MIN_IDF = 8.0
_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "自治州", "地区", "省", "市", "区", "县", "盟", "旗")


@cache
def _automaton() -> ahocorasick.Automaton:
    """Every full and short name → the adcode prefixes (province, city, district) of the places it names."""
    names: dict[str, set[str]] = {}
    rarity = _general_idf()
    spec = find_spec("cpca")  # the data file only: importing cpca itself needs pkg_resources and pandas
    table = Path(spec.origin).parent / "resources" / "adcodes.csv" if spec and spec.origin else None
    with open(table, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code, name = row["adcode"], row["name"]
            levels = {code[:2]} | ({code[:4]} if code[2:4] != "00" else set()) | ({code[:6]} if code[4:6] != "00" else set())
            short = short_name(name)
            county = code[4:6] != "00"
            for form in {name} | ({short} if not county or rarity.get(short, 99.0) >= SHORT_FORM_MIN_IDF else set()):
                if len(form) >= 2:
                    names.setdefault(form, set()).update(levels)
    automaton = ahocorasick.Automaton()
    for form, codes in names.items():
        automaton.add_word(form, (form, frozenset(codes)))
    automaton.make_automaton()
    return automaton


def _general_idf() -> dict[str, float]:
    import jieba

    path = Path(jieba.__file__).parent / "analyse" / "idf.txt"
    return {parts[0]: float(parts[1]) for parts in (line.split() for line in path.read_text(encoding="utf-8").splitlines())
            if len(parts) == 2}


def short_name(name: str) -> str:
    """广州市 → 广州, 通州区 → 通州: the name without its administrative suffix."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def places_named(text: str) -> list[tuple[int, str, frozenset[str]]]:
    """(start, name, adcode prefixes) of each place the text names, in order; the longest name wins where names
    overlap (南京西路 is not 南京 and 西路)."""
    found: list[tuple[int, int, str, frozenset[str]]] = []
    for end, (form, codes) in _automaton().iter(text):
        found.append((end - len(form) + 1, end, form, codes))
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    named: list[tuple[int, str, frozenset[str]]] = []
    last_end = -1
    for start, end, form, codes in found:
        if start > last_end:
            named.append((start, form, codes))
            last_end = end
    return named


def regions_in(text: str) -> frozenset[str]:
    """Adcode prefixes of the places the text names (province "13", city "1305", district "130503"), with
    every level above them."""
    return frozenset(code for _, _, codes in places_named(text) for code in codes)
