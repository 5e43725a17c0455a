"""Whom a request comes from: the address the rate limits count, and the scheme the origin check compares.

Behind a reverse proxy every connection comes from the proxy, which names the citizen in X-Forwarded-For
and the scheme in X-Forwarded-Proto. Those headers are believed only on connections from the proxies
named in GOVQA_TRUSTED_PROXIES (addresses or networks, comma-separated; none by default). From anyone
else they are the client's own words, and a client that may name its own address is never limited:
uvicorn believes them from 127.0.0.1 by default, so `govqa serve` runs it with its proxy handling off
and this middleware alone decides.
"""

from __future__ import annotations

import ipaddress
import os

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies_from_env() -> tuple[Network, ...]:
    """GOVQA_TRUSTED_PROXIES as networks; anything that is not an address or a network is refused."""
    networks = []
    for item in filter(None, (x.strip() for x in os.environ.get("GOVQA_TRUSTED_PROXIES", "").split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError("GOVQA_TRUSTED_PROXIES 应为以逗号分隔的地址或网段（如 127.0.0.1 或 10.0.0.0/8），"
                             f"不认识：{item!r}") from None
    return tuple(networks)


class ForwardedClientMiddleware:
    """Replaces the connection's address (and scheme) by the forwarded ones when, and only when, the
    connection comes from a trusted proxy. The client is the nearest address in X-Forwarded-For that is
    not itself a trusted proxy: what a client writes into the header before it reaches the proxy is
    ignored, since the proxy appends the address it saw."""

    def __init__(self, app: ASGIApp, proxies: tuple[Network, ...] = ()) -> None:
        self.app, self.proxies = app, proxies

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.proxies and scope.get("client") and self._trusted(scope["client"][0]):
            headers = Headers(scope=scope)
            chain = [a.strip() for a in ",".join(headers.getlist("x-forwarded-for")).split(",") if a.strip()]
            client = scope["client"][0]
            for address in reversed(chain):
                client = address
                if not self._trusted(address):
                    break
            scope = {**scope, "client": (client, 0)}
            proto = headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                scope["scheme"] = proto
        await self.app(scope, receive, send)
