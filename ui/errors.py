"""Every error as JSON `{"error": message, "problems": [{"field", "message"}]}` in Chinese; never a traceback.

Unexpected exceptions are logged on the server with their traceback and answered
with a plain 500 message, so nothing about the code or the files reaches a client.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from knowledge.validation import field_message

log = logging.getLogger("govqa.web")
_STATUS_TEXT = {404: "没有这个地址", 405: "这个地址不支持该请求方法"}
# FastAPI's and Starlette's own English details, in the words a caller reads
_DETAILS = {"There was an error parsing the body": "请求体无法解析：应为 UTF-8 编码的 JSON"}


class Rejected(Exception):
    """A request refused with a status, a message, and per-field problems where there are any."""

    def __init__(self, status: int, message: str, problems: list[dict] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.problems = status, message, problems or []


def problems(errors: list[dict], skip: int = 0) -> list[dict]:
    """Field path (申请材料.2.份数) and message of each error; `skip` drops leading loc parts (body, tags)."""
    return [{"field": "" if err["type"] == "json_invalid" else ".".join(str(x) for x in err["loc"][skip:]),
             "message": field_message(err)} for err in errors]


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
        text = _DETAILS.get(str(exc.detail), str(exc.detail))
        if text == HTTPStatus(exc.status_code).phrase:  # Starlette's English default
            text = _STATUS_TEXT.get(exc.status_code, text)
        return JSONResponse({"error": text, "problems": []}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _json(500, "服务器内部错误，请稍后再试；如需帮助请联系管理员")
