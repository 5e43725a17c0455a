"""The web interface in a real browser: Debian's chromium driven by Playwright (never a downloaded browser).

One server (uvicorn in a thread, on a free loopback port) over a copy of the sample knowledge base;
a plain host page on a second port carries the widget tag, so the widget really runs cross-origin.
Screenshots of the views go to $GOVQA_DATA_DIR/screenshots (the path is printed in the summary).
axe-core (`make axe`: from the npm registry into .axe/) is injected into the citizen chat, the widget's
host page, the agent and editor consoles and a record page; any serious or critical violation fails.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import http.server
import json
import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from playwright.sync_api import expect, sync_playwright

from assistant.demand_log import DemandLog
from assistant.service import Assistant
from assistant.settings import SAMPLE_KB
from indexing.index import KnowledgeIndex
from knowledge.loaders import load_knowledge_base

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")]  # pandas 3 notes

CHROMIUM = os.environ.get("GOVQA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(os.environ.get("GOVQA_AXE") or Path(__file__).resolve().parent.parent / ".axe/node_modules/axe-core/axe.min.js")
EDITOR = ("editor1", "editor-pass-1")
AGENT = ("agent1", "agent-pass-1")
XSS = "<img src=x onerror=alert(1)>"
TIMEOUT_MS = 30_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class ScreenshotSummary:
    """A pytest plugin that names the screenshot folder at the end of the run's terminal summary."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def pytest_terminal_summary(self, terminalreporter) -> None:
        shots = sorted(p.name for p in self.folder.glob("*.png"))
        if shots:
            terminalreporter.write_line(f"browser screenshots ({len(shots)}): {self.folder}  [{', '.join(shots)}]")


@pytest.fixture(scope="module")
def screenshots(request, settings) -> Path:
    folder = settings.data_dir / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    request.config.pluginmanager.register(ScreenshotSummary(folder), "govqa-screenshots")
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory, settings, embedder):
    import uvicorn

    from ui.app import create_app
    from ui.auth import Accounts

    root = tmp_path_factory.mktemp("browser")
    kb = root / "kb"
    shutil.copytree(SAMPLE_KB, kb)
    cfg = dataclasses.replace(settings, data_dir=root / "data", kb_dir=kb)
    index = KnowledgeIndex(cfg.data_dir, cfg.embedding_model, embedder=embedder)
    index.index(load_knowledge_base(kb).records)
    accounts = Accounts(root / "users.json")
    accounts.add(EDITOR[0], "editor", EDITOR[1])
    accounts.add(AGENT[0], "agent", AGENT[1])
    app = create_app(cfg, Assistant(index, DemandLog(cfg.data_dir / "demand.sqlite")), accounts)
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not uv.started and time.time() < deadline:
        time.sleep(0.05)
    assert uv.started, "the web server did not start"
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}", backend=app.state.backend)
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def host_page(tmp_path_factory, server) -> str:
    """A plain page of "another site" (its own port) carrying nothing but the widget tag."""
    folder = tmp_path_factory.mktemp("host")
    (folder / "index.html").write_text(
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>示例市人民政府</title></head>"
        "<body><main><h1>示例市人民政府门户网站</h1><p>政务公开 · 办事服务 · 互动交流</p></main>"
        f"<script src=\"{server.url}/widget.js\" data-title=\"示例市政务服务\"></script></body></html>",
        encoding="utf-8")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()),
                                            functools.partial(QuietFiles, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/index.html"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: `make install` installs Debian's chromium")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.dialogs = []
    page.accept_dialogs = False   # a test that means to answer a confirm() with OK sets this
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.accept() if page.accept_dialogs else d.dismiss()))
    yield page
    context.close()


def widget_ask(page, question: str):
    """Ask through the widget; returns the reply bubble once the answer has replaced "正在查找……"."""
    replies = page.locator(".msg.bot")
    before = replies.count()
    page.locator(".panel input").fill(question)
    page.locator(".panel input").press("Enter")
    reply = replies.nth(before)
    expect(reply).not_to_have_text("正在查找……")
    return reply


