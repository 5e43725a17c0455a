"""Demand topics: citizens' messages grouped into concrete issues, each labelled, explained and ranked.

Editors cannot read thousands of refused questions; they can act on "these 38 people
asked about car-park bundling at 伊景园滨河苑". A topic must therefore be one place
and one problem, not a category such as "物业" or "噪音". How messages are grouped:

1. Each message is its title (the subject, or the question itself) plus the first
   200 characters of its body; the places its title names come from `place_names`.
2. Two messages are similar when their wording is (TF-IDF over character 2–3-grams,
   which needs no word segmentation and so matches unsegmented names), when their
   problem is (the same, with place names removed), and — when an embedding is
   given — when their titles mean the same (E5 with its query prompt, meant for
   symmetric tasks, scored from 0.92 up so that only near-paraphrases count:
   "搅拌站" and "搅拌厂", "捆绑销售车位" and "强制购买车位").
3. The place decides: two messages naming different places are at most 0.15 as
   similar (so "麻将馆扰民" in five compounds stays five topics); two naming the same
   place are compared on their problem only (so one compound's parking, noise and
   cracked walls stay three topics).
4. Average-linkage agglomerative clustering cuts the tree at a fixed similarity;
   a second pass merges the groups whose centroids agree (paraphrases that no single
   pair of messages links). A group whose members name different places (joined
   through messages that name none) is split by place; a group with neither a
   common place nor a common name ("请加快…力度" templates, categories) is cut again,
   twice as strictly.

Thresholds were set by reading the largest topics of the 问政 benchmark messages.
Ranking: size, plus growth (how many more messages in the last window than in the
one before), plus log2(1 + likes), so a much-backed issue rises without one
viral message outranking fifty distinct complaints.
"""

from __future__ import annotations

import datetime as dt
import math
import time
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from scipy.sparse import csr_matrix, diags, hstack
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize as unit_rows

from demand.life_situations import LifeSituation, situation_of
from demand.message_import import CitizenMessage
from demand.place_names import name_bigrams, places, strip_admin
from language.aspects import aspects
from language.data import language_data
from language.lexicon import Lexicon
from language.text import normalize

Embed = Callable[[list[str]], np.ndarray]

HEAD_CHARS = 200            # of the body; the subject carries the issue, the body's start its details
MAX_MESSAGES = 8000         # the similarity matrix is n²: 8,000 messages take ~1 GB; older ones are left out
BODY_WEIGHT = 0.8
WORDING_WEIGHT = 0.5        # whole-text vs problem-only similarity, when places cannot be compared
OTHER_PLACE = 0.15          # similarity factor for two messages naming different places
UNKNOWN_PLACE = 0.8         # ... when one or both name none
SAME_PLACE = 0.3            # cosine of the place names' character bigrams that counts as the same place
EMBED_WEIGHT = 0.5          # share of the embedding in problem similarity
EMBED_FLOOR = 0.92          # E5 title cosine counted as 0: above the 99th percentile of unrelated pairs (0.913)
CUT = 0.2                   # average-linkage similarity at which the tree is cut
MERGE = 0.3                 # centroid similarity at which groups are merged
MIN_SIZE = 2
# complaint boilerplate (tag `not_topic`) and stopwords: frequent in messages, but say nothing about which issue
_NOT_KEYWORDS = language_data().words("not_topic") | language_data().words("stop")


# how a service question asks (要带什么材料, 在哪里办, 怎么申请): shared by questions about any service, so it
# must not make 办狗证 and 办护照 one topic
_ASKING = re.compile("|".join(a.pattern.pattern for a in aspects()
                               if a.code in ("materials", "process", "location", "time_limit", "online")))


