"""The editor console's demand-topics dashboard through HTTP: who may use it, recomputing topics from the demand
log without holding up the server, closing a topic with a new FAQ, and the weekly-report export.
Tests marked slow ask questions (they load the embedding model)."""

from __future__ import annotations

import csv
import io
import threading

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from test_web_api import AGENT, EDITOR, accounts, make_app, staff  # noqa: F401  (accounts: a shared fixture)

ROUTES = [("GET", "/api/editor/topics"), ("POST", "/api/editor/topics/refresh"),
          ("POST", "/api/editor/topics/t0001/resolve"), ("GET", "/api/editor/topics/export?format=csv")]
DOG = ["养狗需要办狗证吗", "家里养的狗要去哪里办狗证", "办狗证需要什么材料"]   # nothing in the sample KB answers these


@pytest.fixture(scope="module")
def bare(tmp_path_factory, settings, accounts):
    """An app whose index is empty and whose demand log is empty: no model is ever loaded."""
    app = make_app(tmp_path_factory.mktemp("topics-bare"), settings, accounts)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def web(tmp_path_factory, settings, accounts, embedder):
    app = make_app(tmp_path_factory.mktemp("topics-web"), settings, accounts, embedder, indexed=True)
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def dog_topic(web) -> dict:
    """Citizens ask three ways about a dog licence, are refused, and an editor recomputes the topics."""
    for question in DOG:
        assert web.post("/api/ask", json={"question": question, "channel": "widget"}).json()["decision"] == "refused"
    done = staff(web, EDITOR).post("/api/editor/topics/refresh", json={})
    assert done.status_code == 200, done.text
    assert done.json()["n_messages"] == len(DOG) and done.json()["n_topics"] >= 1
    board = staff(web, EDITOR).get("/api/editor/topics").json()
    return next(t for t in board["topics"] if "狗证" in "".join(t["examples"]))


# ---- access and empty states (no model) --------------------------------------------------
def test_topics_need_an_editor_login(bare):
    for method, url in ROUTES:
        response = bare.request(method, url, json={"record_id": "g-passport"})
        assert response.status_code == 401 and response.json()["error"] == "请先登录", (method, url)
    agent = staff(bare, AGENT)
    for method, url in ROUTES:
        response = agent.request(method, url, json={"record_id": "g-passport"})
        assert response.status_code == 403 and "需要编辑角色" in response.json()["error"], (method, url)


