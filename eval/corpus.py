"""Read benchmark corpora and question sets (`{"docid", "text", "title"?}` / `{"question", "docid"}` lines)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Iterator

from knowledge.models import Policy, PolicySection
from knowledge.policy_text import split_sections

_TITLE_END = re.compile(r"[\s。！？]")


def read_jsonl(path: Path) -> Iterator[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def guess_title(text: str) -> str:
    """Notices usually open with their title, ended by a space or the first full stop."""
    m = _TITLE_END.search(text[:100])
    return text[: m.start()] if m and m.start() >= 4 else text[:40]


def corpus_records(path: Path) -> tuple[list[Policy], dict[str, str]]:
    """Each corpus line becomes an unstructured policy with a safe internal id; returns the id → docid map."""
    records, to_docid = [], {}
    for n, row in enumerate(read_jsonl(path)):
        text = str(row.get("text", ""))
        title = str(row.get("title") or guess_title(text))
        rid = f"d{n}"
        sections = split_sections(text) or [PolicySection(text=text)]
        records.append(Policy(id=rid, name=title or rid, sections=sections, source=str(path)))
        to_docid[rid] = str(row.get("docid") or row.get("path") or rid)  # the laws library has paths, not docids
    return records, to_docid
