"""The REST API. Public: ask, feedback, records, health. Staff: login, the hotline console's ask, the editor's
records, demand view and demand-topics dashboard (see ui/auth.py for who may use which)."""

from __future__ import annotations

import datetime as dt
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field, StrictBool
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match

from language.question import EmptyQuestion
from knowledge.directory import Directory
from knowledge.models import KIND_NAMES, RECORD_ID
from knowledge.writer import editor_json
from ui import editing, errors
from ui.auth import COOKIE, SESSION_TTL_S, StaffUser, current_user, require
from ui.backend import MAX_QUESTION_INPUT, Backend
from ui.errors import Rejected
from ui.hotline import hotline_answer
from ui.topics import EXPORT_TYPES, TopicsDesk

router = APIRouter(prefix="/api")
SessionId = Annotated[str | None, Field(max_length=64, description="上一个回答的 session_id，用于追问")]


def _backend(request: Request) -> Backend:
    return request.app.state.backend


def _answerable(backend: Backend) -> None:
    if not backend.indexed():
        raise Rejected(503, "知识库还没有索引，请先运行 govqa index")


# ---- public -------------------------------------------------------------------
class AskRequest(BaseModel):
    question: str = Field(max_length=MAX_QUESTION_INPUT, examples=["办护照要带什么材料？"])
    session_id: SessionId = None
    channel: Literal["widget", "hotline", "api"] = "api"


class FeedbackRequest(BaseModel):
    question_id: str = Field(min_length=1, max_length=64)
    helpful: StrictBool
    comment: str = Field(default="", max_length=1000)


@router.post("/ask", summary="提问：与 `govqa ask --json` 相同的 JSON")
def ask(body: AskRequest, request: Request) -> dict[str, Any]:
    backend = _backend(request)
    _answerable(backend)
    try:
        return backend.ask(body.question, body.session_id, body.channel).as_json()
    except EmptyQuestion as exc:
        raise Rejected(400, str(exc), [{"field": "question", "message": str(exc)}]) from None


@router.post("/feedback", summary="对一个回答点赞或点踩（公开：市民在聊天和挂件中使用）")
def feedback(body: FeedbackRequest, request: Request) -> dict[str, bool]:
    try:
        _backend(request).log.feedback(body.question_id, body.helpful, body.comment)
    except KeyError:
        raise Rejected(404, f"没有编号为 {body.question_id} 的问题", [{"field": "question_id", "message": "不存在"}]) \
            from None
    return {"ok": True}


@router.get("/records/{record_id}", summary="一条完整的办事指南、政策文件或常见问题（已索引的版本）")
def record(record_id: str, request: Request) -> dict[str, Any]:
    backend = _backend(request)
    found = None
    if RECORD_ID.match(record_id):
        with backend.lock:
            found = backend.index.record(record_id)
    if found is None:
        raise Rejected(404, f"没有 id 为 {record_id} 的记录")
    return {"id": found.id, "kind": found.kind, "kind_name": KIND_NAMES[found.kind], "title": found.title,
            "record": editor_json(found)}


@router.get("/health", summary="服务状态")
@router.head("/health", include_in_schema=False)       # monitors ask with HEAD
def health(request: Request) -> dict[str, Any]:
    backend = _backend(request)
    with backend.lock:
        records = len(backend.index.hashes())
    try:
        app_version = version("govqa")
    except PackageNotFoundError:
        app_version = "unknown"
    return {"status": "ok" if records else "empty", "records": records, "version": app_version}


# ---- staff login ----------------------------------------------------------------
class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1000)


