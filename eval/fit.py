"""Fit the learned re-ranking and answer decision (indexing.learned) on the dev sets of eval/data/fit.yml.

Every question goes through the real retriever with both learned steps switched off; the re-ranking is a
pairwise logistic regression over the candidates of service-KB questions; the answer decision is a logistic
regression over the first candidate after an out-of-fold re-ranking, so it is fitted on rankings it has not
seen. The thresholds, one for a notice put first and one for a guide or FAQ, are those that do best over all
questions (each counts the same: +1 for a right answer or an unanswerable question not answered, −1 for a wrong
answer or an unanswerable question answered). The figures printed and stored are out of fold.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from sklearn.linear_model import LogisticRegression

from eval.corpus import corpus_records
from eval.retrieval import load_equivalents, load_questions, load_unanswerable
from indexing.embedder import Embedder
from indexing.index import KnowledgeIndex
from indexing.learned import (CANDIDATE_FEATURES, DECISION_FEATURES, RANKED, answer_matrix, candidate_matrix,
                              decision_matrix)
from indexing.retriever import HybridRetriever, RecordHit
from indexing.scorers import RetrievalConfig
from knowledge.loaders import load_knowledge_base
from language.lexicon import Lexicon
from language.question import EmptyQuestion
from language.understanding import understand

FOLDS = 5
RERANK_C, DECISION_C = 0.03, 0.3
CLARIFY_BAND = 0.15  # below the answer threshold by up to this, the assistant asks which service was meant
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Example:
    set_name: str
    question: str
    relevant: set[str]          # empty: unanswerable
    hits: list[RecordHit]
    service: bool               # the candidates include guides or FAQs: the re-ranking applies


def collect(plan: Path, embedder: Embedder) -> list[Example]:
    """Every dev question of the plan through the retriever (learned steps off), with its gold records."""
    config = yaml.safe_load(plan.read_text(encoding="utf-8"))
    base = ROOT  # the plan's paths are relative to the repository
    examples: list[Example] = []
    for spec in config["knowledge_bases"].values():
        if "corpus" in spec:
            records, to_docid = corpus_records(base / spec["corpus"])
            equivalents = load_equivalents(base / spec["corpus"])
        else:
            records, to_docid, equivalents = load_knowledge_base(base / spec["kb"]).records, {}, {}
        with tempfile.TemporaryDirectory(prefix="govqa-fit-") as tmp:
            index = KnowledgeIndex(Path(tmp), embedder.model_name, lexicon=Lexicon(), embedder=embedder)
            index.index(records)
            retriever = HybridRetriever(index, config=RetrievalConfig(off=frozenset({"rerank", "decision"})))
            vocabulary = retriever.vocabulary()
            for name, s in spec["sets"].items():
                if "questions" in s:
                    gold = [(q.question, q.relevant) for q in load_questions(base / s["questions"], s.get("split"),
                                                                             equivalents)]
                else:
                    gold = [(q, set()) for q in load_unanswerable(base / s["unanswerable"], s.get("split"))]
                for question, relevant in gold:
                    try:
                        parsed = understand(question, vocabulary)
                    except EmptyQuestion:
                        continue
                    hits = retriever.run(parsed.search, top_k=RANKED)
                    for h in hits:
                        h.record_id = to_docid.get(h.record_id, h.record_id)
                    if hits:
                        examples.append(Example(name, question, relevant, hits,
                                                any(h.kind != "policy" for h in hits)))
    return examples


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(axis=0), np.maximum(x.std(axis=0), 1e-6)


def fit_rerank(examples: list[Example]) -> dict:
    """Pairwise logistic regression: for each answerable service question, every (right, wrong) candidate pair."""
    mats = [candidate_matrix(e.hits) for e in examples]
    mean, scale = _standardise(np.vstack(mats))
    pairs, labels = [], []
    for e, m in zip(examples, mats):
        x = (m - mean) / scale
        right = [i for i, h in enumerate(e.hits) if h.record_id in e.relevant]
        wrong = [i for i, h in enumerate(e.hits) if h.record_id not in e.relevant]
        for i in right:
            for j in wrong:
                pairs += [x[i] - x[j], x[j] - x[i]]
                labels += [1, 0]
    model = LogisticRegression(C=RERANK_C, max_iter=5000, fit_intercept=False).fit(np.array(pairs), labels)
    return {"mean": mean.tolist(), "scale": scale.tolist(), "weights": model.coef_[0].tolist()}


def rerank_scores(model: dict, e: Example) -> np.ndarray:
    if not e.service:
        return -np.arange(len(e.hits), dtype=float)
    return ((candidate_matrix(e.hits) - np.array(model["mean"])) / np.array(model["scale"])) @ np.array(model["weights"])


def _trainable(e: Example) -> bool:
    return e.service and bool(e.relevant) and any(h.record_id in e.relevant for h in e.hits)


def fit(examples: list[Example], floors: dict[str, dict[str, float]] | None = None) -> dict:
    folds = np.arange(len(examples)) % FOLDS
    # out-of-fold re-ranking; then the answer probability of every candidate, fitted on all candidates
    rerankers = [fit_rerank([e for e, f in zip(examples, folds) if f != k and _trainable(e)]) for k in range(FOLDS)]
    rows, labels, owner = [], [], []
    for n, (e, f) in enumerate(zip(examples, folds)):
        rows.append(decision_matrix(e.hits, rerank_scores(rerankers[f], e)))
        labels += [int(h.record_id in e.relevant) for h in e.hits]
        owner += [n] * len(e.hits)
    x, y, owner = np.vstack(rows), np.array(labels), np.array(owner)
    order = _out_of_fold(x, y, folds[owner])
    # the answer decision on the candidate put first, with its order probability and lead
    firsts, right, kind = [], [], []
    for n, e in enumerate(examples):
        mine = owner == n
        i = _first(e, order[mine])
        firsts.append(answer_matrix(x[mine], order[mine])[i])
        right.append(int(e.hits[i].record_id in e.relevant))
        kind.append(threshold_kind(e.hits[i].kind))
    z, right, kind = np.array(firsts), np.array(right), np.array(kind)
    p = _out_of_fold(z, right, folds)
    answer = _best_thresholds(examples, p, right, kind, floors or {})
    return {
        "candidate_features": list(CANDIDATE_FEATURES), "decision_features": list(DECISION_FEATURES),
        "rerank": fit_rerank([e for e in examples if _trainable(e)]),
        "order": _logistic_model(x, y), "decision": _logistic_model(z, right),
        "thresholds": {k: {"answer": round(t, 3), "confirm": round(max(0.1, t - CLARIFY_BAND), 3)}
                       for k, t in answer.items()},
        "figures": figures(examples, p >= np.array([answer[k] for k in kind]), right),
    }


def _out_of_fold(x: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    p = np.zeros(len(y))
    for k in range(FOLDS):
        train, test = folds != k, folds == k
        mean, scale = _standardise(x[train])
        m = LogisticRegression(C=DECISION_C, max_iter=5000).fit((x[train] - mean) / scale, y[train])
        p[test] = m.predict_proba((x[test] - mean) / scale)[:, 1]
    return p


def _logistic_model(x: np.ndarray, y: np.ndarray) -> dict:
    mean, scale = _standardise(x)
    m = LogisticRegression(C=DECISION_C, max_iter=5000).fit((x - mean) / scale, y)
    return {"mean": mean.tolist(), "scale": scale.tolist(), "weights": m.coef_[0].tolist(),
            "intercept": float(m.intercept_[0])}


def _first(e: Example, probabilities: np.ndarray) -> int:
    """The candidate put first: a FAQ routed by its phrasing, else the most probable."""
    routed = [i for i, h in enumerate(e.hits) if h.route == "faq"]
    return routed[0] if routed else int(np.argmax(probabilities))


def _best_thresholds(examples: list[Example], p: np.ndarray, y: np.ndarray, kind: np.ndarray,
                     floors: dict[str, dict[str, float]]) -> dict[str, float]:
    """The pair of thresholds (notice first, service first) with the best total over all questions, among
    those that keep each set's floor (fit.yml: a share answered, or not answered, not to go below)."""
    answerable = np.array([bool(e.relevant) for e in examples])
    names = np.array([e.set_name for e in examples])
    grid = np.round(np.arange(0.1, 0.91, 0.025), 3)

    def keeps_floors(t_policy: float, t_service: float) -> bool:
        answered = p >= np.where(kind == "policy", t_policy, t_service)
        for name, floor in floors.items():
            m = names == name
            if m.any() and (answered[m].mean() < floor.get("answered", 0.0)
                            or 1 - answered[m].mean() < floor.get("not_answered", 0.0)):
                return False
        return True

    def utility(t_policy: float, t_service: float) -> float:
        answered = p >= np.where(kind == "policy", t_policy, t_service)
        gained = (answered & answerable & (y == 1)).sum() + (~answered & ~answerable).sum()
        lost = (answered & answerable & (y == 0)).sum() + (answered & ~answerable).sum()
        return float(gained - lost)

    pairs = [(a, b) for a in grid for b in grid]
    pairs = [pair for pair in pairs if keeps_floors(*pair)] or pairs
    best = max(pairs, key=lambda pair: utility(*pair))
    return {"policy": float(best[0]), "service": float(best[1])}


