"""The `govqa` command line, a user interface like the web one. Its `--json` outputs are a public
interface: keys are only ever added.

Commands parse their arguments, call the library and print; they get the settings first and fail by
raising a UserError or through their `refusal` (ui/cli_common.py), and `main` shows every failure, once.
Library imports sit inside the commands, so `govqa kb …` never loads the model or the answering pipeline.
Commands of other packages join through the `govqa.commands` entry point (eval/cli.py: `govqa eval`,
`govqa bench`), so no product package imports them.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import time
from collections import Counter
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

import click

from assistant import Settings
from ui.cli_common import Group, Refusal, UserError, json_flag, print_json

if TYPE_CHECKING:
    from assistant import Answer, Assistant
    from demand.insights import DemandInsights
    from knowledge.store import KnowledgeBaseStore
    from ui.auth import Accounts


# the command families; commands join them below
kb = Group("kb", help="知识库维护")
models = Group("models", help="嵌入模型")
users = Group("users", help="工作人员账号（坐席 agent、编辑 editor）")
demand = Group("demand", help="群众需求：把未答好的问题归并成可处理的话题")
cli = Group("govqa", help="智慧政务问答助手", commands=[kb, models, users, demand],
            context_settings={"help_option_names": ["-h", "--help"]})


def _store(settings: Settings) -> KnowledgeBaseStore:
    from knowledge.store import KnowledgeBaseStore

    return KnowledgeBaseStore(settings.kb_dir)


def _author() -> str:
    """Who made a change from the command line: the login name."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


# ---- knowledge base ---------------------------------------------------------
@kb.command("validate", help="校验知识库文件")
@click.argument("path", required=False)
def kb_validate(settings: Settings, path: str | None) -> None:
    from knowledge.loaders import load_knowledge_base

    folder = Path(path) if path else settings.kb_dir
    if not folder.exists():
        raise UserError(f"路径不存在：{folder}", 2)
    result = load_knowledge_base(folder)
    for error in result.errors:
        print(error)
    if result.errors:
        raise click.exceptions.Exit(1)      # the problems printed are the output; the status says "not clean"
    print(f"校验通过：{len(result.records)} 条记录", file=sys.stderr)


@kb.command("stats", help="按类型统计记录数")
@json_flag
def kb_stats(settings: Settings, as_json: bool) -> None:
    from knowledge.loaders import load_knowledge_base

    result = load_knowledge_base(settings.kb_dir)
    kinds = Counter(rec.kind for rec in result.records)
    stats = {"guides": kinds["guide"], "policies": kinds["policy"], "faqs": kinds["faq"], "errors": len(result.errors)}
    if as_json:
        print_json(stats)
    else:
        print(f"办事指南 {stats['guides']}，政策文件 {stats['policies']}，常见问题 {stats['faqs']}，"
              f"一件事 {kinds['event']}，错误 {stats['errors']}")


@kb.command("list", help="列出记录（可按类型：guide、policy、faq、event）")
@click.option("--kind", type=click.Choice(["guide", "policy", "faq", "event"]), help="只列这一类")
@json_flag
def kb_list(settings: Settings, kind: str | None, as_json: bool) -> None:
    from knowledge.loaders import load_knowledge_base
    from knowledge.models import KIND_NAMES

    records = [r for r in load_knowledge_base(settings.kb_dir).records if not kind or r.kind == kind]
    if as_json:
        print_json([{"id": r.id, "kind": r.kind, "title": r.title} for r in records])
        return
    for r in records:
        print(f"{r.id}\t{KIND_NAMES[r.kind]}\t{r.title}")


@kb.command("add", help="把一个文件加入知识库", refusal=Refusal("未添加：", (ValueError,)))
@click.argument("file")
def kb_add(settings: Settings, file: str) -> None:
    added = _store(settings).add(Path(file), author=_author())
    print(f"已添加 {len(added)} 条记录：{', '.join(added)}（运行 govqa index 使其生效）")


@kb.command("remove", help="按 id 删除一条记录", refusal=Refusal("未删除：", (KeyError,)))
@click.argument("id")
def kb_remove(settings: Settings, id: str) -> None:
    path = _store(settings).remove(id, author=_author())
    print(f"已删除记录 {id}（{path}）（运行 govqa index 使其生效）")


