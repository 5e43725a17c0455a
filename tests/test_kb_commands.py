"""`govqa kb …` through the command line entry point."""

from __future__ import annotations

import json
from pathlib import Path

from ui.cli import main
from assistant.settings import SAMPLE_KB


def run(capsys, monkeypatch, kb: Path, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("GOVQA_KB_DIR", str(kb))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_stats_json_on_sample(capsys, monkeypatch):
    code, out, _ = run(capsys, monkeypatch, SAMPLE_KB, "kb", "stats", "--json")
    stats = json.loads(out)
    assert code == 0
    assert set(stats) == {"guides", "policies", "faqs", "errors"}
    assert stats["guides"] >= 40 and stats["policies"] >= 10 and stats["faqs"] >= 150 and stats["errors"] == 0


def test_validate_exit_codes(capsys, monkeypatch, kb_copy: Path):
    assert run(capsys, monkeypatch, kb_copy, "kb", "validate")[0] == 0
    (kb_copy / "guides" / "broken.md").write_text("---\nid: g-broken\n---\n", encoding="utf-8")
    (kb_copy / "guides" / "broken2.md").write_text("no front matter", encoding="utf-8")
    code, out, _ = run(capsys, monkeypatch, kb_copy, "kb", "validate")
    lines = out.strip().splitlines()
    assert code == 1
    assert len(lines) >= 3  # 事项名称, 更新日期 missing, and the file without front matter
    assert all("broken" in line for line in lines)


def test_add_and_remove(capsys, monkeypatch, kb_copy: Path, tmp_path: Path):
    new = tmp_path / "g-dog.md"
    text = (SAMPLE_KB / "guides" / "g-id-card-apply.md").read_text(encoding="utf-8")
    new.write_text(text.replace("id: g-id-card-apply", "id: g-dog").replace("事项名称: 居民身份证申领", "事项名称: 犬只登记"),
                   encoding="utf-8")
    code, out, _ = run(capsys, monkeypatch, kb_copy, "kb", "add", str(new))
    assert code == 0 and "g-dog" in out
    assert (kb_copy / "guides" / "g-dog.md").exists()
    assert run(capsys, monkeypatch, kb_copy, "kb", "add", str(new))[0] == 1  # id already in use

    code, _, _ = run(capsys, monkeypatch, kb_copy, "kb", "remove", "g-dog")
    assert code == 0 and not (kb_copy / "guides" / "g-dog.md").exists()
    code, _, err = run(capsys, monkeypatch, kb_copy, "kb", "remove", "g-dog")
    assert code == 1 and "g-dog" in err


def test_remove_one_faq_row_keeps_the_others(capsys, monkeypatch, kb_copy: Path):
    from knowledge.loaders import load_file

    before = [r.id for r in load_file(kb_copy / "faqs" / "police.csv").records]
    assert run(capsys, monkeypatch, kb_copy, "kb", "remove", before[0])[0] == 0
    after = [r.id for r in load_file(kb_copy / "faqs" / "police.csv").records]
    assert after == before[1:]


def test_add_refuses_invalid_file(capsys, monkeypatch, kb_copy: Path, tmp_path: Path):
    bad = tmp_path / "bad.md"
    bad.write_text("---\nid: g-x\n事项名称: 测试\n---\n", encoding="utf-8")
    code, _, err = run(capsys, monkeypatch, kb_copy, "kb", "add", str(bad))
    assert code == 1 and "更新日期" in err
    assert not (kb_copy / "guides" / "bad.md").exists()
