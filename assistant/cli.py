"""The `govqa` command line. Its `--json` outputs are a public interface: keys are only ever added."""

from __future__ import annotations

import argparse
import json
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
        added = KnowledgeBaseStore(settings.kb_dir).add(Path(args.file))
    except ValueError as exc:
        print(f"未添加：{exc}", file=sys.stderr)
        return 1
    print(f"已添加 {len(added)} 条记录：{', '.join(added)}（运行 govqa index 使其生效）")
    return 0


def cmd_kb_remove(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.store import KnowledgeBaseStore

    try:
        path = KnowledgeBaseStore(settings.kb_dir).remove(args.id)
    except KeyError as exc:
        print(f"未删除：{exc.args[0]}", file=sys.stderr)
        return 1
    print(f"已删除记录 {args.id}（{path}）（运行 govqa index 使其生效）")
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

    return KnowledgeIndex(settings.data_dir, settings.embedding_model, settings.chroma_url)


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.loaders import load_knowledge_base

    result = load_knowledge_base(Path(args.kb) if args.kb else settings.kb_dir)
    for error in result.errors:
        print(f"跳过：{error}", file=sys.stderr)
    start = time.perf_counter()
    report = open_index(settings).index(result.records, progress=True)
    summary = {**report.as_dict(), "errors": len(result.errors), "seconds": round(time.perf_counter() - start, 2)}
    if args.json:
        _print_json(summary)
    else:
        print(f"索引完成：新增 {summary['added']}，更新 {summary['updated']}，删除 {summary['removed']}，"
              f"未变 {summary['unchanged']}，嵌入 {summary['chunks_embedded']} 个片段，用时 {summary['seconds']} 秒")
    return 0


# ---- asking -----------------------------------------------------------------
def build_assistant(settings: Settings):
    from assistant.demand_log import DemandLog
    from assistant.llm import LLMPhraser, from_env
    from assistant.service import Assistant

    model = from_env()
    return Assistant(open_index(settings), DemandLog(settings.data_dir / "demand.sqlite"), settings.hotline,
                     phraser=LLMPhraser(model) if model else None)


def _render(answer) -> str:
    lines = [answer.answer]
    lines += [f"  {c.reference()}" for c in answer.citations]
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


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.question import EmptyQuestion

    assistant = build_assistant(settings)
    if not assistant.index.hashes():
        print("知识库还没有索引，请先运行 govqa index。", file=sys.stderr)
        return 1
    session = None
    print("示例市政务服务问答助手（示例数据）。输入问题后回车；“新话题”重新开始，“退出”结束。")
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
        try:
            answer = assistant.ask(text, session_id=session, channel="cli")
        except EmptyQuestion as exc:
            print(exc)
            continue
        session = answer.session_id
        print(_render(answer))


# ---- evaluation -------------------------------------------------------------
def _embedder(settings: Settings):
    from indexing.embedder import Embedder, EmbeddingCache

    return Embedder(settings.embedding_model, settings.models_dir, EmbeddingCache(settings.embedding_cache))


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        return func(args, Settings.from_env())
    except KeyboardInterrupt:
        print("\n已中断；再次运行同一命令即可继续。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