@kb.command("show", help="一条记录的全文（回答引用的完整指南、政策或问答）")
@click.argument("id")
@json_flag
def kb_show(settings: Settings, id: str, as_json: bool) -> None:
    from assistant.compose import full_text
    from knowledge.writer import editor_json

    record = _store(settings).get(id)
    if record is None:
        raise UserError(f"没有 id 为 {id} 的记录")
    if as_json:
        print_json({"id": record.id, "kind": record.kind, "title": record.title, "text": full_text(record),
                    "record": editor_json(record)})
    else:
        print(full_text(record))


@kb.command("history", help="一条记录的各个版本：何时、谁、做了什么")
@click.argument("id")
@json_flag
def kb_history(settings: Settings, id: str, as_json: bool) -> None:
    versions = [v.as_dict() for v in _store(settings).versions(id)]
    if as_json:
        print_json(versions)
        return
    if not versions:
        raise UserError(f"记录 {id} 还没有修改历史")
    for v in versions:
        print(f"版本 {v['version']}  {v['time']}  {v['action_name']}  {v['author'] or '（未知）'}  {v['path']}")


@kb.command("diff", help="某个版本相对上一版本改了什么", refusal=Refusal("", (KeyError,)))
@click.argument("id")
@click.argument("version", type=int)
def kb_diff(settings: Settings, id: str, version: int) -> None:
    print(_store(settings).diff(id, version), end="")


@kb.command("restore", help="把一条记录恢复为某个版本（作为新版本保存）",
            refusal=Refusal("未恢复：", (KeyError, ValueError)))
@click.argument("id")
@click.argument("version", type=int)
@click.option("--author", help="记录为谁的修改（默认当前登录名）")
def kb_restore(settings: Settings, id: str, version: int, author: str | None) -> None:
    path = _store(settings).restore(id, version, author=author or _author())
    print(f"已把 {id} 恢复为版本 {version}（{path}）（运行 govqa index 使其生效）")


# ---- models and index -------------------------------------------------------
@models.command("prepare", help="离线准备默认嵌入模型")
def models_prepare(settings: Settings) -> None:
    from indexing.embedder import resolve_model_path

    start = time.perf_counter()
    path = resolve_model_path(settings.embedding_model, settings.models_dir)
    print(f"模型已就绪：{path}（{time.perf_counter() - start:.1f} 秒）")


@cli.command("index", help="增量索引知识库")
@click.option("--kb", "kb_dir", help="知识库目录（默认 GOVQA_KB_DIR 或示例知识库）")
@json_flag
def index(settings: Settings, kb_dir: str | None, as_json: bool) -> None:
    from assistant.wiring import open_index
    from indexing.retriever import HybridRetriever
    from knowledge.loaders import load_knowledge_base

    result = load_knowledge_base(Path(kb_dir) if kb_dir else settings.kb_dir)
    for error in result.errors:
        print(f"跳过：{error}", file=sys.stderr)
    start = time.perf_counter()
    knowledge_index = open_index(settings)
    report = knowledge_index.index(result.records, progress=True)
    HybridRetriever(knowledge_index).refresh()  # saves the lexical snapshot, so servers start without rebuilding it
    summary = {**report.as_dict(), "errors": len(result.errors), "seconds": round(time.perf_counter() - start, 2)}
    if as_json:
        print_json(summary)
    else:
        print(f"索引完成：新增 {summary['added']}，更新 {summary['updated']}，删除 {summary['removed']}，"
              f"未变 {summary['unchanged']}，嵌入 {summary['chunks_embedded']} 个片段，用时 {summary['seconds']} 秒")


# ---- asking -----------------------------------------------------------------
def _indexed_assistant(settings: Settings) -> Assistant:
    from assistant.wiring import build_assistant

    assistant = build_assistant(settings)
    if not assistant.index.hashes():
        raise UserError("知识库还没有索引，请先运行 govqa index。")
    return assistant


def _render(answer: Answer) -> str:
    lines = [answer.answer]
    lines += [f"  {c.reference()}" for c in answer.citations]
    lines += [f"  全文：govqa kb show {c.record_id}" for c in answer.citations[:1]]
    if answer.suggestions and answer.decision == "answered":
        lines.append("  相关事项：" + "、".join(s["title"] for s in answer.suggestions))
    lines += [f"  提示：{n}" for n in answer.notices]
    return "\n".join(lines)


