"""Turn raw input into question text the assistant can work with: cleaned, bounded, masked, and without the
greetings, openers and thanks citizens wrap a question in (`courtesy` in patterns.yml)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cache

from language.data import language_data
from language.privacy import mask_pii, without_stated_pii
from language.text import normalize

MAX_QUESTION_CHARS = 500  # default of GOVQA_MAX_QUESTION_CHARS
_TAGS = re.compile(r"<[^>]{0,200}>")
# control characters, bidi overrides (they make a logged line read differently from what it holds),
# lone surrogates (undecodable command-line bytes; the tokenizer rejects them) and non-characters
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffd-\uffff]")
_PUNCT = r"[\s,.!?~:;，。！？～：；、…]*"
_SEPARATOR = r"[\s,.!~，。！～]+"  # an acknowledgement ends at a pause; "可以？" is a question
_HAS_WORD = re.compile(r"[\w\u3400-\u9fff]")
GREETING_REPLY = "您好！请问您要咨询什么问题？可以问我办事要带什么材料、怎么办理、在哪里办、多久办好、要不要钱，例如：“办居住证要带什么材料？”"
PERSONAL_DATA_NOTICE = "您留下的身份证号、电话等个人信息已隐去，咨询时不需要提供。"
THANKS_REPLY = "不客气！还有其他问题可以继续问我；需要人工帮助，请拨打政务服务便民热线。"


class EmptyQuestion(ValueError):
    """Raised for input with nothing to answer; the message is shown to the user."""


@dataclass(frozen=True)
class CleanQuestion:
    raw_length: int
    text: str              # cleaned, normalised, PII-masked, courtesy set aside: what we search with and log
    notices: tuple[str, ...]


@dataclass(frozen=True)
class _Courtesy:
    lead: re.Pattern[str]
    about: re.Pattern[str]
    trail: re.Pattern[str]
    small_talk: re.Pattern[str]
    thanked: re.Pattern[str]


@cache
def _courtesy() -> _Courtesy:
    """What citizens wrap a question in: greetings and openers before it, thanks after it ("您好，请问…？谢谢！").
    It is set aside before searching: these words are in no guide, so they read as parts of the question
    that nothing answers (and "谢谢" alone would be refused and logged as an unmet need)."""
    data = language_data()
    greeting, thanks, ack, opener = (data.source(f"courtesy.{n}") for n in ("greeting", "thanks", "ack", "opener"))
    return _Courtesy(
        lead=re.compile(rf"^{_PUNCT}(?:(?:(?:{greeting}){_PUNCT})|(?:(?:(?:{thanks})|(?:{ack}))+{_SEPARATOR}))*"
                        rf"(?P<opener>(?:{opener}){_PUNCT})?"),
        about=data.pattern("courtesy.about"),
        trail=re.compile(rf"(?:{_PUNCT}(?:{thanks}))+{_PUNCT}$"),
        small_talk=re.compile(rf"^{_PUNCT}(?:(?:(?:{greeting})|(?:{thanks})|(?:{ack})|(?:{opener})){_PUNCT})+$"),
        thanked=re.compile(thanks))


def clean_question(raw: str, max_chars: int = MAX_QUESTION_CHARS) -> CleanQuestion:
    """Raises EmptyQuestion for input with nothing to answer (small talk gets its reply as the message)."""
    if not isinstance(raw, str):
        raise EmptyQuestion("问题必须是文字。")
    notices = []
    text = html.unescape(raw)
    text = _TAGS.sub(" ", text)           # markup in a question is never rendered, only read
    text = _CONTROL.sub(" ", text)
    text = mask_pii(normalize(text))    # masked before cutting, so no number is cut into an unmasked part
    question = without_stated_pii(text)
    if question != text:
        notices.append(PERSONAL_DATA_NOTICE)
        text = question
    if len(text) > max_chars:
        text = mask_pii(text[:max_chars])  # masked again: a long digit run cut to 16 digits reads as a card number
        notices.append(f"问题较长，已只保留前 {max_chars} 个字。")
    if not _HAS_WORD.search(text):
        said = PERSONAL_DATA_NOTICE if PERSONAL_DATA_NOTICE in notices else ""  # nothing but personal data
        raise EmptyQuestion(f"{said}请输入您要咨询的问题，例如：“办居住证要带什么材料？”")
    courtesy = _courtesy()
    if courtesy.small_talk.match(text):
        raise EmptyQuestion(THANKS_REPLY if courtesy.thanked.search(text) else GREETING_REPLY)
    return CleanQuestion(len(raw), without_courtesy(text), tuple(notices))


def without_courtesy(text: str) -> str:
    """The question without the greeting, opener and thanks around it; the text itself when that is all there is."""
    courtesy = _courtesy()
    lead = courtesy.lead.match(text)
    core = courtesy.trail.sub("", text[lead.end():])
    if lead.group("opener"):
        core = courtesy.about.sub("", core)
    return core if _HAS_WORD.search(core) else text
