"""How well each leading candidate answers the question: the features the learned re-ranking and the answer
decision read (see indexing.learned).

Record-level word overlap punishes every word a citizen adds ("我老公上个月…"), so these features look where an
answer is: the best window of two sentences for the question's known words and for its asking clauses, the
share of a FAQ's own phrasing the question covers, the longest stretch of the question found word for word,
and how far the candidate's lexical and dense evidence stand above the other candidates'.
"""

from __future__ import annotations

import math
import re
from typing import Callable

from indexing.chunking import record_sentences
from indexing.evidence import longest_shared, share_found
from indexing.tables import RecordTables
from language.lexicon import Lexicon
from language.regions import regions_in
from language.text import normalize
from language.understanding import SearchQuery

WINDOW = 2  # sentences: an answer and the sentence that qualifies it
HEAD_CHARS = 150  # of a record's text, read with its title for the places it is about
CACHED_RECORDS = 4096
_NOT_WORD = re.compile(r"[\W_]+")


class RelevanceFeatures:
    """Adds the features to hits (one index generation; `sentences(record_id)` is read once per record)."""

    def __init__(self, tables: RecordTables, lexicon: Lexicon, sentences: Callable[[str], list[str]]) -> None:
        self.tables, self.lexicon, self._sentences = tables, lexicon, sentences
        # words that name nothing (fillers.txt, generic and aspect: 我爸, 想办, 办下来): that the knowledge base does not
        # use them says nothing
        self._names_nothing = lexicon.data.words("generic") | lexicon.data.words("aspect")
        self._regions: dict[str, frozenset[str]] = {}
        self._record_windows: dict[str, list[frozenset[str]]] = {}  # tokenising a record's sentences is the cost
        self._names: dict[str, frozenset[str]] = {}
        self._texts: dict[str, tuple[str, str]] = {}

    def read_records(self, record_ids: list[str]) -> None:
        """Tokenise the records' sentences now (at most CACHED_RECORDS of them), so that the first question to
        reach a record does not wait for it: about 3 s for 599 notices on two cores, once per start."""
        for record_id in record_ids[:CACHED_RECORDS]:
            self._windows(record_id)
            self._text(record_id)

    def query_features(self, query: SearchQuery) -> dict[str, float]:
        """What does not depend on the candidate: how much of the question the knowledge base knows at all."""
        words = self.lexicon.words(query.text)
        unknown = [w for w in words if w not in self.tables.idf and not self.lexicon.synonym_groups(w)
                   and w not in self._names_nothing]
        asking = [t for t in query.asking_tokens if not t.startswith("§") and t not in self._names_nothing]
        return {"q_unknown": len(unknown) / max(len(words), 1), "q_words": math.log1p(len(words)),
                "q_asks_aspect": float(query.aspect != "general"),
                "q_ask_unknown": sum(t not in self.tables.idf for t in asking) / max(len(asking), 1)}

    def candidate_features(self, query: SearchQuery, record_id: str, record_index: int) -> dict[str, float]:
        t = self.tables
        terms = {tok for tok in query.tokens if not tok.startswith("§syn") and tok in t.idf}
        asking = {tok for tok in query.asking_tokens if not tok.startswith("§syn") and tok in t.idf} or terms
        windows, (text, letters_text) = self._windows(record_id), self._text(record_id)
        letters_q = _letters(query.text)
        phrasings = t.faq_tokens.get(record_index, ())
        query_tokens = set(query.tokens)
        names = self._name_tokens(record_id)
        detail = {tok for tok in query.detail_tokens if not tok.startswith("§syn")} - names
        every_asked = {tok for tok in query.asking_tokens if not tok.startswith("§syn")} - names
        regions = self._record_regions(record_id, text)
        return {
            "region_match": float(bool(query.regions & regions)),
            "region_conflict": float(bool(query.regions) and bool(regions) and not query.regions & regions),
            "window": self._best_window(windows, terms),
            "ask_window": self._best_window(windows, asking),
            # every word counts here, known or not: "护照能加急吗" asks a 加急 the passport guide never mentions
            "detail_window": self._best_window(windows, detail) if detail else 1.0,
            "ask_window_all": self._best_window(windows, every_asked) if every_asked else 1.0,
            "phrasing": max((t.idf_share(toks & query_tokens, toks) for toks, _ in phrasings), default=0.0),
            "stretch": longest_shared(letters_q, letters_text) / max(len(letters_q), 1),
            "gram4": share_found(letters_q, letters_text, 4),
            "is_faq": float(t.meta[record_id].kind == "faq"),
            "is_guide": float(t.meta[record_id].kind == "guide"),
            # a guide answers 材料/流程/费用… in full, and a policy questions about the document itself
            "aspect_guide": float(query.aspect != "general" and t.meta[record_id].kind == "guide"),
            "document_policy": float(query.about_document and t.meta[record_id].kind == "policy"),
        }

    def _name_tokens(self, record_id: str) -> frozenset[str]:
        """The tokens of a record's names (a FAQ: its guide's): words that say which service, not what about it."""
        names = self._names.get(record_id)
        if names is None:
            meta = self.tables.meta[record_id]
            names = frozenset().union(*(self.lexicon.token_set(n) for n in meta.names)) if meta.names \
                else self.lexicon.token_set(normalize(meta.title))
            _bounded(self._names)[record_id] = names
        return names

    def _record_regions(self, record_id: str, text: str) -> frozenset[str]:
        regions = self._regions.get(record_id)
        if regions is None:
            head = normalize(self.tables.meta[record_id].title + text[:HEAD_CHARS])
            regions = _bounded(self._regions)[record_id] = regions_in(head)
        return regions

    def _windows(self, record_id: str) -> list[frozenset[str]]:
        windows = self._record_windows.get(record_id)
        if windows is None:
            sets = [self.lexicon.token_set(s) for s in self._sentences(record_id)]
            windows = [frozenset().union(*sets[i : i + WINDOW]) for i in range(max(len(sets) - WINDOW + 1, 1))] \
                if sets else []
            _bounded(self._record_windows)[record_id] = windows
        return windows

    def _text(self, record_id: str) -> tuple[str, str]:
        """A record's text, and its letters alone (normalised, no punctuation) for the stretches found verbatim."""
        found = self._texts.get(record_id)
        if found is None:
            text = "".join(self._sentences(record_id))
            found = _bounded(self._texts)[record_id] = (text, _letters(text))
        return found

    def _best_window(self, windows: list[frozenset[str]], asked: set[str]) -> float:
        """The largest idf-weighted share of the asked words that one window holds. Summed exactly (fsum): the
        words come as a set, whose order changes with Python's hash seed, and a plain float sum with its order, which
        made `govqa eval fit` choose other thresholds from run to run."""
        weights = {t: self.tables.idf.get(t, 8.0) for t in asked}
        whole = math.fsum(weights.values()) or 1.0
        return max((math.fsum(v for t, v in weights.items() if t in w) for w in windows), default=0.0) / whole


def _bounded(cache: dict) -> dict:
    """A per-record cache emptied when it outgrows a few thousand records (a 10,000-record index)."""
    if len(cache) > CACHED_RECORDS:
        cache.clear()
    return cache


def _letters(text: str) -> str:
    return _NOT_WORD.sub("", normalize(text))


def sentences_of(record) -> list[str]:
    return record_sentences(record) if record is not None else []
