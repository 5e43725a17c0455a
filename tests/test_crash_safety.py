"""Crash safety and version history: kill -9 during `govqa index` and during editors' saves.

Afterwards every knowledge-base file reads whole (each one holds either the state before an interrupted
save or the state after it, never a mix), the index holds every record exactly once once it is rerun,
and every version any save completed is still in the history, with who made it and when.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ui.cli import main
from indexing.chunking import chunk_record
from indexing.index import KnowledgeIndex
from knowledge.loaders import load_knowledge_base
from knowledge.store import KnowledgeBaseStore

GUIDE, FAQ = "g-passport", "faq-ib-home-address"       # a one-record Markdown file and a row of a CSV table
FEE = re.compile(r"普通护照每本(\d+)元")

# The editor console's save, in a loop: a guide's fee and a FAQ row of a shared CSV file, then (optionally)
# the index update the console does at once. Prints each n once both saves (and the update) completed.
SAVE_LOOP = r"""
import sys
from pathlib import Path
from knowledge.loaders import load_knowledge_base
from knowledge.store import KnowledgeBaseStore

kb, start = Path(sys.argv[1]), int(sys.argv[2])
index = None
if len(sys.argv) > 3:
    from indexing.embedder import DEFAULT_MODEL
    from indexing.index import KnowledgeIndex
    index = KnowledgeIndex(Path(sys.argv[3]), DEFAULT_MODEL)
store = KnowledgeBaseStore(kb)
records = {r.id: r for r in load_knowledge_base(kb).records}
guide, faq = records["g-passport"], records["faq-ib-home-address"]
answer = faq.answer.split("（第")[0]
print("ready", flush=True)
for n in range(start, start + 100000):
    g = guide.model_copy(update={"fees": f"普通护照每本{n}元"})
    g = g.model_copy(update={"source": str(store.save(g, author=f"editor{n}"))})
    f = faq.model_copy(update={"answer": f"{answer}（第{n}次修改）"})
    f = f.model_copy(update={"source": str(store.save(f, author=f"editor{n}"))})
    if index is not None:
        index.upsert([g, f])
    print(n, flush=True)
