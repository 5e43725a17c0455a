"""The dialogue of a life event (一件事): a question about the event gets the steps in order, one merged
materials checklist, the time and fees added up and where to go, joint window first; a follow-up about one
step ("第二步要多久", "落户要带什么") answers that step; a service answered on its own that is a step of an
event offers the event.

Everything said is taken from the guides the event names (knowledge/life_events.py builds the plan); a step
whose guide is missing is listed by name and said to be missing, never linked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.compose import Citation, compose_guide_aspects
from assistant.conversation import SessionState
from indexing.index import KnowledgeIndex
from indexing.life_events import LifeEventIndex
from knowledge.life_events import EventPlan, PlannedStep, plan
from knowledge.models import FAQ, LifeEvent, ServiceGuide
from language.understanding import ParsedQuery, is_question_word

if TYPE_CHECKING:
    from assistant.service import Answer

SUMMARY_ASPECTS = ("materials", "time_limit", "fees", "location", "online")


class LifeEvents:
    def __init__(self, index: KnowledgeIndex, hotline: str = "12345") -> None:
        self.index = index
        self.hotline = hotline
        self.found = LifeEventIndex(index)

    def plan(self, event: LifeEvent) -> EventPlan:
        return plan(event, self.index.record, self.index.lexicon)

    # ---- answering ------------------------------------------------------------
    def answer(self, q: ParsedQuery, state: SessionState) -> Answer | None:
        """The event's answer to this turn, or None for the assistant's usual search."""
        followed = self._follow_up(q, state)
        if followed is not None:
            return followed
        match = self.found.find(q.text)
        if match is None or not match.asks_for_event:
            return None
        return self._whole(q, state, match.event)

    def _follow_up(self, q: ParsedQuery, state: SessionState) -> Answer | None:
        """A turn within the event talked about: a step by number or name, the whole event asked for again, or,
        with nothing named, the step (or the whole event) last answered. After an event was only offered, a step
        by number or the whole event."""
        event = self.found.get(state.event_id or state.offered_event)
        if event is None or state.options:
            return None  # a question of ours open: the reply picks among its options
        if not state.event_id:
            n = self.found.step_number(q.text)
            if n is not None:
                return self._step(q, state, event, n)
            # "还要办别的证吗" after a service the event was offered with: the whole event ("能一起办吗" after
            # 水电气过户 asks about that service)
            asks = self.found.asks_only_whole_chain(q.text) and self.found.asks_what_else(q.text)
            return self._whole(q, state, event) if asks else None
        named = self.found.steps_named(event, q.text)
        if len(named) == 1:
            return self._step(q, state, event, named[0])
        if len(named) > 1:
            return self._which_step(q, state, event, named)
        if self.found.asks_only_whole_chain(q.text):
            return self._whole(q, state, event)
        if any(len(w) >= 2 and not is_question_word(w) for w in q.content_words):
            return None          # something else named: the usual search (the event stays until it answers)
        if state.event_step:
            return self._step(q, state, event, state.event_step)
        return self._whole(q, state, event)

    def _whole(self, q: ParsedQuery, state: SessionState, event: LifeEvent) -> Answer:
        from assistant.service import Answer

        laid_out = self.plan(event)
        citations = self._citations(laid_out)
        cited = {c.record_id: c.n for c in citations}
        steps = [f"第{s.n}步 {s.title}" + (f"（适用：{s.condition}）" if s.condition else "")
                 + (f"[{cited[s.guide_id]}]" if s.guide_id in cited else "（该事项的办事指南暂缺）")
                 for s in laid_out.steps]
        parts = {
            "steps": [f"“{event.title}”共{len(steps)}步，按顺序办理：", *steps],
            "where": self._where(laid_out),
            "materials": ["材料清单（同一份材料只列一次，注明哪几步要用；标“带原件”的请带原件到场）：",
                          *(f"{i}. {item.name}：{'、'.join(item.forms)}{item.copies}份" + ("，带原件" if item.original else "")
                            + f"（第{'、'.join(map(str, item.steps))}步用）"
                            for i, item in enumerate(laid_out.checklist, 1))],
            "time_limit": [f"时限：{laid_out.total_time()}。"],
            "fees": [f"收费：{laid_out.total_fees()}。"],
        }
        first = {"materials": "materials", "time_limit": "time_limit", "fees": "fees",
                 "location": "where", "online": "where"}.get(q.aspect)
        order = ["steps", "where", "materials", "time_limit", "fees"]
        if first:
            order.remove(first)
            order.insert(0, first)
        lines = [line for key in order for line in parts[key]]
        if laid_out.missing:
            lines.append(self._missing_note(laid_out.missing))
        lines.append("问“第二步要多久”“落户要带什么”可以单独了解其中一步。")
        state.event_id, state.event_step, state.offered_event = event.id, 0, ""
        state.topic_id = state.topic_title = ""
        state.options, state.pending_aspect = [], "general"
        return Answer("", "", "answered", "\n".join(lines), citations=citations, aspect=q.aspect,
                      event={**laid_out.as_dict(), "role": "event"})

    def _which_step(self, q: ParsedQuery, state: SessionState, event: LifeEvent, steps: list[int]) -> Answer:
        """Steps the turn names equally are put to the citizen, each by its guide, as options a reply picks
        ("执照怎么办" in 开办餐饮店: 个体工商户 or 公司, one or the other)."""
        from assistant.service import Answer

        laid_out = self.plan(event)
        chosen = [laid_out.steps[n - 1] for n in steps if 1 <= n <= len(laid_out.steps)]
        chosen = [s for s in chosen if s.guide is not None]
        options = [{"n": i, "record_id": s.guide.id, "title": s.guide.title, "kind": s.guide.kind}
                   for i, s in enumerate(chosen, 1)]
        state.options, state.pending_aspect = options, q.aspect
        listing = "\n".join(f"{o['n']}. {s.title}" + (f"（适用：{s.condition}）" if s.condition else "")
                             for o, s in zip(options, chosen))
        return Answer("", "", "clarify", f"“{event.title}”中有几步都与此有关，请问您要办的是哪一项？请回复序号：\n{listing}",
                      options=options, aspect=q.aspect, event={**laid_out.as_dict(), "role": "event"})

    def _step(self, q: ParsedQuery, state: SessionState, event: LifeEvent, n: int) -> Answer:
        from assistant.service import Answer

        laid_out = self.plan(event)
        if not 1 <= n <= len(laid_out.steps):
            listing = "、".join(f"第{s.n}步 {s.title}" for s in laid_out.steps)
            return Answer("", "", "clarify", f"“{event.title}”共{len(laid_out.steps)}步：{listing}。请问您想了解哪一步？",
                          aspect=q.aspect, event={**laid_out.as_dict(), "role": "event"})
        step = laid_out.steps[n - 1]
        state.event_id, state.event_step, state.offered_event = event.id, n, ""
        state.options, state.pending_aspect = [], "general"
        head = f"这是“{event.title}”的第{n}步：{step.title}" + (f"（适用：{step.condition}）" if step.condition else "") + "。"
        if step.guide is None:
            state.topic_id = state.topic_title = ""
            return Answer("", "", "answered", "\n".join([head, self._missing_note([step])]), aspect=q.aspect,
                          event={**laid_out.as_dict(), "role": "step", "step": n})
        state.topic_id, state.topic_title = step.guide.id, step.guide.title
        asked = (q.aspect, *(a for a in q.aspects if a != q.aspect))
        text, section = compose_guide_aspects(step.guide, asked)
        following = [s.title for s in laid_out.steps[n:]]
        tail = f"\n接下来：{'、'.join(following)}。" if following else ""
        return Answer("", "", "answered", f"{head}\n{text} [1]{tail}",
                      citations=[Citation.of(1, step.guide, section, 1.0)], aspect=q.aspect,
                      event={**laid_out.as_dict(), "role": "step", "step": n})

    def offer(self, answer: Answer, q: ParsedQuery, state: SessionState) -> Answer:
        """A service answered on its own that is a step of an event: say which event, and what else it needs."""
        guide_id = self._guide_answered(answer)
        events = self.found.with_guide(guide_id) if guide_id else []
        current = self.found.get(state.event_id or state.offered_event)
        if current is not None and current not in events and answer.answered:
            state.event_id, state.event_step, state.offered_event = "", 0, ""
        if not events:
            return answer
        stated = self.found.find(q.text)
        event = next((e for e in events if current and e.id == current.id), None) or next(
            (e for e in events if stated and e.id == stated.event.id), events[0])
        laid_out = self.plan(event)
        n = next(s.n for s in laid_out.steps if s.guide_id == guide_id)
        # a step only some need says for whom ("办理公司营业执照" is the other choice to 个体工商户's)
        others = [s.title + (f"（适用：{s.condition}）" if s.condition else "") for s in laid_out.steps if s.n != n]
        if state.offered_event != event.id:      # said once a conversation, not after every follow-up
            # "四川户口能办居住证吗" may have nothing to do with a child starting school: say when it would
            told = (current is not None and current.id == event.id) or (stated is not None and stated.event.id == event.id)
            when = f"如果您是为“{event.situations[0]}”办理，" if event.situations and not told else ""
            answer.notices.append(f"{when}这是“{event.title}”的第{n}步，还需要：{'、'.join(others)}。"
                                  f"想一次看全部步骤和合并的材料清单，可以问“{event.title}要办哪些”。")
        answer.event = {**laid_out.as_dict(), "role": "offer", "step": n}
        state.event_id, state.event_step, state.offered_event = "", 0, event.id
        return answer

    # ---- parts ------------------------------------------------------------------
    def _guide_answered(self, answer: Answer) -> str:
        if not answer.answered or not answer.citations:
            return ""
        record = self.index.record(answer.citations[0].record_id)
        if isinstance(record, ServiceGuide):
            return record.id
        return record.related_guide if isinstance(record, FAQ) else ""

    @staticmethod
    def _citations(laid_out: EventPlan) -> list[Citation]:
        out: list[Citation] = []
        for step in laid_out.steps:
            if step.guide is not None and all(c.record_id != step.guide_id for c in out):
                out.append(Citation.of(len(out) + 1, step.guide, f"第{step.n}步", 1.0))
        return out

    @staticmethod
    def _where(laid_out: EventPlan) -> list[str]:
        event = laid_out.event
        lines = ["办理地点："]
        if event.joint_window:
            lines.append(f"联办窗口（建议先到这里，一次提交）：{event.joint_window}")
        if event.online:
            lines.append(f"网上办理：{event.online}")
        if not event.joint_window:
            lines += [f"第{s.n}步：{s.guide.location}" for s in laid_out.steps if s.guide and s.guide.location]
        return lines if len(lines) > 1 else []

    def _missing_note(self, missing: list[PlannedStep]) -> str:
        names = "、".join(f"第{s.n}步“{s.title}”" for s in missing)
        return (f"注意：{names}的办事指南暂缺，知识库无法给出它的材料和时限，"
                f"请到联办窗口或拨打政务服务便民热线 {self.hotline} 咨询。")