@cli.command("ask", help="提一个问题")
@click.argument("question")
@click.option("--session", help="会话编号，用于追问")
@json_flag
def ask(settings: Settings, question: str, session: str | None, as_json: bool) -> None:
    from language.question import EmptyQuestion

    assistant = _indexed_assistant(settings)
    try:
        answer = assistant.ask(question, session_id=session, channel="cli")
    except EmptyQuestion as exc:     # told as {"error": …} under --json, unlike the refusals
        raise UserError(str(exc), 2, as_json=as_json) from None
    if as_json:
        print_json(answer.as_json())
    else:
        print(_render(answer))


# a rating of the previous answer in `govqa chat`, with an optional comment: "👎 材料写得不全"
_FEEDBACK = re.compile(r"^(👍|👎|/good|/bad)\s*(.*)$", re.S)
_HELPFUL = ("👍", "/good")


@cli.command("chat", help="多轮对话")
def chat(settings: Settings) -> None:
    from language.question import EmptyQuestion

    assistant = _indexed_assistant(settings)
    session, last_id = None, ""
    print("示例市政务服务问答助手（示例数据）。输入问题后回车；“新话题”重新开始，“退出”结束；"
          "对上一个回答可输入 👍 或 👎（可附一句说明）。")
    while True:
        try:
            text = input("\n您的问题> ").strip()
        except EOFError:
            print()
            return
        if text in ("退出", "exit", "quit", "/quit"):
            return
        if text in ("新话题", "/new"):
            session = None
            print("好的，我们重新开始。")
            continue
        rating = _FEEDBACK.match(text)
        if rating and last_id:
            assistant.log.feedback(last_id, rating.group(1) in _HELPFUL, rating.group(2).strip())
            print("谢谢，您的评价已记录。")
            continue
        try:
            answer = assistant.ask(text, session_id=session, channel="cli")
        except EmptyQuestion as exc:
            print(exc)
            continue
        session, last_id = answer.session_id, answer.question_id
        print(_render(answer))


# ---- web server and staff accounts -------------------------------------------
# a malformed setting (rate limits, frame ancestors, the accounts file) stops the server with a message
@cli.command("serve", help="启动网页服务：市民问答、挂件、坐席台、编辑台和接口",
             refusal=Refusal("配置错误：", (ValueError,), 2))
@click.option("--host", default="127.0.0.1")
@click.option("--port", type=int, default=7860)
def serve(settings: Settings, host: str, port: int) -> None:
    from assistant.wiring import build_assistant
    from ui.app import serve as serve_app

    serve_app(settings, build_assistant(settings), host, port)


def _accounts(settings: Settings) -> Accounts:
    from ui.auth import Accounts

    return Accounts.from_env(settings.data_dir)


