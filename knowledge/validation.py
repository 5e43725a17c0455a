"""pydantic's validation errors in the words editors and citizens read: Chinese, one message per error.

Shared by the loaders (`govqa kb validate`, `kb add`, the editor's list of file problems) and the web API's
422 answers, which name the field beside the message. pydantic's own messages are English ("Input should be
a valid string"); a kind of error without a translation here gets a plain Chinese one, never the English.
"""

from __future__ import annotations

import re

_MESSAGES = {
    "missing": "必填",
    "string_too_short": "不能为空",
    "string_too_long": "太长（最多 {max_length} 个字符）",
    "string_type": "应为文字",
    "string_pattern_mismatch": "格式不对",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "不能大于 {le}",
    "too_short": "至少要有 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "list_type": "应为列表",
    "dict_type": "应为 JSON 对象",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_inexact": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式应为 YYYY-MM-DD HH:MM",
    "datetime_type": "时间格式应为 YYYY-MM-DD HH:MM",
    "extra_forbidden": "不认识的字段",
    "json_invalid": "请求体不是合法的 JSON",
    "union_tag_invalid": "类型应为 guide、policy、faq 或 event",
    "url_parsing": "应为网址",
}
_CJK = re.compile(r"[\u3400-\u9fff]")


def field_message(err: dict) -> str:
    """One pydantic error (an item of `ValidationError.errors()`) in Chinese."""
    kind = err["type"]
    if kind in ("literal_error", "enum"):  # pydantic lists the choices as "'a', 'b' or 'c'"
        expected = str((err.get("ctx") or {}).get("expected", ""))
        return "应为以下之一：" + "、".join(re.findall(r"'([^']*)'", expected) or [expected])
    if kind == "value_error" and "isoformat" in str(err["msg"]):
        return _MESSAGES["date_type"]
    if kind in _MESSAGES:
        try:
            return _MESSAGES[kind].format(**(err.get("ctx") or {}))
        except (KeyError, IndexError):
            return _MESSAGES[kind].split("{")[0].strip()
    text = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return text if _CJK.search(text) else "内容不符合要求"      # our validators speak Chinese; pydantic does not
