"use strict";
// The editor console's version history of the open record (editor.js's `current`): every version with
// when, who and what, a line diff of a chosen version against the record as it is now, and restoring it.
const CONTEXT = 3;   // unchanged lines kept around each change; longer unchanged runs are folded
let historyShown = null;  // the version whose diff is on screen

// A record's fields as indented "key: value" lines, so a line diff shows which field changed.
function recordLines(value, indent = "") {
  const nested = (v) => v !== null && typeof v === "object";
  const scalar = (v) => (v === null || v === undefined ? "" : String(v)).split("\n");
  if (Array.isArray(value)) {
    return value.flatMap((v) => nested(v)
      ? [indent + "-", ...recordLines(v, indent + "  ")]
      : scalar(v).map((line, i) => indent + (i ? "  " : "- ") + line));
  }
  return Object.entries(value).flatMap(([key, v]) => nested(v)
    ? [indent + key + ":", ...recordLines(v, indent + "  ")]
    : scalar(v).map((line, i) => indent + (i ? "  " : key + ": ") + line));
}

// Longest-common-subsequence line diff: [{op: " " | "-" | "+", line}], old lines first at each change.
function lineDiff(before, after) {
  const n = before.length, m = after.length;
  const common = Array.from({length: n + 1}, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      common[i][j] = before[i] === after[j] ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
    }
  }
  const out = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j]) { out.push({op: " ", line: before[i]}); i++; j++; }
    else if (i < n && (j === m || common[i + 1][j] >= common[i][j + 1])) out.push({op: "-", line: before[i++]});
    else out.push({op: "+", line: after[j++]});
  }
  return out;
}

function renderDiff(ops) {
  const near = ops.map((_, k) => ops.slice(Math.max(0, k - CONTEXT), k + CONTEXT + 1).some((o) => o.op !== " "));
  const nodes = [];
  let folded = 0;
  const fold = () => { if (folded) nodes.push(el("span", {class: "fold"}, "  …… " + folded + " 行未变 ……\n")); folded = 0; };
  ops.forEach((o, k) => {
    if (!near[k]) { folded++; return; }
    fold();
    nodes.push(el("span", {class: {"-": "del", "+": "ins", " ": "same"}[o.op]}, o.op + " " + o.line + "\n"));
  });
  fold();
  $("history-diff").replaceChildren(...nodes);
}

async function showVersion(v) {
  historyShown = v;
  document.querySelectorAll("#history-versions tr").forEach((tr) => tr.classList.toggle("chosen", tr.dataset.version === String(v.version)));
  $("history-title").textContent = "版本 " + v.version + "（" + v.action_name + "，" + (v.author || "未知") + "，" + v.time + "）";
  $("history-detail").hidden = false;
  $("history-restore").hidden = true;
  $("history-diff").replaceChildren(el("span", {class: "muted"}, "正在比较……"));
  try {
    const [old, now] = await Promise.all([
      api("GET", "/api/editor/records/" + encodeURIComponent(current.id) + "/history/" + v.version),
      api("GET", "/api/editor/records/" + encodeURIComponent(current.id))]);
    if (!old.record) {
      $("history-diff").replaceChildren(el("span", {class: "muted"}, "该版本中这条记录已被删除，如需删除请使用“删除”按钮。"));
      return;
    }
    const ops = lineDiff(recordLines(old.record), recordLines(now.record));
    if (ops.every((o) => o.op === " ")) {
      $("history-diff").replaceChildren(el("span", {class: "muted"}, "该版本与当前内容相同。"));
      return;
    }
    renderDiff(ops);
    $("history-restore").hidden = false;
  } catch (e) {
    $("history-diff").replaceChildren(el("span", {class: "error"}, e.message));
  }
}

async function openHistory(scroll) {
  $("history-panel").hidden = false;
  $("history-detail").hidden = true;
  $("history-status").textContent = "正在读取……";
  $("history-versions").replaceChildren();
  try {
    const data = await api("GET", "/api/editor/records/" + encodeURIComponent(current.id) + "/history");
    $("history-status").textContent = "共 " + data.versions.length + " 个版本，最新在前；点击一个版本查看它与当前内容的差别。";
    $("history-versions").replaceChildren(...data.versions.slice().reverse().map((v) =>
      el("tr", {"data-version": String(v.version), tabindex: 0, onclick: () => showVersion(v),
                onkeydown: (e) => { if (e.key === "Enter") showVersion(v); }},
        el("td", {class: "num"}, v.version), el("td", {}, v.time), el("td", {}, v.author || "未知"),
        el("td", {}, v.action_name))));
  } catch (e) {
    $("history-status").textContent = e.status === 404 ? "这条记录还没有修改历史。" : e.message;
  }
  if (scroll) $("history-panel").scrollIntoView({block: "start"});
}

async function restoreVersion() {
  const v = historyShown;
  if (!v || !confirm("确定把记录 " + current.id + " 恢复为版本 " + v.version + "？当前内容会作为历史版本保留。")) return;
  $("history-restore").disabled = true;
  try {
    await api("POST", "/api/editor/records/" + encodeURIComponent(current.id) + "/history/" + v.version + "/restore");
    await openRecord(current.id);
    $("form-message").replaceChildren(el("p", {class: "ok"}, "已恢复为版本 " + v.version + "，并已重新索引。"));
    loadList();
    await openHistory(true);
  } catch (e) {
    $("history-diff").replaceChildren(el("span", {class: "error"}, e.message));
  } finally {
    $("history-restore").disabled = false;
  }
}

// Called by editor.js whenever another record (or a new one) fills the form.
function hideHistory() {
  historyShown = null;
  $("history-panel").hidden = true;
  $("history-open").hidden = !(current && current.id);
}

// Called by editor.js after a save: the saved record has history now, and an open list gains a version.
function historyChanged() {
  if ($("history-panel").hidden) hideHistory();
  else openHistory(false);
}

$("history-open").addEventListener("click", () => openHistory(true));
$("history-close").addEventListener("click", hideHistory);
$("history-restore").addEventListener("click", restoreVersion);