def log_in(page, server, who: tuple[str, str], target: str) -> None:
    page.goto(f"{server.url}/login?next={target}")
    page.fill("#username", who[0])
    page.fill("#password", who[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}{target}")


def open_guide_fee(page, server, search: str, title: str):
    """Log in as the editor, open one guide and return its 收费标准 field."""
    log_in(page, server, EDITOR, "/editor")
    search_records(page, search)
    page.locator("#records button", has_text=title).click()
    return page.locator("textarea[name='收费标准']")


def search_records(page, text: str) -> None:
    """Type in the editor's search and wait for the filtered list: it is drawn again 250 ms after typing, and a click
    in the list it replaces can be lost (it was, once, under load)."""
    with page.expect_response(lambda r: "/api/editor/records?" in r.url and "q=&" not in r.url):
        page.fill("#search", text)


# ---- the widget on someone else's page -----------------------------------------------
def test_widget_on_a_plain_page_answers_with_a_citation(page, host_page, screenshots):
    page.goto(host_page)
    page.locator(".launcher").click()
    reply = widget_ask(page, "办护照要带什么材料？")
    expect(reply).to_contain_text("居民身份证")
    link = reply.locator(".cites a").first
    expect(link).to_contain_text("《普通护照签发")
    assert link.get_attribute("href").endswith("/records/g-passport#" + quote("申请材料"))   # at the cited section
    page.screenshot(path=screenshots / "widget-on-host-page.png")
    with page.expect_popup() as opened:
        link.click()
    record = opened.value
    expect(record.locator("h1")).to_contain_text("普通护照签发")
    expect(record.locator("#record")).to_contain_text("普通护照每本120元")


def test_markup_in_a_question_shows_as_text_and_never_runs(page, host_page):
    page.goto(host_page)
    page.locator(".launcher").click()
    reply = widget_ask(page, XSS)
    expect(page.locator(".msg.user").last).to_have_text(XSS)
    expect(reply).to_contain_text("请输入您要咨询的问题")  # nothing but markup: nothing to answer
    reply = widget_ask(page, XSS + "办护照要多少钱")
    expect(page.locator(".msg.user").last).to_have_text(XSS + "办护照要多少钱")
    expect(reply).to_contain_text("120元")
    assert page.locator("#govqa-widget img").count() == 0
    page.wait_for_timeout(300)
    assert page.dialogs == []


# ---- the citizen chat -------------------------------------------------------------------
def chat_ask(page, question: str) -> None:
    page.locator("#govqa-question textarea").fill(question)
    page.locator("#govqa-send").click()


def test_citizen_chat_answers_with_citations_and_takes_feedback(page, server, screenshots):
    page.goto(server.url + "/")
    page.locator("#govqa-chat button", has_text="办护照要带什么材料？").click()  # one of the example questions
    citation = page.locator("#govqa-chat a[href^='/records/g-passport#']").first
    expect(citation).to_be_visible()
    page.screenshot(path=screenshots / "citizen-chat.png")
    chat_ask(page, XSS)
    expect(page.locator("#govqa-chat").get_by_text(XSS, exact=True)).to_be_visible()
    assert page.locator("#govqa-chat img[src='x']").count() == 0 and page.dialogs == []

    page.locator("#govqa-chat button[aria-label='踩']").first.click()  # Gradio's zh-CN label for 👎
    deadline = time.time() + 10
    while time.time() < deadline and not any(s["unhelpful"] for s in server.backend.log.demand_signals()):
        time.sleep(0.1)
    assert [s["question"] for s in server.backend.log.demand_signals() if s["unhelpful"]] == ["办护照要带什么材料?"]


def test_citizen_chat_fits_a_phone_and_offers_choices_as_buttons(browser, server, screenshots):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server.url + "/")
    chat_ask(page, "公积金提取")
    choice = page.locator("#govqa-chat .option, #govqa-chat button:has-text('住房公积金')").first
    expect(choice).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=screenshots / "citizen-chat-phone.png")
    choice.click()
    expect(page.locator("#govqa-chat a[href^='/records/g-hpf']").first).to_be_visible()
    context.close()
    assert width <= 390  # no sideways scrolling on a phone


