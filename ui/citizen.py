"""The citizen chat (Gradio, served at "/"): Chinese throughout, citations that open the full record at the
cited section, clarification choices and example questions as buttons, 👍/👎 on every answer with thanks and
an optional comment, 🗑 and 开始新话题 both starting a new conversation, and a layout that fits a phone.

Question and answer text are escaped (HTML, then Markdown) before the chat renders them,
so what a citizen types always shows as the text typed. `/ui/chat.js` (loaded in the page head)
gives Gradio's English screen-reader names Chinese ones and brings each new answer into view from its start.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import gradio as gr

from language.question import EmptyQuestion
from assistant.service import Answer
from ui.backend import MAX_QUESTION_INPUT, Backend
from ui.call_script import item_lines

TITLE = "示例市政务服务 · 智能问答"
EXAMPLES = ["办护照要带什么材料？", "租房提取公积金需要什么条件", "新生儿怎么上户口", "失业金怎么领"]
NOT_INDEXED = "知识库还没有准备好，请稍后再试，或拨打政务服务便民热线 {hotline}。"
TOO_LONG = "问题太长（最多 {limit} 个字），请只写要咨询的事，例如：“办居住证要带什么材料？”"
THANKS = {True: "谢谢您的肯定！", False: "谢谢您的反馈，我们会据此改进。"}
HEAD = '<script src="/ui/chat.js" defer></script>'
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-!|~$>])")
_LIST_NUMBER = re.compile(r"(?m)^(\d+)\.")
_ADDRESS = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+"
                      r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# contrast ≥ 4.5:1 (WCAG 2.1 AA) for the subtitle, placeholder and buttons; 16 px text in inputs on a phone
# (smaller makes phones zoom in); the example questions look like the buttons they are
CSS = """
.gradio-container { max-width: 860px !important; margin: 0 auto; }
#govqa-header h1 { margin: 0.2em 0; font-size: 1.5em; }
#govqa-header p { margin: 0; color: #4b5563; font-size: 0.9em; }
#govqa-question textarea { font-size: 16px; }
#govqa-question textarea::placeholder, #govqa-comment textarea::placeholder { color: #6b7280; opacity: 1; }
#govqa-send { background: #1d4ed8; border-color: #1d4ed8; color: #fff; }
#govqa-send:hover { background: #1e40af; }
#govqa-new, #govqa-comment-send { font-size: 16px; color: #1f2937; }
#govqa-chat button.example { border: 1px solid #1d4ed8; border-radius: 18px; background: #eff6ff; color: #1e3a8a;
  padding: 6px 14px; cursor: pointer; }
