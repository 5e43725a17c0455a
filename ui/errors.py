"""Every error as JSON `{"error": message, "problems": [{"field", "message"}]}` in Chinese; never a traceback.

Unexpected exceptions are logged on the server with their traceback and answered
with a plain 500 message, so nothing about the code or the files reaches a client.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

log = logging.getLogger("govqa.web")
# pydantic's English messages, in the words citizens and editors read
_MESSAGES = {
    "missing": "必填",
    "string_too_short": "不能为空",
    "string_too_long": "太长（最多 {max_length} 个字符）",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "list_type": "应为列表",
    "dict_type": "应为 JSON 对象",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "string_type": "应为文字",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "extra_forbidden": "不认识的字段",
    "json_invalid": "请求体不是合法的 JSON",
}
_STATUS_TEXT = {404: "没有这个地址", 405: "这个地址不支持该请求方法"}


class Rejected(Exception):
    """A request refused with a status, a message, and per-field problems where there are any."""

    def __init__(self, status: int, message: str, problems: list[dict] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.problems = status, message, problems or []


def message(err: dict) -> str:
    """One pydantic error in Chinese."""
    kind = err["type"]
    if kind == "literal_error":  # pydantic lists the choices as "'a', 'b' or 'c'"
        expected = str((err.get("ctx") or {}).get("expected", ""))
        return "应为以下之一：" + "、".join(re.findall(r"'([^']*)'", expected) or [expected])
    if kind == "value_error" and "isoformat" in str(err["msg"]):
        return _MESSAGES["date_type"]
    if kind in _MESSAGES:
        try:
            return _MESSAGES[kind].format(**(err.get("ctx") or {}))
        except (KeyError, IndexError):
            return _MESSAGES[kind].split("{")[0].strip()
    return str(err["msg"]).removeprefix("Value error, ")


def problems(errors: list[dict], skip: int = 0) -> list[dict]:
    """Field path (申请材料.2.份数) and message of each error; `skip` drops leading loc parts (body, tags)."""
    return [{"field": "" if err["type"] == "json_invalid" else ".".join(str(x) for x in err["loc"][skip:]),
             "message": message(err)} for err in errors]


def _json(status: int, text: str, found: list[dict] | None = None) -> JSONResponse:
    return JSONResponse({"error": text, "problems": found or []}, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(Rejected)
    async def rejected(request: Request, exc: Rejected) -> JSONResponse:
        return _json(exc.status, exc.message, exc.problems)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        found = problems(list(exc.errors()), skip=1)
        summary = "；".join(f"{p['field']} {p['message']}" if p["field"] else p["message"] for p in found[:5])
        return _json(422, f"请求格式不正确：{summary}", found)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        text = str(exc.detail)
        if text == HTTPStatus(exc.status_code).phrase:  # Starlette's English default
            text = _STATUS_TEXT.get(exc.status_code, text)
        return JSONResponse({"error": text, "problems": []}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _json(500, "服务器内部错误，请稍后再试；如需帮助请联系管理员")
