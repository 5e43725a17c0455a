"""A bounded load test against `govqa serve` on loopback: N concurrent clients asking for T seconds.

Each client asks questions from the sample gold set in a row — some as follow-ups in the same session,
some hostile (empty, very long, markup) — and now and then sends feedback. Afterwards the demand log
is checked: every answered question must have its row (rows lost = answered − rows found by id).

    python -m eval.load_test --serve --clients 50 --seconds 60          # starts and stops `govqa serve`
    python -m eval.load_test --url http://127.0.0.1:7860 --data-dir data --clients 50 --seconds 60

With --serve the server runs in this machine's GOVQA_DATA_DIR, with loopback exempt from the rate
limit (GOVQA_RATE_LIMIT_EXEMPT); against a server of your own, exempt the load generator's address
or raise GOVQA_RATE_LIMIT, or the figures measure the limiter (429s are counted separately).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

QUESTIONS = Path(__file__).resolve().parent / "data" / "sample_questions.jsonl"
FOLLOW_UPS = ["那要多少钱？", "在哪里办", "多久能办好", "需要带什么"]
HOSTILE = ["", "   ", "<script>alert(1)</script>办护照", "办社保卡" * 3000, "'; DROP TABLE questions; --"]


@dataclass
class Tally:
    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)         # no HTTP response at all (timeouts, resets)
    ask_latencies_ms: list[float] = field(default_factory=list)
    answered_ids: list[str] = field(default_factory=list)

    def count(self, status: int) -> None:
        self.requests += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


async def _client(http: httpx.AsyncClient, questions: list[str], deadline: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    session = None
    while time.monotonic() < deadline:
        roll = rng.random()
        if roll < 0.05:
            text, session = rng.choice(HOSTILE), None
        elif roll < 0.25 and session:
            text = rng.choice(FOLLOW_UPS)
        else:
            text, session = rng.choice(questions), None
        body = {"question": text, "channel": "api", **({"session_id": session} if session else {})}
        start = time.perf_counter()
        try:
            response = await http.post("/api/ask", json=body)
        except httpx.HTTPError as exc:
            tally.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            continue
        tally.count(response.status_code)
        if response.status_code != 200:
            continue
        tally.ask_latencies_ms.append((time.perf_counter() - start) * 1000)
        data = response.json()
        tally.answered_ids.append(data["question_id"])
        session = data["session_id"]
        if rng.random() < 0.1:
            try:
                fb = await http.post("/api/feedback", json={"question_id": data["question_id"], "helpful": rng.random() < 0.7})
                tally.count(fb.status_code)
            except httpx.HTTPError as exc:
                tally.errors.append(f"{type(exc).__name__}: {exc}"[:200])


def _rows(demand_log: Path) -> int:
    with sqlite3.connect(f"file:{demand_log}?mode=ro", uri=True, timeout=60) as db:
        return db.execute("SELECT COUNT(*) FROM questions").fetchone()[0]


def _found(demand_log: Path, ids: list[str]) -> int:
    found = 0
    with sqlite3.connect(f"file:{demand_log}?mode=ro", uri=True, timeout=60) as db:
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            found += db.execute(f"SELECT COUNT(*) FROM questions WHERE id IN ({','.join('?' * len(part))})",
                                part).fetchone()[0]
    return found


async def run_load(url: str, demand_log: Path, clients: int = 50, seconds: float = 60,
                   timeout_s: float = 120) -> dict:
    """Run the load and return the figures (see `report` for their meaning)."""
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
    tally = Tally()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=timeout_s, limits=limits) as http:
        # the first question loads the embedding model; that start-up is reported, not mixed into the figures
        warm = time.perf_counter()
        (await http.post("/api/ask", json={"question": questions[0], "channel": "api"}, timeout=600)).raise_for_status()
        warmup_ms = (time.perf_counter() - warm) * 1000
        before = _rows(demand_log)
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(_client(http, questions, deadline, tally, seed) for seed in range(clients)))
        elapsed = time.monotonic() - started
        health = (await http.get("/api/health")).status_code
    rows_added = _rows(demand_log) - before
    found = _found(demand_log, tally.answered_ids)
    return {
        "clients": clients, "seconds": round(elapsed, 1), "requests": tally.requests,
        "answered_200": len(tally.answered_ids), "status": dict(sorted(tally.by_status.items())),
        "5xx": sum(n for s, n in tally.by_status.items() if s >= 500), "429": tally.by_status.get(429, 0),
        "errors": len(tally.errors), "error_examples": tally.errors[:3],
        "demand_rows_added": rows_added, "rows_lost": len(tally.answered_ids) - found,
        "rows_unexpected": rows_added - found,
        "p50_ms": _percentile(tally.ask_latencies_ms, 0.50), "p95_ms": _percentile(tally.ask_latencies_ms, 0.95),
        "max_ms": round(max(tally.ask_latencies_ms, default=0.0), 1),
        "requests_per_s": round(tally.requests / elapsed, 1) if elapsed else 0.0,
        "warmup_ms": round(warmup_ms, 1), "health_after": health,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A `govqa serve` process on loopback; its output goes to a file (a pipe nobody reads could stall it)."""

    proc: subprocess.Popen
    log: IO[str]
    url: str

    def stop(self) -> str:
        """Stop gracefully (SIGTERM, as a service manager would); returns what the server printed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.seek(0)
        text = self.log.read()
        self.log.close()
        return text


def start_server(env: dict[str, str], port: int, wait_s: float = 600) -> Server:
    """`govqa serve` on loopback with loopback exempt from the rate limit; returns once /api/health answers."""
    log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env={**env, "GOVQA_RATE_LIMIT_EXEMPT": "127.0.0.1"}, stdout=log, stderr=log, text=True)
    server = Server(proc, log, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"govqa serve 退出了（{proc.returncode}）：{server.stop()[-2000:]}")
        try:
            if httpx.get(f"{server.url}/api/health", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"govqa serve 在 {wait_s} 秒内没有就绪")


def report(result: dict) -> str:
    return (f"{result['clients']} 个并发客户端 × {result['seconds']} 秒：请求 {result['requests']}"
            f"（{result['requests_per_s']}/秒），状态 {result['status']}，5xx {result['5xx']}，429 {result['429']}，"
            f"无响应 {result['errors']}；需求日志新增 {result['demand_rows_added']} 行 / 已回答 {result['answered_200']}，"
            f"丢失 {result['rows_lost']}；延迟 p50 {result['p50_ms']} ms，p95 {result['p95_ms']} ms，最大 {result['max_ms']} ms"
            f"（启动后第一个问题 {result['warmup_ms']} ms，不计入）")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.load_test", description="govqa serve 负载测试（仅限本机回环地址）")
    parser.add_argument("--url", help="已在运行的服务，如 http://127.0.0.1:7860")
    parser.add_argument("--serve", action="store_true", help="自行启动并停止 govqa serve（本机回环地址）")
    parser.add_argument("--data-dir", default=os.environ.get("GOVQA_DATA_DIR", "data"), help="服务的数据目录（读取需求日志）")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if bool(args.url) == args.serve:
        parser.error("请给出 --url 或 --serve 之一")
    if not 1 <= args.clients <= 500 or not 0 < args.seconds <= 3600:
        parser.error("--clients 应在 1–500，--seconds 应在 0–3600")
    if args.url and httpx.URL(args.url).host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("只对本机回环地址做负载测试")
    data_dir = Path(args.data_dir).resolve()
    server = start_server({**os.environ, "GOVQA_DATA_DIR": str(data_dir)}, free_port()) if args.serve else None
    try:
        result = asyncio.run(run_load(server.url if server else args.url, data_dir / "demand.sqlite",
                                      args.clients, args.seconds))
    finally:
        if server is not None:
            server.stop()
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else report(result))
    return 0 if result["5xx"] == 0 and result["rows_lost"] == 0 and result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
