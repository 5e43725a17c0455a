"""The web server through HTTP: public API, staff login and roles, clear errors, the editor's save-and-reindex,
the hotline console's data. Tests marked slow answer questions (they load the embedding model)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ui.cli import main
from assistant.demand_log import DemandLog
from assistant.service import Assistant
from assistant.settings import SAMPLE_KB
from indexing.index import KnowledgeIndex
from knowledge.loaders import load_file, load_knowledge_base
from ui.app import create_app
from ui.auth import Accounts

EDITOR = ("ed", "editor-pass-1")
AGENT = ("op", "agent-pass-1")


@pytest.fixture(scope="module")
def accounts(tmp_path_factory) -> Accounts:
    accounts = Accounts(tmp_path_factory.mktemp("users") / "users.json")
    accounts.add(EDITOR[0], "editor", EDITOR[1])
    accounts.add(AGENT[0], "agent", AGENT[1])
    return accounts


def make_app(root: Path, settings, accounts: Accounts, embedder=None, indexed: bool = False):
    """An app over its own copy of the sample knowledge base and its own data folder under `root`."""
    kb = root / "kb"
    shutil.copytree(SAMPLE_KB, kb)
    settings = dataclasses.replace(settings, data_dir=root / "data", kb_dir=kb)
    index = KnowledgeIndex(settings.data_dir, settings.embedding_model, embedder=embedder)
    if indexed:
        index.index(load_knowledge_base(kb).records)
    return create_app(settings, Assistant(index, DemandLog(settings.data_dir / "demand.sqlite")), accounts)


def login(client: TestClient, who: tuple[str, str]) -> TestClient:
    response = client.post("/api/login", json={"username": who[0], "password": who[1]})
    assert response.status_code == 200, response.text
    return client


@pytest.fixture(scope="module")
def bare(tmp_path_factory, settings, accounts):
    """An app whose index is empty: no model is ever loaded. Tests that log in use a client of their own."""
    app = make_app(tmp_path_factory.mktemp("bare"), settings, accounts)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def web(tmp_path_factory, settings, accounts, embedder):
    app = make_app(tmp_path_factory.mktemp("web"), settings, accounts, embedder, indexed=True)
    with TestClient(app) as client:
        yield client


def staff(client: TestClient, who: tuple[str, str]) -> TestClient:
    """Another browser on the same server, logged in as `who`."""
    return login(TestClient(client.app), who)


# ---- access ---------------------------------------------------------------------
def test_staff_pages_and_write_endpoints_need_a_login(bare):
    for page in ("/agent", "/editor"):
        response = bare.get(page, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == f"/login?next={page}"
    for method, url in [("GET", "/api/editor/records"), ("PUT", "/api/editor/records/g-passport"),
                        ("POST", "/api/editor/records"), ("DELETE", "/api/editor/records/g-passport"),
                        ("GET", "/api/editor/demand"), ("POST", "/api/agent/ask")]:
        response = bare.request(method, url, json={"kind": "guide", "fields": {}, "question": "护照"})
        assert response.status_code == 401, (method, url)
        assert response.json()["error"] == "请先登录"
    for public in ("/", "/widget.js", "/api/health", "/login", "/records/g-passport", "/openapi.json"):
        assert bare.get(public).status_code == 200, public


def test_roles_decide_which_console_opens(bare):
    agent = staff(bare, AGENT)
    assert agent.get("/agent").status_code == 200
    assert agent.get("/editor").status_code == 403
    assert agent.get("/api/editor/records").status_code == 403
    editor = staff(bare, EDITOR)
    assert editor.get("/agent").status_code == 200 and editor.get("/editor").status_code == 200
    assert editor.get("/api/me").json() == {"name": "ed", "role": "editor"}
    editor.post("/api/logout")
    assert editor.get("/api/editor/records").status_code == 401


def test_login_refuses_wrong_passwords_and_unknown_names_alike(bare):
    for name, password in [("ed", "wrong-password"), ("nobody", "editor-pass-1")]:
        response = TestClient(bare.app).post("/api/login", json={"username": name, "password": password})
        assert response.status_code == 401 and response.json()["error"] == "用户名或密码不正确"
        assert "govqa_session" not in response.cookies


def test_session_cookie_is_http_only_and_same_site_strict(bare):
    response = TestClient(bare.app).post("/api/login", json={"username": EDITOR[0], "password": EDITOR[1]})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_accounts_file_holds_only_scrypt_hashes(accounts):
    text = accounts.path.read_text(encoding="utf-8")
    assert EDITOR[1] not in text and AGENT[1] not in text
    assert json.loads(text)["users"]["ed"]["password_hash"].startswith("scrypt$")


def test_users_command_adds_accounts_and_makes_hashes_for_the_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GOVQA_USERS_FILE", str(tmp_path / "users.json"))
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["users", "add", "alice", "--role", "editor"]) == 0
    assert Accounts(tmp_path / "users.json").authenticate("alice", "a-long-password").role == "editor"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "bob", "--role", "agent"]) == 2  # too short: nothing saved
    monkeypatch.setattr("sys.stdin", io.StringIO("another-password\n"))
    capsys.readouterr()
    assert main(["users", "hash"]) == 0
    env_accounts = Accounts(tmp_path / "none.json", f"carol:agent:{capsys.readouterr().out.strip()}")
    assert env_accounts.authenticate("carol", "another-password").role == "agent"
    assert env_accounts.authenticate("carol", "a-long-password") is None


# ---- errors -----------------------------------------------------------------------
@pytest.mark.parametrize("method, url, body, status, says", [
    ("POST", "/api/ask", {}, 422, "question 必填"),
    ("POST", "/api/ask", {"question": "护照", "channel": "fax"}, 422, "channel"),
    ("POST", "/api/ask", {"question": ["护照"]}, 422, "应为文字"),
    ("POST", "/api/ask", "{not json", 422, "不是合法的 JSON"),
    ("POST", "/api/ask", {"question": "护照"}, 503, "还没有索引"),
    ("POST", "/api/feedback", {"question_id": "x", "helpful": "yes"}, 422, "true 或 false"),
    ("POST", "/api/feedback", {"question_id": "no-such-id", "helpful": True}, 404, "no-such-id"),
    ("GET", "/api/ask", None, 405, "不支持 GET"),
    ("GET", "/api/no-such-thing", None, 404, "没有这个接口"),
    ("GET", "/api/records/g-passport", None, 404, "没有 id 为 g-passport"),
    ("GET", "/api/records/..%2F..%2Fetc%2Fpasswd", None, 404, "没有"),
])
def test_bad_requests_get_a_clear_json_error(bare, method, url, body, status, says):
    kwargs = {"content": body, "headers": {"Content-Type": "application/json"}} if isinstance(body, str) else \
        {"json": body} if body is not None else {}
    response = bare.request(method, url, **kwargs)
    assert response.status_code == status, response.text
    assert says in response.json()["error"]
    assert "Traceback" not in response.text


def test_an_unexpected_failure_is_a_plain_500_without_details(bare, monkeypatch):
    backend = bare.app.state.backend
    monkeypatch.setattr(backend, "indexed", lambda: True)
    monkeypatch.setattr(backend, "ask", lambda *a: (_ for _ in ()).throw(RuntimeError("/secret/path failed")))
    response = bare.post("/api/ask", json={"question": "办护照"})
    assert response.status_code == 500
    assert response.json()["error"].startswith("服务器内部错误")
    assert "secret" not in response.text and "Traceback" not in response.text


def test_editor_sees_every_problem_of_an_invalid_edit_and_nothing_is_written(bare):
    editor = staff(bare, EDITOR)
    opened = editor.get("/api/editor/records/g-passport").json()
    path = Path(bare.app.state.backend.settings.kb_dir) / opened["source"]
    before = path.read_bytes()
    fields = {**opened["record"], "事项名称": "", "更新日期": "上周", "申请材料": [
        {**opened["record"]["申请材料"][0], "份数": "两份"}, {"名称": "户口簿", "形式": "扫描件", "份数": 1}]}
    response = editor.put("/api/editor/records/g-passport", json={"kind": "guide", "fields": fields,
                                                                 "base_hash": opened["hash"]})
    assert response.status_code == 422
    problems = {p["field"]: p["message"] for p in response.json()["problems"]}
    today = dt.date.today().isoformat()
    assert problems == {"事项名称": "不能为空", "更新日期": f"“上周”不是有效的日期，请写成 YYYY-MM-DD，如 {today}",
                        "申请材料.0.份数": "应为整数（如 1），不能写“两份”",
                        "申请材料.1.形式": "请选择以下之一：原件、复印件、原件和复印件、电子件"}
    assert response.json()["error"] == "有 4 处需要修改，未保存"
    assert path.read_bytes() == before
    # an empty field is missing, not badly formatted; a FAQ's 关联事项 must be a guide of the knowledge base
    fields = {**opened["record"], "申请材料": [{**opened["record"]["申请材料"][0], "份数": "", "形式": ""}]}
    response = editor.put("/api/editor/records/g-passport", json={"kind": "guide", "fields": fields,
                                                                 "base_hash": opened["hash"]})
    assert {p["field"]: p["message"] for p in response.json()["problems"]} == {
        "申请材料.0.份数": "必填，请填写", "申请材料.0.形式": "必填，请选择以下之一：原件、复印件、原件和复印件、电子件"}
    response = editor.post("/api/editor/records", json={"kind": "faq", "fields": {
        "id": "faq-new-one", "问题": "问？", "答案": "答。", "关联事项": "g-no-such-guide"}})
    assert response.status_code == 422
    assert response.json()["problems"] == [{"field": "关联事项",
                                            "message": "没有 id 为 g-no-such-guide 的办事指南，请从列表中选择"}]
    assert path.read_bytes() == before


def test_editor_cannot_create_a_record_under_an_id_in_use(bare):
    editor = staff(bare, EDITOR)
    response = editor.post("/api/editor/records", json={"kind": "faq", "fields": {
        "id": "g-passport", "问题": "护照？", "答案": "见指南。"}})
    assert response.status_code == 409 and "已被使用" in response.json()["error"]


def test_openapi_schema_documents_the_api(bare):
    paths = bare.get("/openapi.json").json()["paths"]
    assert {"/api/ask", "/api/feedback", "/api/records/{record_id}", "/api/health"} <= set(paths)


# ---- answering (model) ------------------------------------------------------------
@pytest.mark.slow
def test_ask_returns_the_json_of_govqa_ask(web):
    first = web.post("/api/ask", json={"question": "办护照要多少钱"}).json()
    assert {"answered", "decision", "answer", "citations", "latency_ms", "question_id", "session_id", "options",
            "suggestions", "notices", "aspect"} <= set(first)
    assert first["answered"] and first["citations"][0]["record_id"] == "g-passport" and "120元" in first["answer"]
    follow_up = web.post("/api/ask", json={"question": "在哪里办", "session_id": first["session_id"]}).json()
    assert follow_up["citations"][0]["record_id"] == "g-passport" and follow_up["aspect"] == "location"


@pytest.mark.slow
def test_record_endpoint_gives_the_full_guide(web):
    data = web.get("/api/records/g-passport").json()
    assert data["kind"] == "guide" and data["title"].startswith("普通护照")
    assert len(data["record"]["申请材料"]) == 6 and "120元" in data["record"]["收费标准"]


@pytest.mark.slow
def test_refusals_and_thumbs_down_reach_the_demand_view_with_counts(web):
    for _ in range(2):
        refused = web.post("/api/ask", json={"question": "我家的狗需要办狗证吗", "channel": "widget"}).json()
    assert refused["decision"] == "refused"
    answered = web.post("/api/ask", json={"question": "身份证丢了怎么补办"}).json()
    assert web.post("/api/feedback", json={"question_id": answered["question_id"], "helpful": False,
                                           "comment": "没说清楚"}).json() == {"ok": True}
    signals = staff(web, EDITOR).get("/api/editor/demand").json()["signals"]
    assert signals[0]["question"] == "身份证丢了怎么补办" and signals[0]["unhelpful"] == 1  # newest first
    dog = next(s for s in signals if s["question"].startswith("我家的狗"))
    assert dog["count"] == 2 and dog["decision"] == "refused"


@pytest.mark.slow
def test_editor_save_rewrites_the_file_and_the_next_answer_uses_it(web):
    editor = staff(web, EDITOR)
    opened = editor.get("/api/editor/records/g-id-card-apply").json()
    fields = {**opened["record"], "收费标准": "工本费25元（2026年起）"}
    saved = editor.put("/api/editor/records/g-id-card-apply",
                       json={"kind": "guide", "fields": fields, "base_hash": opened["hash"]})
    assert saved.status_code == 200, saved.text
    assert saved.json()["index"]["updated"] == 1
    path = Path(web.app.state.backend.settings.kb_dir) / saved.json()["source"]
    assert [r.fees for r in load_file(path).records] == ["工本费25元（2026年起）"]
    answer = web.post("/api/ask", json={"question": "第一次办身份证要多少钱"}).json()
    assert answer["citations"][0]["record_id"] == "g-id-card-apply" and "25元" in answer["answer"]
    stale = editor.put("/api/editor/records/g-id-card-apply",
                       json={"kind": "guide", "fields": opened["record"], "base_hash": opened["hash"]})
    assert stale.status_code == 409  # someone saved since this copy was opened
    listed = editor.get("/api/editor/records", params={"q": "工本费25元"}).json()["records"]
    assert [(r["id"], r["indexed"]) for r in listed] == [("g-id-card-apply", True)]


@pytest.mark.slow
def test_new_faq_joins_its_guides_table_answers_at_once_and_can_be_deleted(web):
    editor = staff(web, EDITOR)
    kb = Path(web.app.state.backend.settings.kb_dir)
    created = editor.post("/api/editor/records", json={"kind": "faq", "fields": {
        "id": "faq-passport-pet", "问题": "护照照片可以戴美瞳吗？", "相似问法": ["拍护照照片能戴美瞳吗"],
        "答案": "不可以。护照相片须不戴美瞳、不化浓妆，露出双耳和眉毛。", "关联事项": "g-passport",
        "更新日期": "2026-03-01"}})
    assert created.status_code == 201, created.text
    table = kb / created.json()["source"]
    assert table.suffix == ".csv" and "faq-passport-pet" in {r.id for r in load_file(table).records}
    answer = web.post("/api/ask", json={"question": "拍护照照片能戴美瞳吗"}).json()
    assert answer["citations"][0]["record_id"] == "faq-passport-pet" and "不戴美瞳" in answer["answer"]
    assert editor.delete("/api/editor/records/faq-passport-pet").status_code == 200
    assert "faq-passport-pet" not in {r.id for r in load_file(table).records}
    assert web.get("/api/records/faq-passport-pet").status_code == 404


@pytest.mark.slow
def test_hotline_console_gets_script_sources_with_marks_and_the_materials_checklist(web):
    agent = staff(web, AGENT)
    data = agent.post("/api/agent/ask", json={"question": "办护照要带什么材料"}).json()
    guide = web.app.state.backend.index.record("g-passport")
    assert data["answer"]["citations"][0]["record_id"] == "g-passport"
    assert "[1]" not in data["script"] and "居民身份证" in data["script"]
    assert [m["name"] for m in data["guide"]["materials"]] == [m.name for m in guide.materials]
    top = data["sources"][0]
    assert top["record_id"] == "g-passport" and 0 < top["score"] <= 1
    marked = {p["text"][a:b] for p in top["passages"] for a, b in p["marks"]}
    assert {"护照", "材料"} & marked
    follow_up = agent.post("/api/agent/ask", json={"question": "那要多少钱",
                                                   "session_id": data["answer"]["session_id"]}).json()
    assert follow_up["answer"]["citations"][0]["record_id"] == "g-passport"
    assert follow_up["sources"][0]["record_id"] == "g-passport"


@pytest.mark.slow
def test_hotline_script_reads_whole_lists_and_a_refusal_names_the_department_to_transfer_to(web):
    agent = staff(web, AGENT)
    data = agent.post("/api/agent/ask", json={"question": "居住证要什么材料"}).json()
    guide = web.app.state.backend.index.record("g-residence-permit")
    assert [line for line in data["script_lines"] if line[0].isdigit()] == \
        [f"{n}. {m.describe()}" for n, m in enumerate(guide.materials, 1)]
    assert "还可以问" not in data["script"] and data["decision"] == "有依据，可答复"
    assert data["transfer"]["department"] == "示例市公安局（户政）" and data["guide"]["transfer_phone"] == "0000-66110110"
    assert data["sources"][0]["band"] == "high" and {s["band"] for s in data["sources"]} <= {"high", "medium", "low"}
    assert not any("又称" in p["text"] for s in data["sources"] for p in s["passages"])

    refused = agent.post("/api/agent/ask", json={"question": "我家的狗需要办狗证吗",
                                                 "session_id": data["answer"]["session_id"]}).json()
    assert refused["answer"]["decision"] == "refused" and refused["decision"] == "知识库无依据"
    assert refused["transfer"] == {"department": "示例市公安局（户政）", "phone": "0000-66110110",
                                   "hours": "工作日 9:00-17:00", "reason": "问题涉及该部门的职责"}
    assert "0000-66110110" in refused["script"] and "12345" not in refused["script"]
    # a new call: a question naming nothing asks which service, as the citizen chat does
    fresh = agent.post("/api/agent/ask", json={"question": "那要多少钱"}).json()
    assert fresh["answer"]["decision"] == "clarify" and "哪项业务" in fresh["script"]
    assert len(agent.get("/api/agent/directory").json()["departments"]) >= 10

    saved = agent.post("/api/agent/outcome", json={
        "question_id": refused["answer"]["question_id"], "outcome": "transferred", "department": "示例市公安局（户政）",
        "notes": "来电人电话13912345678，问养犬登记"})
    assert saved.json() == {"ok": True}
    assert agent.post("/api/agent/outcome", json={"question_id": "nope", "outcome": "resolved"}).status_code == 404
    assert agent.post("/api/agent/outcome", json={"question_id": "x", "outcome": "lost"}).status_code == 422
    assert web.post("/api/agent/outcome", json={"question_id": "x", "outcome": "resolved"}).status_code == 401
    items = staff(web, EDITOR).get("/api/editor/demand").json()["signals"]
    dog = next(i for i in items if i["question"] == "我家的狗需要办狗证吗")
    assert dog["service"] is None                   # asked after 居住证 in the call, but about a dog licence
    assert dog["asked_after"] == [{"id": "g-residence-permit", "title": "居住证申领"}]
    assert dog["transferred"] == 1 and dog["notes"] == ["来电人电话[手机号]，问养犬登记"]
    assert dog["departments"] == ["示例市公安局（户政）"] and "hotline" in dog["channels"]


@pytest.mark.slow
def test_a_changed_fee_is_dated_and_the_records_still_stating_the_old_one_are_listed(web):
    editor = staff(web, EDITOR)
    opened = editor.get("/api/editor/records/g-residence-permit").json()
    fields = {**opened["record"], "收费标准": opened["record"]["收费标准"].replace("20元", "25元")}
    saved = editor.put("/api/editor/records/g-residence-permit",
                       json={"kind": "guide", "fields": fields, "base_hash": opened["hash"]}).json()
    today = dt.date.today().isoformat()
    assert saved["updated"] == today
    assert [(s["old"], s["new"], [r["id"] for r in s["records"]]) for s in saved["stale"]] == \
        [("20元", "25元", ["faq-rp-fee", "p-police-residence-permit-measures"])]   # its FAQ and the policy
    answer = web.post("/api/ask", json={"question": "居住证换领收费标准"}).json()
    assert answer["citations"][0]["record_id"] == "g-residence-permit" and answer["citations"][0]["updated"] == today
    listed = editor.get("/api/editor/records", params={"q": "居住证"}).json()["records"]
    assert listed[0]["id"] == "g-residence-permit"


@pytest.mark.slow
def test_the_demand_view_lists_what_to_write_and_drops_what_is_settled(web):
    editor = staff(web, EDITOR)

    def ask(question, session=None):
        return web.post("/api/ask", json={"question": question, "session_id": session, "channel": "widget"}).json()

    ask("网上能办吗")                                 # nothing talked about: only asked which service
    ask("1+1等于几")                                  # nobody's demand
    passport = ask("护照")
    assert ask("能插队吗", passport["session_id"])["decision"] == "refused"
    for _ in range(2):
        ask("养的鹦鹉要办证吗")
    view = editor.get("/api/editor/demand").json()
    questions = [i["question"] for i in view["signals"]]
    assert "网上能办吗" not in questions and "1+1等于几" not in questions
    assert view["left_out"]["follow_up"] >= 1 and view["left_out"]["noise"] >= 1
    queue = next(i for i in view["signals"] if i["question"] == "能插队吗")
    assert queue["asked_after"] == [{"id": "g-passport", "title": "普通护照签发（首次申请、换发、补发）"}]
    typo = ask("身份正丢了怎么补办")                       # answered, then marked 👎
    web.post("/api/feedback", json={"question_id": typo["question_id"], "helpful": False})
    view = editor.get("/api/editor/demand").json()
    assert "身份证丢了怎么补办" in [i["question"] for i in view["signals"]]     # as the knowledge base spells it
    parrot = next(i for i in view["signals"] if i["question"] == "养的鹦鹉要办证吗")
    assert parrot["count"] == 2 and parrot["decision"] == "refused" and "暂不作答" in parrot["answer"]

    # a FAQ written for it: the item leaves the list, and the next such question is answered
    created = editor.post("/api/editor/records", json={"kind": "faq", "fields": {
        "id": "faq-parrot", "问题": "养的鹦鹉要办证吗？", "相似问法": ["养鹦鹉需要办证吗"],
        "答案": "示例答案：养殖国家重点保护的鹦鹉须向林业部门申请许可，常见的虎皮鹦鹉等无需办证。"}})
    assert created.status_code == 201, created.text
    assert editor.post("/api/editor/demand/resolve", json={"key": parrot["key"], "record_id": "faq-parrot"}).json()[
        "record_id"] == "faq-parrot"
    assert editor.post("/api/editor/demand/resolve", json={"key": "x", "record_id": "no-such"}).status_code == 404
    view = editor.get("/api/editor/demand").json()
    assert "养的鹦鹉要办证吗" not in [i["question"] for i in view["signals"]]
    assert next(i for i in view["resolved"] if i["question"] == "养的鹦鹉要办证吗")["resolved_record"] == "faq-parrot"
    assert ask("养的鹦鹉要办证吗")["answered"]
