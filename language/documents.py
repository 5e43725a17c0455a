"""The structure of government documents: sentences, and numbered chapters, sections and articles
(第二章, 第三节, 第五条: `documents` in patterns.yml)."""

from __future__ import annotations

import re

from language.data import language_data


def document_pattern(name: str) -> re.Pattern[str]:
    """One of `documents.chapter`, `article`, `article_heading`, `section_start`, `chapter_level`, `article_word`."""
    return language_data().pattern(f"documents.{name}")


def split_sentences(text: str) -> list[str]:
    """Sentences and numbered items ("（一）…", "2. …"), stripped, empty ones dropped."""
    return [s.strip() for s in document_pattern("sentence_end").split(text) if s and s.strip()]
