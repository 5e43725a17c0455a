"""Turn raw input into a question the assistant can work with: cleaned, bounded, masked, understood."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from assistant.privacy import mask_pii
from indexing.aspects import detect_aspect
from indexing.text import normalize

MAX_QUESTION_CHARS = 500  # default of GOVQA_MAX_QUESTION_CHARS
_TAGS = re.compile(r"<[^>]{0,200}>")
# control characters, bidi overrides (they make a logged line read differently from what it holds),
# lone surrogates (undecodable command-line bytes; the tokenizer rejects them) and non-characters
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffd-\uffff]")


class EmptyQuestion(ValueError):
    """Raised for input with nothing to answer; the message is shown to the user."""


@dataclass
class Question:
    raw_length: int
    text: str          # cleaned, normalised, PII-masked: what we search with and what we log
    aspect: str
    notices: list[str] = field(default_factory=list)


def parse_question(raw: str, max_chars: int = MAX_QUESTION_CHARS) -> Question:
    if not isinstance(raw, str):
        raise EmptyQuestion("问题必须是文字。")
    notices = []
    text = html.unescape(raw)
    text = _TAGS.sub(" ", text)           # markup in a question is never rendered, only read
    text = _CONTROL.sub(" ", text)
    text = mask_pii(normalize(text))    # masked before cutting, so no number is cut into an unmasked part
    if len(text) > max_chars:
        text = text[:max_chars]
        notices.append(f"问题较长，已只保留前 {max_chars} 个字。")
    if not re.search(r"[\w\u3400-\u9fff]", text):
        raise EmptyQuestion("请输入您要咨询的问题，例如：“办居住证要带什么材料？”")
    return Question(raw_length=len(raw), text=text, aspect=detect_aspect(text), notices=notices)