@dataclass
class Topic:
    """One concrete issue: who asked, when, how often, and what about."""

    label: str
    place: str
    keywords: list[str]
    members: list[CitizenMessage]
    examples: list[str]
    recent: int = 0
    previous: int = 0
    trend: str = "quiet"
    score: float = 0.0
    id: str = ""                        # stable id, given by the topic store
    record_id: str = ""                 # the guide/FAQ an editor resolved it with
    resolved_by: str = ""
    resolved_at: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def likes(self) -> int:
        return sum(m.likes for m in self.members)

    @property
    def first_seen(self) -> dt.date:
        return min(m.time for m in self.members).date()

    @property
    def last_seen(self) -> dt.date:
        return max(m.time for m in self.members).date()

    @property
    def growth(self) -> float:
        """Relative change of the last window over the one before (1.0 = doubled; from nothing, the count)."""
        return round((self.recent - self.previous) / max(self.previous, 1), 2)

    def series(self) -> dict[str, int]:
        """Messages per day, only the days with any (a chart fills the gaps)."""
        return dict(sorted(Counter(m.time.date().isoformat() for m in self.members).items()))

    def as_json(self) -> dict:
        """The topic in `govqa demand topics --json`; keys are only ever added."""
        return {
            "id": self.id, "label": self.label, "keywords": self.keywords, "size": self.size,
            "examples": self.examples, "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(), "trend": self.trend, "place": self.place,
            "likes": self.likes, "recent": self.recent, "previous": self.previous, "growth": self.growth,
            "score": round(self.score, 2), "series": self.series(), "resolved": bool(self.record_id),
            "record_id": self.record_id, "resolved_by": self.resolved_by, "resolved_at": self.resolved_at,
            "message_ids": [m.id for m in self.members], **self.extra,
        }


@dataclass
class MiningResult:
    topics: list[Topic]
    n_messages: int
    seconds: float
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    embedded: bool = False
    left_out: int = 0                   # older messages beyond MAX_MESSAGES

    def as_json(self) -> dict:
        """The JSON of `govqa demand topics --json`; keys are only ever added."""
        return {
            "topics": [t.as_json() for t in self.topics],
            "n_messages": self.n_messages, "seconds": self.seconds, "n_topics": len(self.topics),
            "embedded": self.embedded, "left_out": self.left_out,
            "period": {"start": self.period_start.isoformat() if self.period_start else None,
                       "end": self.period_end.isoformat() if self.period_end else None},
        }


def mine_topics(messages: Sequence[CitizenMessage], embed: Embed | None = None, lexicon: Lexicon | None = None,
                window_days: int = 30, min_size: int = MIN_SIZE,
                situations: Sequence[LifeSituation] = ()) -> MiningResult:
    """Group `messages` into topics of at least `min_size` messages, best-ranked first.

    `embed` maps titles to unit vectors (e.g. the Embedder with the query prompt); without it the
    grouping is lexical only, which is faster on a cold cache and merges fewer paraphrases.
    A message naming one of the life `situations` ("老人去世了要办哪些手续") joins that situation's topic.
    """
    start = time.perf_counter()
    chosen = sorted(messages, key=lambda m: m.time)[-MAX_MESSAGES:]
    result = MiningResult([], len(chosen), 0.0, embedded=embed is not None, left_out=len(messages) - len(chosen))
    if not chosen:
        return result
    result.period_start, result.period_end = chosen[0].time.date(), chosen[-1].time.date()
    window, end = dt.timedelta(days=window_days), chosen[-1].time
    chosen, by_situation = _set_aside(chosen, list(situations))
    for situation, members in by_situation:
        if len(members) >= min_size:
            result.topics.append(_situation_topic(situation, members, end, window))
    if not chosen:
        result.topics.sort(key=lambda t: (-t.score, -t.size, t.label))
        result.seconds = round(time.perf_counter() - start, 2)
        return result
    titles = [normalize(m.subject or m.body) for m in chosen]
    heads = [normalize(m.body)[:HEAD_CHARS] if m.subject else "" for m in chosen]
    named = [places(t) for t in titles]
    asked = [_ASKING.sub(" ", t) for t in titles]
    features = _Features.of(asked, heads, named, embed([t[:HEAD_CHARS] for t in asked]) if embed else None)
    similarity = features.similarity()
    labels = _cluster(similarity, CUT)
    if labels.max() > 0:                # second pass: paraphrases that no single pair of messages links
        labels = _cluster(features.grouped(labels).similarity(), MERGE)[labels]
    labels = _split_by_place(labels, features, similarity)
    namer = _Namer(titles, heads, named, lexicon or Lexicon())
    labels = _sharpen(labels, namer, similarity)
    for k in np.unique(labels):
        members = np.flatnonzero(labels == k)
        if len(members) >= min_size:
            topic = namer.topic([chosen[i] for i in members], members, similarity[np.ix_(members, members)])
            _rate(topic, chosen[-1].time, window)
            result.topics.append(topic)
    result.topics.sort(key=lambda t: (-t.score, -t.size, t.label))
    result.seconds = round(time.perf_counter() - start, 2)
    return result


