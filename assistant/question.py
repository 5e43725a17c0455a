"""Turn raw input into a question the assistant can work with: cleaned, bounded, masked, understood."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from assistant.privacy import mask_pii, without_stated_pii
from indexing.aspects import detect_aspect
from indexing.text import normalize

MAX_QUESTION_CHARS = 500  # default of GOVQA_MAX_QUESTION_CHARS
_TAGS = re.compile(r"<[^>]{0,200}>")
# control characters, bidi overrides (they make a logged line read differently from what it holds),
# lone surrogates (undecodable command-line bytes; the tokenizer rejects them) and non-characters
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffd-\uffff]")


# what citizens wrap a question in: greetings and openers before it, thanks after it ("您好，请问…？谢谢！").
# It is set aside before searching: these words are in no guide, so they read as parts of the question
# that nothing answers (and "谢谢" alone would be refused and logged as an unmet need).
_PUNCT = r"[\s,.!?~:;，。！？～：；、…]*"
_SEPARATOR = r"[\s,.!~，。！～]+"  # an acknowledgement ends at a pause; "可以？" is a question
_HAS_WORD = re.compile(r"[\w\u3400-\u9fff]")
_GREETING = r"(?:你好|您好|你们好|大家好|哈喽|嗨|hi|hello|在吗|在不在|有人吗|打扰(?:了|一下)?|早上好|上午好|中午好|下午好|晚上好)[啊呀哈啦吗]?"
_THANKS = r"(?:谢谢(?:你|您|你们)?|多谢|感谢(?:你|您)?|辛苦(?:了|啦)|麻烦(?:了|啦|你了|您了)|拜托(?:了|啦)|在线等|急)[啊呀哈啦了的]*"
_ACK = r"(?:好的|好|嗯+|哦+|行|可以|ok|okay|明白了?|知道了|收到|懂了|没有了|没了|没事了?)[啊呀哈啦了的]*"
_OPENER = r"(?:请问(?:一下|下)?|(?:我)?想(?:问|咨询|了解)(?:一下|下)?|(?:问|咨询|了解)(?:一下|下)|麻烦问(?:一下|下)?|咨询(?!电话|热线|方式|号码|渠道))"
_LEAD = re.compile(rf"^{_PUNCT}(?:(?:{_GREETING}{_PUNCT})|(?:(?:{_THANKS}|{_ACK})+{_SEPARATOR}))*(?P<opener>{_OPENER}{_PUNCT})?")
# "咨询户口迁移的问题": after an opener, "的问题" only says that a question follows
_ABOUT = re.compile(r"(?:的)?(?:相关)?(?:问题|事宜|事项)$")
_TRAIL = re.compile(rf"(?:{_PUNCT}{_THANKS})+{_PUNCT}$")
_SMALL_TALK = re.compile(rf"^{_PUNCT}(?:(?:{_GREETING}|{_THANKS}|{_ACK}|{_OPENER}){_PUNCT})+$")
_THANKED = re.compile(_THANKS)
GREETING_REPLY = "您好！请问您要咨询什么问题？可以问我办事要带什么材料、怎么办理、在哪里办、多久办好、要不要钱，例如：“办居住证要带什么材料？”"
PERSONAL_DATA_NOTICE = "您留下的身份证号、电话等个人信息已隐去，咨询时不需要提供。"
THANKS_REPLY = "不客气！还有其他问题可以继续问我；需要人工帮助，请拨打政务服务便民热线。"


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
    question = without_stated_pii(text)
    if question != text:
        notices.append(PERSONAL_DATA_NOTICE)
        text = question
    if len(text) > max_chars:
        text = text[:max_chars]
        notices.append(f"问题较长，已只保留前 {max_chars} 个字。")
    if not _HAS_WORD.search(text):
        said = PERSONAL_DATA_NOTICE if PERSONAL_DATA_NOTICE in notices else ""  # nothing but personal data
        raise EmptyQuestion(f"{said}请输入您要咨询的问题，例如：“办居住证要带什么材料？”")
    if _SMALL_TALK.match(text):
        raise EmptyQuestion(THANKS_REPLY if _THANKED.search(text) else GREETING_REPLY)
    text = without_courtesy(text)
    return Question(raw_length=len(raw), text=text, aspect=detect_aspect(text), notices=notices)


def without_courtesy(text: str) -> str:
    """The question without the greeting, opener and thanks around it; the text itself when that is all there is."""
    lead = _LEAD.match(text)
    core = _TRAIL.sub("", text[lead.end():])
    if lead.group("opener"):
        core = _ABOUT.sub("", core)
    return core if _HAS_WORD.search(core) else text
