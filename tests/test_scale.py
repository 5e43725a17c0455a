"""Scale-out: the same code against a Chroma server (`chroma run` on loopback) instead of the embedded store.

Processes that share one Chroma server also share one data folder: its SQLite
manifest is the source of truth from which every process rebuilds its BM25 index
(when the manifest's generation changes), and its demand log is one SQLite file
(WAL) that every process appends to.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.demand_log import DemandLog
from assistant.service import Assistant
from eval.retrieval import evaluate_index, load_questions
from indexing.index import KnowledgeIndex
from knowledge.loaders import load_knowledge_base
from knowledge.models import FAQ

pytestmark = pytest.mark.slow
GOLD = Path(__file__).resolve().parent.parent / "eval" / "data" / "sample_questions.jsonl"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    """A real Chroma server on loopback, in its own temporary folder, stopped after the module."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    assert chroma, "chromadb ships the `chroma` command; it should be in the virtual environment"
    folder = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = open(folder / "server.log", "wb")
    server = subprocess.Popen([chroma, "run", "--path", str(folder / "data"), "--port", str(port),
                               "--host", "127.0.0.1"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        import chromadb
        from chromadb.config import Settings

        deadline = time.monotonic() + 60
        while True:
            try:
                chromadb.HttpClient(host="127.0.0.1", port=port,
                                    settings=Settings(anonymized_telemetry=False)).heartbeat()
                break
            except Exception:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((folder / "server.log").read_text(errors="replace")[-2000:])
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_retrieval_metrics_are_identical_on_embedded_and_server_stores(tmp_path, embedder, chroma_url):
    records = load_knowledge_base(Path(__file__).resolve().parent.parent / "knowledge" / "samples").records
    questions = load_questions(GOLD)
    results = {}
    for store, url in (("embedded", None), ("server", chroma_url)):
        index = KnowledgeIndex(tmp_path / store, embedder.model_name, chroma_url=url, embedder=embedder)
        index.index(records)
        metrics = evaluate_index(index, questions, "hybrid")
        results[store] = {k: v for k, v in metrics.items() if not k.startswith("query_")}
    assert results["embedded"] == results["server"]
    assert results["server"]["hit@5"] > 0.9


def test_two_processes_sharing_one_server_see_each_others_changes(tmp_path, kb_copy, embedder, settings,
                                                                  chroma_url):
    data = tmp_path / "data"
    data.mkdir()
    (data / "models").symlink_to(settings.models_dir, target_is_directory=True)
    writer = KnowledgeIndex(data, embedder.model_name, chroma_url=chroma_url, embedder=embedder)
    records = load_knowledge_base(kb_copy).records
    writer.index(records)
    # a process that is already serving, built before the change below
    reader = Assistant(KnowledgeIndex(data, embedder.model_name, chroma_url=chroma_url, embedder=embedder),
                       DemandLog(data / "demand.sqlite"))
    faq = next(r for r in records if isinstance(r, FAQ))
    assert reader.ask(faq.question).citations[0].record_id == faq.id

    drone = FAQ(id="faq-drone-register", question="无人机实名登记在哪里办", similar=["无人机怎么实名登记"],
                answer="民用无人机在民航局无人机实名登记系统网上登记，登记后把二维码贴在机身上。")
    writer.upsert([drone])

    # a second `govqa` process: its own Chroma client, BM25 rebuilt from the shared manifest
    env = {**os.environ, "GOVQA_DATA_DIR": str(data), "GOVQA_CHROMA_URL": chroma_url, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "ui.cli", "ask", "无人机实名登记在哪里办", "--json"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    other = json.loads(done.stdout)
    assert other["answered"] and other["citations"][0]["record_id"] == "faq-drone-register"

    # the process that was already serving notices the new generation and rebuilds its lexical index
    assert reader.ask("无人机怎么实名登记").citations[0].record_id == "faq-drone-register"
    writer.delete(["faq-drone-register"])
    after = reader.ask("无人机实名登记在哪里办")
    assert all(c.record_id != "faq-drone-register" for c in after.citations)

    # one demand log for both processes: every question of each is there
    log = DemandLog(data / "demand.sqlite")
    assert log.count() == 4
    assert log.get(other["question_id"]).channel == "cli"


def test_int8_backend_is_close_to_fp32_and_never_shares_its_cache_entries(embedder, settings, tmp_path):
    from indexing.embedder import Embedder, EmbeddingCache

    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    fp32 = Embedder(embedder.model_name, settings.models_dir, cache, backend="fp32", device="cpu")
    int8 = Embedder(embedder.model_name, settings.models_dir, cache, backend="int8")
    texts = ["灵活就业人员社保补贴申请条件", "居住证办理需要哪些材料"]
    a = fp32.embed_passages(texts)
    b = int8.embed_passages(texts)
    assert int8.passages_encoded == 2  # the fp32 vectors in the same cache were not taken for int8 ones
    assert not np.allclose(a, b) and all(float(x @ y) > 0.97 for x, y in zip(a, b))
    assert float(int8.embed_query("社保补贴") @ fp32.embed_query("社保补贴")) > 0.97
    with pytest.raises(ValueError):
        Embedder(embedder.model_name, settings.models_dir, backend="int4")


def test_bench_command_reports_the_figures(settings):
    env = {**os.environ, "GOVQA_DATA_DIR": str(settings.data_dir), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "ui.cli", "bench", "--queries", "30", "--reuse-cache",
                           "--json"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    for key in ("chunks", "index_chunks_per_s", "query_p50_ms", "query_p95_ms", "peak_rss_mb", "index_disk_mb",
                "device", "startup_s"):
        assert key in figures
    assert figures["chunks"] >= 1000 and figures["queries"] == 30
    assert 0 < figures["query_p50_ms"] <= figures["query_p95_ms"] and figures["index_disk_mb"] > 0
