"""Per-client rate limits, so one address can neither flood the assistant nor keep guessing staff passwords.

A token bucket per rule and client address: a rule of N per period allows bursts of N and refills
steadily; a request over the limit gets 429 with `Retry-After` (whole seconds until one more is
allowed) and the usual JSON error. CORS preflights never reach the limiter (the CORS middleware
answers them outside it). Limits are per server process. Behind a reverse proxy, the client address
is the one X-Forwarded-For names on connections from GOVQA_TRUSTED_PROXIES (ui/client_address.py).

Every request that carries a body counts against one rule: the first whose paths it matches.

GOVQA_RATE_LIMIT          questions and feedback, and everything posted to the Gradio chat (its queue, its
                          API, uploads), default "30/minute" ("off" turns it off)
GOVQA_LOGIN_RATE_LIMIT    staff login attempts, default "5/minute"
GOVQA_WRITE_RATE_LIMIT    every other POST, PUT, PATCH or DELETE (editors' saves, logout …), default "60/minute"
GOVQA_RATE_LIMIT_EXEMPT   client addresses never limited, comma-separated (e.g. "127.0.0.1,::1" for a load test)
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(?:(\d+(?:\.\d+)?)\s*s|(second|minute|hour|day))\s*$")
# what a citizen's question costs, whichever door it comes through: the REST API or the Gradio chat
QUESTION_PATHS = ("/api/ask", "/api/feedback", "/api/agent/ask", "/gradio_api/")
LOGIN_PATHS = ("/api/login",)
ANY_PATH = ("/",)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Limit:
    requests: int
    period_s: float

    @classmethod
    def parse(cls, text: str) -> "Limit | None":
        """"30/minute", "5/second", "100/hour", "10/30s"; "off" (or "0", or nothing) means no limit."""
        if text.strip().lower() in ("", "off", "none", "0"):
            return None
        match = _LIMIT.match(text.lower())
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"限流设置应为“次数/时间”，如 30/minute、5/second、10/30s，现在是 {text!r}")
        period = float(match.group(2)) if match.group(2) else _PERIODS[match.group(3)]
        if period <= 0:
            raise ValueError(f"限流的时间段必须大于 0：{text!r}")
        return cls(int(match.group(1)), period)


def _matches(path: str, paths: tuple[str, ...]) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in paths)


@dataclass(frozen=True)
class Rule:
    name: str
    limit: Limit
    paths: tuple[str, ...]               # exact paths, or prefixes where they end with "/"
    excluding: tuple[str, ...] = ()      # paths that other rules count, even while those rules are off

    def applies(self, method: str, path: str) -> bool:
        return method in BODY_METHODS and _matches(path, self.paths) and not _matches(path, self.excluding)


def rules_from_env() -> tuple[list[Rule], frozenset[str]]:
    """The configured rules and exempt addresses; a malformed setting is a ValueError naming the variable."""
    rules = []
    for name, variable, default, paths, excluding in (
            ("questions", "GOVQA_RATE_LIMIT", "30/minute", QUESTION_PATHS, ()),
            ("login", "GOVQA_LOGIN_RATE_LIMIT", "5/minute", LOGIN_PATHS, ()),
            ("writes", "GOVQA_WRITE_RATE_LIMIT", "60/minute", ANY_PATH, QUESTION_PATHS + LOGIN_PATHS)):
        try:
            limit = Limit.parse(os.environ.get(variable, default))
        except ValueError as exc:
            raise ValueError(f"{variable}：{exc}") from None
        if limit is not None:
            rules.append(Rule(name, limit, paths, excluding))
    exempt = frozenset(a.strip() for a in os.environ.get("GOVQA_RATE_LIMIT_EXEMPT", "").split(",") if a.strip())
    return rules, exempt


class TokenBuckets:
    """Buckets by key, the least recently seen forgotten beyond `max_keys` (a forgotten bucket is full again)."""

    def __init__(self, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_keys, self.clock = max_keys, clock
        self._buckets: OrderedDict[tuple, tuple[float, float]] = OrderedDict()   # key -> (tokens, at)

    def take(self, key: tuple, limit: Limit) -> float:
        """0 if a request may go now (and count it), else the seconds until one may."""
        now = self.clock()
        rate = limit.requests / limit.period_s
        tokens, at = self._buckets.pop(key, (float(limit.requests), now))
        tokens = min(float(limit.requests), tokens + (now - at) * rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
        self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


class RateLimitMiddleware:
    """ASGI middleware; runs on the event loop, so taking a token needs no lock."""

    def __init__(self, app: ASGIApp, rules: list[Rule], exempt: frozenset[str] = frozenset(),
                 buckets: TokenBuckets | None = None) -> None:
        self.app, self.rules, self.exempt = app, rules, exempt
        self.buckets = buckets or TokenBuckets()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.rules:
            client = scope["client"][0] if scope.get("client") else ""
            if client not in self.exempt:
                rule = next((r for r in self.rules if r.applies(scope["method"], scope["path"])), None)
                wait = self.buckets.take((rule.name, client), rule.limit) if rule else 0.0
                if wait:
                    await _too_many(send, math.ceil(wait))
                    return
        await self.app(scope, receive, send)


async def _too_many(send: Send, retry_after: int) -> None:
    body = json.dumps({"error": f"请求过于频繁，请 {retry_after} 秒后再试。", "problems": []},
                      ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after).encode())]})
    await send({"type": "http.response.body", "body": body})
