"""A life event's answer as the interfaces show it: a compact step list for a phone (citizen chat, widget) and,
for the hotline, the merged checklist as lines to read out and copy. Built from the answer's `event` JSON
(knowledge/life_events.py `EventPlan.as_dict`), so every interface shows the same plan."""

from __future__ import annotations


def step_line(step: dict) -> str:
    """One step in a few words: its number, title, the condition it applies under and its promised time."""
    text = f"{step['n']}. {step['title']}"
    if step["condition"]:
        text += f"（{step['condition']}）"
    if step["missing"]:
        return text + "：办事指南暂缺"
    return text + (f"：{step['time']}" if step["time"] else "")


def checklist_lines(event: dict) -> list[str]:
    """The merged checklist, one document a line, as an agent reads it out: form, copies, original, steps."""
    return [f"{i}. {item['name']}（{'、'.join(item['forms'])}{item['copies']}份"
            + ("，带原件" if item["original"] else "") + f"，第{'、'.join(map(str, item['steps']))}步用）"
            for i, item in enumerate(event["checklist"], 1)]


def checklist_text(event: dict) -> str:
    """What the hotline's copy button puts on the clipboard: the event, its steps, then the checklist."""
    lines = [f"{event['title']}：", *(step_line(s) for s in event["steps"]), "合并材料清单：", *checklist_lines(event)]
    if event["joint_window"]:
        lines.append(f"联办窗口：{event['joint_window']}")
    return "\n".join(lines)


def hotline_card(event: dict | None) -> dict | None:
    """The hotline console's event view, for an answer about a whole event or one of its steps."""
    if not event:
        return None
    return {"id": event["id"], "title": event["title"], "role": event["role"], "step": event.get("step", 0),
            "steps": [step_line(s) for s in event["steps"]], "records": [s["record_id"] for s in event["steps"]],
            "missing": [s["n"] for s in event["steps"] if s["missing"]],
            "checklist_lines": checklist_lines(event), "text": checklist_text(event),
            "where": event["joint_window"], "online": event["online"],
            "total_time": event["total_time"], "total_fees": event["total_fees"]}
