"use strict";
// The hotline console: one question in, everything the operator reads out, checks or records during the call out.
const KINDS = {guide: "办事指南", policy: "政策文件", faq: "常见问题"};
const OUTCOMES = {resolved: "已解答", transferred: "已转办", unanswered: "未解答"};
const BANDS = {high: "高", medium: "中", low: "低"};
let session = null;
let calls = [];       // this call's questions: {question, data, outcome}
let shown = -1;       // which of them is on screen
let materialsText = "";
let eventText = "";     // the life event on screen, as the copy button puts it
const $ = (id) => document.getElementById(id);

async function ask(question) {
  question = question.trim();
  if (!question) return;
  $("status").textContent = "查询中……";
  try {
    const data = await api("POST", "/api/agent/ask", {question, session_id: session});
    session = data.answer.session_id;
    calls.push({question, data, outcome: ""});
    show(calls.length - 1);
    $("question").value = "";
    $("status").textContent = "用时 " + Math.round(data.answer.latency_ms) + " 毫秒。" + data.decision + "。";
  } catch (e) {
    $("status").textContent = e.message;
  }
}

function show(n) {
  shown = n;
  const {data} = calls[n];
  const answer = data.answer;
  $("script-card").hidden = false;
  $("decision").textContent = data.decision;
  $("decision").className = "badge " + answer.decision;
  $("script").replaceChildren(...data.script_lines.map((line) => el("p", {}, line)));
  const t = data.transfer;
  $("transfer").hidden = !t;
  if (t) {
    $("transfer").replaceChildren(el("strong", {}, answer.decision === "refused" ? "建议转办：" : "负责部门："),
      t.department + "　转接电话 ", el("strong", {}, t.phone), t.hours ? "（" + t.hours + "）" : "",
      el("span", {class: "muted"}, "　依据：" + t.reason));
  }
  $("citation").replaceChildren(...answer.citations.map((c) => el("span", {},
    "出处：", recordLink(c.record_id, "《" + c.title + "》", c.section), " " + [c.section, c.department, c.updated && ("更新于 " + c.updated)].filter(Boolean).join(" · "))));
  $("choices").replaceChildren(...answer.options.map((o) =>
    el("button", {type: "button", onclick: () => ask(o.title)}, o.n + ". " + o.title)));
  $("notices").replaceChildren(...answer.notices.map((n) => el("p", {class: "notice"}, n)));

  $("related-card").hidden = !data.related.length;
  $("related").replaceChildren(...data.related.map((r) =>
    el("button", {type: "button", title: KINDS[r.kind], onclick: () => ask(r.title)}, r.title)));

  $("sources-card").hidden = !data.sources.length;
  $("sources").replaceChildren(...data.sources.map((s) => el("li", {},
    el("div", {class: "source-head"}, recordLink(s.record_id, s.title), el("span", {class: "badge"}, KINDS[s.kind]),
      el("span", {class: "band " + s.band, title: s.band_label}, "匹配度" + BANDS[s.band])),
    s.passages.map((p) => el("blockquote", {}, el("span", {class: "section"}, p.section), markedText(p.text, p.marks))))));

  renderGuide(data.guide);
  renderEvent(data.event);
  renderOutcome(calls[n]);
  renderCalls();
}

function renderGuide(guide) {
  $("guide-card").hidden = !guide;
  if (!guide) return;
  $("guide-name").replaceChildren(recordLink(guide.record_id, guide.name));
  $("guide-meta").textContent = [guide.department, guide.transfer_phone && ("转接电话 " + guide.transfer_phone),
    guide.updated && ("更新于 " + guide.updated)].filter(Boolean).join(" · ");
  $("materials").replaceChildren(...guide.materials.map((m) => el("li", {},
    el("label", {}, el("input", {type: "checkbox"}), el("strong", {}, m.name), "（" + m.form + m.copies + "份）",
      m.notes ? el("span", {class: "muted"}, "：" + m.notes) : null))));
  const facts = [["办理时限", guide.time_limit], ["收费标准", guide.fees], ["办理地点", guide.location],
    ["咨询电话", guide.phone], ["网上办理", guide.online]].filter(([, v]) => v);
  $("facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  materialsText = guide.name + " 申请材料：\n" + guide.materials.map((m, i) =>
    (i + 1) + ". " + m.name + "（" + m.form + m.copies + "份）" + (m.notes ? "：" + m.notes : "")).join("\n");
}

