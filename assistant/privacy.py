"""Mask personal data before anything is stored or logged."""

from __future__ import annotations

import re

_RULES = [
    # 18-digit resident ID (last digit may be X), and the old 15-digit form
    ("[身份证号]", re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])")),
    ("[身份证号]", re.compile(r"(?<!\d)[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?!\d)")),
    # bank cards: 16–19 digits, optionally grouped by spaces or dashes
    ("[银行卡号]", re.compile(r"(?<!\d)(?:\d[ -]?){15,18}\d(?!\d)")),
    # mobile numbers, with optional +86
    ("[手机号]", re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")),
    # landlines such as 0571-87654321 or 010 1234 5678
    ("[电话号码]", re.compile(r"(?<!\d)0\d{2,3}[ -]?\d{7,8}(?!\d)")),
]


def mask_pii(text: str) -> str:
    """Replace ID numbers, bank cards and phone numbers with placeholders (hotline 12345 stays)."""
    for placeholder, pattern in _RULES:
        text = pattern.sub(placeholder, text)
    return text


def has_pii(text: str) -> bool:
    return mask_pii(text) != text
