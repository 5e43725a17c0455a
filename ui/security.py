"""Security headers on every response, added where a route has not set its own.

- every response: `X-Content-Type-Options: nosniff`, `Referrer-Policy: strict-origin-when-cross-origin`;
  over HTTPS also `Strict-Transport-Security`.
- HTML: a Content-Security-Policy. The staff pages and the record page set their own strict one
  (scripts only from this origin, `frame-ancestors 'none'`); the citizen chat (Gradio) gets one that
  allows what Gradio needs (its inline bootstrap script and styles) and only this origin otherwise:
  the widget's own origin for scripts, styles, images and API calls. The widget itself runs in the host
  page (a script tag, not a frame), so no page here needs to be framed by other sites; the chat may be
  framed by this origin and by the sites in GOVQA_FRAME_ANCESTORS (space-separated, e.g.
  "https://www.example.gov.cn"), staff pages by nobody (also `X-Frame-Options: DENY` for old browsers).
- staff API responses (`/api/agent`, `/api/editor`, `/api/me`, `/api/login`): `Cache-Control: no-store`.

Request bodies are limited on every route, the Gradio chat's included (GOVQA_MAX_BODY_BYTES, default 1 MiB;
the largest edit of a long policy and a long chat's history are far below it): a bigger one gets 413 before
it is read into memory. The Gradio routes that take files (`CLOSED`) answer 404: the chat takes none, and
an upload would otherwise be kept on disk for anyone who posts one.
"""

from __future__ import annotations

import json
import os
import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STAFF_PAGES = ("/agent", "/editor", "/login")
STAFF_API = ("/api/agent/", "/api/editor/", "/api/me", "/api/login", "/api/logout")
CHAT_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' data: blob:; connect-src 'self'; "
            "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors {ancestors}")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d+)?$")
MAX_BODY_BYTES = 1 << 20
CLOSED = ("/gradio_api/upload", "/gradio_api/process_recording")


def frame_ancestors_from_env() -> str:
    """'self' plus the origins in GOVQA_FRAME_ANCESTORS; anything that is not an origin is refused."""
    origins = os.environ.get("GOVQA_FRAME_ANCESTORS", "").split()
    bad = [o for o in origins if not _ORIGIN.match(o)]
    if bad:
        raise ValueError(f"GOVQA_FRAME_ANCESTORS 应为以空格分隔的来源（如 https://www.example.gov.cn），不认识：{bad}")
    return " ".join(["'self'", *origins])


def under(path: str, prefixes: tuple[str, ...]) -> bool:
    """Whether the path is one of `prefixes` or below one (a prefix ending in "/" only below it)."""
    return any(path == p.rstrip("/") or path.startswith(p if p.endswith("/") else p + "/") for p in prefixes)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, frame_ancestors: str = "'self'") -> None:
        self.app = app
        self.chat_csp = CHAT_CSP.format(ancestors=frame_ancestors)
        self.staff_csp = CHAT_CSP.format(ancestors="'none'")
        self.frame_ancestors = frame_ancestors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, https = scope["path"], scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                if https:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
                if headers.get("content-type", "").startswith("text/html"):
                    self._html(path, headers)
                if under(path, STAFF_API):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _html(self, path: str, headers: MutableHeaders) -> None:
        staff = under(path, STAFF_PAGES)
        if "content-security-policy" not in headers:
            headers["Content-Security-Policy"] = self.staff_csp if staff else self.chat_csp
        if staff or "frame-ancestors 'none'" in headers["content-security-policy"]:
            headers.setdefault("X-Frame-Options", "DENY")
        elif self.frame_ancestors == "'self'":
            headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")


def max_body_from_env() -> int:
    value = os.environ.get("GOVQA_MAX_BODY_BYTES", "").strip()
    if not value:
        return MAX_BODY_BYTES
    if not value.isdigit() or int(value) < 1024:
        raise ValueError(f"GOVQA_MAX_BODY_BYTES 应为不小于 1024 的整数（字节），现在是 {value!r}")
    return int(value)


class BodyLimitMiddleware:
    """413 for a request body over `max_bytes`: by its Content-Length, or, for a body sent without
    one (chunked), once that many bytes have arrived, before the application buffers it. 404 for the
    routes that take files."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].rstrip("/") in CLOSED:
            await _error(send, 404, "本服务不接收文件上传")
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        if length is None and "transfer-encoding" not in headers:     # no body at all (GET, the chat's stream)
            await self.app(scope, receive, send)
            return
        if length is not None:
            if not length.isdigit() or int(length) > self.max_bytes:
                await _too_large(send, self.max_bytes)
                return
            await self.app(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await _too_large(send, self.max_bytes)
                return
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    await _error(send, 413, f"请求内容太大（最多 {limit // 1024} KB）")


async def _error(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message, "problems": []}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