def test_before_any_run_the_board_is_empty_and_nothing_can_be_exported_or_resolved(bare):
    editor = staff(bare, EDITOR)
    board = editor.get("/api/editor/topics").json()
    assert board["run"] is None and board["topics"] == board["bar"] == board["line"] == []
    assert board["refreshing"] is False and board["trends"]["rising"] == "上升"
    missing = editor.get("/api/editor/topics/export", params={"format": "csv"})
    assert missing.status_code == 404 and "重新计算" in missing.json()["error"]
    assert editor.get("/api/editor/topics/export", params={"format": "pdf"}).status_code == 422
    unknown = editor.post("/api/editor/topics/t9999/resolve", json={"record_id": "g-passport"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "没有编号为 t9999 的话题"
    assert editor.post("/api/editor/topics/t9999/resolve", json={"record_id": ""}).status_code == 422
    bad_date = editor.post("/api/editor/topics/refresh", json={"since": "上周"})
    assert bad_date.status_code == 422 and "YYYY-MM-DD" in bad_date.json()["error"]


def test_a_refresh_keeps_the_server_answering_and_runs_one_at_a_time(bare, monkeypatch):
    """The mining itself is held open here so the test can look at the server while it runs."""
    started, release = threading.Event(), threading.Event()
    insights = bare.app.state.topics.insights
    mine = insights.topics

    def held_open(*args, **kwargs):
        started.set()
        assert release.wait(30)
        return mine(*args, **kwargs)

    monkeypatch.setattr(insights, "topics", held_open)
    first: dict = {}
    worker = threading.Thread(target=lambda: first.update(
        response=staff(bare, EDITOR).post("/api/editor/topics/refresh", json={"since": "2020-01-01"})))
    worker.start()
    try:
        assert started.wait(30)
        assert bare.get("/api/health").status_code == 200
        editor = staff(bare, EDITOR)
        assert editor.get("/api/editor/topics").json()["refreshing"] is True
        again = editor.post("/api/editor/topics/refresh")
        assert again.status_code == 409 and "正在重新计算" in again.json()["error"]
    finally:
        release.set()
        worker.join(30)
    assert first["response"].status_code == 200 and first["response"].json()["n_messages"] == 0
    assert staff(bare, EDITOR).get("/api/editor/topics").json()["refreshing"] is False


# ---- with the model ------------------------------------------------------------------------
@pytest.mark.slow
def test_editor_sees_the_refused_questions_as_one_topic_with_chart_rows(web, dog_topic):
    board = staff(web, EDITOR).get("/api/editor/topics").json()
    assert board["run"]["source"] == "demand-log" and board["n_messages"] == len(DOG)
    assert dog_topic["size"] == len(DOG) and set(dog_topic["examples"]) <= set(DOG)
    assert not dog_topic["resolved"] and dog_topic["keywords"] and "message_ids" not in dog_topic
    assert [b["id"] for b in board["bar"]] == [t["id"] for t in board["topics"]][:len(board["bar"])]
    assert {p["id"] for p in board["line"]} == {b["id"] for b in board["bar"]}
    assert sum(p["count"] for p in board["line"] if p["id"] == dog_topic["id"]) == dog_topic["size"]


@pytest.mark.slow
def test_resolving_with_a_new_faq_shows_who_and_answers_the_next_question(web, dog_topic):
    editor = staff(web, EDITOR)
    created = editor.post("/api/editor/records", json={"kind": "faq", "fields": {
        "id": "faq-dog-licence", "问题": "养狗需要办狗证吗？", "相似问法": ["去哪里办狗证", "办狗证要什么材料"],
        "答案": "需要。在示例市城区养犬应办理养犬登记证（狗证）：携带身份证、犬只免疫证明到所在区公安分局养犬登记窗口办理。",
        "更新日期": "2026-03-01"}})
    assert created.status_code == 201, created.text
    url = f"/api/editor/topics/{dog_topic['id']}/resolve"
    unknown = editor.post(url, json={"record_id": "faq-no-such"})
    assert unknown.status_code == 404 and "faq-no-such" in unknown.json()["error"]

    resolved = editor.post(url, json={"record_id": "faq-dog-licence"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["resolved_by"] == EDITOR[0] and resolved.json()["record_id"] == "faq-dog-licence"
    board = editor.get("/api/editor/topics").json()
    shown = next(t for t in board["topics"] if t["id"] == dog_topic["id"])
    assert shown["resolved"] and shown["resolved_by"] == EDITOR[0] and shown["resolved_at"]
    assert next(b for b in board["bar"] if b["id"] == dog_topic["id"])["resolved"] is True

    answer = web.post("/api/ask", json={"question": "我家的狗要办狗证吗"}).json()
    assert answer["decision"] == "answered" and answer["citations"][0]["record_id"] == "faq-dog-licence"


@pytest.mark.slow
def test_export_downloads_the_topics_as_csv_and_xlsx(web, dog_topic):
    editor = staff(web, EDITOR)
    response = editor.get("/api/editor/topics/export", params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="demand-topics-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "话题", "留言数"]
    assert [dog_topic["id"], dog_topic["label"], str(dog_topic["size"])] in [r[:3] for r in rows[1:]]

    response = editor.get("/api/editor/topics/export", params={"format": "xlsx"})
    assert response.status_code == 200 and response.headers["content-disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["话题", "趋势"] and book["话题"]["A1"].value == "编号"