def _new_password() -> str:
    """Typed twice at a terminal; otherwise the first line of standard input (for scripts)."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码：")
    if getpass.getpass("再输入一次：") != first:
        raise ValueError("两次输入的密码不一致")
    return first


@users.command("add", help="新增或重设账号（密码在终端输入两次，或从标准输入读一行）",
               refusal=Refusal("未保存：", (ValueError,), 2))
@click.argument("name")
@click.option("--role", type=click.Choice(["agent", "editor"]), required=True)
def users_add(settings: Settings, name: str, role: str) -> None:
    accounts = _accounts(settings)
    accounts.add(name, role, _new_password())
    print(f"已保存账号 {name}（{role}）到 {accounts.path}")


@users.command("remove", help="删除账号", refusal=Refusal("未删除：", (KeyError,)))
@click.argument("name")
def users_remove(settings: Settings, name: str) -> None:
    _accounts(settings).remove(name)
    print(f"已删除账号 {name}")


@users.command("list", help="列出账号和角色", refusal=Refusal("", (ValueError,), 2))
def users_list(settings: Settings) -> None:
    for account in _accounts(settings).all().values():
        print(f"{account.name}\t{account.role}")


@users.command("hash", help="为 GOVQA_USERS 生成密码哈希", refusal=Refusal("", (ValueError,), 2))
def users_hash(_settings: Settings) -> None:
    from ui.auth import MIN_PASSWORD_CHARS, hash_password

    password = _new_password()
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"密码至少 {MIN_PASSWORD_CHARS} 个字符", 2)
    print(hash_password(password))


# ---- demand insights --------------------------------------------------------
def _insights(settings: Settings) -> DemandInsights:
    from assistant.wiring import open_embedder, open_index
    from demand.insights import DemandInsights

    return DemandInsights(settings.data_dir, settings.kb_dir, embedder=lambda: open_embedder(settings),
                          index=lambda: open_index(settings))


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise UserError(f"--since 应为日期，如 2019-06-01：{value}", 2) from None


@demand.command("topics", help="挖掘话题（默认来自问答日志中的拒答和差评问题）",
                refusal=Refusal("无法读取留言：", (ValueError,), 2))
@click.option("--input", "input_file", help="导入的留言文件（JSONL/JSON/XLSX/CSV：subject、body、time、likes 或 留言主题、留言详情…）")
@click.option("--since", callback=_date, help="只看此日期（含）之后的留言，如 2019-06-01")
@click.option("--top", type=int, help="只输出排名前 N 个话题")
@click.option("--lexical", is_flag=True, help="不用嵌入模型，只按字词归并（首次运行更快）")
@json_flag
def demand_topics(settings: Settings, input_file: str | None, since: dt.date | None, top: int | None,
                  lexical: bool, as_json: bool) -> None:
    if top is not None and top < 1:
        raise UserError("--top 应为正整数", 2)
    result = _insights(settings).topics(Path(input_file) if input_file else None, since, top, semantic=not lexical)
    for error in result["errors"]:
        print(f"跳过：{error}", file=sys.stderr)
    if as_json:
        print_json(result)
        return
    print(f"{result['n_messages']} 条留言，{result['n_topics']} 个话题，用时 {result['seconds']} 秒")
    for t in result["topics"]:
        status = f"  已由 {t['resolved_by']} 关联 {t['record_id']}" if t["resolved"] else ""
        print(f"{t['id']}  {t['label']}  {t['size']} 条  {t['trend']}  {t['first_seen']}~{t['last_seen']}{status}")
        print(f"       例：{t['examples'][0]}")


@demand.command("resolve", help="用一条办事指南或常见问题关闭话题，并立即索引该记录",
                refusal=Refusal("未关联：", (KeyError, ValueError)))
@click.argument("topic_id")
@click.option("--record", required=True, help="知识库记录 id")
@click.option("--by", required=True, help="处理人")
@click.option("--file", help="先把这个文件加入知识库（新写的常见问题或指南）")
def demand_resolve(settings: Settings, topic_id: str, record: str, by: str, file: str | None) -> None:
    topic = _insights(settings).resolve(topic_id, record, by, Path(file) if file else None)
    print(f"话题 {topic['id']}（{topic['label']}）已由 {topic['resolved_by']} 于 {topic['resolved_at']} "
          f"关联到 {topic['record_id']}，该记录已索引，可直接回答")


@demand.command("export", help="导出最近一次的话题（CSV 或 XLSX，供周报）", refusal=Refusal("未导出：", (ValueError,)))
@click.option("--out", required=True, help="FILE.csv 或 FILE.xlsx")
@click.option("--top", type=int)
def demand_export(settings: Settings, out: str, top: int | None) -> None:
    print(f"已导出到 {_insights(settings).export(Path(out), top)}")


# ---- commands of other packages, and the one place failures are shown ---------
for plugin in entry_points(group="govqa.commands"):
    plugin.load()(cli)


def main(argv: list[str] | None = None) -> int:
    """Runs one command and returns its exit status (0; 1 or 2 from a UserError; 2 for a usage error; 130 interrupted)."""
    try:
        with cli.make_context("govqa", sys.argv[1:] if argv is None else list(argv)) as ctx:
            cli.invoke(ctx)
    except UserError as exc:
        if exc.as_json:
            print_json({"error": exc.message})
        else:
            print(exc.message, file=sys.stderr)
        return exc.exit_code
    except click.exceptions.Exit as exc:    # --help, or a command whose output already says what failed
        return exc.exit_code
    except click.ClickException as exc:     # a usage error
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        print("\n已中断；再次运行同一命令即可继续。", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