// A life event (一件事): its steps and the merged checklist to read out, copied in one go.
function renderEvent(event) {
  $("event-card").hidden = !event;
  if (!event) return;
  $("event-name").textContent = event.title;
  $("event-meta").textContent = [event.where && ("联办窗口：" + event.where), event.total_time, event.total_fees]
    .filter(Boolean).join(" · ");
  $("event-steps").replaceChildren(...event.steps.map((line, i) => {
    const text = line.replace(/^\d+\. /, "");    // the list numbers the steps
    return el("li", {class: event.step === i + 1 ? "current" : ""},
      event.missing.includes(i + 1) ? text : recordLink(event.records[i], text));
  }));
  $("event-checklist").replaceChildren(...event.checklist_lines.map((line) =>
    el("li", {}, el("label", {}, el("input", {type: "checkbox"}), line.replace(/^\d+\. /, "")))));
  eventText = event.text;
}

// The work-order fields of the question on screen; a saved outcome is shown as saved.
function renderOutcome(entry) {
  const {data} = entry;
  const fallback = data.answer.decision === "answered" ? "resolved" : data.answer.decision === "refused" ? (data.transfer ? "transferred" : "unanswered") : "";
  const outcome = entry.outcome || fallback;
  document.querySelectorAll("input[name=outcome]").forEach((r) => { r.checked = r.value === outcome; });
  const department = entry.department !== undefined ? entry.department
    : (outcome === "transferred" && data.transfer ? data.transfer.department : "");
  if (department && ![...$("outcome-department").options].some((o) => o.value === department)) {
    $("outcome-department").append(el("option", {value: department}, department));
  }
  $("outcome-department").value = department;
  $("outcome-notes").value = entry.notes || "";
  $("outcome-status").textContent = entry.outcome ? "已保存：" + OUTCOMES[entry.outcome] : "";
  $("outcome-card").hidden = false;
}

function renderCalls() {
  $("calls-card").hidden = !calls.length;
  $("calls").replaceChildren(...calls.map((c, i) => el("li", {class: i === shown ? "current" : ""},
    el("button", {type: "button", class: "link", "aria-current": i === shown ? "true" : false,
      onclick: () => show(i)}, c.question),
    " ", el("span", {class: "badge " + c.data.answer.decision}, c.data.decision),
    c.outcome ? el("span", {class: "badge outcome"}, OUTCOMES[c.outcome]) : null)));
}

async function saveOutcome(event) {
  event.preventDefault();
  const entry = calls[shown];
  const chosen = document.querySelector("input[name=outcome]:checked");
  if (!entry || !chosen) {
    $("outcome-status").textContent = "请先选择处理结果（已解答、已转办或未解答）";
    return;
  }
  const body = {question_id: entry.data.answer.question_id, outcome: chosen.value,
    department: $("outcome-department").value, notes: $("outcome-notes").value};
  try {
    await api("POST", "/api/agent/outcome", body);
    Object.assign(entry, {outcome: body.outcome, department: body.department, notes: body.notes});
    $("outcome-status").textContent = "已保存：" + OUTCOMES[body.outcome] + (body.department ? " → " + body.department : "") +
      (body.outcome === "resolved" ? "" : "（已计入编辑台的需求信号）");
    renderCalls();
  } catch (e) {
    $("outcome-status").textContent = e.message;
  }
}

async function loadDirectory() {
  const data = await api("GET", "/api/agent/directory");
  $("outcome-department").replaceChildren(el("option", {value: ""}, "（不转办）"),
    ...data.departments.map((d) => el("option", {value: d.name}, d.name + "　" + d.phone)));
}

async function copyAndSay(button, text, what) {
  const ok = await copyText(text);
  const lines = text.split("\n").filter(Boolean).length;
  $("status").textContent = ok ? "已复制" + what + "（" + lines + " 行），可直接粘贴。" : "复制失败，请手动选中文字复制。";
  flash(button, ok ? "已复制 ✓" : "复制失败");
}

$("ask-form").addEventListener("submit", (event) => {
  event.preventDefault();
  ask($("question").value);
});
$("new-call").addEventListener("click", () => {
  session = null;
  calls = [];
  shown = -1;
  $("question").value = "";
  for (const id of ["script-card", "outcome-card", "related-card", "sources-card", "guide-card", "event-card", "calls-card"]) $(id).hidden = true;
  $("status").textContent = "已开始新来电，上一通来电的上下文已清除。";
  $("question").focus();
});
$("outcome-form").addEventListener("submit", saveOutcome);
$("copy-script").addEventListener("click", (e) => copyAndSay(e.currentTarget, calls[shown].data.script, "话术"));
$("copy-event").addEventListener("click", (e) => copyAndSay(e.currentTarget, eventText, "一件事清单"));
$("copy-materials").addEventListener("click", (e) => copyAndSay(e.currentTarget, materialsText, "材料清单"));
showUser($("user"));
loadDirectory().catch((e) => { $("status").textContent = e.message; });
