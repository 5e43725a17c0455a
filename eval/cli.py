"""`govqa eval …` and `govqa bench`. They join the `govqa` command line through the `govqa.commands`
entry point (pyproject.toml) rather than being imported by it, so no product package depends on eval.
"""

from __future__ import annotations

from pathlib import Path

import click

from assistant.settings import SAMPLE_KB, Settings
from assistant.wiring import open_embedder
from ui.cli_common import Command, Group, UserError, json_flag, load_settings, print_json

EVAL_DATA = Path(__file__).resolve().parent / "data"

retriever_option = click.option("--retriever", default="hybrid", help="hybrid、bm25、dense，可用逗号分隔多个")
baselines_flag = click.option("--baselines", is_flag=True, help="同时测量 bm25 和 dense 基线")
ablate_option = click.option("--ablate", multiple=True, metavar="STEP",
                             help="逐一关掉这些检索步骤（逗号分隔，或 all）再测一遍，看每一步的作用")


def _steps(ablate: tuple[str, ...]) -> list[str]:
    from eval.retrieval import steps_to_ablate

    try:
        return steps_to_ablate(ablate)
    except ValueError as exc:
        raise UserError(str(exc), 2) from None


def _report_ablation(result: dict, as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    full = result["full"]
    print(f"{'全部步骤':14s} hit@1={full['hit@1']:.3f} hit@5={full['hit@5']:.3f} mrr@10={full['mrr@10']:.3f}  (n={result['n']})")
    for step, m in result["without"].items():
        print(f"{'关掉 ' + step:14s} hit@1={m['hit@1']:.3f} hit@5={m['hit@5']:.3f} mrr@10={m['mrr@10']:.3f}  "
              f"该步骤贡献 hit@1 {result['delta_hit@1'][step]:+.3f}")


def register(cli: click.Group) -> None:
    """The `govqa.commands` entry point: adds these commands to the `govqa` group."""
    cli.add_command(eval_group)
    cli.add_command(bench)


def _require(*paths: Path) -> None:
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UserError("\n".join(f"文件不存在：{p}" for p in missing), 2)


def _modes(retriever: str, baselines: bool) -> list[str]:
    modes = [m.strip() for m in retriever.split(",") if m.strip()]
    if baselines:
        modes += [m for m in ("bm25", "dense") if m not in modes]
    return modes


def _report(result: dict, as_json: bool) -> None:
    if as_json:
        print_json(result)
        return

    def line(name: str, m: dict) -> str:
        return (f"{name:8s} n={m['n']} hit@1={m['hit@1']:.3f} hit@3={m['hit@3']:.3f} hit@5={m['hit@5']:.3f} "
                f"hit@10={m['hit@10']:.3f} mrr@10={m['mrr@10']:.3f} p50={m['query_p50_ms']}ms p95={m['query_p95_ms']}ms")
    print(line(result["retriever"], result))
    for name, m in result.get("baselines", {}).items():
        print(line(name, m))
    print(f"索引用时 {result['index_s']} 秒，{result['chunks']} 个片段")


@click.group("eval", cls=Group, invoke_without_command=True, help="评测（无参数时评测示例知识库）")
@click.option("--split", default="test")
@click.option("--questions", help="问题文件（默认示例知识库的金标准问题；可带 style 字段，按风格分别统计）")
@retriever_option
@baselines_flag
@ablate_option
@json_flag
@click.pass_context
def eval_group(ctx: click.Context, split: str, questions: str | None, retriever: str, baselines: bool,
               ablate: tuple[str, ...], as_json: bool) -> None:
    if ctx.invoked_subcommand:      # `govqa eval retrieval|answers`: the subcommand does the work
        return
    from eval.retrieval import ablate as run_ablation
    from eval.retrieval import evaluate, load_questions
    from knowledge.loaders import load_knowledge_base

    settings = load_settings()
    path = Path(questions) if questions else EVAL_DATA / "sample_questions.jsonl"
    _require(path)
    records = load_knowledge_base(SAMPLE_KB).records
    gold = load_questions(path, split)
    if ablate:
        _report_ablation({**run_ablation(records, gold, open_embedder(settings), _steps(ablate)), "split": split},
                         as_json)
        return
    result = evaluate(records, gold, open_embedder(settings), _modes(retriever, baselines))
    result["split"] = split
    _report(result, as_json)


@eval_group.command("retrieval", help="在任意语料上评测检索")
@click.option("--corpus", required=True)
@click.option("--questions", required=True)
@click.option("--split")
@retriever_option
@baselines_flag
@ablate_option
@json_flag
def eval_retrieval(settings: Settings, corpus: str, questions: str, split: str | None, retriever: str,
                   baselines: bool, ablate: tuple[str, ...], as_json: bool) -> None:
    from eval.corpus import corpus_records
    from eval.retrieval import ablate as run_ablation
    from eval.retrieval import evaluate, load_equivalents, load_questions

    _require(Path(corpus), Path(questions))
    records, to_docid = corpus_records(Path(corpus))
    gold = load_questions(Path(questions), split, load_equivalents(Path(corpus)))
    if ablate:
        _report_ablation(run_ablation(records, gold, open_embedder(settings), _steps(ablate), to_docid), as_json)
        return
    _report(evaluate(records, gold, open_embedder(settings), _modes(retriever, baselines), to_docid), as_json)


@eval_group.command("answers", help="评测回答：对错、拒答、澄清、是否给出所问的事实、按风格、多轮对话")
@click.option("--corpus", help="语料（JSONL，每行一篇文件）；与 --kb 二选一")
@click.option("--kb", help="知识库目录（如 knowledge/samples）；与 --corpus 二选一")
@click.option("--questions", required=True)
@click.option("--unanswerable")
@click.option("--conversations", help="多轮对话文件：每行 {\"turns\": [{\"question\", \"docid\" 或 null}]}")
@click.option("--split")
@ablate_option
@json_flag
def eval_answers(settings: Settings, corpus: str | None, kb: str | None, questions: str, unanswerable: str | None,
                 conversations: str | None, split: str | None, ablate: tuple[str, ...], as_json: bool) -> None:
    from eval.answers import evaluate_answers, load_conversations
    from eval.corpus import corpus_records
    from eval.retrieval import load_equivalents, load_questions, load_unanswerable
    from knowledge.loaders import load_knowledge_base

    if bool(corpus) == bool(kb):
        raise UserError("请给出 --corpus 或 --kb 之一", 2)
    _require(*(Path(p) for p in (corpus, kb, questions, unanswerable, conversations) if p))
    if corpus:
        records, to_docid = corpus_records(Path(corpus))
        equivalents = load_equivalents(Path(corpus))
    else:
        records, to_docid, equivalents = load_knowledge_base(Path(kb)).records, {}, {}
    gold = load_questions(Path(questions), split, equivalents)
    refusable = load_unanswerable(Path(unanswerable), split) if unanswerable else []
    dialogues = load_conversations(Path(conversations)) if conversations else None
    result = evaluate_answers(records, gold, refusable, open_embedder(settings), to_docid, dialogues,
                              _steps(ablate) if ablate else ())
    if as_json:
        print_json(result)
    else:
        _render_answers(result)


def _render_answers(result: dict, label: str = "全部") -> None:
    """One line of figures for all questions, then one per style, per ablated step, and the conversations."""
    keys = ("right", "wrong", "refused", "clarified", "fact_shown", "first_named_right", "span_coverage")

    def line(name: str, m: dict) -> str:
        return f"{name:10s} n={m['n']:<4} " + "  ".join(f"{k}={m[k]}" for k in keys if m.get(k) is not None)

    print(line(label, result) + f"  answered={result['answered_rate']}  unanswerable_refused={result['refusal_rate']}"
          f"  p50={result['p50_ms']}ms p95={result['p95_ms']}ms")
    for style, m in result["by_style"].items():
        print(line(f"  {style}", m))
    if "conversations" in result:
        c = result["conversations"]
        print(f"多轮对话 {c['n']} 段 {c['turns']} 轮，答对 {c['turns_right']}")
    for step, m in result.get("without", {}).items():
        _render_answers(m, f"关掉 {step}")


@eval_group.command("events", help="评测“一件事”：认出整件事、步骤齐全、合并材料清单齐全且不重复、单项问题不被当成一件事")
@click.option("--questions", default=str(EVAL_DATA / "life_events.jsonl"), help="问题文件（默认 eval/data/life_events.jsonl）")
@click.option("--kb", default=None, help="知识库目录（默认示例知识库）")
@click.option("--split", default=None, help="只评测这一部分（dev：开发时写的；test：之后写的，其未认出的问题促成了更多说法；fresh：最后一次改动后新写、从未据以调整），默认全部")
@json_flag
def eval_events(settings: Settings, questions: str, kb: str | None, split: str | None, as_json: bool) -> None:
    from eval.life_events import evaluate_events, load_gold
    from knowledge.loaders import load_knowledge_base

    _require(Path(questions), *([Path(kb)] if kb else []))
    result = evaluate_events(load_knowledge_base(Path(kb) if kb else SAMPLE_KB).records, load_gold(Path(questions), split),
                             open_embedder(settings))
    result["split"] = split or "all"
    if as_json:
        print_json(result)
        return
    print(f"一件事问题 {result['event_questions']} 个：认出整件事 {result['event_found']}，步骤齐全 "
          f"{result['steps_complete']}，材料清单齐全且不重复 {result['checklist_complete']}"
          f"（缺 {result['checklist_missing']} 项，重复 {result['checklist_duplicates']} 项）")
    print(f"单项问题 {result['service_questions']} 个：仍按单项回答 {result['service_kept']}")
    for miss in result["not_found"]:
        print(f"  未认出：{miss['question']}（应为 {miss['gold']}，得到 {miss['got'] or miss['decision']}）")
    for taken in result["taken_for_event"]:
        print(f"  误作一件事：{taken['question']}（{taken['got']}）")


@eval_group.command("fit", help="用开发集拟合学习的重排序和作答判断（写入 indexing/models/ranking.json）")
@click.option("--plan", default=str(EVAL_DATA / "fit.yml"), help="拟合用的问题集清单（默认 eval/data/fit.yml）")
@click.option("--out", default=None, help="写到哪里（默认 indexing/models/ranking.json）")
@json_flag
def eval_fit(settings: Settings, plan: str, out: str | None, as_json: bool) -> None:
    from eval.fit import run_fit
    from indexing.learned import MODEL_PATH

    _require(Path(plan))
    model = run_fit(Path(plan), open_embedder(settings), Path(out) if out else MODEL_PATH)
    if as_json:
        print_json({"thresholds": model["thresholds"], "figures": model["figures"]})
        return
    kinds = {"policy": "政策文件", "service": "办事指南或问答"}
    print("；".join(f"{kinds[k]}排第一：作答阈值 {t['answer']}，澄清阈值 {t['confirm']}"
                   for k, t in model["thresholds"].items()) + "（交叉验证，各集合）：")
    for name, m in model["figures"].items():
        print(f"  {name:32s} " + "  ".join(f"{k}={v}" for k, v in m.items()))


@click.command("bench", cls=Command, help="测量索引吞吐、回答延迟、内存和磁盘占用")
@click.option("--corpus", help="再加一个语料（JSONL 或 .jsonl.gz，如法规库）")
@click.option("--limit", type=int, help="片段数上限；语料不够时重复使用（输出中 repeated_chunks 标明）")
@click.option("--queries", type=int, default=1000)
@click.option("--reuse-cache", is_flag=True, help="使用数据目录里的嵌入缓存（默认用全新缓存，测真实吞吐）")
@json_flag
def bench(settings: Settings, corpus: str | None, limit: int | None, queries: int, reuse_cache: bool,
          as_json: bool) -> None:
    from eval.bench import BenchConfig, run_bench

    if corpus:
        _require(Path(corpus))
    if (limit is not None and limit < 1) or queries < 1:
        raise UserError("--limit 和 --queries 应为正整数", 2)
    result = run_bench(BenchConfig(
        model=settings.embedding_model, backend=settings.embedding_backend, models_dir=settings.models_dir,
        sample_kb=SAMPLE_KB, sample_questions=EVAL_DATA / "sample_questions.jsonl",
        corpus=Path(corpus) if corpus else None, limit=limit, queries=queries,
        chroma_url=settings.chroma_url, shared_cache=settings.embedding_cache if reuse_cache else None))
    if as_json:
        print_json(result)
    else:
        print(f"{result['chunks']} 个片段：索引 {result['index_chunks_per_s']} 片段/秒（{result['device']}，"
              f"{result['backend']}）；{result['queries']} 个问题 p50 {result['query_p50_ms']} ms，"
              f"p95 {result['query_p95_ms']} ms；启动 {result['startup_s']} 秒；"
              f"峰值内存 {result['peak_rss_mb']} MB；索引占盘 {result['index_disk_mb']} MB")
