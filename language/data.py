"""The language data an editor can change, read from `knowledge/lexicon/`: tagged word lists (fillers.txt)
and named patterns (patterns.yml). Code asks for a list by its tag or a pattern by its name, so a city
adds a citizen's phrasing by editing a file, not Python."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

LEXICON_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "lexicon"
_REFERENCE = re.compile(r"\{([a-z_]+)\}")  # {numeral}; "{2,}" is a regex count, not a reference


class LanguageData:
    """Word lists by tag and patterns by dotted name ("courtesy.greeting"), compiled on first use."""

    def __init__(self, directory: Path = LEXICON_DIR) -> None:
        self.directory = directory
        self._tagged: dict[str, set[str]] = {}
        fillers = directory / "fillers.txt"
        if fillers.exists():
            for line in fillers.read_text(encoding="utf-8").splitlines():
                parts = line.split()
                if len(parts) >= 2 and not parts[0].startswith("#"):
                    for tag in parts[1:]:
                        self._tagged.setdefault(tag, set()).add(parts[0])
        path = directory / "patterns.yml"
        self._tree: dict = yaml.safe_load(path.read_text(encoding="utf-8")) or {} if path.exists() else {}
        self._compiled: dict[str, re.Pattern[str]] = {}

    def words(self, tag: str) -> frozenset[str]:
        """The words filed under a tag of fillers.txt (empty when none are)."""
        return frozenset(self._tagged.get(tag, ()))

    def source(self, name: str) -> str:
        """A pattern's text with its {references} expanded; a reference is looked up beside the pattern first."""
        group, _, _ = name.rpartition(".")
        text = self._node(name)
        if not isinstance(text, str):
            raise KeyError(f"patterns.yml 里没有模式 {name}")

        def expand(m: re.Match[str]) -> str:
            for candidate in (f"{group}.{m.group(1)}" if group else "", m.group(1)):
                if candidate and isinstance(self._node(candidate, None), str):
                    return f"(?:{self.source(candidate)})"
            return m.group(0)

        return _REFERENCE.sub(expand, text)

    def pattern(self, name: str) -> re.Pattern[str]:
        compiled = self._compiled.get(name)
        if compiled is None:
            compiled = self._compiled[name] = re.compile(self.source(name))
        return compiled

    def section(self, name: str, default: object = KeyError) -> object:
        """A group of patterns as written (a list or mapping), for those whose order or fields matter (aspects);
        `default` for a lexicon without it."""
        return self._node(name, default)

    def _node(self, name: str, default: object = KeyError) -> object:
        node: object = self._tree
        for part in name.split("."):
            if not isinstance(node, dict) or part not in node:
                if default is KeyError:
                    raise KeyError(f"patterns.yml 里没有 {name}")
                return default
            node = node[part]
        return node


@cache
def language_data(directory: Path = LEXICON_DIR) -> LanguageData:
    """One reading of a lexicon folder per process (the files change only with a restart or re-index)."""
    return LanguageData(directory)