@dataclass
class _Features:
    """Each message's (or group's) three views — wording, problem, place — and optionally its title embedding."""

    wording: csr_matrix
    problem: csr_matrix
    place: csr_matrix
    has_place: np.ndarray
    vectors: np.ndarray | None = None

    @classmethod
    def of(cls, titles: list[str], heads: list[str], named: list[list[str]], vectors: np.ndarray | None) -> "_Features":
        titles = [strip_admin(t) for t in titles]
        heads = [strip_admin(h) for h in heads]
        place_grams = {p[i:i + n] for ps in named for p in ps for n in (2, 3) for i in range(len(p) - n + 1)}
        title_x, title_keep = _tfidf(titles, place_grams)
        head_x, head_keep = _tfidf(heads, place_grams)
        place, _ = _tfidf(named, set(), analyzer=name_bigrams, min_df=1, max_df=1.0)
        return cls(wording=unit_rows(hstack([title_x, head_x * BODY_WEIGHT]).tocsr()),
                   problem=unit_rows(hstack([title_x @ diags(title_keep),
                                             head_x @ diags(head_keep) * BODY_WEIGHT]).tocsr()),
                   place=unit_rows(place), has_place=np.array([bool(p) for p in named]), vectors=vectors)

    def grouped(self, labels: np.ndarray) -> "_Features":
        """One row per group: the normalised centroid of each view; a group names a place when most members do."""
        k = int(labels.max()) + 1
        assign = csr_matrix((np.ones(len(labels), dtype=np.float32), (labels, np.arange(len(labels)))),
                            shape=(k, len(labels)))
        sizes = np.asarray(assign.sum(axis=1)).ravel()
        return _Features(wording=unit_rows(assign @ self.wording), problem=unit_rows(assign @ self.problem),
                         place=unit_rows(assign @ self.place),
                         has_place=(assign @ self.has_place.astype(np.float32)) / sizes >= 0.5,
                         vectors=None if self.vectors is None else unit_rows(assign @ self.vectors))

    def similarity(self) -> np.ndarray:
        """Pairwise similarity under the place rule of the module docstring (n × n, float32)."""
        problem = _dense_cosine(self.problem)
        if self.vectors is not None:
            meaning = (self.vectors @ self.vectors.T).astype(np.float32)
            np.clip((meaning - EMBED_FLOOR) / (1 - EMBED_FLOOR), 0, 1, out=meaning)
            problem *= 1 - EMBED_WEIGHT
            problem += EMBED_WEIGHT * meaning
            del meaning
        combined = _dense_cosine(self.wording)
        combined *= WORDING_WEIGHT
        combined += (1 - WORDING_WEIGHT) * problem
        combined *= UNKNOWN_PLACE
        problem *= np.where(_dense_cosine(self.place) >= SAME_PLACE, 1.0, OTHER_PLACE).astype(np.float32)
        np.copyto(combined, problem, where=np.outer(self.has_place, self.has_place))
        return combined


def _tfidf(docs: list, place_grams: set[str], analyzer: str | Callable = "char", min_df: int = 2,
           max_df: float | None = None) -> tuple[csr_matrix, np.ndarray]:
    """TF-IDF (character 2–3-grams unless another analyzer is given), and a 0/1 mask of the terms that are
    not part of any place name.

    Very common n-grams (in over 5% of messages, and over 10) are dropped: "小区", "扰民" say
    which category, not which issue, and they dominate the cost of the similarity matrix.
    """
    n = len(docs)
    if max_df is None:
        max_df = min(1.0, max(0.05, 10 / n))
    try:
        vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, dtype=np.float32, min_df=min(min_df, n),
                                     max_df=max_df, **({"ngram_range": (2, 3)} if analyzer == "char" else {}))
        matrix = vectorizer.fit_transform(docs)
    except ValueError:                  # no n-gram shared by enough messages (tiny inputs, empty bodies)
        return csr_matrix((n, 1), dtype=np.float32), np.ones(1, dtype=np.float32)
    keep = np.array([g not in place_grams for g in vectorizer.get_feature_names_out()], dtype=np.float32)
    return matrix, keep


