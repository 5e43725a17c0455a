"""Which sites may call what: the public API and the widget from any site, everything else from this one.

SameSite=Strict keeps the staff cookie off requests from other *sites*, but another port of the same host
or a sibling subdomain is the same site: a page there could post a form (or a `no-cors` fetch) to an editor
endpoint with the editor's cookie. So every state-changing staff request must come from a page of this
server: its Origin header (or, without one, its Referer) has to be this server's origin, else 403. A
request carrying neither comes from no web page (curl, a script) and has no browser's cookies to abuse.

CORS is for the public calls only (`PUBLIC`): the widget asks from other sites, without cookies. Any other
request from a foreign origin reaches the application without its Origin header, so the CORS layer below
adds nothing that would let that site read the answer, and its preflights are refused: `/api/login` can no
longer be driven from visitors' browsers to test staff passwords.

This server's origin is the scheme and Host of the request (the scheme from X-Forwarded-Proto only from a
trusted proxy, see ui/client_address.py), or, when GOVQA_STAFF_ORIGINS is set, one of the origins listed
there (e.g. "https://zwfw.example.gov.cn" behind a proxy that rewrites Host; it also shuts out a page on a
DNS-rebinding host).
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ui.security import STAFF_API, under

PUBLIC = ("/api/ask", "/api/feedback", "/api/records/", "/api/health", "/widget.js")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
Origin = tuple[str, str, int]            # scheme, host, port


def parse_origin(text: str) -> Origin | None:
    """("https", "zwfw.example.gov.cn", 443) for an origin or any URL; None for "null" and other non-origins."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


def staff_origins_from_env() -> tuple[Origin, ...]:
    """GOVQA_STAFF_ORIGINS as origins; empty means "the origin each request names"."""
    origins = []
    for item in filter(None, (x.strip() for x in os.environ.get("GOVQA_STAFF_ORIGINS", "").split(","))):
        origin = parse_origin(item)
        if origin is None:
            raise ValueError(f"GOVQA_STAFF_ORIGINS 应为以逗号分隔的来源（如 https://zwfw.example.gov.cn），不认识：{item!r}")
        origins.append(origin)
    return tuple(origins)


class OriginPolicyMiddleware:
    """Put outside the CORS middleware: refuses what a foreign origin may not do, and hides its Origin
    from CORS wherever the answer is not public."""

    def __init__(self, app: ASGIApp, staff_origins: tuple[Origin, ...] = ()) -> None:
        self.app, self.staff_origins = app, staff_origins

    def _own(self, scope: Scope, headers: Headers) -> tuple[Origin, ...]:
        if self.staff_origins:
            return self.staff_origins
        own = parse_origin(f"{scope.get('scheme', 'http')}://{headers.get('host', '')}")
        return (own,) if own else ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or under(scope["path"], PUBLIC):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        claimed = headers.get("origin", headers.get("referer"))
        if claimed is not None and parse_origin(claimed) not in self._own(scope, headers):
            method = scope["method"]
            if method == "OPTIONS" or (method in UNSAFE and under(scope["path"], STAFF_API)):
                await _refuse(send)
                return
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"origin"]}
        await self.app(scope, receive, send)


async def _refuse(send: Send) -> None:
    body = json.dumps({"error": "请求来源不被允许：工作人员接口只接受本站页面发出的请求", "problems": []},
                      ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 403, "headers": [
        (b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