"""


def _files(kb: Path) -> set[str]:
    """The files a loader would look at (hidden temporary files and the history folder aside)."""
    return {str(p.relative_to(kb)) for p in kb.rglob("*") if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(kb).parts)}


def _kill_mid_save(kb: Path, start: int, data_dir: Path | None = None, after: int = 2) -> int:
    """Run the save loop, kill -9 it at a random moment once `after` saves completed; the last n completed."""
    args = [sys.executable, "-c", SAVE_LOOP, str(kb), str(start)] + ([str(data_dir)] if data_dir else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    done: list[int] = []
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        while len(done) < after:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            done.append(int(line))
        time.sleep(random.uniform(0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        done += [int(x) for x in proc.stdout.read().split()]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return done[-1]


def _check_after_kill(kb: Path, files: set[str], ids: set[str], last: int) -> None:
    result = load_knowledge_base(kb)
    assert result.errors == [] and {r.id for r in result.records} == ids
    assert _files(kb) == files                                        # no stray or half-written file
    records = {r.id: r for r in result.records}
    fee = int(FEE.fullmatch(records[GUIDE].fees).group(1))
    assert fee in (last, last + 1)                # the interrupted save is either wholly there or not at all
    faq_n = int(re.search(r"（第(\d+)次修改）$", records[FAQ].answer).group(1))
    assert faq_n in (last, last + 1) and fee - faq_n in (0, 1)
    versions = KnowledgeBaseStore(kb).versions(GUIDE)
    saved = {int(FEE.fullmatch(v.fields["收费标准"]).group(1)) for v in versions if FEE.fullmatch(v.fields["收费标准"])}
    assert set(range(1, last + 1)) <= saved                            # every completed save is kept …
    assert all(v.author == f"editor{n}" for v in versions for n in [_fee_of(v)] if n)   # … with its author


def _fee_of(version) -> int | None:
    match = FEE.fullmatch(version.fields["收费标准"])
    return int(match.group(1)) if match else None


def test_kill_during_saves_leaves_whole_files_and_loses_no_version(kb_copy: Path):
    files, ids = _files(kb_copy), {r.id for r in load_knowledge_base(kb_copy).records}
    last = 0
    for _ in range(4):
        last = _kill_mid_save(kb_copy, last + 1)
        _check_after_kill(kb_copy, files, ids, last)
    # the state a kill left between replacing a file and committing its version is recorded by the next save
    on_disk = load_knowledge_base(kb_copy).records
    store = KnowledgeBaseStore(kb_copy)
    guide = next(r for r in on_disk if r.id == GUIDE)
    store.save(guide.model_copy(update={"fees": "普通护照每本120元"}), author="admin")
    assert guide.content_hash in {v.hash for v in store.versions(GUIDE)}


def _consistent(index: KnowledgeIndex, records) -> None:
    """Every record indexed exactly once: manifest, chunks and vectors agree with the files."""
    assert index.hashes() == {r.id: r.content_hash for r in records}
    expected = {c.id for r in records for c in chunk_record(r)}
    manifest = [c.id for c in index.chunks()[0]]
    assert len(manifest) == len(set(manifest)) and set(manifest) == expected
    assert index.vectors.ids() == expected and index.vectors.count() == len(expected)


@pytest.mark.slow
def test_kill_during_save_and_reindex_then_restart_is_consistent(kb_copy: Path, data_dir_copy: Path, embedder):
    files, ids = _files(kb_copy), {r.id for r in load_knowledge_base(kb_copy).records}
    last = _kill_mid_save(kb_copy, 1, data_dir_copy, after=3)
    _check_after_kill(kb_copy, files, ids, last)
    records = load_knowledge_base(kb_copy).records
    index = KnowledgeIndex(data_dir_copy, embedder.model_name, embedder=embedder)     # the restart
    index.index(records)
    _consistent(index, records)
    assert index.record(GUIDE).fees == next(r for r in records if r.id == GUIDE).fees


@pytest.mark.slow
def test_kill_during_govqa_index_then_rerun_is_consistent(kb_copy: Path, indexed_data_dir: Path, tmp_path: Path,
                                                          embedder):
    data = tmp_path / "fresh"
    data.mkdir()
    (data / "models").symlink_to(indexed_data_dir / "models", target_is_directory=True)
    shutil.copytree(indexed_data_dir / "cache", data / "cache")     # warm: the run is all Chroma and SQLite writes
    total = len(load_knowledge_base(kb_copy).records)
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "index", "--kb", str(kb_copy)],
                            env={**os.environ, "GOVQA_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    manifest = data / "index" / "manifest.sqlite"
    try:
        while _count(manifest) == 0:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            time.sleep(0.01)
        time.sleep(random.uniform(0, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    killed_at = _count(manifest)
    assert proc.returncode == -signal.SIGKILL and 0 < killed_at < total, killed_at

    records = load_knowledge_base(kb_copy).records
    index = KnowledgeIndex(data, embedder.model_name, embedder=embedder)      # `govqa index` run again
    report = index.index(records)
    assert len(report.added) + report.unchanged == total
    _consistent(index, records)


def _count(manifest: Path) -> int:
    if not manifest.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{manifest}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    except sqlite3.OperationalError:          # the schema is not there yet
        return 0


# ---- version history through the command line ----------------------------------------
def run(capsys, monkeypatch, kb: Path, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("GOVQA_KB_DIR", str(kb))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_history_shows_who_changed_what_and_restores(capsys, monkeypatch, kb_copy: Path):
    store = KnowledgeBaseStore(kb_copy)
    guide = next(r for r in load_knowledge_base(kb_copy).records if r.id == GUIDE)
    store.save(guide.model_copy(update={"fees": "普通护照每本150元"}), author="alice")
    store.save(guide.model_copy(update={"fees": "普通护照每本180元"}), author="bob")

    code, out, _ = run(capsys, monkeypatch, kb_copy, "kb", "history", GUIDE)
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 3 and "原有内容" in lines[0] and "alice" in lines[1] and "bob" in lines[2]
    code, out, _ = run(capsys, monkeypatch, kb_copy, "kb", "diff", GUIDE, "3")
    assert code == 0 and "-收费标准: 普通护照每本150元" in out and "+收费标准: 普通护照每本180元" in out

    code, _, _ = run(capsys, monkeypatch, kb_copy, "kb", "restore", GUIDE, "1", "--author", "carol")
    assert code == 0
    restored = next(r for r in load_knowledge_base(kb_copy).records if r.id == GUIDE)
    assert restored.content_hash == guide.content_hash
    versions = store.versions(GUIDE)
    assert [(v.action, v.author) for v in versions][-1] == ("restore", "carol") and len(versions) == 4

    assert run(capsys, monkeypatch, kb_copy, "kb", "restore", GUIDE, "9")[0] == 1
    code, _, err = run(capsys, monkeypatch, kb_copy, "kb", "history", "g-no-such", )
    assert code == 1 and "g-no-such" in err


def test_removed_row_and_hand_edits_are_kept(kb_copy: Path):
    store = KnowledgeBaseStore(kb_copy)
    table = kb_copy / "faqs" / "civil.csv"
    table.write_text(table.read_text(encoding="utf-8").replace("可以。利用住宅", "可以（手工修改）。利用住宅"),
                     encoding="utf-8")                               # edited outside the store
    store.remove(FAQ, author="dora")
    assert FAQ not in {r.id for r in load_knowledge_base(kb_copy).records}
    versions = store.versions(FAQ)
    assert [v.action for v in versions] == ["baseline", "remove"] and "手工修改" in versions[0].fields["答案"]
    store.restore(FAQ, 1, author="erin")
    back = next(r for r in load_knowledge_base(kb_copy).records if r.id == FAQ)
    assert "手工修改" in back.answer and store.versions(FAQ)[-1].action == "restore"
    assert load_knowledge_base(kb_copy).errors == []


@pytest.mark.slow
def test_editor_console_shows_history_and_restores_with_reindex(tmp_path: Path, kb_copy: Path, settings, embedder):
    import dataclasses

    from fastapi.testclient import TestClient

    from assistant.demand_log import DemandLog
    from assistant.service import Assistant
    from ui.app import create_app
    from ui.auth import Accounts

    cfg = dataclasses.replace(settings, data_dir=tmp_path / "data", kb_dir=kb_copy)
    accounts = Accounts(tmp_path / "users.json")
    accounts.add("ed", "editor", "editor-pass-1")
    accounts.add("op", "agent", "agent-pass-1")
    index = KnowledgeIndex(cfg.data_dir, embedder.model_name, embedder=embedder)
    app = create_app(cfg, Assistant(index, DemandLog(cfg.data_dir / "demand.sqlite")), accounts)
    editor, agent = TestClient(app), TestClient(app)
    editor.post("/api/login", json={"username": "ed", "password": "editor-pass-1"})
    agent.post("/api/login", json={"username": "op", "password": "agent-pass-1"})
    original = editor.get(f"/api/editor/records/{GUIDE}").json()
    for fee in ("普通护照每本150元", "普通护照每本180元"):
        opened = editor.get(f"/api/editor/records/{GUIDE}").json()
        saved = editor.put(f"/api/editor/records/{GUIDE}", json={
            "kind": "guide", "fields": {**opened["record"], "收费标准": fee}, "base_hash": opened["hash"]})
        assert saved.status_code == 200, saved.text

    history = editor.get(f"/api/editor/records/{GUIDE}/history").json()["versions"]
    assert [(v["action"], v["author"]) for v in history] == [("baseline", ""), ("edit", "ed"), ("edit", "ed")]
    third = editor.get(f"/api/editor/records/{GUIDE}/history/3").json()
    assert "-收费标准: 普通护照每本150元" in third["diff"] and third["record"]["收费标准"] == "普通护照每本180元"
    assert agent.get(f"/api/editor/records/{GUIDE}/history").status_code == 403
    assert TestClient(app).post(f"/api/editor/records/{GUIDE}/history/1/restore").status_code == 401

    restored = editor.post(f"/api/editor/records/{GUIDE}/history/1/restore")
    assert restored.status_code == 200 and restored.json()["hash"] == original["hash"]
    assert index.record(GUIDE).content_hash == original["hash"]                    # re-indexed at once
    assert editor.get(f"/api/editor/records/{GUIDE}/history").json()["versions"][-1]["action"] == "restore"
    assert editor.get(f"/api/editor/records/{GUIDE}/history/9").status_code == 404