def threshold_kind(kind: str) -> str:
    """Thresholds are fitted apart for a notice and for a service's guide or FAQ put first."""
    return "policy" if kind == "policy" else "service"


def figures(examples: list[Example], answered: np.ndarray, y: np.ndarray) -> dict:
    """Out of fold, per set: first candidate right (after the re-ranking), answered, right, wrong; not answered."""
    out = {}
    for name in sorted({e.set_name for e in examples}):
        m = np.array([e.set_name == name for e in examples])
        a = answered[m]
        if any(e.relevant for e, keep in zip(examples, m) if keep):
            out[name] = {"n": int(m.sum()), "hit@1": round(float(y[m].mean()), 3), "answered": round(float(a.mean()), 3),
                         "right": round(float((a & (y[m] == 1)).mean()), 3),
                         "wrong": round(float((a & (y[m] == 0)).mean()), 3)}
        else:
            out[name] = {"n": int(m.sum()), "not_answered": round(float(1 - a.mean()), 3)}
    return out


def run_fit(plan: Path, embedder: Embedder, out: Path) -> dict:
    floors = {name: s["floor"] for kb in yaml.safe_load(plan.read_text(encoding="utf-8"))["knowledge_bases"].values()
              for name, s in kb["sets"].items() if "floor" in s}
    model = fit(collect(plan, embedder), floors)
    out.write_text(json.dumps(model, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return model
