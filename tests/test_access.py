"""Access and abuse: rate limits (429 with Retry-After), staff sessions that expire, forged and stale
credentials refused, secrets neither in the repository nor in the logs, security headers on every page.

The app here has an empty index, so no model is loaded; rate limits are set per test through the
environment, as an operator would set them.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ui.cli import main
from assistant.demand_log import DemandLog
from assistant.service import Assistant
from assistant.settings import SAMPLE_KB
from indexing.index import KnowledgeIndex
from ui.app import create_app
from ui.auth import SESSION_TTL_S, Accounts, Sessions
from ui.rate_limit import Limit, TokenBuckets

EDITOR = ("ed", "editor-pass-1")
AGENT = ("op", "agent-pass-1")
REPO = Path(__file__).resolve().parent.parent


def build_app(root: Path, settings):
    """An app over a copy of the sample knowledge base, with an editor and an agent account."""
    kb = root / "kb"
    shutil.copytree(SAMPLE_KB, kb)
    cfg = dataclasses.replace(settings, data_dir=root / "data", kb_dir=kb)
    accounts = Accounts(root / "users.json")
    accounts.add(EDITOR[0], "editor", EDITOR[1])
    accounts.add(AGENT[0], "agent", AGENT[1])
    index = KnowledgeIndex(cfg.data_dir, cfg.embedding_model)
    return create_app(cfg, Assistant(index, DemandLog(cfg.data_dir / "demand.sqlite")), accounts)


@pytest.fixture(scope="module")
def app(tmp_path_factory, settings):
    """With the default settings (limits off for the test run, see conftest.py)."""
    return build_app(tmp_path_factory.mktemp("access"), settings)


@pytest.fixture()
def make(tmp_path, settings, monkeypatch):
    """An app created after the given environment is set, as an operator would set it."""

    def build(**env: str):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return build_app(tmp_path, settings)

    return build


# ---- rate limits --------------------------------------------------------------------
def test_questions_over_the_limit_get_429_with_retry_after(make):
    app = make(GOVQA_RATE_LIMIT="3/minute")
    client = TestClient(app)
    statuses = [client.post("/api/ask", json={"question": "办护照"}).status_code for _ in range(5)]
    assert statuses[:3] == [503] * 3 and statuses[3:] == [429, 429]       # 503: not indexed yet, but served
    limited = client.post("/api/ask", json={"question": "办护照"}, headers={"Origin": "https://www.example.gov.cn"})
    assert limited.status_code == 429 and "请求过于频繁" in limited.json()["error"]
    assert 1 <= int(limited.headers["Retry-After"]) <= 20                 # one token every 20 s
    assert limited.headers["access-control-allow-origin"] == "*"         # the widget can read the message
    other = TestClient(app, client=("203.0.113.9", 40000))                # another address has its own budget
    assert other.post("/api/ask", json={"question": "办护照"}).status_code == 503
    assert client.get("/api/health").status_code == 200                  # reading is not limited
    preflight = client.options("/api/ask", headers={"Origin": "https://a.example", "Access-Control-Request-Method": "POST",
                                                    "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200                                   # preflights cost nothing


def test_exempt_addresses_are_never_limited(make):
    client = TestClient(make(GOVQA_RATE_LIMIT="2/minute", GOVQA_RATE_LIMIT_EXEMPT="testclient,127.0.0.1"))
    assert all(client.post("/api/ask", json={"question": "护照"}).status_code == 503 for _ in range(6))


def test_login_attempts_are_rate_limited(make):
    app = make(GOVQA_LOGIN_RATE_LIMIT="3/minute")
    guesser = TestClient(app, client=("198.51.100.7", 40000))
    for _ in range(3):
        assert guesser.post("/api/login", json={"username": EDITOR[0], "password": "guess"}).status_code == 401
    blocked = guesser.post("/api/login", json={"username": EDITOR[0], "password": EDITOR[1]})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    assert "govqa_session" not in blocked.cookies                         # even the right password waits
    assert TestClient(app).post("/api/login", json={"username": EDITOR[0], "password": EDITOR[1]}).status_code == 200


def test_bucket_refills_at_the_configured_rate():
    now = [1000.0]
    buckets = TokenBuckets(clock=lambda: now[0])
    limit = Limit.parse("2/10s")
    assert [buckets.take(("q", "a"), limit) for _ in range(2)] == [0, 0]
    assert buckets.take(("q", "a"), limit) == pytest.approx(5.0)
    now[0] += 5.0
    assert buckets.take(("q", "a"), limit) == 0 and buckets.take(("q", "a"), limit) > 0


@pytest.mark.parametrize("text, expected", [("30/minute", (30, 60.0)), ("5/second", (5, 1.0)), ("100/hour", (100, 3600.0)),
                                            ("10/30s", (10, 30.0)), ("off", None), ("0", None)])
def test_limits_are_read_as_written(text, expected):
    limit = Limit.parse(text)
    assert (limit.requests, limit.period_s) == expected if expected else limit is None


@pytest.mark.parametrize("variable, value", [("GOVQA_RATE_LIMIT", "lots"), ("GOVQA_LOGIN_RATE_LIMIT", "5 per min"),
                                             ("GOVQA_FRAME_ANCESTORS", "javascript:alert(1)")])
def test_a_malformed_setting_stops_serve_with_a_message(monkeypatch, capsys, tmp_path, variable, value):
    monkeypatch.setenv("GOVQA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(variable, value)
    assert main(["serve", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert variable in err and "Traceback" not in err


# ---- sessions and credentials --------------------------------------------------------
def login(client: TestClient, who: tuple[str, str]) -> str:
    response = client.post("/api/login", json={"username": who[0], "password": who[1]})
    assert response.status_code == 200
    return response.cookies["govqa_session"]


def test_sessions_expire(app, monkeypatch):
    monkeypatch.setattr(app.state.backend, "sessions", Sessions(ttl_s=1))
    client = TestClient(app)
    login(client, EDITOR)
    assert client.get("/api/editor/records").status_code == 200
    time.sleep(1.2)
    assert client.get("/api/editor/records").status_code == 401
    assert client.get("/editor", follow_redirects=False).status_code == 303


def test_the_session_cookie_expires_with_the_session(app):
    response = TestClient(app).post("/api/login", json={"username": EDITOR[0], "password": EDITOR[1]})
    assert f"max-age={SESSION_TTL_S}" in response.headers["set-cookie"].lower() and SESSION_TTL_S <= 12 * 3600


def test_forged_stale_and_wrong_role_credentials_are_refused(app):
    forged = TestClient(app, cookies={"govqa_session": "A" * 43})
    assert forged.get("/api/editor/records").status_code == 401
    assert forged.post("/api/agent/ask", json={"question": "护照"}).status_code == 401
    client = TestClient(app)
    token = login(client, EDITOR)
    client.post("/api/logout")
    stale = TestClient(app, cookies={"govqa_session": token})              # a logged-out token is dead
    assert stale.get("/api/editor/records").status_code == 401
    agent = TestClient(app)
    login(agent, AGENT)
    assert agent.put("/api/editor/records/g-passport", json={"kind": "guide", "fields": {}}).status_code == 403
    basic = TestClient(app).get("/api/editor/records", auth=EDITOR)        # credentials only via the login
    assert basic.status_code == 401


def test_passwords_and_session_tokens_never_reach_the_logs(app, caplog):
    with caplog.at_level(logging.DEBUG):
        client = TestClient(app)
        client.post("/api/login", json={"username": EDITOR[0], "password": "wrong-secret-pw"})
        token = login(client, EDITOR)
        client.get("/api/editor/records")
        client.post("/api/logout")
    logged = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    for secret in ("wrong-secret-pw", EDITOR[1], token):
        assert secret not in logged


SECRET_PATTERNS = [
    re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH )?PRIVATE KEY-----"),
    re.compile(r"\bsk-[A-Za-z0-9]{20,}"),                                    # OpenAI-style API keys
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),                                     # AWS access keys
    re.compile(r"scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]{16,}\$"),            # a stored password hash
    re.compile(r"(?i)(?:api_key|password|secret)\s*[=:]\s*['\"][^'\"\s]{8,}['\"]"),
]


def test_no_secrets_are_committed():
    skip = {".venv", ".git", "data", "__pycache__", "node_modules", ".hypothesis", ".pytest_cache"}
    found = []
    for path in REPO.rglob("*"):
        rel = path.relative_to(REPO)
        if not path.is_file() or skip & set(rel.parts) or path.stat().st_size > 2_000_000:
            continue
        if rel.name in ("users.json", ".env") or rel.suffix in (".pem", ".key"):
            found.append(str(rel))
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        found += [f"{rel}: {m.group(0)[:40]}" for p in SECRET_PATTERNS for m in p.finditer(text)
                  if rel.parts[0] != "tests"]   # tests hold made-up passwords in plain sight, never hashes
    assert found == []


# ---- headers ---------------------------------------------------------------------------
def test_html_pages_carry_security_headers(app):
    client = TestClient(app)
    login(client, EDITOR)
    for path in ("/agent", "/editor", "/login"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert response.status_code == 200 and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff" and response.headers["referrer-policy"]
    chat = client.get("/")
    csp = chat.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp and "frame-ancestors 'self'" in csp
    assert chat.headers["x-frame-options"] == "SAMEORIGIN"
    staff_api = client.get("/api/editor/records")
    assert staff_api.headers["cache-control"] == "no-store" and staff_api.headers["x-content-type-options"] == "nosniff"


def test_the_widget_and_the_public_api_are_open_to_any_site(app):
    client = TestClient(app)
    origin = {"Origin": "https://www.example.gov.cn"}
    script = client.get("/widget.js", headers=origin)
    assert script.status_code == 200 and script.headers["access-control-allow-origin"] == "*"
    assert script.headers["content-type"].startswith("text/javascript")
    preflight = client.options("/api/ask", headers={**origin, "Access-Control-Request-Method": "POST",
                                                    "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200 and "POST" in preflight.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in preflight.headers    # staff cookies never go cross-site


def test_chat_may_be_framed_by_configured_sites_only(make):
    client = TestClient(make(GOVQA_FRAME_ANCESTORS="https://www.example.gov.cn"))
    chat = client.get("/")
    assert "frame-ancestors 'self' https://www.example.gov.cn" in chat.headers["content-security-policy"]
    assert "x-frame-options" not in chat.headers
    assert "frame-ancestors 'none'" in client.get("/login").headers["content-security-policy"]
