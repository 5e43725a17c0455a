"""What a query needs that does not depend on the question, built once per index generation: the chunks,
BM25 over chunks and whole records, token rarity, every record's names and their sounds, the knowledge
base's places, FAQ phrasings, and inverted tables over them so that a question touches only the records
that could match it. `govqa index` saves them beside the manifest (`lexical.pkl`), so a server starting
on a large index loads them in seconds instead of rebuilding them (90 s at 100,000 chunks)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from indexing.chunking import Chunk
from indexing.index import KnowledgeIndex
from indexing.lexical import BM25Index
from language.aspects import quantities_asked
from language.data import language_data
from language.lexicon import Lexicon
from language.spelling import everyday_sounds, known_initials, known_sounds
from language.text import normalize, pinyin_key

# an everyday word used in this many chunks is one a mistyped sound may stand for (教税 → 缴税)
EVERYDAY_WORD_CHUNKS = 5
FORMAT = 11  # raise when the fields below change, so a saved snapshot of an older layout is rebuilt


@dataclass
class RecordMeta:
    kind: str
    title: str
    region: str
    names: set[str] = field(default_factory=set)       # title and aliases (a FAQ: its guide's)
    sounds: set[str] = field(default_factory=set)      # pinyin keys of names of 3+ characters
    phrasings: set[str] = field(default_factory=set)   # a FAQ's question and similar questions


@dataclass
class RecordTables:
    chunks: list[Chunk]
    record_ids: list[str]
    chunk_record: np.ndarray           # chunk position → record position
    idf: dict[str, float]
    chunk_bm25: BM25Index
    record_bm25: BM25Index
    meta: dict[str, RecordMeta]
    places: set[str]
    is_guide: np.ndarray
    is_policy: np.ndarray
    name_table: dict[str, list[tuple[str, int]]]     # names by their first two characters
    canonical_name_table: dict[str, list[tuple[str, int]]]  # names said in synonyms' first wordings, the same way
    sound_table: dict[str, list[tuple[str, int]]]    # pinyin keys by their first syllable
    region_values: list[str]
    region_of: np.ndarray
    faq_phrasings: list[tuple[int, frozenset[str]]]  # (record position, character bigrams)
    faq_tokens: dict[int, list[tuple[frozenset[str], frozenset[str]]]]  # (tokens, figures asked) per phrasing
    bigram_postings: dict[str, list[int]]
    sound_words: dict[str, str]
    everyday_sounds: dict[str, str]
    initial_words: dict[str, str] = field(default_factory=dict)  # pinyin initials → the word (sfz → 身份证)
    named_words: frozenset[str] = frozenset()  # the lexicon's words and those of guides' names
    titles: list[str] = field(default_factory=list)  # normalised, in record order; filled on first use

    def normalized_titles(self) -> list[str]:
        """Every record's title, normalised: computed on first use in an index generation (only follow-ups
        and contrasts read them), not at start-up."""
        if not self.titles:
            self.titles = [normalize(self.meta[r].title) for r in self.record_ids]
        return self.titles

    def title_hits(self, q: str, canonical: str = "") -> np.ndarray:
        """Records one of whose names is in the normalised question, or in it said with synonyms' first wordings
        (`canonical`: "娃娃上小学" names 孩子上小学), or sounds like part of it (居主证 → 居住证)."""
        hits = np.zeros(len(self.record_ids), dtype=bool)
        for text, table in ((q, self.name_table), (canonical, self.canonical_name_table)):
            for start in range(len(text) - 1):
                for name, i in table.get(text[start : start + 2], ()):
                    if text.startswith(name, start):
                        hits[i] = True
        if self.sound_table:
            q_sound = pinyin_key(q)
            for syllable in {*q_sound.split(), ""}:
                for sound, i in self.sound_table.get(syllable, ()):
                    if sound in q_sound:
                        hits[i] = True
        return hits

    def short_name_hits(self, words: tuple[str, ...], lexicon: Lexicon) -> np.ndarray:
        """A question that, once its aspect wording is set aside, only names a service by a short form
        ("离婚要去哪办", "居住证多久能办下来", "身份证掉了怎么补办") names the one guide whose names all its
        words, or a synonym of each ("掉了" for the "丢了" of 身份证丢了补办), are in."""
        hits = np.zeros(len(self.record_ids), dtype=bool)
        if not words:
            return hits
        wordings = [lexicon.variants(w) for w in words]
        named = [i for i in np.flatnonzero(self.is_guide)
                 if all(any(v in name for v in variants for name in self.meta[self.record_ids[i]].names)
                        for variants in wordings)]
        if len(named) == 1:
            hits[named[0]] = True
        return hits

    def close_faq(self, q: str) -> int | None:
        """A FAQ whose phrasing is (almost) the question itself: character-bigram Jaccard ≥ 0.85."""
        qb = set(char_bigrams(q))
        if len(qb) < 2:
            return None
        shared: dict[int, int] = {}
        for g in qb:
            for p in self.bigram_postings.get(g, ()):
                shared[p] = shared.get(p, 0) + 1
        best, best_sim = None, 0.0
        for p, common in shared.items():
            i, grams = self.faq_phrasings[p]
            sim = common / max(len(qb) + len(grams) - common, 1)
            if sim > best_sim or (sim == best_sim and best is not None and i < best):
                best, best_sim = i, sim  # ties go to the first record, as a scan in record order would
        return best if best_sim >= 0.85 else None

    def idf_share(self, part: set[str] | frozenset[str], whole: set[str] | frozenset[str]) -> float:
        # fsum: a set's order varies with the hash seed, and a float sum with its order (see RelevanceFeatures)
        return math.fsum(self.idf.get(t, 8.0) for t in part) / (math.fsum(self.idf.get(t, 8.0) for t in whole) or 1.0)

    def guides_titled_with(self, word: str, lexicon: Lexicon) -> set[str]:
        """Guides whose title (事项名称) holds the word or a synonym of it: 身份证 names 居民身份证换领,
        while 外地人 is only part of an alias of 居住证."""
        variants, titles = lexicon.variants(word), self.normalized_titles()
        return {self.record_ids[i] for i in np.flatnonzero(self.is_guide) if any(v in titles[i] for v in variants)}


def build_tables(index: KnowledgeIndex) -> RecordTables:
    """Everything a query needs that does not depend on the question, from the manifest."""
    lexicon = index.lexicon
    chunks, tokens = index.chunks()
    record_ids = sorted({c.record_id for c in chunks})
    rpos = {r: i for i, r in enumerate(record_ids)}
    df: dict[str, int] = {}
    for toks in tokens:
        for t in set(toks):
            df[t] = df.get(t, 0) + 1
    idf = {t: math.log(1 + len(tokens) / (1 + n)) for t, n in df.items()}
    chunk_bm25 = BM25Index(tokens, k1=0.9, b=0.4)
    per_record: list[list[str]] = [[] for _ in record_ids]
    for c, toks in zip(chunks, tokens):
        if c.kind == "faq" and per_record[rpos[c.record_id]]:
            # later FAQ chunks repeat the answer; count only their phrasing
            toks = lexicon.tokens(c.meta.get("phrasing", ""))
        per_record[rpos[c.record_id]].extend(toks)
    del tokens
    meta: dict[str, RecordMeta] = {}
    for c in chunks:
        meta.setdefault(c.record_id, RecordMeta(c.kind, c.title, c.region))
    records = [r for r in index.records() if r.id in meta]
    for rec in records:
        if rec.kind != "faq":
            names = {normalize(rec.title), *(normalize(a) for a in getattr(rec, "aliases", []))}
            meta[rec.id].names = {n for n in names if len(n) >= 2}
            # homophone typos (居主证, 退修) still name the service: match names of 3+ characters by sound
            meta[rec.id].sounds = {pinyin_key(n) for n in names if len(n) >= 3}
    for rec in records:
        if rec.kind == "faq":
            # a FAQ is about its guide's service: it shares that guide's names for the title bonus
            guide = meta.get(rec.related_guide)
            meta[rec.id].phrasings = {normalize(q) for q in [rec.question, *rec.similar]}
            meta[rec.id].names = guide.names if guide else set()
            meta[rec.id].sounds = guide.sounds if guide else set()
    kinds = [meta[r].kind for r in record_ids]
    tables = RecordTables(
        chunks=chunks, record_ids=record_ids, chunk_record=np.array([rpos[c.record_id] for c in chunks], dtype=np.int64),
        idf=idf, chunk_bm25=chunk_bm25, record_bm25=BM25Index(per_record, k1=1.2, b=0.75), meta=meta,
        places=_places(lexicon, meta), is_guide=np.array([k == "guide" for k in kinds]),
        is_policy=np.array([k == "policy" for k in kinds]), name_table={}, canonical_name_table={}, sound_table={},
        region_values=[],
        region_of=np.zeros(0, dtype=np.int64), faq_phrasings=[], faq_tokens={}, bigram_postings={}, sound_words={},
        everyday_sounds={})
    _fill_query_tables(tables, lexicon)
    words = _named_words(lexicon, meta)
    tables.sound_words = known_sounds(words)
    tables.everyday_sounds = everyday_sounds(df, lexicon.is_word, EVERYDAY_WORD_CHUNKS, tables.sound_words)
    tables.initial_words, tables.named_words = known_initials(words, idf), frozenset(words)
    return tables


def _fill_query_tables(t: RecordTables, lexicon: Lexicon) -> None:
    """Inverted tables for the per-question matching, so a question touches only the records that could
    match it instead of looping over every record (the same results as the loops they replaced)."""
    for i, r in enumerate(t.record_ids):
        for name in t.meta[r].names:
            t.name_table.setdefault(name[:2], []).append((name, i))
            # and in synonyms' first wordings; not a name that is itself a wording of a group (退休手续 of 退休):
            # it would become that group's word, which names nothing alone
            said = lexicon.canonical(name)
            if said != name and len(lexicon.variants(name)) == 1:
                t.canonical_name_table.setdefault(said[:2], []).append((said, i))
        for sound in t.meta[r].sounds:
            t.sound_table.setdefault((sound.split() or [""])[0], []).append((sound, i))
    # regions: few distinct values, so the district rule is decided per value, not per record
    regions = [t.meta[r].region or "" for r in t.record_ids]
    t.region_values = sorted(set(regions))
    value_pos = {v: n for n, v in enumerate(t.region_values)}
    t.region_of = np.array([value_pos[v] for v in regions], dtype=np.int64)
    # FAQ phrasings as bigram sets, with postings from each bigram to the phrasings that contain it;
    # and as token sets, for how much of a phrasing a question covers
    for i, r in enumerate(t.record_ids):
        if t.meta[r].kind != "faq":
            continue
        for name in t.meta[r].phrasings:
            t.faq_tokens.setdefault(i, []).append((lexicon.token_set(name), quantities_asked(name)))
            grams = frozenset(char_bigrams(name))
            for g in grams:
                t.bigram_postings.setdefault(g, []).append(len(t.faq_phrasings))
            t.faq_phrasings.append((i, grams))


def _named_words(lexicon: Lexicon, meta: dict[str, RecordMeta]) -> set[str]:
    """The words a mistyped sound or pinyin initials may stand for: the lexicon's and those of guides' names."""
    words = {w for g in lexicon.groups for w in g} | set(lexicon.dictionary_words)
    for m in meta.values():
        for name in m.names if m.kind == "guide" else ():  # policy titles are mostly general words
            words |= {w for w in lexicon.cut(name) if len(w) >= 2}
    return words


def _places(lexicon: Lexicon, meta: dict[str, RecordMeta]) -> set[str]:
    """The lexicon's places and the districts named in records' regions (东湖区, and 东湖 for it)."""
    data = language_data()
    district, unit = data.pattern("district"), data.pattern("district_unit")
    places: set[str] = set(lexicon.places)
    for p in list(places) + [p for m in meta.values() for p in district.findall(m.region or "")]:
        places.add(p)
        if len(p) > 2 and unit.search(p):
            places.add(p[:-1])
    return places


def char_bigrams(text: str) -> list[str]:
    text = re.sub(r"[\W_]+", "", text)
    return [text[i : i + 2] for i in range(len(text) - 1)]