def _dense_cosine(rows: csr_matrix) -> np.ndarray:
    return np.asarray((rows @ rows.T).todense(), dtype=np.float32)


def _cluster(similarity: np.ndarray, cut: float) -> np.ndarray:
    """Average-linkage clusters whose members are, on average, at least `cut` similar."""
    if len(similarity) < 2:
        return np.zeros(len(similarity), dtype=int)
    distance = 1.0 - similarity
    np.fill_diagonal(distance, 0.0)
    np.clip(distance, 0.0, None, out=distance)
    return AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="average",
                                   distance_threshold=1.0 - cut).fit(distance).labels_


def _split_by_place(labels: np.ndarray, features: _Features, similarity: np.ndarray) -> np.ndarray:
    """One place per topic: a group whose members name different places (linked through messages that name
    none) becomes one group per place; members naming no place join the one they are most similar to."""
    labels = labels.copy()
    next_label = int(labels.max()) + 1
    for k in np.unique(labels):
        members = np.flatnonzero(labels == k)
        placed = members[features.has_place[members]]
        if len(placed) < 2:
            continue
        same = _dense_cosine(features.place[placed]) >= SAME_PLACE
        parts = connected_components(csr_matrix(same), directed=False)[1]
        if parts.max() == 0:
            continue
        unplaced = members[~features.has_place[members]]
        if len(unplaced):
            affinity = np.stack([similarity[np.ix_(unplaced, placed[parts == p])].mean(axis=1)
                                 for p in range(parts.max() + 1)])
            home = affinity.argmax(axis=0)
        for p in range(1, parts.max() + 1):
            labels[placed[parts == p]] = next_label
            if len(unplaced):
                labels[unplaced[home == p]] = next_label
            next_label += 1
    return labels


def _sharpen(labels: np.ndarray, namer: "_Namer", similarity: np.ndarray) -> np.ndarray:
    """A group with neither a common place nor a common name (a template such as "请加快…力度", or a
    category) is not one issue: it is cut again, twice as strictly."""
    labels = labels.copy()
    next_label = int(labels.max()) + 1
    for k in np.unique(labels):
        members = np.flatnonzero(labels == k)
        if len(members) >= MIN_SIZE and not namer.subject(members):
            parts = _cluster(similarity[np.ix_(members, members)], 2 * CUT)
            labels[members] = parts + next_label
            next_label += int(parts.max()) + 1
    return labels