def test_web_addresses_in_answers_read_as_written_and_link_there(page, server):
    """An address holding "_" showed the chat's Markdown escapes ("di\\_bao") and linked to a broken address."""
    address = "https://www.shili.gov.example/she_hui/di_bao?from=chat&step=1"
    log_in(page, server, EDITOR, "/editor")
    opened = page.request.get(server.url + "/api/editor/records/g-minimum-living").json()
    fields = {**opened["record"], "网上办理入口": f"示例市政务服务网 {address}（社会救助栏目）"}
    saved = page.request.put(server.url + "/api/editor/records/g-minimum-living",
                             data={"kind": "guide", "fields": fields, "base_hash": opened["hash"]})
    assert saved.ok, saved.text()
    page.goto(server.url + "/")
    chat_ask(page, "低保可以网上申请吗")
    link = page.locator(f"#govqa-chat a[href='{address}']").first
    expect(link).to_have_text(address)


def test_api_docs_render_from_this_server_alone(page, server):
    """/api/docs was blank without the internet: Swagger UI came from a CDN that the CSP blocked anyway."""
    elsewhere, errors = [], []
    page.on("request", lambda r: None if r.url.startswith((server.url, "data:")) else elsewhere.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server.url + "/api/docs")
    expect(page.locator(".opblock-summary-path", has_text="/api/ask").first).to_be_visible()
    assert elsewhere == [] and errors == []


# ---- staff consoles -----------------------------------------------------------------------
def test_editor_console_refuses_visitors_without_a_login(page, server):
    page.goto(server.url + "/editor")
    assert page.url == f"{server.url}/login?next=/editor"
    expect(page.locator("h1")).to_have_text("工作人员登录")
    assert page.locator("#record-form").count() == 0
    assert page.request.get(server.url + "/api/editor/records").status == 401


def test_agent_console_shows_script_sources_and_checklist(page, server, screenshots):
    log_in(page, server, AGENT, "/agent")
    page.fill("#question", "办护照要带什么材料")
    page.press("#question", "Enter")
    expect(page.locator("#script")).to_contain_text("居民身份证")
    expect(page.locator("#materials li")).to_have_count(6)
    assert page.locator("#sources mark").count() > 0
    expect(page.locator("#guide-name")).to_contain_text("普通护照签发")
    page.screenshot(path=screenshots / "agent-console.png", full_page=True)
    page.goto(server.url + "/editor")
    expect(page.locator("h1")).to_have_text("没有权限")


def test_editor_edits_a_fee_and_the_next_answer_has_it(page, server, screenshots):
    fee = open_guide_fee(page, server, "护照", "普通护照签发")
    expect(fee).to_have_value("普通护照每本120元；选择邮寄送证的，邮费由申请人承担")

    page.locator("input[name='事项名称']").fill("")
    page.click("#save")
    expect(page.locator("[data-path='事项名称'] .field-error")).to_have_text("不能为空")
    page.locator("input[name='事项名称']").fill("普通护照签发（首次申请、换发、补发）")

    fee.fill("普通护照每本100元；选择邮寄送证的，邮费由申请人承担")
    page.click("#save")
    expect(page.locator("#form-message .ok")).to_contain_text("已保存到 guides/g-passport.md")
    # the date citations show is today's, and the FAQ repeating the fee is named, one click away
    expect(page.locator("input[name='更新日期']")).to_have_value(dt.date.today().isoformat())
    stale = page.locator("#form-message .stale")
    expect(stale).to_contain_text("收费标准里的收费金额“120元”改成了“100元”")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=screenshots / "editor-console.png")
    stale.get_by_role("button", name="常见问题《办护照多少钱？多久能拿到？》").click()
    expect(page.locator("#form-title")).to_contain_text("办护照多少钱")
    picker = page.locator("select[name='关联事项']")       # a picker of guides by name, not a typed id
    expect(picker).to_have_value("g-passport")
    expect(picker.locator("option:checked")).to_have_text("普通护照签发（首次申请、换发、补发）（g-passport）")

    answer = page.request.post(server.url + "/api/ask", data={"question": "办护照要多少钱"}).json()
    assert answer["citations"][0]["record_id"] == "g-passport"
    assert "100元" in answer["answer"] and "120元" not in answer["answer"]

    page.request.post(server.url + "/api/ask", data={"question": "我家的狗需要办狗证吗"})  # nothing answers this
    page.click("[data-tab=demand]")
    expect(page.locator("#demand tr").first).to_contain_text("我家的狗需要办狗证吗")
    expect(page.locator("#demand tr").first).to_contain_text("拒答")
    page.screenshot(path=screenshots / "editor-demand.png")