#govqa-chat button.example:hover { background: #dbeafe; }
#govqa-chat .placeholder-content p { color: #374151; }
#govqa-thanks { padding: 4px 8px; }
#govqa-thanks p { margin: 0; color: #065f46; }
@media (max-width: 480px) { .gradio-container { padding: 4px !important; } #govqa-header h1 { font-size: 1.2em; } }
"""
THEME = gr.themes.Soft(primary_hue="blue",
                       font=["PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "system-ui", "sans-serif"],
                       font_mono=["ui-monospace", "monospace"])


def escape(text: str) -> str:
    """Text that Markdown-with-HTML renders exactly as written (numbered lines stay lines, not a list).

    Web and e-mail addresses become links written out in full: the chat's renderer links bare addresses by
    itself, and would then show the escapes inside them ("blue\\_whale") and link to a broken address."""
    out, last = [], 0
    for match in _ADDRESS.finditer(text):
        address = _trimmed(match.group(0))
        href = address if "://" in address else f"mailto:{address}" if "@" in address else f"http://{address}"
        out += [_escape_text(text[last:match.start()]), f"[{_escape_text(address)}](<{href}>)"]
        last = match.start() + len(address)
    return "".join(out) + _escape_text(text[last:])


def _escape_text(text: str) -> str:
    return _LIST_NUMBER.sub(r"\1\\.", _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False)))


def _trimmed(address: str) -> str:
    """An address without the punctuation that ends the sentence around it; a closing bracket stays when
    the address opened one ("…/a-b(1)")."""
    while address and address[-1] in ".,;:!?'\")]" and not (address[-1] == ")" and address.count("(") >= address.count(")")):
        address = address[:-1]
    return address


def cited_at(record_id: str, section: str) -> str:
    """The record page's address, opening at the cited section (record.js scrolls to it)."""
    return f"/records/{record_id}" + (f"#{quote(section)}" if section else "")


def render_answer(answer: Answer) -> dict:
    """The chat message for an answer: text, source links, notices; choices and near services as buttons."""
    event = answer.event if answer.event and answer.event["role"] == "event" and answer.answered else None
    if event is not None:
        return {"role": "assistant", "content": "\n\n".join([compact_event(event)] + [
            f"提示：{escape(n)}" for n in answer.notices])}
    parts = [escape("\n".join(item_lines(answer.answer)))]
    for c in answer.citations:
        label = " · ".join(p for p in (f"《{c.title}》", c.section, c.department,
                                       f"更新于 {c.updated}" if c.updated else "") if p)
        parts.append(f"出处 \\[{c.n}\\] [{escape(label)}]({cited_at(c.record_id, c.section)})")
    if answer.answered and answer.suggestions:
        parts.append("相关事项：" + "　".join(f"[{escape(s['title'])}](/records/{s['record_id']})"
                                          for s in answer.suggestions))
    parts += [f"提示：{escape(n)}" for n in answer.notices]
    message: dict = {"role": "assistant", "content": "\n\n".join(parts)}
    choices = answer.options if answer.decision == "clarify" else answer.suggestions if not answer.answered else []
    if choices:
        message["options"] = [{"value": c["title"], "label": c["title"]} for c in choices]
    return message


def compact_event(event: dict) -> str:
    """A life event for a phone: a short numbered step list, each step linked to its guide, the merged
    checklist one short line a document, the joint window and the totals."""
    lines = [f"**{escape(event['title'])}**（共{len(event['steps'])}步）"]
    for s in event["steps"]:
        title = escape(s["title"]) if s["missing"] else f"[{escape(s['title'])}](/records/{s['record_id']})"
        lines.append(f"{s['n']}\\. {title}" + (f"（{escape(s['condition'])}）" if s["condition"] else "")
                     + ("：办事指南暂缺" if s["missing"] else ""))
    lines.append(f"**合并材料清单**（{len(event['checklist'])}项，同一份只列一次）：")
    lines += [f"· {escape(m['name'])}（第{'、'.join(map(str, m['steps']))}步" + ("，带原件" if m["original"] else "") + "）"
              for m in event["checklist"]]
    if event["joint_window"]:
        lines.append(f"联办窗口：{escape(event['joint_window'])}")
    lines.append(escape(f"{event['total_time']}；{event['total_fees']}。"))
    return "  \n".join(lines)


def citizen_chat(backend: Backend) -> gr.Blocks:
    def respond(text: str, history: list, session: str | None, asked: dict) -> tuple:
        text = (text or "").strip()
        if not text:
            return "", history, session, asked
        if len(text) > MAX_QUESTION_INPUT:      # as /api/ask refuses it; neither answered nor echoed in full
            reply = {"role": "assistant", "content": escape(TOO_LONG.format(limit=MAX_QUESTION_INPUT))}
            return "", [*history, {"role": "user", "content": escape(text[:100] + "…")}, reply], session, asked
        history = [*history, {"role": "user", "content": escape(text)}]
        if not backend.indexed():
            reply = {"role": "assistant", "content": escape(NOT_INDEXED.format(hotline=backend.settings.hotline))}
            return "", [*history, reply], session, asked
        try:
            answer = backend.ask(text, session, "widget")
        except EmptyQuestion as exc:
            return "", [*history, {"role": "assistant", "content": escape(str(exc))}], session, asked
        history = [*history, render_answer(answer)]
        # which logged question each assistant message answers, for 👍/👎
        return "", history, answer.session_id, {**asked, str(len(history) - 1): answer.question_id}

    def choose(history: list, session: str | None, asked: dict, evt: gr.SelectData) -> tuple:
        value = evt.value.get("text", "") if isinstance(evt.value, dict) else str(evt.value)
        return respond(value, history, session, asked)

    def rate(asked: dict, evt: gr.LikeData) -> tuple:
        """Record 👍/👎, thank the citizen and offer a comment box (👎: why not; 👍: anything to add)."""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        question_id = asked.get(str(index))
        if not question_id or evt.liked not in (True, False):
            return None, gr.update(visible=False), gr.update()
        backend.log.feedback(question_id, helpful=evt.liked)
        return ({"question_id": question_id, "helpful": evt.liked}, gr.update(visible=True),
                gr.update(value=f"{THANKS[evt.liked]}愿意的话，可以再告诉我们哪里可以改进（选填）："))

    def comment(rated: dict | None, text: str) -> tuple:
        text = (text or "").strip()
        if rated and text:
            backend.log.feedback(rated["question_id"], rated["helpful"], text)
        return None, gr.update(visible=False), ""

    def new_conversation() -> tuple:
        """🗑 and 开始新话题: a new conversation, so "那要多少钱" is no longer about what was talked about."""
        return "", [], None, {}, None, gr.update(visible=False)

    with gr.Blocks(title=TITLE, fill_height=True) as chat:
        gr.Markdown(f"# {TITLE}\n回答均出自本市办事指南和政策文件，并注明出处（示例数据）。"
                    f"复杂问题请拨打政务服务便民热线 {backend.settings.hotline}。", elem_id="govqa-header")
        chatbot = gr.Chatbot(
            label="对话记录", show_label=False, elem_id="govqa-chat", scale=1, min_height=360, layout="bubble",
            placeholder="您好！请问要办什么事？可以问要带什么材料、怎么办理、在哪里办、多久办好、要不要钱。"
                        "也可以点下面的示例问题：",
            examples=[{"text": q} for q in EXAMPLES], feedback_options=("Like", "Dislike"), latex_delimiters=[],
            buttons=["copy"], autoscroll=False)
        session = gr.State(None)
        asked = gr.State({})
        rated = gr.State(None)
        with gr.Group(visible=False, elem_id="govqa-feedback") as feedback:
            thanks = gr.Markdown(elem_id="govqa-thanks")
            with gr.Row(equal_height=True):
                note = gr.Textbox(label="您的意见（选填）", show_label=False, lines=1, max_lines=3, scale=5,
                                  placeholder="例如：没说清楚要几张照片", elem_id="govqa-comment")
                note_send = gr.Button("提交意见", scale=1, min_width=96, elem_id="govqa-comment-send")
        with gr.Row(equal_height=True):
            box = gr.Textbox(label="请输入您的问题", placeholder="请输入您的问题，例如：办居住证要带什么材料？",
                             show_label=False, lines=1, max_lines=4, scale=5, elem_id="govqa-question", autofocus=True)
            send = gr.Button("发送", variant="primary", scale=1, min_width=72, elem_id="govqa-send")
        restart = gr.Button("开始新话题", size="sm", variant="secondary", elem_id="govqa-new")

        outputs = [box, chatbot, session, asked]
        box.submit(respond, [box, chatbot, session, asked], outputs)
        send.click(respond, [box, chatbot, session, asked], outputs)
        chatbot.option_select(choose, [chatbot, session, asked], outputs)
        chatbot.example_select(choose, [chatbot, session, asked], outputs)
        chatbot.like(rate, [asked], [rated, feedback, thanks])
        note.submit(comment, [rated, note], [rated, feedback, note])
        note_send.click(comment, [rated, note], [rated, feedback, note])
        chatbot.clear(new_conversation, None, [*outputs, rated, feedback])
        restart.click(new_conversation, None, [*outputs, rated, feedback])
    return chat
