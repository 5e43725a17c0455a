"""Mask personal data before anything is stored or logged.

Two kinds of rules. Number shapes (ID, bank card, phone numbers, e-mail, passport and travel-permit numbers)
are found by their form alone and live here. What only its wording gives away (a social-security card
number, a QQ or WeChat id, a birth date, a licence plate, a name, a street address: "QQ号…", "…出生",
"住在…路…号") is Chinese and lives in `privacy.labelled` of knowledge/lexicon/patterns.yml, where the
first group of each pattern is what gets masked.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from language.data import language_data

# Number shapes; the placeholders are what a reader of the log sees instead
_EMAIL = ("[邮箱]", re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"))
_NUMBERS = [
    # 18-digit resident ID (last digit may be X), and the old 15-digit form
    ("[身份证号]", re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])")),
    ("[身份证号]", re.compile(r"(?<!\d)[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?!\d)")),
    # bank cards: 16–19 digits, optionally grouped by spaces or dashes
    ("[银行卡号]", re.compile(r"(?<!\d)(?:\d[ -]?){15,18}\d(?!\d)")),
    # mobile numbers, with optional +86, grouped by spaces, dashes or dots (135.0033.4455)
    ("[手机号]", re.compile(r"(?<!\d)(?:\+?86[ .-]?)?1[3-9]\d[ .-]?\d{4}[ .-]?\d{4}(?!\d)")),
    # landlines such as 0571-87654321, (0571)8765 4321 or 010 1234 5678
    ("[电话号码]", re.compile(r"(?<!\d)(?:\(0\d{2,3}\)|0\d{2,3})[ -]?\d{3,4}[ -]?\d{4}(?!\d)")),
    # passports (E12345678, EA1234567, old G/P/S/D), permits for Hong Kong and Macau (C…, old W…), Taiwan (T…)
    # and home-return permits (H…, M…)
    ("[证件号]", re.compile(r"(?<![0-9A-Za-z])[CDEGHMPSTW](?:\d{8,10}|[A-Z]\d{7,8})(?![0-9A-Za-z])")),
]
# full-width (１３８…) and other decimal digits, full-width separators and brackets, read as ASCII;
# one character for one, so a match in the folded text marks the same span in the original
_DIGITS = {cp: str(unicodedata.digit(chr(cp))) for cp in range(0x20000) if unicodedata.category(chr(cp)) == "Nd"}
_DIGITS.update({ord(a): b for a, b in zip("\u3000－（）Ｘｘ", " -()Xx")})
_LEFT_OVER = re.compile(r"^[\s,.;，。；、]+|(?<=[,;，；、])[\s,;，；、]+")


@cache
def _fold() -> dict[int, str]:
    """The digit folding plus numbers written in Chinese characters (一三五零… read digit by digit)."""
    words = language_data().section("privacy.digit_words")
    return {**_DIGITS, **{ord(word): str(digit) for word, digit in words.items()}}


@cache
def _rules() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """E-mail first (its digits are no phone number), then the worded rules, then the number shapes."""
    labelled = [(r["placeholder"], re.compile(r["pattern"])) for r in language_data().section("privacy.labelled")]
    return (_EMAIL, *labelled, *_NUMBERS)


def mask_pii(text: str) -> str:
    """Replace personal data with placeholders (hotline 12345 stays): the whole match of a number shape, the
    first group of a worded rule ("QQ号[QQ号]", "住在[住址]")."""
    for placeholder, pattern in _rules():
        folded, pieces, last = text.translate(_fold()), [], 0
        for match in pattern.finditer(folded):
            start, end = match.span(1 if pattern.groups else 0)
            pieces += [text[last:start], placeholder]
            last = end
        text = "".join(pieces) + text[last:]
    return text


@cache
def _stated() -> re.Pattern[str]:
    """A masked number with what introduces it ("我的身份证号是", "电话", "联系方式：", `privacy.stated`): the
    citizen telling us who they are, not part of the question. "身份证" alone stays: "身份证[…]丢了" is about the card."""
    placeholders = "|".join(map(re.escape, dict.fromkeys(placeholder for placeholder, _ in _rules())))
    return re.compile(language_data().source("privacy.stated").replace("{placeholders}", placeholders))


def without_stated_pii(masked: str) -> str:
    """Masked text without the personal data a citizen gave along with the question: "电话[手机号]"
    would read as a question about phone numbers, and no record holds "[身份证号]"."""
    removed = _stated().sub("", masked)
    return masked if removed == masked else _LEFT_OVER.sub("", removed).strip()