def test_editor_topics_tab_charts_the_refused_questions(page, server, screenshots):
    for question in ("养狗需要办狗证吗", "家里养的狗要去哪里办狗证", "办狗证需要什么材料"):  # nothing answers these
        page.request.post(server.url + "/api/ask", data={"question": question})
    log_in(page, server, EDITOR, "/editor")
    page.click("[data-tab=topics]")
    page.click("#topics-refresh")
    expect(page.locator("#topics-status")).to_contain_text("本次用时")
    dog = page.locator("#topics tr", has_text="办狗证").first  # an earlier test asked about dogs too
    expect(dog).to_be_visible()
    assert page.locator("#topics-bar svg rect").count() >= 1
    # every question was asked today: no line of dots on one day, but a sentence saying so
    expect(page.locator("#topics-line")).to_contain_text("都在 " + dt.date.today().isoformat() + " 这一天")
    assert page.locator("#topics-line svg").count() == 0
    expect(dog.locator(".handling")).to_contain_text("未解决")
    expect(page.locator("#topics-export")).to_be_visible()
    page.screenshot(path=screenshots / "editor-topics.png", full_page=True)


def test_editor_history_shows_who_changed_what_and_restores_a_version(page, server, screenshots):
    fee = open_guide_fee(page, server, "驾驶证", "机动车驾驶证换证")
    expect(fee).to_have_value("驾驶证工本费10元；选择邮寄的，邮费由申请人承担")
    for amount in ("20元", "30元"):
        fee.fill(f"驾驶证工本费{amount}；选择邮寄的，邮费由申请人承担")
        page.click("#save")
        expect(page.locator("#form-message .ok")).to_contain_text("已保存到 guides/g-driving-license-renew.md")

    page.click("#history-open")
    versions = page.locator("#history-versions tr")
    expect(versions).to_have_count(3)  # the file as it was, then the two saves, newest first
    expect(versions.nth(0)).to_contain_text(EDITOR[0])
    previous = versions.nth(1)
    expect(previous).to_contain_text("修改")
    expect(previous).to_contain_text(EDITOR[0])
    previous.click()
    expect(page.locator("#history-title")).to_contain_text("版本 2")
    expect(page.locator("#history-diff .del")).to_have_text("- 收费标准: 驾驶证工本费20元；选择邮寄的，邮费由申请人承担")
    expect(page.locator("#history-diff .ins")).to_have_text("+ 收费标准: 驾驶证工本费30元；选择邮寄的，邮费由申请人承担")
    page.locator("#history-panel").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "editor-history.png")

    page.click("#history-restore")  # answered with Cancel: nothing is restored
    assert len(page.dialogs) == 1 and "恢复为版本 2" in page.dialogs[0]
    expect(fee).to_have_value("驾驶证工本费30元；选择邮寄的，邮费由申请人承担")
    page.accept_dialogs = True
    page.click("#history-restore")
    expect(page.locator("#form-message .ok")).to_contain_text("已恢复为版本 2")
    expect(fee).to_have_value("驾驶证工本费20元；选择邮寄的，邮费由申请人承担")
    expect(versions).to_have_count(4)
    expect(versions.nth(0)).to_contain_text("恢复")
    assert len(page.dialogs) == 2
    restored = page.request.get(server.url + "/api/records/g-driving-license-renew").json()
    assert restored["record"]["收费标准"] == "驾驶证工本费20元；选择邮寄的，邮费由申请人承担"