class _Namer:
    """Label, keywords and typical questions of a group, from what its members share and other messages do not."""

    def __init__(self, titles: list[str], heads: list[str], named: list[list[str]], lexicon: Lexicon):
        self.titles = [strip_admin(t) for t in titles]
        self.texts = [t + " " + h for t, h in zip(titles, heads)]
        self.named = named
        self.cut = [lexicon.cut(t) for t in self.titles]
        self.words = [{w for w in words if _is_keyword(w)} for words in self.cut]
        df = Counter(w for ws in self.words for w in ws)
        self.idf = {w: math.log(len(titles) / c) for w, c in df.items()}

    def subject(self, members: np.ndarray) -> str:
        """What the group is about: the place most members name, or else the name most of them share."""
        return self._place(members) or self._phrase(members)

    def topic(self, messages: list[CitizenMessage], members: np.ndarray, similarity: np.ndarray) -> Topic:
        place = self._place(members)
        keywords = self._keywords(members, place)
        subject = place or self._phrase(members)
        problem = [w for w in _distinct(keywords) if w not in subject][:2]
        label = "·".join([subject, *problem] if subject else problem) or messages[0].title[:20]
        typical = np.argsort(-similarity.mean(axis=1), kind="stable")
        examples = list(dict.fromkeys(messages[i].title for i in typical))[:3]
        return Topic(label=label, place=place, keywords=keywords, examples=examples,
                     members=sorted(messages, key=lambda m: m.time))

    def _place(self, members: np.ndarray) -> str:
        """The place at least half the members name; of near-equal coverage, the longest (most specific) name."""
        texts = [self.texts[i] for i in members]
        coverage = {p: sum(p in t for t in texts) / len(texts) for p in {p for i in members for p in self.named[i]}}
        if not coverage or max(coverage.values()) < 0.5:
            return ""
        floor = max(0.5, 0.8 * max(coverage.values()))
        return max((p for p, c in coverage.items() if c >= floor), key=lambda p: (len(p), coverage[p], p))

    def _phrase(self, members: np.ndarray, max_words: int = 4, max_chars: int = 8) -> str:
        """For groups without a place name: the run of words most titles share, of those the longest
        (五矿万境, 58车贷); a name that carries no place word is still what the issue is about."""
        counts: Counter[str] = Counter()
        for i in members:
            words = self.cut[i]
            counts.update({"".join(words[a:a + n]) for n in range(1, max_words + 1) for a in range(len(words) - n + 1)
                           if (_is_keyword(words[a]) or (n > 1 and words[a].isascii() and words[a].isalnum()))
                           and _is_keyword(words[a + n - 1])})     # 58车贷 starts with a number
        shared = [g for g, c in counts.items() if c >= 0.6 * len(members) and 3 <= len(g) <= max_chars]
        return max(shared, key=lambda g: (counts[g], len(g), g), default="")

    def _keywords(self, members: np.ndarray, place: str, limit: int = 6) -> list[str]:
        """c-TF-IDF: words frequent in the group and rare elsewhere; parts of the place, or of the place names
        many members use (劳动东路 in 劳动东路魅力之城小区), aside."""
        in_names = Counter(w for i in members for w in {w for w in self.words[i] if any(w in p for p in self.named[i])})
        counts = Counter(w for i in members for w in self.words[i]
                         if not (place and (w in place or place in w)) and in_names[w] < max(2, 0.3 * len(members)))
        needed = max(2, 0.2 * len(members))
        scored = sorted(((c / len(members) * self.idf[w], w) for w, c in counts.items() if c >= needed),
                        key=lambda s: (-s[0], s[1]))
        return [w for _, w in scored[:limit]]


def _is_keyword(word: str) -> bool:
    return len(word) >= 2 and word not in _NOT_KEYWORDS and not word.isascii()


def _distinct(words: list[str]) -> list[str]:
    """Keywords without those contained in a better-ranked one (搅拌 after 搅拌站)."""
    out: list[str] = []
    for w in words:
        if not any(w in o or o in w for o in out):
            out.append(w)
    return out


def _set_aside(messages: list[CitizenMessage], situations: list[LifeSituation]
               ) -> tuple[list[CitizenMessage], list[tuple[LifeSituation, list[CitizenMessage]]]]:
    """The messages naming no life situation, and those naming one, by situation (in the situations' order)."""
    if not situations:
        return messages, []
    rest, grouped = [], {}
    for m in messages:
        found = situation_of(m.subject or m.body, situations)
        if found is None:
            rest.append(m)
        else:
            grouped.setdefault(found.label, (found, []))[1].append(m)
    return rest, [grouped[s.label] for s in situations if s.label in grouped]


def _situation_topic(situation: LifeSituation, members: list[CitizenMessage], end: dt.datetime,
                     window: dt.timedelta) -> Topic:
    """One life situation's messages as a topic that says so: editors see which event package is asked for."""
    label = language_data().source("life_events.topic_label").format(situation=situation.label)
    topic = Topic(label=label, place="", keywords=[situation.label], members=members,
                  examples=list(dict.fromkeys(normalize(m.subject or m.body) for m in members))[:3],
                  extra={"life_situation": situation.label, "life_event": situation.event_id})
    _rate(topic, end, window)
    return topic


def _rate(topic: Topic, end: dt.datetime, window: dt.timedelta) -> None:
    """Trend over the last window against the one before it, and the ranking score."""
    topic.recent = sum(end - window < m.time <= end for m in topic.members)
    topic.previous = sum(end - 2 * window < m.time <= end - window for m in topic.members)
    if topic.members[0].time > end - window:
        topic.trend = "new"
    elif topic.recent != topic.previous:
        topic.trend = "rising" if topic.recent > topic.previous else "falling"
    else:
        topic.trend = "steady" if topic.recent else "quiet"
    topic.score = topic.size + max(topic.recent - topic.previous, 0) + math.log2(1 + topic.likes)
