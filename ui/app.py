"""One web server: the REST API and staff pages (FastAPI) with the citizen chat (Gradio) mounted at "/".

Routes are matched in order, so /api/*, /agent, /editor, /login, /records/*, /widget.js
and /ui/* are registered before Gradio takes every other path.
"""

from __future__ import annotations

import os

import gradio as gr
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from assistant.service import Assistant
from assistant.settings import Settings
from ui import api, docs, errors, pages
from ui.auth import Accounts
from ui.backend import Backend
from ui.citizen import CSS, HEAD, THEME, citizen_chat
from ui.client_address import ForwardedClientMiddleware, trusted_proxies_from_env
from ui.origin import OriginPolicyMiddleware, staff_origins_from_env
from ui.rate_limit import RateLimitMiddleware, rules_from_env
from ui.security import BodyLimitMiddleware, SecurityHeadersMiddleware, frame_ancestors_from_env, max_body_from_env
from ui.topics import TopicsDesk


def widget_origins() -> list[str]:
    """Sites allowed to call the API from a browser (the widget): GOVQA_WIDGET_ORIGINS, comma-separated; any by default."""
    value = os.environ.get("GOVQA_WIDGET_ORIGINS", "*")
    return [o.strip() for o in value.split(",") if o.strip()] or ["*"]


def create_app(settings: Settings, assistant: Assistant, accounts: Accounts | None = None) -> FastAPI:
    """The web app around an assistant built by the caller (assistant.wiring.build_assistant, or a test's own)."""
    backend = Backend(settings, assistant, accounts or Accounts.from_env(settings.data_dir))
    app = FastAPI(title="政务问答助手 API", description="智慧政务问答助手的接口；员工接口需先登录（/api/login）。",
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")    # /api/docs: ui/docs.py
    app.state.backend = backend
    app.state.topics = TopicsDesk(backend)
    # the last added runs first: the client's address (trusted proxies only), security headers on everything,
    # the origin policy, then CORS (a 429 from the rate limits still carries its headers), then body limits
    rules, exempt = rules_from_env()
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_from_env())
    app.add_middleware(RateLimitMiddleware, rules=rules, exempt=exempt)
    # the widget calls the public API from other sites, without credentials; the origin policy keeps every
    # other answer to this origin (and Gradio keeps its own CORS off while this middleware is configured)
    app.add_middleware(CORSMiddleware, allow_origins=widget_origins(), allow_methods=["GET", "POST"],
                       allow_headers=["Content-Type"], allow_credentials=False)
    app.add_middleware(OriginPolicyMiddleware, staff_origins=staff_origins_from_env())
    app.add_middleware(SecurityHeadersMiddleware, frame_ancestors=frame_ancestors_from_env())
    app.add_middleware(ForwardedClientMiddleware, proxies=trusted_proxies_from_env())
    errors.install(app)
    app.include_router(docs.router)         # before the API's catch-all for unknown /api/ addresses
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/ui", StaticFiles(directory=pages.STATIC), name="ui-static")
    return gr.mount_gradio_app(app, citizen_chat(backend), path="/", footer_links=[], theme=THEME, css=CSS,
                               head=HEAD, show_error=False, ssr_mode=False, mcp_server=False, pwa=False)


def serve(settings: Settings, assistant: Assistant, host: str, port: int) -> None:
    import sys
    import time

    import uvicorn

    app = create_app(settings, assistant)
    backend: Backend = app.state.backend
    started = time.perf_counter()
    with backend.lock:
        backend.assistant.warm_up()
    print(f"模型与索引已加载（{time.perf_counter() - started:.1f} 秒）", file=sys.stderr)
    if not backend.indexed():
        print("提示：知识库还没有索引，市民端会请来访者稍后再试；运行 govqa index 或在编辑台新增记录。", file=sys.stderr)
    if not backend.accounts.all():
        print("提示：还没有工作人员账号，坐席台和编辑台无法登录；用 govqa users add 名字 --role editor 创建。",
              file=sys.stderr)
    print(f"政务问答助手：市民端 http://{host}:{port}/  坐席台 /agent  编辑台 /editor  接口文档 /api/docs")
    # no proxy headers: uvicorn would believe X-Forwarded-For from 127.0.0.1; ui/client_address.py decides instead
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False, proxy_headers=False)