@router.post("/login", summary="工作人员登录，成功后设置会话 Cookie")
def login(body: LoginRequest, request: Request, response: Response) -> dict[str, str]:
    backend = _backend(request)
    try:
        account = backend.accounts.authenticate(body.username, body.password)
    except ValueError:  # the accounts file was broken after start-up
        errors.log.exception("cannot read the staff accounts")
        raise Rejected(503, "账号配置有误，暂时无法登录，请联系管理员") from None
    if account is None:
        raise Rejected(401, "用户名或密码不正确")
    token = backend.sessions.create(account)
    response.set_cookie(COOKIE, token, max_age=SESSION_TTL_S, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return {"name": account.name, "role": account.role}


@router.post("/logout", summary="退出登录")
def logout(request: Request, response: Response) -> dict[str, bool]:
    _backend(request).sessions.drop(request.cookies.get(COOKIE))
    response.delete_cookie(COOKIE, path="/")
    return {"ok": True}


@router.get("/me", summary="当前登录的工作人员")
def me(request: Request) -> dict[str, str]:
    user = current_user(request)
    if user is None:
        raise Rejected(401, "请先登录")
    return {"name": user.name, "role": user.role}


# ---- hotline console ------------------------------------------------------------
class AgentAskRequest(BaseModel):
    question: str = Field(max_length=MAX_QUESTION_INPUT)
    session_id: SessionId = None


class OutcomeRequest(BaseModel):
    question_id: str = Field(min_length=1, max_length=64)
    outcome: Literal["resolved", "transferred", "unanswered"] = Field(description="已解答、已转办、未解答")
    department: str = Field(default="", max_length=200, description="转办部门")
    notes: str = Field(default="", max_length=2000, description="通话记录（个人信息会被隐去）")


@router.post("/agent/ask", summary="热线坐席：话术、来源片段（匹配度分档）、材料清单、相关事项、转办部门")
def agent_ask(body: AgentAskRequest, request: Request,
              user: StaffUser = Depends(require("agent"))) -> dict[str, Any]:
    backend = _backend(request)
    _answerable(backend)
    try:
        return hotline_answer(backend, body.question, body.session_id)
    except EmptyQuestion as exc:
        raise Rejected(400, str(exc), [{"field": "question", "message": str(exc)}]) from None


@router.post("/agent/outcome", summary="热线坐席：记录本次来电这个问题的处理结果和通话记录（进入需求信号）")
def agent_outcome(body: OutcomeRequest, request: Request,
                  user: StaffUser = Depends(require("agent"))) -> dict[str, bool]:
    try:
        _backend(request).log.record_outcome(body.question_id, body.outcome, department=body.department,
                                             notes=body.notes, author=user.name)
    except KeyError:
        raise Rejected(404, f"没有编号为 {body.question_id} 的问题", [{"field": "question_id", "message": "不存在"}]) \
            from None
    return {"ok": True}


@router.get("/agent/directory", summary="热线坐席：转办目录（各部门的转接电话和职责）")
def agent_directory(request: Request, user: StaffUser = Depends(require("agent"))) -> dict[str, Any]:
    directory = Directory.load(_backend(request).settings.kb_dir)
    return {"departments": [d.as_json() for d in directory.departments], "problems": directory.problems}


# ---- editor console -------------------------------------------------------------
class RecordEdit(BaseModel):
    kind: Literal["guide", "policy", "faq", "event"]
    fields: dict[str, Any] = Field(description="字段用 FORMAT.md 中的中文名，如 事项名称、收费标准")
    base_hash: str | None = Field(default=None, max_length=64,
                                  description="打开时的 hash，防止覆盖别人的修改；修改（PUT）必填，新增不用")


@router.get("/editor/schema", summary="三类记录的 JSON Schema（中文字段名），编辑表单据此生成")
def editor_schema(user: StaffUser = Depends(require("editor"))) -> dict[str, Any]:
    return editing.schemas()


@router.get("/editor/records", summary="浏览和搜索知识库记录")
def editor_list(request: Request, q: str = Query(default="", max_length=200),
                kind: Literal["", "guide", "policy", "faq", "event"] = "",
                user: StaffUser = Depends(require("editor"))) -> dict[str, Any]:
    return editing.list_records(_backend(request), q, kind)


@router.get("/editor/records/{record_id}", summary="打开一条记录以编辑")
def editor_open(record_id: str, request: Request, user: StaffUser = Depends(require("editor"))) -> dict[str, Any]:
    return editing.open_record(_backend(request), record_id)


@router.post("/editor/records", status_code=201, summary="新增记录（写入文件并立即索引）")
def editor_create(body: RecordEdit, request: Request,
                  user: StaffUser = Depends(require("editor"))) -> dict[str, Any]:
    return editing.save(_backend(request), body.kind, body.fields, record_id=None, base_hash=None,
                        author=user.name)


@router.put("/editor/records/{record_id}", summary="保存修改（写回原文件并立即重新索引这条记录）；须带打开时的 base_hash")
def editor_update(record_id: str, body: RecordEdit, request: Request,
                  user: StaffUser = Depends(require("editor"))) -> dict[str, Any]:
    if not body.base_hash:      # without it the conflict check could not run, and someone's edit would be lost
        raise Rejected(422, "保存修改须带上打开记录时得到的 hash（base_hash）",
                       [{"field": "base_hash", "message": "必填：打开记录时得到的 hash"}])
    return editing.save(_backend(request), body.kind, body.fields, record_id=record_id, base_hash=body.base_hash,
                        author=user.name)


@router.delete("/editor/records/{record_id}", summary="删除记录（从文件和索引中）")
def editor_delete(record_id: str, request: Request, user: StaffUser = Depends(require("editor"))) -> dict[str, Any]:
    return editing.remove(_backend(request), record_id, author=user.name)


@router.get("/editor/records/{record_id}/history", summary="一条记录的各个版本：何时、谁、做了什么")
def editor_history(record_id: str, request: Request, user: StaffUser = Depends(require("editor"))) -> dict[str, Any]:
    return editing.history(_backend(request), record_id)


@router.get("/editor/records/{record_id}/history/{number}", summary="某个版本的内容，以及它相对上一版本改了什么")
def editor_version(record_id: str, number: int, request: Request,
                   user: StaffUser = Depends(require("editor"))) -> dict[str, Any]:
    return editing.version(_backend(request), record_id, number)


@router.post("/editor/records/{record_id}/history/{number}/restore", summary="恢复为该版本（作为新版本保存并立即索引）")
def editor_restore(record_id: str, number: int, request: Request,
                   user: StaffUser = Depends(require("editor"))) -> dict[str, Any]:
    return editing.restore(_backend(request), record_id, number, author=user.name)


class DemandResolve(BaseModel):
    key: str = Field(min_length=1, max_length=600, description="需求条目的 key")
    record_id: str = Field(default="", max_length=128, description="为它写的记录 id（可空）")


@router.get("/editor/demand", summary="需求信号：拒答、需确认、被点踩、坐席转办或未解答的问题，按事项归并，最新在前")
def editor_demand(request: Request, limit: int = Query(default=200, ge=1, le=1000),
                  user: StaffUser = Depends(require("editor"))) -> dict[str, Any]:
    return _topics(request).demand(limit)


@router.post("/editor/demand/resolve", summary="标记一条需求已解决（离开列表，再被问到且未答上时回来）")
def editor_demand_resolve(body: DemandResolve, request: Request,
                          user: StaffUser = Depends(require("editor"))) -> dict[str, Any]:
    return _topics(request).resolve_demand(body.key, body.record_id, by=user.name)


# ---- demand topics (editor console) -----------------------------------------------
class TopicsRefresh(BaseModel):
    since: dt.date | None = Field(default=None, description="只用这一天及以后的需求信号；不填则用全部")


class TopicResolve(BaseModel):
    record_id: str = Field(min_length=1, max_length=100, description="解决这个话题的办事指南或常见问题的 id")


def _topics(request: Request) -> TopicsDesk:
    return request.app.state.topics


@router.get("/editor/topics", summary="需求主题看板：最近一次计算的话题，及柱状图、折线图的数据")
def editor_topics(request: Request, top: int = Query(default=10, ge=1, le=30, description="图中画前几个话题"),
                  limit: int = Query(default=200, ge=1, le=1000, description="列表中最多几个话题"),
                  user: StaffUser = Depends(require("editor"))) -> dict[str, Any]:
    return _topics(request).board(top, limit)


@router.post("/editor/topics/refresh", summary="从需求日志重新计算话题（可能要数十秒；话题编号和处理状态保留）")
async def editor_topics_refresh(request: Request, body: TopicsRefresh | None = None,
                                user: StaffUser = Depends(require("editor"))) -> dict[str, Any]:
    # a worker thread does the embedding and clustering, so the server keeps answering meanwhile
    return await run_in_threadpool(_topics(request).refresh, body.since if body else None)


@router.post("/editor/topics/{topic_id}/resolve", summary="标记话题已解决：关联一条记录并立即索引它")
def editor_topic_resolve(topic_id: str, body: TopicResolve, request: Request,
                         user: StaffUser = Depends(require("editor"))) -> dict[str, Any]:
    return _topics(request).resolve(topic_id, body.record_id, by=user.name)


@router.get("/editor/topics/export", summary="导出最近一次计算的话题（CSV 或 XLSX，用于周报）")
def editor_topics_export(request: Request, kind: Literal["csv", "xlsx"] = Query(default="csv", alias="format"),
                         user: StaffUser = Depends(require("editor"))) -> Response:
    content, name = _topics(request).export(kind)
    return Response(content, media_type=EXPORT_TYPES[kind],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE"], include_in_schema=False)
def unknown(path: str, request: Request) -> None:
    """JSON for addresses under /api that do not exist (404) or do not take this method (405)."""
    if any(r.matches(request.scope)[0] == Match.PARTIAL for r in router.routes):
        raise Rejected(405, f"/api/{path} 不支持 {request.method} 请求")
    raise Rejected(404, f"没有这个接口：/api/{path}")
