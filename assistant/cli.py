"""The `govqa` command line. Its `--json` outputs are a public interface: keys are only ever added."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Callable

from assistant.settings import SAMPLE_KB, Settings

EVAL_DATA = Path(__file__).resolve().parent.parent / "eval" / "data"


def _print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


# ---- knowledge base ---------------------------------------------------------
def cmd_kb_validate(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.loaders import load_knowledge_base

    path = Path(args.path) if args.path else settings.kb_dir
    if not path.exists():
        print(f"路径不存在：{path}", file=sys.stderr)
        return 2
    result = load_knowledge_base(path)
    for error in result.errors:
        print(error)
    if not result.errors:
        print(f"校验通过：{len(result.records)} 条记录", file=sys.stderr)
    return 1 if result.errors else 0


def cmd_kb_stats(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.loaders import load_knowledge_base

    result = load_knowledge_base(settings.kb_dir)
    counts = {"guides": 0, "policies": 0, "faqs": 0}
    names = {"guide": "guides", "policy": "policies", "faq": "faqs"}
    for rec in result.records:
        counts[names[rec.kind]] += 1
    stats = {**counts, "errors": len(result.errors)}
    if args.json:
        _print_json(stats)
    else:
        print(f"办事指南 {stats['guides']}，政策文件 {stats['policies']}，常见问题 {stats['faqs']}，错误 {stats['errors']}")
    return 0


def cmd_kb_add(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.store import KnowledgeBaseStore

    try:
        added = KnowledgeBaseStore(settings.kb_dir).add(Path(args.file), author=_author())
    except ValueError as exc:
        print(f"未添加：{exc}", file=sys.stderr)
        return 1
    print(f"已添加 {len(added)} 条记录：{', '.join(added)}（运行 govqa index 使其生效）")
    return 0


def cmd_kb_remove(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.store import KnowledgeBaseStore

    try:
        path = KnowledgeBaseStore(settings.kb_dir).remove(args.id, author=_author())
    except KeyError as exc:
        print(f"未删除：{exc.args[0]}", file=sys.stderr)
        return 1
    print(f"已删除记录 {args.id}（{path}）（运行 govqa index 使其生效）")
    return 0


def cmd_kb_show(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.compose import full_text
    from knowledge.store import KnowledgeBaseStore
    from knowledge.writer import editor_json

    record = KnowledgeBaseStore(settings.kb_dir).get(args.id)
    if record is None:
        print(f"没有 id 为 {args.id} 的记录", file=sys.stderr)
        return 1
    if args.json:
        _print_json({"id": record.id, "kind": record.kind, "title": record.title, "text": full_text(record),
                     "record": editor_json(record)})
    else:
        print(full_text(record))
    return 0


def _author() -> str:
    """Who made a change from the command line: the login name."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def cmd_kb_history(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.store import KnowledgeBaseStore

    versions = KnowledgeBaseStore(settings.kb_dir).versions(args.id)
    if args.json:
        _print_json([v.as_dict() for v in versions])
        return 0
    if not versions:
        print(f"记录 {args.id} 还没有修改历史", file=sys.stderr)
        return 1
    for v in (v.as_dict() for v in versions):
        print(f"版本 {v['version']}  {v['time']}  {v['action_name']}  {v['author'] or '（未知）'}  {v['path']}")
    return 0


