"""The learned part of ranking: a re-ranking of the leading candidates and the probability that the first one
answers the question, both read from the features of indexing.relevance.

Fitted by `govqa eval fit` (eval/fit.py) on the dev questions of two very different knowledge bases — the sample
service guides and FAQs, and 599 policy notices — written formally and in citizens' own words, with out-of-fold
predictions so that the answer decision is fitted on rankings it has not seen. The weights are data
(indexing/models/ranking.json); the features are the same for any knowledge base, so a city loading its own
gets the same model.

- `rerank`: a pairwise logistic regression over the candidates' features and the same features standardised
  over the question's candidates. It orders the candidates of a knowledge base of services (guides and FAQs);
  a list of policy notices only keeps the order of indexing.evidence, fitted on notices and not improved upon.
- `order_probability`: logistic regression of whether a candidate is a right answer, over every leading
  candidate (its features, its re-ranking score and place, how far it stands above the best other); the
  candidates are put in its order.
- `answer_probability`: logistic regression of whether the candidate put first is a right answer, fitted on
  first candidates only (unanswerable questions' among them), with the order probability and its lead over
  the next; the assistant answers, asks or refuses by it, with thresholds fitted with it (stored with the weights).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from indexing.retriever import RecordHit

MODEL_PATH = Path(__file__).resolve().parent / "models" / "ranking.json"
RANKED = 10  # candidates re-ranked and scored
CANDIDATE_FEATURES = ("fused", "lex_z", "dense_z", "rec_z", "dense", "coverage", "title", "window", "ask_window",
                      "phrasing", "stretch", "gram4", "is_faq", "is_guide", "aspect_guide", "aspect_faq",
                      "aspect_policy", "document_policy", "region_match", "region_conflict", "detail_window", "ask_window_all", "ask_dense", "routed",
                      "log_rank")
DECISION_FEATURES = ("dense", "coverage", "window", "ask_window", "phrasing", "stretch", "gram4", "title", "lex_z",
                     "dense_z", "margin", "gap", "is_faq", "is_guide", "aspect_guide", "document_policy", "routed",
                     "region_conflict", "region_match", "q_unknown", "q_words", "q_asks_aspect", "calibrated",
                     "detail_window", "ask_window_all", "q_ask_unknown", "ask_dense", "ask_dense_gap", "rerank",
                     "log_place")


def candidate_matrix(hits: list[RecordHit]) -> np.ndarray:
    """Each candidate's features, then the same standardised over the candidates (how it stands among them)."""
    raw = np.array([[_value(h, name, rank) for name in CANDIDATE_FEATURES] for rank, h in enumerate(hits)], float)
    spread = (raw - raw.mean(axis=0)) / np.maximum(raw.std(axis=0), 0.05)
    return np.hstack([raw, spread])


def decision_matrix(hits: list[RecordHit], rerank_scores: np.ndarray) -> np.ndarray:
    """For each candidate: its features, how far it stands above the best other, its re-ranking score and place."""
    places = np.argsort(np.argsort(-rerank_scores))
    rows = []
    for i, h in enumerate(hits):
        others = [j for j in range(len(hits)) if j != i]
        best = max(others, key=lambda j: rerank_scores[j]) if others else i
        gap = rerank_scores[i] - rerank_scores[best] if others else 3.0
        values = {**h.features, "gap": gap, "routed": float(h.route == "faq"), "calibrated": h.score,
                  "ask_dense_gap": h.features.get("ask_dense", 0.0) - hits[best].features.get("ask_dense", 0.0),
                  "margin": min(h.features.get("margin", 0.0), 5.0), "rerank": rerank_scores[i],
                  "log_place": math.log1p(places[i])}
        rows.append([float(values.get(name, 0.0)) for name in DECISION_FEATURES])
    return np.array(rows, float)


def answer_matrix(decision: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The decision features with each candidate's order probability and its lead over the best other."""
    lead = np.array([p - max(np.delete(order, i), default=0.0) for i, p in enumerate(order)])
    return np.hstack([decision, order[:, None], lead[:, None]])


def _value(hit: RecordHit, name: str, rank: int) -> float:
    if name == "fused":
        return hit.fused
    if name == "routed":
        return float(hit.route == "faq")
    if name == "log_rank":
        return math.log1p(rank)
    if name in ("aspect_faq", "aspect_policy"):  # an aspect question (材料, 流程 …) and what kind of record answers it
        return hit.features.get("q_asks_aspect", 0.0) * float(hit.kind == name.removeprefix("aspect_"))
    return float(hit.features.get(name, 0.0))


@dataclass(frozen=True)
class LearnedRanking:
    rerank_mean: np.ndarray
    rerank_scale: np.ndarray
    rerank_weights: np.ndarray
    order_mean: np.ndarray
    order_scale: np.ndarray
    order_weights: np.ndarray
    order_intercept: float
    decision_mean: np.ndarray
    decision_scale: np.ndarray
    decision_weights: np.ndarray
    decision_intercept: float
    thresholds: dict[str, dict[str, float]]  # "policy"/"service" → answer, confirm: the assistant's decision bands
    figures: dict                    # what the fit measured (out of fold), for the README and `govqa eval fit`

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> LearnedRanking:
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["candidate_features"]) != CANDIDATE_FEATURES or \
                tuple(data["decision_features"]) != DECISION_FEATURES:
            raise ValueError(f"{path} was fitted on other features: run govqa eval fit")
        r, o, d = data["rerank"], data["order"], data["decision"]
        return cls(np.array(r["mean"]), np.array(r["scale"]), np.array(r["weights"]),
                   np.array(o["mean"]), np.array(o["scale"]), np.array(o["weights"]), float(o["intercept"]),
                   np.array(d["mean"]), np.array(d["scale"]), np.array(d["weights"]), float(d["intercept"]),
                   data["thresholds"], data.get("figures", {}))

    def threshold(self, kind: str, band: str) -> float:
        """The `band` ("answer" or "confirm") threshold for a record of this kind put first."""
        return self.thresholds["policy" if kind == "policy" else "service"][band]

    def rerank_scores(self, hits: list[RecordHit]) -> np.ndarray:
        if not any(h.kind != "policy" for h in hits):
            return -np.arange(len(hits), dtype=float)  # notices: indexing.evidence's order
        return ((candidate_matrix(hits) - self.rerank_mean) / self.rerank_scale) @ self.rerank_weights

    def order_probability(self, hits: list[RecordHit], rerank_scores: np.ndarray) -> np.ndarray:
        x = (decision_matrix(hits, rerank_scores) - self.order_mean) / self.order_scale
        return _logistic(x @ self.order_weights + self.order_intercept)

    def answer_probability(self, hits: list[RecordHit], rerank_scores: np.ndarray, order: np.ndarray) -> np.ndarray:
        """For each candidate, the probability that it answers the question if put first."""
        x = (answer_matrix(decision_matrix(hits, rerank_scores), order) - self.decision_mean) / self.decision_scale
        return _logistic(x @ self.decision_weights + self.decision_intercept)


def _logistic(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))