# ---- fit for the desk and the phone (issue 22) ---------------------------------------------
def agent_ask(page, question: str, asked: int) -> None:
    """Ask in the agent console; `asked` is how many questions this call will then have."""
    page.fill("#question", question)
    page.press("#question", "Enter")
    expect(page.locator("#calls li")).to_have_count(asked)


def test_agent_console_serves_a_live_call(page, server, screenshots):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, server, AGENT, "/agent")
    agent_ask(page, "居住证要什么材料", 1)
    script = page.locator("#script")
    expect(script.locator("p").filter(has_text=re.compile(r"^\d\. "))).to_have_count(7)   # every item, one a line
    expect(script).not_to_contain_text("还可以问")
    expect(page.locator("#sources .band").first).to_have_text("匹配度高")
    expect(page.locator("#sources")).not_to_contain_text("又称")
    page.click("#copy-script")
    expect(page.locator("#status")).to_contain_text("已复制话术（9 行）")

    agent_ask(page, "我家的狗需要办狗证吗", 2)
    expect(page.locator("#decision")).to_have_text("知识库无依据")
    expect(page.locator("#transfer")).to_contain_text("示例市公安局（户政）")
    expect(script).to_contain_text("0000-66110110")
    expect(script).not_to_contain_text("12345")
    expect(page.locator("input[name=outcome][value=transferred]")).to_be_checked()
    expect(page.locator("#outcome-department")).to_have_value("示例市公安局（户政）")
    page.fill("#outcome-notes", "来电人电话13912345678，问养犬登记")
    page.click("#outcome-form button[type=submit]")
    expect(page.locator("#outcome-status")).to_contain_text("已保存：已转办")
    expect(page.locator("#calls li").nth(1)).to_contain_text("已转办")
    page.screenshot(path=screenshots / "agent-refusal-transfer.png", full_page=True)
    page.locator("#calls li").first.get_by_role("button").click()           # back to the call's first question
    expect(script).to_contain_text("【居住证申领】申请材料")

    page.click("#new-call")
    agent_ask(page, "那要多少钱", 1)
    expect(script).to_contain_text("哪项业务")


def test_editor_writes_a_faq_for_a_demand_signal_and_it_leaves_the_list(page, server, screenshots):
    question = "公园里可以放风筝吗"
    for _ in range(2):
        asked = page.request.post(server.url + "/api/ask", data={"question": question}).json()
        assert asked["decision"] == "refused", asked
    page.request.post(server.url + "/api/ask", data={"question": "网上能办吗"})    # asks which service: no demand
    log_in(page, server, EDITOR, "/editor")
    page.click("[data-tab=demand]")
    row = page.locator("#demand tr", has_text=question)
    expect(row).to_contain_text("拒答")
    expect(page.locator("#demand")).not_to_contain_text("网上能办吗")
    expect(page.locator("#demand-summary")).to_contain_text("没有上下文的追问")
    row.locator("summary").click()
    expect(row).to_contain_text("暂不作答")                                   # the answer the citizen was given
    page.screenshot(path=screenshots / "editor-demand-view.png", full_page=True)
    row.get_by_role("button", name="写一条 FAQ").click()
    expect(page.locator("textarea[name='问题'], input[name='问题']")).to_have_value(question)
    page.locator("input[name='id']").fill("faq-kite")
    page.locator("textarea[name='答案']").fill("示例答案：示例市各公园开放区域可以放风筝，请远离高压线和人群。")
    page.click("#save")
    expect(page.locator("#form-message")).to_contain_text("已标记为由这条 FAQ 解决")
    page.click("[data-tab=demand]")
    expect(page.locator("#demand-resolved")).to_contain_text(question)
    expect(page.locator("#demand")).not_to_contain_text(question)
    answer = page.request.post(server.url + "/api/ask", data={"question": question}).json()
    assert answer["citations"][0]["record_id"] == "faq-kite"


