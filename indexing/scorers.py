"""The ranking's adjustments after fusion, as named steps with their weights in one config object.

Each step can be switched off alone (`RetrievalConfig(off={"title"})`, `govqa eval --ablate title`) to
measure what it adds. Additive steps run in the order of ADJUSTMENTS, each seeing the fused score the
steps before it left (the FAQ steps look at the leading candidates so far); the other steps act on the
ranking itself (`faq_route`, `distinct`, `policy_evidence`), on the reading of the question (`spelling`)
or on the calibrated score (`contrast` damps the score of the records it excludes, `scheme` every record's
when the question asks about a scheme none is named for: indexing.schemes);
`rerank` and `decision` are the learned re-ranking and answer probability of indexing.learned.
Weights were tuned on the NCP and sample dev splits only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from indexing.tables import RecordTables
from language.data import language_data
from language.lexicon import Lexicon
from language.understanding import SearchQuery

Z_POOL = 50  # the leading candidates the FAQ steps look at (and z() standardises over)


@dataclass(frozen=True)
class RetrievalConfig:
    """Every weight of the hybrid ranking; `off` names the steps switched off."""

    dense: float = 0.3            # z(best chunk cosine), added to z(best chunk BM25)
    record: float = 0.2           # z(whole-record BM25)
    title: float = 2.0            # a record's name (or a short form naming one guide) is in the question
    document: float = 2.5         # a question about a policy document itself favours policies
    aspect: float = 1.5           # a guide answers 材料/流程/费用… in full; a FAQ covers one special case
    region_named: float = 0.3     # a record of the district the question names
    region_other: float = -1.5    # another district's own service
    contrast: float = -3.0        # below a title match: a service named for 职工 is not the one 居民 means
    faq_specificity: float = -1.0  # sample dev hit@1 0.852 → 0.869
    other_figure: float = -2.0    # as far down as a title match lifts
    excluded_factor: float = 0.1  # a contrast's excluded records (or all, for an unknown scheme): below every
                                  # decision threshold, still ordered
    off: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        unknown = set(self.off) - set(STEPS)
        if unknown:
            raise ValueError(f"unknown retrieval step(s): {', '.join(sorted(unknown))}; known: {', '.join(STEPS)}")

    def on(self, step: str) -> bool:
        return step not in self.off


@dataclass
class Ranking:
    """What an adjustment may read: the question, the tables, the fused score so far, and its title matches."""

    query: SearchQuery
    tables: RecordTables
    lexicon: Lexicon
    config: RetrievalConfig
    fused: np.ndarray
    title_hits: np.ndarray


def _title(r: Ranking) -> np.ndarray:
    return r.title_hits


def _document(r: Ranking) -> np.ndarray | None:
    return r.tables.is_policy if r.query.about_document else None


def _aspect(r: Ranking) -> np.ndarray | None:
    return r.tables.is_guide if r.query.aspect != "general" and not r.query.about_document else None


def _region(r: Ranking) -> np.ndarray:
    """A record of the district named gains; another district's own service (its region names a district
    the question does not) loses. Decided per distinct region value, of which there are few."""
    t, named = r.tables, r.query.places
    adjust = np.zeros(len(t.record_ids), dtype=np.float32)
    if not named:
        return adjust
    data = language_data()
    district, unit = data.pattern("district"), data.pattern("district_unit")
    per_value = np.zeros(len(t.region_values), dtype=np.float32)
    for n, region in enumerate(t.region_values):
        places = district.findall(region)
        if any(p in region for p in named):
            per_value[n] = r.config.region_named
        elif any(unit.search(p) for p in places):
            per_value[n] = r.config.region_other
    return per_value[t.region_of]


def contrasted(r: Ranking) -> np.ndarray:
    """Records named only for the other side of a contrast the question takes a side in (knowledge/lexicon/
    contrasts.txt): "城乡居民养老保险缴费" is not answered by 职工基本养老保险关系转移接续, only pointed to it."""
    out = np.zeros(len(r.tables.record_ids), dtype=bool)
    for named, excluded in r.query.contrasts:
        for i, title in enumerate(r.tables.normalized_titles()):
            out[i] |= any(w in title for w in excluded) and not any(w in title for w in named)
    return out


def _faq_specificity(r: Ranking) -> np.ndarray:
    """For the leading FAQs, the idf-weighted share of their closest phrasing that the question
    leaves out: "父母可以投靠子女把户口迁过来吗" matches "买了房想把户口迁过来" word for word, but
    it is a special case the citizen never mentioned, and the guide answers them better."""
    out = np.zeros(len(r.tables.record_ids), dtype=np.float32)
    query_tokens = set(r.query.tokens)
    for i in np.argsort(-r.fused)[:Z_POOL]:
        phrasings = r.tables.faq_tokens.get(int(i))
        if phrasings:
            out[i] = 1.0 - max(r.tables.idf_share(toks & query_tokens, toks) for toks, _ in phrasings)
    return out


def _other_figure(r: Ranking) -> np.ndarray:
    """The leading FAQs that ask only for another kind of figure than the question: "失业金能领多少"
    wants an amount, which "失业金最长能领多久" does not give, however many words they share."""
    out = np.zeros(len(r.tables.record_ids), dtype=bool)
    if not r.query.figures:
        return out
    for i in np.argsort(-r.fused)[:Z_POOL]:
        kinds = {kind for _, figures in r.tables.faq_tokens.get(int(i), ()) for kind in figures}
        out[i] = bool(kinds) and not kinds & r.query.figures
    return out


# name → (feature, name of its weight in RetrievalConfig); the region step carries its own weights
ADJUSTMENTS: list[tuple[str, Callable[[Ranking], np.ndarray | None], str]] = [
    ("title", _title, "title"),
    ("document", _document, "document"),
    ("aspect", _aspect, "aspect"),
    ("region", _region, ""),
    ("contrast", contrasted, "contrast"),
    ("faq_specificity", _faq_specificity, "faq_specificity"),
    ("other_figure", _other_figure, "other_figure"),
]
STEPS = (*(name for name, _, _ in ADJUSTMENTS), "spelling", "faq_route", "distinct", "policy_evidence",
         "rerank", "decision", "scheme")


def adjust(ranking: Ranking) -> np.ndarray:
    """The fused score after every adjustment switched on, in order."""
    for name, feature, weight in ADJUSTMENTS:
        if not ranking.config.on(name):
            continue
        value = feature(ranking)
        if value is not None:
            ranking.fused = ranking.fused + (getattr(ranking.config, weight) * value if weight else value)
    return ranking.fused
