"""The outside probe of 2026-12-04 (issue 21), attack by attack, through the public interfaces: HTTP through the
test client or a real `govqa serve` on 127.0.0.1, the command line in its own process. Each test runs the attack
as the tester did (bounded loops, loopback only) and states what must happen instead.

The apps here have an empty index unless a test says otherwise, so no model is loaded; `/api/ask` and the hotline
console then answer 503 (not indexed) to whoever gets past the checks, which is what several tests look for.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from assistant.demand_log import DemandLog
from assistant.service import Assistant
from assistant.settings import SAMPLE_KB
from indexing.index import KnowledgeIndex
from knowledge.loaders import load_file, load_knowledge_base
from ui.app import create_app
from ui.auth import Accounts
from ui.cli import main

REPO = Path(__file__).resolve().parent.parent
EDITOR = ("ed", "editor-pass-1")
AGENT = ("op", "agent-pass-1")


def make_app(root: Path, settings, embedder=None, indexed: bool = False):
    """An app over its own copy of the sample knowledge base, with an editor and an agent in `root/users.json`."""
    kb = root / "kb"
    shutil.copytree(SAMPLE_KB, kb)
    cfg = dataclasses.replace(settings, data_dir=root / "data", kb_dir=kb)
    accounts = Accounts(root / "users.json")
    accounts.add(EDITOR[0], "editor", EDITOR[1])
    accounts.add(AGENT[0], "agent", AGENT[1])
    index = KnowledgeIndex(cfg.data_dir, cfg.embedding_model, embedder=embedder)
    if indexed:
        index.index(load_knowledge_base(kb).records)
    return create_app(cfg, Assistant(index, DemandLog(cfg.data_dir / "demand.sqlite")), accounts)


@pytest.fixture()
def make(tmp_path, settings, monkeypatch):
    """An app created after the given environment is set, as an operator would set it."""

    def build(**env: str):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return make_app(tmp_path, settings)

    return build


def login(client: TestClient, who: tuple[str, str]) -> TestClient:
    response = client.post("/api/login", json={"username": who[0], "password": who[1]})
    assert response.status_code == 200, response.text
    return client


def govqa(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    """The `govqa` command in its own process."""
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], input=stdin, capture_output=True, text=True,
                          env={**os.environ, **env}, cwd=REPO, timeout=300)


# ---- 1. staff sessions outlive the account ------------------------------------------------------
def test_removing_demoting_or_resetting_an_account_ends_its_sessions_at_once(tmp_path, settings):
    app = make_app(tmp_path, settings)
    users = tmp_path / "users.json"
    accounts = Accounts(users)
    accounts.add("ag2", "agent", "agent-pass-2")
    accounts.add("ed2", "editor", "editor-pass-2")
    accounts.add("pw2", "agent", "agent-pass-3")
    agent, editor, other = (login(TestClient(app), who) for who in
                            (("ag2", "agent-pass-2"), ("ed2", "editor-pass-2"), ("pw2", "agent-pass-3")))
    assert agent.post("/api/agent/ask", json={"question": "护照"}).status_code == 503   # in (the index is empty)
    assert editor.get("/api/editor/records").status_code == 200
    env = {"GOVQA_USERS_FILE": str(users), "GOVQA_DATA_DIR": str(tmp_path / "data")}

    assert govqa("users", "remove", "ag2", env=env).returncode == 0
    assert agent.post("/api/agent/ask", json={"question": "护照"}).status_code == 401
    assert agent.get("/api/me").status_code == 401

    assert govqa("users", "add", "ed2", "--role", "agent", env=env, stdin="a-new-password\n").returncode == 0
    assert editor.get("/api/editor/records").status_code == 401                 # demoted: the session is over
    assert editor.post("/api/agent/ask", json={"question": "护照"}).status_code == 401
    again = login(TestClient(app), ("ed2", "a-new-password"))
    assert again.get("/api/me").json() == {"name": "ed2", "role": "agent"}
    assert again.get("/api/editor/records").status_code == 403

    assert govqa("users", "add", "pw2", "--role", "agent", env=env, stdin="changed-password\n").returncode == 0
    assert other.get("/api/me").status_code == 401                             # same role, new password
    assert TestClient(app).post("/api/login", json={"username": "pw2", "password": "agent-pass-3"}).status_code == 401
