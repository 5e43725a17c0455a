"""The plain HTML pages (hotline console, editor console, login, a record's full text) and /widget.js.

The pages hold no data: their scripts fetch it from the API and render it with
textContent, and a strict Content-Security-Policy forbids inline scripts besides.
Each answers HEAD as well as GET (monitors and caches ask with HEAD first).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from ui.auth import current_user, may_use

PAGES = Path(__file__).resolve().parent / "pages"
STATIC = Path(__file__).resolve().parent / "static"
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
router = APIRouter(include_in_schema=False)
READ = ["GET", "HEAD"]


def _page(name: str, status: int = 200) -> FileResponse:
    return FileResponse(PAGES / name, status_code=status, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff",
                                 "Referrer-Policy": "same-origin", "Cache-Control": "no-store"})


def _staff_page(request: Request, area: str, name: str) -> Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    if not may_use(user, area):
        return _page("forbidden.html", status=403)
    return _page(name)


@router.api_route("/agent", methods=READ)
def agent(request: Request) -> Response:
    return _staff_page(request, "agent", "agent.html")


@router.api_route("/editor", methods=READ)
def editor(request: Request) -> Response:
    return _staff_page(request, "editor", "editor.html")


@router.api_route("/login", methods=READ)
def login() -> Response:
    return _page("login.html")


@router.api_route("/records/{record_id}", methods=READ)
def record(record_id: str) -> Response:
    return _page("record.html")


@router.api_route("/widget.js", methods=READ)
def widget() -> Response:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})