def cmd_kb_diff(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.store import KnowledgeBaseStore

    try:
        print(KnowledgeBaseStore(settings.kb_dir).diff(args.id, args.version), end="")
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 1
    return 0


def cmd_kb_restore(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.store import KnowledgeBaseStore

    try:
        path = KnowledgeBaseStore(settings.kb_dir).restore(args.id, args.version, author=args.author or _author())
    except KeyError as exc:
        print(f"未恢复：{exc.args[0]}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"未恢复：{exc}", file=sys.stderr)
        return 1
    print(f"已把 {args.id} 恢复为版本 {args.version}（{path}）（运行 govqa index 使其生效）")
    return 0


# ---- models and index -------------------------------------------------------
def cmd_models_prepare(args: argparse.Namespace, settings: Settings) -> int:
    from indexing.embedder import resolve_model_path

    start = time.perf_counter()
    path = resolve_model_path(settings.embedding_model, settings.models_dir)
    print(f"模型已就绪：{path}（{time.perf_counter() - start:.1f} 秒）")
    return 0


def open_index(settings: Settings):
    from indexing.index import KnowledgeIndex

    return KnowledgeIndex(settings.data_dir, settings.embedding_model, settings.chroma_url,
                          backend=settings.embedding_backend)


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.loaders import load_knowledge_base

    result = load_knowledge_base(Path(args.kb) if args.kb else settings.kb_dir)
    for error in result.errors:
        print(f"跳过：{error}", file=sys.stderr)
    from indexing.retriever import HybridRetriever

    start = time.perf_counter()
    index = open_index(settings)
    report = index.index(result.records, progress=True)
    HybridRetriever(index).refresh()  # saves the lexical snapshot, so servers start without rebuilding it
    summary = {**report.as_dict(), "errors": len(result.errors), "seconds": round(time.perf_counter() - start, 2)}
    if args.json:
        _print_json(summary)
    else:
        print(f"索引完成：新增 {summary['added']}，更新 {summary['updated']}，删除 {summary['removed']}，"
              f"未变 {summary['unchanged']}，嵌入 {summary['chunks_embedded']} 个片段，用时 {summary['seconds']} 秒")
    return 0


# ---- asking -----------------------------------------------------------------
def build_assistant(settings: Settings):
    from assistant.conversation import SQLiteSessionStore
    from assistant.demand_log import DemandLog
    from assistant.llm import LLMPhraser, from_env
    from assistant.service import Assistant

    model = from_env()
    return Assistant(open_index(settings), DemandLog(settings.data_dir / "demand.sqlite"), settings.hotline,
                     phraser=LLMPhraser(model) if model else None,
                     sessions=SQLiteSessionStore(settings.data_dir / "sessions.sqlite"),
                     max_question_chars=settings.max_question_chars)


def _render(answer) -> str:
    lines = [answer.answer]
    lines += [f"  {c.reference()}" for c in answer.citations]
    lines += [f"  全文：govqa kb show {c.record_id}" for c in answer.citations[:1]]
    if answer.suggestions and answer.decision == "answered":
        lines.append("  相关事项：" + "、".join(s["title"] for s in answer.suggestions))
    lines += [f"  提示：{n}" for n in answer.notices]
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.question import EmptyQuestion

    assistant = build_assistant(settings)
    if not assistant.index.hashes():
        print("知识库还没有索引，请先运行 govqa index。", file=sys.stderr)
        return 1
    try:
        answer = assistant.ask(args.question, session_id=args.session, channel="cli")
    except EmptyQuestion as exc:
        if args.json:
            _print_json({"error": str(exc)})
        else:
            print(str(exc), file=sys.stderr)
        return 2
    print(json.dumps(answer.as_json(), ensure_ascii=False, indent=2) if args.json else _render(answer))
    return 0


# a rating of the previous answer in `govqa chat`, with an optional comment: "👎 材料写得不全"
_FEEDBACK = re.compile(r"^(👍|👎|/good|/bad)\s*(.*)$", re.S)
_HELPFUL = ("👍", "/good")


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.question import EmptyQuestion

    assistant = build_assistant(settings)
    if not assistant.index.hashes():
        print("知识库还没有索引，请先运行 govqa index。", file=sys.stderr)
        return 1
    session, last_id = None, ""
    print("示例市政务服务问答助手（示例数据）。输入问题后回车；“新话题”重新开始，“退出”结束；"
          "对上一个回答可输入 👍 或 👎（可附一句说明）。")
    while True:
        try:
            text = input("\n您的问题> ").strip()
        except EOFError:
            print()
            return 0
        if text in ("退出", "exit", "quit", "/quit"):
            return 0
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


# ---- evaluation -------------------------------------------------------------
def _embedder(settings: Settings):
    from indexing.embedder import Embedder, EmbeddingCache

    return Embedder(settings.embedding_model, settings.models_dir, EmbeddingCache(settings.embedding_cache),
                    backend=settings.embedding_backend)


def _report_missing(*paths: Path) -> bool:
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        print(f"文件不存在：{p}", file=sys.stderr)
    return bool(missing)


def _modes(args: argparse.Namespace) -> list[str]:
    modes = [m.strip() for m in args.retriever.split(",") if m.strip()]
    if args.baselines:
        modes += [m for m in ("bm25", "dense") if m not in modes]
    return modes


def cmd_eval_retrieval(args: argparse.Namespace, settings: Settings) -> int:
    from eval.corpus import corpus_records
    from eval.retrieval import evaluate, load_equivalents, load_questions

    corpus, questions_path = Path(args.corpus), Path(args.questions)
    if _report_missing(corpus, questions_path):
        return 2
    records, to_docid = corpus_records(corpus)
    questions = load_questions(questions_path, args.split, load_equivalents(corpus))
    result = evaluate(records, questions, _embedder(settings), _modes(args), to_docid)
    _report(result, args.json)
    return 0


def cmd_eval_answers(args: argparse.Namespace, settings: Settings) -> int:
    from eval.answers import evaluate_answers
    from eval.corpus import corpus_records
    from eval.retrieval import load_equivalents, load_questions, load_unanswerable

    if _report_missing(*(Path(p) for p in (args.corpus, args.questions, args.unanswerable) if p)):
        return 2
    corpus = Path(args.corpus)
    records, to_docid = corpus_records(corpus)
    questions = load_questions(Path(args.questions), args.split, load_equivalents(corpus))
    unanswerable = load_unanswerable(Path(args.unanswerable), args.split) if args.unanswerable else []
    result = evaluate_answers(records, questions, unanswerable, _embedder(settings), to_docid)
    if args.json:
        _print_json(result)
    else:
        print("  ".join(f"{k}={v}" for k, v in result.items()))
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """With no arguments: the sample knowledge base and its gold questions."""
    from eval.retrieval import evaluate, load_questions
    from knowledge.loaders import load_knowledge_base

    records = load_knowledge_base(SAMPLE_KB).records
    questions = load_questions(EVAL_DATA / "sample_questions.jsonl", args.split)
    result = evaluate(records, questions, _embedder(settings), _modes(args))
    result["split"] = args.split
    _report(result, args.json)
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from eval.bench import BenchConfig, run_bench

    if args.corpus and _report_missing(Path(args.corpus)):
        return 2
    if (args.limit is not None and args.limit < 1) or args.queries < 1:
        print("--limit 和 --queries 应为正整数", file=sys.stderr)
        return 2
    result = run_bench(BenchConfig(
        model=settings.embedding_model, backend=settings.embedding_backend, models_dir=settings.models_dir,
        sample_kb=SAMPLE_KB, sample_questions=EVAL_DATA / "sample_questions.jsonl",
        corpus=Path(args.corpus) if args.corpus else None, limit=args.limit, queries=args.queries,
        chroma_url=settings.chroma_url, shared_cache=settings.embedding_cache if args.reuse_cache else None))
    if args.json:
        _print_json(result)
    else:
        print(f"{result['chunks']} 个片段：索引 {result['index_chunks_per_s']} 片段/秒（{result['device']}，"
              f"{result['backend']}）；{result['queries']} 个问题 p50 {result['query_p50_ms']} ms，"
              f"p95 {result['query_p95_ms']} ms；启动 {result['startup_s']} 秒；"
              f"峰值内存 {result['peak_rss_mb']} MB；索引占盘 {result['index_disk_mb']} MB")
    return 0


def _report(result: dict, as_json: bool) -> None:
    if as_json:
        _print_json(result)
        return
    def line(name: str, m: dict) -> str:
        return (f"{name:8s} n={m['n']} hit@1={m['hit@1']:.3f} hit@3={m['hit@3']:.3f} hit@5={m['hit@5']:.3f} "
                f"hit@10={m['hit@10']:.3f} mrr@10={m['mrr@10']:.3f} p50={m['query_p50_ms']}ms p95={m['query_p95_ms']}ms")
    print(line(result["retriever"], result))
    for name, m in result.get("baselines", {}).items():
        print(line(name, m))
    print(f"索引用时 {result['index_s']} 秒，{result['chunks']} 个片段")


# ---- web server and staff accounts -------------------------------------------
def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from ui.app import serve

    try:
        serve(settings, args.host, args.port)
    except ValueError as exc:   # a malformed setting: rate limits, frame ancestors, the accounts file
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    return 0


def _new_password() -> str:
    """Typed twice at a terminal; otherwise the first line of standard input (for scripts)."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码：")
    if getpass.getpass("再输入一次：") != first:
        raise ValueError("两次输入的密码不一致")
    return first


def cmd_users_add(args: argparse.Namespace, settings: Settings) -> int:
    from ui.auth import Accounts

    accounts = Accounts.from_env(settings.data_dir)
    try:
        accounts.add(args.name, args.role, _new_password())
    except ValueError as exc:
        print(f"未保存：{exc}", file=sys.stderr)
        return 2
    print(f"已保存账号 {args.name}（{args.role}）到 {accounts.path}")
    return 0


def cmd_users_remove(args: argparse.Namespace, settings: Settings) -> int:
    from ui.auth import Accounts

    accounts = Accounts.from_env(settings.data_dir)
    try:
        accounts.remove(args.name)
    except KeyError as exc:
        print(f"未删除：{exc.args[0]}", file=sys.stderr)
        return 1
    print(f"已删除账号 {args.name}")
    return 0


def cmd_users_list(args: argparse.Namespace, settings: Settings) -> int:
    from ui.auth import Accounts

    try:
        accounts = Accounts.from_env(settings.data_dir).all()
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    for account in accounts.values():
        print(f"{account.name}\t{account.role}")
    return 0


def cmd_users_hash(args: argparse.Namespace, settings: Settings) -> int:
    from ui.auth import MIN_PASSWORD_CHARS, hash_password

    try:
        password = _new_password()
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if len(password) < MIN_PASSWORD_CHARS:
        print(f"密码至少 {MIN_PASSWORD_CHARS} 个字符", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0


# ---- demand insights --------------------------------------------------------
def _insights(settings: Settings):
    from demand.insights import DemandInsights

    return DemandInsights(settings.data_dir, settings.kb_dir, embedder=lambda: _embedder(settings),
                          index=lambda: open_index(settings))


def cmd_demand_topics(args: argparse.Namespace, settings: Settings) -> int:
    import datetime as dt

    try:
        since = dt.date.fromisoformat(args.since) if args.since else None
    except ValueError:
        print(f"--since 应为日期，如 2019-06-01：{args.since}", file=sys.stderr)
        return 2
    if args.top is not None and args.top < 1:
        print("--top 应为正整数", file=sys.stderr)
        return 2
    try:
        result = _insights(settings).topics(Path(args.input) if args.input else None, since, args.top,
                                            semantic=not args.lexical)
    except ValueError as exc:
        print(f"无法读取留言：{exc}", file=sys.stderr)
        return 2
    for error in result["errors"]:
        print(f"跳过：{error}", file=sys.stderr)
    if args.json:
        _print_json(result)
        return 0
    print(f"{result['n_messages']} 条留言，{result['n_topics']} 个话题，用时 {result['seconds']} 秒")
    for t in result["topics"]:
        status = f"  已由 {t['resolved_by']} 关联 {t['record_id']}" if t["resolved"] else ""
        print(f"{t['id']}  {t['label']}  {t['size']} 条  {t['trend']}  {t['first_seen']}~{t['last_seen']}{status}")
        print(f"       例：{t['examples'][0]}")
    return 0


def cmd_demand_resolve(args: argparse.Namespace, settings: Settings) -> int:
    try:
        topic = _insights(settings).resolve(args.topic_id, args.record, args.by,
                                            Path(args.file) if args.file else None)
    except KeyError as exc:
        print(f"未关联：{exc.args[0]}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"未关联：{exc}", file=sys.stderr)
        return 1
    print(f"话题 {topic['id']}（{topic['label']}）已由 {topic['resolved_by']} 于 {topic['resolved_at']} "
          f"关联到 {topic['record_id']}，该记录已索引，可直接回答")
    return 0


def cmd_demand_export(args: argparse.Namespace, settings: Settings) -> int:
    try:
        path = _insights(settings).export(Path(args.out), args.top)
    except ValueError as exc:
        print(f"未导出：{exc}", file=sys.stderr)
        return 1
    print(f"已导出到 {path}")
    return 0


# ---- parser -----------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="govqa", description="智慧政务问答助手")
    sub = parser.add_subparsers(dest="command", required=True)

    kb = sub.add_parser("kb", help="知识库维护").add_subparsers(dest="kb_command", required=True)
    p = kb.add_parser("validate", help="校验知识库文件")
    p.add_argument("path", nargs="?")
    p.set_defaults(func=cmd_kb_validate)
    p = kb.add_parser("stats", help="按类型统计记录数")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_kb_stats)
    p = kb.add_parser("add", help="把一个文件加入知识库")
    p.add_argument("file")
    p.set_defaults(func=cmd_kb_add)
    p = kb.add_parser("remove", help="按 id 删除一条记录")
    p.add_argument("id")
    p.set_defaults(func=cmd_kb_remove)
    p = kb.add_parser("show", help="一条记录的全文（回答引用的完整指南、政策或问答）")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_kb_show)
    p = kb.add_parser("history", help="一条记录的各个版本：何时、谁、做了什么")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_kb_history)
    p = kb.add_parser("diff", help="某个版本相对上一版本改了什么")
    p.add_argument("id")
    p.add_argument("version", type=int)
    p.set_defaults(func=cmd_kb_diff)
    p = kb.add_parser("restore", help="把一条记录恢复为某个版本（作为新版本保存）")
    p.add_argument("id")
    p.add_argument("version", type=int)
    p.add_argument("--author", help="记录为谁的修改（默认当前登录名）")
    p.set_defaults(func=cmd_kb_restore)

    models = sub.add_parser("models", help="嵌入模型").add_subparsers(dest="models_command", required=True)
    models.add_parser("prepare", help="离线准备默认嵌入模型").set_defaults(func=cmd_models_prepare)

    p = sub.add_parser("index", help="增量索引知识库")
    p.add_argument("--kb", help="知识库目录（默认 GOVQA_KB_DIR 或示例知识库）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="提一个问题")
    p.add_argument("question")
    p.add_argument("--session", help="会话编号，用于追问")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ask)
    sub.add_parser("chat", help="多轮对话").set_defaults(func=cmd_chat)

    ev = sub.add_parser("eval", help="评测（无参数时评测示例知识库）")
    ev.add_argument("--split", default="test")
    ev.add_argument("--retriever", default="hybrid", help="hybrid、bm25、dense，可用逗号分隔多个")
    ev.add_argument("--baselines", action="store_true", help="同时测量 bm25 和 dense 基线")
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=cmd_eval)
    ev_sub = ev.add_subparsers(dest="eval_command")
    p = ev_sub.add_parser("retrieval", help="在任意语料上评测检索")
    p.add_argument("--corpus", required=True)
    p.add_argument("--questions", required=True)
    p.add_argument("--split")
    p.add_argument("--retriever", default="hybrid", help="hybrid、bm25、dense，可用逗号分隔多个")
    p.add_argument("--baselines", action="store_true", help="同时测量 bm25 和 dense 基线")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval_retrieval)
    p = ev_sub.add_parser("answers", help="在任意语料上评测回答（覆盖率、引用、拒答）")
    p.add_argument("--corpus", required=True)
    p.add_argument("--questions", required=True)
    p.add_argument("--unanswerable")
    p.add_argument("--split")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval_answers)

    p = sub.add_parser("bench", help="测量索引吞吐、回答延迟、内存和磁盘占用")
    p.add_argument("--corpus", help="再加一个语料（JSONL 或 .jsonl.gz，如法规库）")
    p.add_argument("--limit", type=int, help="片段数上限；语料不够时重复使用（输出中 repeated_chunks 标明）")
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--reuse-cache", action="store_true", help="使用数据目录里的嵌入缓存（默认用全新缓存，测真实吞吐）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("serve", help="启动网页服务：市民问答、挂件、坐席台、编辑台和接口")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.set_defaults(func=cmd_serve)

    users = sub.add_parser("users", help="工作人员账号（坐席 agent、编辑 editor）").add_subparsers(
        dest="users_command", required=True)
    p = users.add_parser("add", help="新增或重设账号（密码在终端输入两次，或从标准输入读一行）")
    p.add_argument("name")
    p.add_argument("--role", choices=["agent", "editor"], required=True)
    p.set_defaults(func=cmd_users_add)
    p = users.add_parser("remove", help="删除账号")
    p.add_argument("name")
    p.set_defaults(func=cmd_users_remove)
    users.add_parser("list", help="列出账号和角色").set_defaults(func=cmd_users_list)
    users.add_parser("hash", help="为 GOVQA_USERS 生成密码哈希").set_defaults(func=cmd_users_hash)

    demand = sub.add_parser("demand", help="群众需求：把未答好的问题归并成可处理的话题").add_subparsers(
        dest="demand_command", required=True)
    p = demand.add_parser("topics", help="挖掘话题（默认来自问答日志中的拒答和差评问题）")
    p.add_argument("--input", help="导入的留言文件（JSONL/JSON/XLSX/CSV：subject、body、time、likes 或 留言主题、留言详情…）")
    p.add_argument("--since", help="只看此日期（含）之后的留言，如 2019-06-01")
    p.add_argument("--top", type=int, help="只输出排名前 N 个话题")
    p.add_argument("--lexical", action="store_true", help="不用嵌入模型，只按字词归并（首次运行更快）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_demand_topics)
    p = demand.add_parser("resolve", help="用一条办事指南或常见问题关闭话题，并立即索引该记录")
    p.add_argument("topic_id")
    p.add_argument("--record", required=True, help="知识库记录 id")
    p.add_argument("--by", required=True, help="处理人")
    p.add_argument("--file", help="先把这个文件加入知识库（新写的常见问题或指南）")
    p.set_defaults(func=cmd_demand_resolve)
    p = demand.add_parser("export", help="导出最近一次的话题（CSV 或 XLSX，供周报）")
    p.add_argument("--out", required=True, help="FILE.csv 或 FILE.xlsx")
    p.add_argument("--top", type=int)
    p.set_defaults(func=cmd_demand_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    try:
        return func(args, settings)
    except KeyboardInterrupt:
        print("\n已中断；再次运行同一命令即可继续。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
