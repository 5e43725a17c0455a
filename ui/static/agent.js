"use strict";
// The hotline console: one question in, everything the operator reads or checks during the call out.
const KINDS = {guide: "办事指南", policy: "政策文件", faq: "常见问题"};
const DECISIONS = {answered: "可答复", clarify: "需确认", refused: "无依据，请转人工"};
let session = null;
let materialsText = "";
const $ = (id) => document.getElementById(id);

async function ask(question) {
  question = question.trim();
  if (!question) return;
  $("status").textContent = "查询中……";
  try {
    const data = await api("POST", "/api/agent/ask", {question, session_id: session});
    session = data.answer.session_id;
    render(question, data);
    $("status").textContent = "用时 " + Math.round(data.answer.latency_ms) + " 毫秒";
  } catch (e) {
    $("status").textContent = e.message;
  }
}

function render(question, data) {
  const answer = data.answer;
  $("script-card").hidden = false;
  $("decision").textContent = DECISIONS[answer.decision] || answer.decision;
  $("decision").className = "badge " + answer.decision;
  $("script").textContent = data.script;
  $("citation").replaceChildren(...answer.citations.map((c) => el("span", {},
    "出处：", recordLink(c.record_id, "《" + c.title + "》"), " " + [c.section, c.department, c.updated && ("更新于 " + c.updated)].filter(Boolean).join(" · "))));
  $("choices").replaceChildren(...answer.options.map((o) =>
    el("button", {type: "button", onclick: () => ask(o.title)}, o.n + ". " + o.title)));
  $("notices").replaceChildren(...answer.notices.map((n) => el("p", {class: "notice"}, n)));

  $("related-card").hidden = !data.related.length;
  $("related").replaceChildren(...data.related.map((r) =>
    el("button", {type: "button", title: KINDS[r.kind], onclick: () => ask(r.title)}, r.title)));

  $("sources-card").hidden = !data.sources.length;
  $("sources").replaceChildren(...data.sources.map((s) => el("li", {},
    el("div", {class: "source-head"}, recordLink(s.record_id, s.title), el("span", {class: "badge"}, KINDS[s.kind]), scoreBar(s.score)),
    s.passages.map((p) => el("blockquote", {}, el("span", {class: "section"}, p.section), markedText(p.text, p.marks))))));

  renderGuide(data.guide);
}

function renderGuide(guide) {
  $("guide-card").hidden = !guide;
  if (!guide) return;
  $("guide-name").replaceChildren(recordLink(guide.record_id, guide.name));
  $("guide-meta").textContent = [guide.department, guide.updated && ("更新于 " + guide.updated)].filter(Boolean).join(" · ");
  $("materials").replaceChildren(...guide.materials.map((m, i) => el("li", {},
    el("label", {}, el("input", {type: "checkbox"}), el("strong", {}, m.name), "（" + m.form + m.copies + "份）",
      m.notes ? el("span", {class: "muted"}, "：" + m.notes) : null))));
  const facts = [["办理时限", guide.time_limit], ["收费标准", guide.fees], ["办理地点", guide.location],
    ["咨询电话", guide.phone], ["网上办理", guide.online]].filter(([, v]) => v);
  $("facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  materialsText = guide.name + " 申请材料：\n" + guide.materials.map((m, i) =>
    (i + 1) + ". " + m.name + "（" + m.form + m.copies + "份）" + (m.notes ? "：" + m.notes : "")).join("\n");
}

$("ask-form").addEventListener("submit", (event) => {
  event.preventDefault();
  ask($("question").value);
});
$("new-call").addEventListener("click", () => {
  session = null;
  $("question").value = "";
  for (const id of ["script-card", "related-card", "sources-card", "guide-card"]) $(id).hidden = true;
  $("status").textContent = "已开始新来电。";
  $("question").focus();
});
$("copy-script").addEventListener("click", async (e) => flash(e.target, await copyText($("script").textContent) ? "已复制" : "复制失败"));
$("copy-materials").addEventListener("click", async (e) => flash(e.target, await copyText(materialsText) ? "已复制" : "复制失败"));
showUser($("user"));
