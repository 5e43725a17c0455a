"""The API documentation page, /api/docs, served entirely from this server.

FastAPI's own page loads Swagger UI from a CDN: blank in an air-gapped network, and blocked by our
Content-Security-Policy anyway. The same Swagger UI files ship in the `fastapi-offline` package; they are
served here, and the page's start-up script is a file too, so the page's CSP allows scripts from this
origin only.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

SWAGGER = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8",
          "favicon.png": "image/png"}
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'")
_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - 接口文档</title><link rel="stylesheet" href="/api/docs/swagger-ui.css">
<link rel="icon" href="/api/docs/favicon.png"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script><script src="/api/docs/start.js"></script></body></html>
"""
_START = """window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset], layout: "BaseLayout"});
"""
router = APIRouter(include_in_schema=False)


@router.api_route("/api/docs", methods=["GET", "HEAD"])
def docs_page() -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title="政务问答助手 API"), headers={"Content-Security-Policy": _CSP})


@router.get("/api/docs/start.js")
def docs_start() -> Response:
    return Response(_START, media_type="text/javascript; charset=utf-8")


@router.get("/api/docs/{name}")
def docs_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(404, "没有这个文件")
    return FileResponse(SWAGGER / name, media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=86400"})
