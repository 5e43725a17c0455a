"""Split the body of a policy into 章/节/条 sections, or paragraphs where it has none."""

from __future__ import annotations

import re

from knowledge.models import PolicySection
from language.documents import document_pattern

_MD_HEADING = re.compile(r"^\s*#{1,6}\s+(.+)$")


def split_sections(body: str) -> list[PolicySection]:
    """Articles carry the chapter they belong to in their heading, e.g. "第二章 申请条件 第五条"."""
    lines = [line.rstrip() for line in body.replace("\r\n", "\n").split("\n")]
    if any(document_pattern("article").match(line) for line in lines):
        return _split_articles(lines)
    return _split_paragraphs(lines)


def _split_articles(lines: list[str]) -> list[PolicySection]:
    sections: list[PolicySection] = []
    chapter, section = "", ""
    heading, buf = "", []
    chapters, articles, chapter_level = (document_pattern(n) for n in ("chapter", "article", "chapter_level"))

    def flush() -> None:
        text = "\n".join(x for x in buf if x.strip()).strip()
        if text:
            sections.append(PolicySection(heading=heading, text=text))

    for line in lines:
        if m := chapters.match(line):
            flush()
            buf = []
            label = f"{m.group(1)} {m.group(2)}".strip()
            if chapter_level.search(m.group(1)):
                chapter, section = label, ""
            else:
                section = label
            heading = " ".join(x for x in (chapter, section) if x)
        elif m := articles.match(line):
            flush()
            heading = " ".join(x for x in (chapter, section, m.group(1)) if x)
            buf = [m.group(2)]
        elif m := _MD_HEADING.match(line):
            flush()
            buf = []
            heading = m.group(1).strip()
        else:
            buf.append(line.strip())
    flush()
    return sections


def _split_paragraphs(lines: list[str]) -> list[PolicySection]:
    sections: list[PolicySection] = []
    heading = ""
    for line in lines:
        if m := _MD_HEADING.match(line):
            heading = m.group(1).strip()
        elif line.strip():
            sections.append(PolicySection(heading=heading, text=line.strip()))
    return sections
