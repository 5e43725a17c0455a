"""Life-event answers, end to end through `Assistant.ask`, on citizens' wording (eval/data/life_events.jsonl:
each question with the event that answers it and that event's correct chain of guides, or `event: null` for
a question about one service, which must not be taken for an event; split "dev" was written while the
detection was built; "test" after it, then its misses led to more chain wordings (so it is no longer held out);
"fresh" after the last change, never tuned on):

- **event found**: the answer is the gold event's (of the event questions);
- **service kept**: a single-service question is not answered as an event (of the null ones);
- **steps complete**: of the events found, those whose answer lists every gold step, in order, each with its guide;
- **checklist complete**: of the events found, those whose merged checklist holds every material the steps need
  (as the event selects them from each guide), each shown in the answer, and no document twice.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from assistant.demand_log import DemandLog
from assistant.service import Answer, Assistant
from indexing.embedder import Embedder
from indexing.index import AnyRecord, KnowledgeIndex
from knowledge.life_events import document_key, plan
from knowledge.models import LifeEvent, ServiceGuide
from language.lexicon import Lexicon


@dataclass(frozen=True)
class GoldEvent:
    question: str
    event: str | None
    steps: tuple[str, ...]
    split: str = ""


def load_gold(path: Path, split: str | None = None) -> list[GoldEvent]:
    """The questions of one split (dev, test, fresh: see above), or all of them."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            gold = GoldEvent(item["question"], item.get("event"), tuple(item.get("steps") or ()), item.get("split", ""))
            if split is None or gold.split == split:
                out.append(gold)
    return out


def evaluate_events(records: list[AnyRecord], gold: list[GoldEvent], embedder: Embedder) -> dict:
    """Index `records` in a temporary folder and ask every question in a conversation of its own."""
    with tempfile.TemporaryDirectory(prefix="govqa-eval-events-") as tmp:
        index = KnowledgeIndex(Path(tmp), embedder.model_name, lexicon=Lexicon(), embedder=embedder)
        index.index(records)
        assistant = Assistant(index, DemandLog(Path(tmp) / "demand.sqlite"))
        answers = [(g, assistant.ask(g.question)) for g in gold]
        return figures(answers, index)


def figures(answers: list[tuple[GoldEvent, Answer]], index: KnowledgeIndex) -> dict:
    events = [(g, a) for g, a in answers if g.event]
    services = [(g, a) for g, a in answers if not g.event]
    found = [(g, a) for g, a in events if _event_of(a) == g.event]
    steps_ok = [g.question for g, a in found if _steps_complete(g, a)]
    checklist = [_checklist_problems(a, index) for _, a in found]
    return {
        "n": len(answers), "event_questions": len(events), "service_questions": len(services),
        "event_found": _rate(len(found), len(events)),
        "service_kept": _rate(sum(_event_of(a) is None for _, a in services), len(services)),
        "steps_complete": _rate(len(steps_ok), len(found)),
        "checklist_complete": _rate(sum(not p["missing"] and not p["duplicates"] for p in checklist), len(found)),
        "checklist_missing": sum(len(p["missing"]) for p in checklist),
        "checklist_duplicates": sum(len(p["duplicates"]) for p in checklist),
        "not_found": [{"question": g.question, "gold": g.event, "got": _event_of(a), "decision": a.decision}
                      for g, a in events if _event_of(a) != g.event],
        "taken_for_event": [{"question": g.question, "got": _event_of(a)} for g, a in services if _event_of(a)],
    }


def _event_of(answer: Answer) -> str | None:
    """The event the answer gives as a whole (not one only offered or one step of it)."""
    event = answer.event or {}
    return event.get("id") if answer.answered and event.get("role") == "event" else None


def _steps_complete(gold: GoldEvent, answer: Answer) -> bool:
    shown = [s["record_id"] for s in answer.event["steps"] if not s["missing"]]
    cited = {c.record_id for c in answer.citations}
    return shown == list(gold.steps) and set(gold.steps) <= cited


def _checklist_problems(answer: Answer, index: KnowledgeIndex) -> dict:
    """Materials the steps need that the checklist (or the answer's text) lacks, and documents listed twice."""
    event = index.record(answer.event["id"])
    expected = plan(event, index.record) if isinstance(event, LifeEvent) else None
    uses = {use for item in answer.event["checklist"] for use in item["uses"]}
    missing = []
    for step in expected.steps if expected else []:
        if isinstance(step.guide, ServiceGuide):
            missing += [f"第{step.n}步：{m.name}" for m in step.materials
                        if f"第{step.n}步：{m.describe()}" not in uses]
    missing += [item["name"] for item in answer.event["checklist"] if item["name"] not in answer.answer]
    keys = [document_key(item["name"], index.lexicon) for item in answer.event["checklist"]]
    return {"missing": missing, "duplicates": sorted({k for k in keys if keys.count(k) > 1})}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None