def test_citizen_chat_reads_well_by_keyboard_and_screen_reader(page, server):
    page.goto(server.url + "/")
    expect(page.get_by_role("textbox", name="请输入您的问题")).to_be_visible()
    expect(page.locator("#govqa-chat [role=log]")).to_have_attribute("aria-label", "对话记录")
    example = page.locator("#govqa-chat button.example").first
    expect(example).to_have_attribute("aria-label", "示例问题：办护照要带什么材料？")
    assert example.evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"    # looks like a button

    chat_ask(page, "公积金贷款")                       # a long answer first, so the next one needs scrolling
    expect(page.locator("#govqa-chat [data-testid=bot]")).to_have_count(1)
    chat_ask(page, "居住证需要什么材料")
    answer = page.locator("#govqa-chat [data-testid=bot]").nth(1)
    expect(answer).to_have_attribute("aria-label", re.compile(r"^回答：【居住证申领】申请材料："))
    assert "\\\\" not in answer.get_attribute("aria-label") and "](" not in answer.get_attribute("aria-label")
    expect(answer).to_be_focused()                     # the new answer, from its start, not scrolled to its end
    chat = page.locator("#govqa-chat").bounding_box()
    top = answer.bounding_box()["y"]
    assert chat["y"] - 2 <= top <= chat["y"] + chat["height"] / 2, (chat, top)      # its start in view
    page.keyboard.press("Tab")                         # …and Tab goes to its citation
    expect(page.locator(":focus")).to_have_attribute("href", "/records/g-residence-permit#" + quote("申请材料"))
    expect(page.locator("#govqa-chat button[aria-label='复制这条消息']").first).to_be_visible()

    page.locator("#govqa-chat button[aria-label='踩']").last.click()
    expect(page.locator("#govqa-thanks")).to_contain_text("谢谢您的反馈")
    page.locator("#govqa-comment textarea").fill("没说照片的尺寸")
    page.locator("#govqa-comment-send").click()
    expect(page.locator("#govqa-comment textarea")).to_be_hidden()
    deadline = time.time() + 10
    while time.time() < deadline and not any("没说照片的尺寸" in r["comments"] for r in server.backend.log.recent()):
        time.sleep(0.1)
    assert any(r["comments"] == ["没说照片的尺寸"] and r["unhelpful"] == 1 for r in server.backend.log.recent())

    chat_ask(page, "结婚登记")
    expect(page.locator("#govqa-chat [data-testid=bot]")).to_have_count(3)
    page.locator("#govqa-chat button[aria-label='清空对话']").click()            # 🗑: a new conversation
    expect(page.locator("#govqa-chat [data-testid=bot]")).to_have_count(0)
    page.wait_for_timeout(1500)  # the server-side reset of the session runs after the screen is cleared
    chat_ask(page, "那要多少钱")
    expect(page.locator("#govqa-chat [data-testid=bot]").last).to_contain_text("哪项业务")


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours (the background opaque)."""
    def luminance(css: str) -> float:
        channels = [float(x) / 255 for x in re.findall(r"[\d.]+", css)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_citizen_chat_on_a_phone_has_readable_inputs_and_opens_citations_at_their_section(browser, server,
                                                                                            screenshots):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server.url + "/")
    box = page.locator("#govqa-question textarea")
    sizes = [box.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"),
             page.locator("#govqa-new").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")]
    assert min(sizes) >= 16, sizes                   # smaller text makes phones zoom in, and is hard to read
    placeholder = box.evaluate("e => getComputedStyle(e, '::placeholder').color")
    background = box.evaluate("e => getComputedStyle(e).backgroundColor")
    assert contrast(placeholder, background) >= 4.5, (placeholder, background)
    chat_ask(page, "公积金贷款")
    expect(page.locator("#govqa-chat [data-testid=bot]")).to_have_count(1)
    chat_ask(page, "居住证要带什么材料")
    answer = page.locator("#govqa-chat [data-testid=bot]").nth(1)
    expect(answer).to_be_focused()
    # longer than the screen: the reader lands on its first line, not its last
    assert abs(answer.bounding_box()["y"] - page.locator("#govqa-chat").bounding_box()["y"]) < 60
    page.screenshot(path=screenshots / "citizen-chat-phone-answer.png")
    link = page.locator("#govqa-chat a[href^='/records/g-residence-permit#']").first
    with page.expect_popup() as opened:
        link.click()
    record = opened.value
    cited = record.locator(".cited")
    expect(cited.locator("h2")).to_have_text("申请材料")
    expect(cited).to_be_focused()
    assert -1 <= cited.bounding_box()["y"] < 200                # in view at once, not below the aliases
    expect(record.locator("#record")).not_to_contain_text("外地人办居住证")   # an alias, kept for search only
    record.screenshot(path=screenshots / "record-at-cited-section-phone.png")
    context.close()


def test_widget_closes_with_esc_starts_over_and_takes_a_comment(page, host_page, screenshots):
    page.goto(host_page)
    page.locator(".launcher").click()
    reply = widget_ask(page, "结婚登记")
    expect(reply).to_contain_text("离婚或配偶死亡的证明材料（曾经离婚或丧偶")        # the material's condition kept
    reply.get_by_role("button", name="没帮助").click()
    expect(reply).to_contain_text("谢谢您的反馈")
    reply.locator("input").fill("想知道要不要户口本")
    reply.locator("input").press("Enter")
    expect(reply).to_contain_text("已收到您的意见")
    page.screenshot(path=screenshots / "widget-feedback.png")
    page.get_by_role("button", name=re.compile("^开始新话题")).click()
    expect(page.locator(".msg")).to_have_count(1)                            # the greeting
    expect(widget_ask(page, "那要多少钱")).to_contain_text("哪项业务")              # nothing carried over
    page.locator(".panel input").focus()
    page.keyboard.press("Escape")
    expect(page.locator(".panel")).to_be_hidden()
    expect(page.locator(".launcher")).to_have_attribute("aria-expanded", "false")
    expect(page.locator(".launcher")).to_be_focused()


# ---- accessibility: axe-core on every page -------------------------------------------------
def axe(page) -> list[dict]:
    """axe-core's violations on the page as it is now: id, impact and the elements concerned."""
    if not AXE.exists():
        pytest.fail(f"axe-core not found at {AXE}: `make axe` installs it from the npm registry")
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))""")


def test_no_serious_or_critical_accessibility_violation_on_any_page(browser, server, host_page, screenshots):
    """The pages the walkthrough used, in the states it used them: answers on screen, forms open. Results by
    page go to axe-results.json beside the screenshots."""
    found: dict[str, list[dict]] = {}
    desktop = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860}, bypass_csp=True)
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True, bypass_csp=True)
    for context in (desktop, phone):
        context.set_default_timeout(TIMEOUT_MS)
    page = desktop.new_page()
    page.goto(server.url + "/")
    chat_ask(page, "办护照要带什么材料")
    expect(page.locator("#govqa-chat a[href^='/records/']").first).to_be_visible()
    found["/ (市民端，有回答)"] = axe(page)
    phone_page = phone.new_page()
    phone_page.goto(server.url + "/")
    expect(phone_page.locator("#govqa-chat button.example").first).to_be_visible()
    found["/ (市民端，手机)"] = axe(phone_page)
    page.goto(host_page)
    page.locator(".launcher").click()
    widget_ask(page, "办护照要多少钱")
    found["挂件宿主页 (挂件已打开，有回答)"] = axe(page)
    page.goto(server.url + "/records/g-passport#" + quote("申请材料"))
    expect(page.locator(".cited")).to_be_visible()
    found["/records/g-passport (记录页)"] = axe(page)
    log_in(page, server, AGENT, "/agent")
    agent_ask(page, "办护照要带什么材料", 1)
    found["/agent (坐席台，有回答)"] = axe(page)
    agent_ask(page, "我家的狗需要办狗证吗", 2)
    found["/agent (坐席台，拒答与转办)"] = axe(page)
    page.request.post(server.url + "/api/logout")
    log_in(page, server, EDITOR, "/editor")
    search_records(page, "护照")
    page.locator("#records button", has_text="办护照多少钱").click()
    expect(page.locator("select[name='关联事项']")).to_be_visible()
    found["/editor (编辑台，常见问题表单)"] = axe(page)
    page.click("[data-tab=demand]")
    expect(page.locator("#demand-summary")).not_to_be_empty()
    found["/editor (需求信号)"] = axe(page)
    desktop.close()
    phone.close()
    summary = {name: {"serious_or_critical": [v for v in found[name] if v["impact"] in ("serious", "critical")],
                      "other": [f"{v['id']} ({v['impact']})" for v in found[name]
                                if v["impact"] not in ("serious", "critical")]} for name in found}
    (screenshots / "axe-results.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    failing = {name: s["serious_or_critical"] for name, s in summary.items() if s["serious_or_critical"]}
    assert not failing, json.dumps(failing, ensure_ascii=False, indent=1)


# ---- life events (issue 23) --------------------------------------------------------------------
def test_a_life_event_is_a_compact_step_list_on_a_phone(browser, server, host_page, screenshots):
    """"孩子出生了要办哪些证" in the chat and the widget on a 390 px phone: the steps in order, each linking to its
    guide, the merged checklist folded away, and no sideways scrolling."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(server.url + "/")
    chat_ask(page, "孩子出生了要办哪些证")
    step = page.locator("#govqa-chat a[href='/records/g-birth-registration']").first
    expect(step).to_be_visible()
    expect(page.locator("#govqa-chat")).to_contain_text("合并材料清单")
    page.screenshot(path=screenshots / "life-event-chat-phone.png")
    chat_width = page.evaluate("document.documentElement.scrollWidth")

    page.goto(host_page)
    page.locator(".launcher").click()
    reply = widget_ask(page, "孩子出生了要办哪些证")
    steps = reply.locator(".steps li")
    expect(steps).to_have_count(4)
    expect(steps.first.locator("a")).to_have_attribute("href", re.compile(r"/records/g-birth-registration$"))
    expect(reply.locator("details summary")).to_contain_text("合并材料清单")
    page.screenshot(path=screenshots / "life-event-widget-phone.png")
    widget_width = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert chat_width <= 390 and widget_width <= 390


def test_agent_console_reads_out_a_life_events_checklist_and_copies_it(page, server, screenshots):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, server, AGENT, "/agent")
    agent_ask(page, "老人去世了后事要办哪些手续", 1)
    card = page.locator("#event-card")
    expect(card).to_be_visible()
    expect(page.locator("#event-name")).to_have_text("身后一件事")
    expect(page.locator("#event-steps li")).to_have_count(4)
    expect(page.locator("#event-steps a").first).to_have_attribute("href", "/records/g-death-registration")
    expect(page.locator("#event-checklist li").first).to_contain_text("居民死亡医学证明（推断）书")
    page.screenshot(path=screenshots / "agent-life-event.png")
    page.click("#copy-event")
    expect(page.locator("#status")).to_contain_text("已复制一件事清单")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("身后一件事：") and "合并材料清单：" in copied
