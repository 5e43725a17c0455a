"use strict";
// The editor console: find records, edit them in forms generated from the record models' JSON schema,
// save (the server validates, writes the file and re-indexes the record), and read the demand signals.
// The open record's version history is history.js.
const $ = (id) => document.getElementById(id);
const KINDS = {guide: "办事指南", policy: "政策文件", faq: "常见问题", event: "一件事"};
const LONG = new Set(["说明", "答案", "text", "办理对象", "办理地点与时间", "收费标准", "网上办理入口", "备注", "联办窗口", "网上入口"]);
const SUB_LABELS = {heading: "条目（如 第一章 总则 第一条）", text: "内容"};
const DECISIONS = {refused: "拒答", clarify: "需确认"};
let schemas = null;
let current = null;   // {kind, id (null while new), hash}
let form = null;      // the root widget: {node, read()}
let slots = {};       // field path → its element, for validation messages
let guides = [];      // {id, title} of every guide, for a FAQ's 关联事项 picker

function resolve(schema, defs) {
  if (schema.$ref) return defs[schema.$ref.split("/").pop()];
  if (schema.anyOf) return {...schema.anyOf.find((s) => s.type !== "null"), nullable: true};
  return schema;
}

function field(path, label, required, control, hint) {
  const slot = el("div", {class: "field", "data-path": path},
    el("label", {}, el("span", {class: "label"}, label, required ? el("span", {class: "req"}, " *") : null), control),
    hint ? el("span", {class: "hint"}, hint) : null);
  slots[path] = slot;
  return slot;
}

// One widget per schema node; read() returns the value to send.
function widget(schema, defs, value, path, label, required) {
  const s = resolve(schema, defs);
  const name = path.split(".").pop();
  if (s.type === "array") {
    const item = resolve(s.items, defs);
    if (item.type === "string") {
      const area = el("textarea", {rows: Math.max(2, Math.min(8, (value || []).length + 1))});
      area.value = (value || []).join("\n");
      return {node: field(path, label, required, area, "每行一项"),
              read: () => area.value.split("\n").map((x) => x.trim()).filter(Boolean)};
    }
    return rows(item, defs, value || [], path, label);
  }
  if (s.type === "object") {
    const parts = Object.entries(s.properties).map(([key, sub]) =>
      [key, widget(sub, defs, (value || {})[key], path + "." + key, SUB_LABELS[key] || key, (s.required || []).includes(key))]);
    const node = el("fieldset", {class: "group"}, el("legend", {}, label), parts.map(([, w]) => w.node));
    slots[path] = node;
    return {node, read: () => Object.fromEntries(parts.map(([k, w]) => [k, w.read()]))};
  }
  let control;
  if (name === "关联事项" || name === "事项") {   // a FAQ's guide, a life event's step
    control = guidePicker(value);
  } else if (s.enum) {
    control = el("select", {}, el("option", {value: ""}, "请选择"), s.enum.map((v) => el("option", {value: v}, v)));
    control.value = value || "";
  } else if (s.type === "integer") {
    control = el("input", {type: "number", min: s.minimum, step: 1, class: "short"});
    control.value = value === undefined || value === null ? "" : value;
  } else if (s.format === "date") {
    control = el("input", {type: "date", class: "short"});
    control.value = value || "";
  } else if (LONG.has(name)) {
    control = el("textarea", {rows: 3});
    control.value = value || "";
  } else {
    control = el("input", {type: "text"});
    control.value = value || "";
  }
  control.name = path;
  const read = () => {
    const v = control.value;
    if (s.type === "integer") return v === "" || !/^\d+$/.test(v) ? v : Number(v);
    if (s.format === "date" && v === "") return s.nullable ? null : "";
    return v;
  };
  return {node: field(path, label, required, control), read};
}

// A FAQ's 关联事项: a choice among the knowledge base's guides by name, not an id typed from memory.
function guidePicker(value) {
  const control = el("select", {}, el("option", {value: ""}, "（不关联办事指南）"),
    guides.map((g) => el("option", {value: g.id}, g.title + "（" + g.id + "）")));
  if (value && !guides.some((g) => g.id === value)) {
    control.append(el("option", {value}, value + "（知识库中没有这条办事指南，请重新选择）"));
  }
  control.value = value || "";
  return control;
}

async function loadGuides() {
  const data = await api("GET", "/api/editor/records?" + new URLSearchParams({kind: "guide"}));
  guides = data.records.map((r) => ({id: r.id, title: r.title}));
}

// A list of objects (申请材料, 正文): one row each, with add and remove.
function rows(item, defs, values, path, label) {
  const list = el("div", {class: "rows"});
  const node = el("fieldset", {class: "group"}, el("legend", {}, label), list);
  slots[path] = node;
  let items = [];
  const render = (vals) => {
    items = vals.map((v, i) => widget(item, defs, v, path + "." + i, "第 " + (i + 1) + " 项", false));
    list.replaceChildren(...items.map((w, i) => el("div", {class: "row"}, w.node,
      el("button", {type: "button", class: "small", onclick: () => render(read().filter((_, j) => j !== i))}, "删除此项"))),
      el("button", {type: "button", class: "small", onclick: () => render([...read(), {}])}, "添加一项"));
  };
  const read = () => items.map((w) => w.read());
  render(values);
  return {node, read};
}

function showForm(kind, record, meta) {
  const schema = schemas[kind];
  slots = {};
  const props = Object.entries(schema.properties);
  const parts = props.map(([key, sub]) => {
    if (key === "id" && current.id) {
      return [key, {node: field("id", "id", true, el("code", {}, record.id), "id 发布后不可修改"), read: () => record.id}];
    }
    return [key, widget(sub, schema.$defs || {}, record[key], key, key, (schema.required || []).includes(key))];
  });
  form = {read: () => Object.fromEntries(parts.map(([k, w]) => [k, w.read()]))};
  $("fields").replaceChildren(...parts.map(([, w]) => w.node));
  $("form-title").textContent = (current.id ? "编辑" : "新增") + KINDS[kind] + (current.id ? "：" + (record["事项名称"] || record["标题"] || record["问题"] || "") : "");
  $("form-source").textContent = meta || "";
  $("form-message").replaceChildren();
  $("delete").hidden = !current.id;
  hideHistory();
  $("save").disabled = false;
  $("empty").hidden = true;
  $("record-form").hidden = false;
}

function showProblems(error) {
  document.querySelectorAll(".field-error").forEach((n) => n.remove());
  document.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
  const items = error.problems.map((p) => {
    let path = p.field;
    while (path && !slots[path]) path = path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "";
    if (slots[path]) {
      slots[path].classList.add("invalid");
      slots[path].append(el("p", {class: "error field-error"}, p.message));
    }
    return el("li", {}, (p.field || "记录") + "：" + p.message);
  });
  $("form-message").replaceChildren(el("div", {}, el("p", {class: "error"}, error.message),
    items.length ? el("ul", {class: "error"}, items) : null));
  const first = document.querySelector(".invalid");
  if (first) first.scrollIntoView({block: "center"});
}

async function openRecord(id) {
  pendingDemand = null;
  try {
    const data = await api("GET", "/api/editor/records/" + encodeURIComponent(id));
    current = {kind: data.kind, id, hash: data.hash};
    showForm(data.kind, data.record, "文件：" + data.source);
    if (!data.editable) {
      $("save").disabled = true;
      $("form-message").replaceChildren(el("p", {class: "error"}, "这条记录来自 " + data.source + "，不能在线编辑，请修改原文件后重新导入。"));
    }
  } catch (e) {
    $("form-message").replaceChildren(el("p", {class: "error"}, e.message));
  }
}

// A new record; `values` pre-fills it (a FAQ written for a question of the demand view).
function newRecord(kind, values) {
  current = {kind, id: null, hash: null};
  const today = new Date().toISOString().slice(0, 10);
  showForm(kind, {...(kind === "policy" ? {} : {"更新日期": today}), ...(values || {})},
    "新记录会写入 " + (kind === "faq" ? "其关联事项的问答表格" : ({guide: "guides", policy: "policies", event: "events"}[kind]) + "/<id>.md"));
  const first = document.querySelector("#fields input:not([type=hidden]), #fields textarea, #fields select");
  if (first) first.focus();
}

// Other records that still state a value the save changed, each opening in the form.
function staleWarning(stale) {
  return el("div", {class: "stale"}, stale.map((s) => [
    el("p", {}, el("strong", {}, "请核对："), "您把" + s.field + "里的" + s.kind + "“" + s.old + "”" +
      (s.new ? "改成了“" + s.new + "”" : "删去了") + "，下面 " + s.records.length + " 条记录还写着“" + s.old + "”，市民可能仍被告知旧值："),
    el("ul", {}, s.records.map((r) => el("li", {},
      el("button", {type: "button", class: "link", onclick: () => openRecord(r.id)}, r.kind_name + "《" + r.title + "》"),
      "　" + r.field + "：" + r.snippet)))]));
}

async function save(event) {
  event.preventDefault();
  $("save").disabled = true;
  $("form-message").replaceChildren(el("p", {class: "muted"}, "正在保存……"));
  const fields = form.read();
  try {
    const result = current.id
      ? await api("PUT", "/api/editor/records/" + encodeURIComponent(current.id), {kind: current.kind, fields, base_hash: current.hash})
      : await api("POST", "/api/editor/records", {kind: current.kind, fields});
    current.id = result.id;
    current.hash = result.hash;
    const forDemand = pendingDemand && current.kind === "faq" ? pendingDemand : null;
    pendingDemand = null;
    document.querySelectorAll(".field-error").forEach((n) => n.remove());
    document.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
    const dateInput = document.querySelector("[name='更新日期']");
    if (dateInput && result.updated) dateInput.value = result.updated;
    $("form-message").replaceChildren(el("p", {class: "ok"},
      "已保存到 " + result.source + "，并已重新索引（嵌入 " + result.index.chunks_embedded + " 个片段），新问题立即按新内容回答。" +
      (result.updated ? "更新日期为 " + result.updated + "。" : "")),
      result.stale.length ? staleWarning(result.stale) : "");
    if (forDemand) {
      await resolveDemand(forDemand, result.id);
      $("form-message").append(el("p", {class: "ok"}, "需求信号“" + forDemand.question + "”已标记为由这条 FAQ 解决。"));
    }
    $("delete").hidden = false;
    historyChanged();
    $("form-source").textContent = "文件：" + result.source;
    loadList();
    if (current.kind === "guide") loadGuides();
  } catch (e) {
    showProblems(e);
  } finally {
    $("save").disabled = false;
  }
}

async function removeRecord() {
  if (!current.id || !confirm("确定删除记录 " + current.id + "？删除后市民将无法再查到它。")) return;
  try {
    const result = await api("DELETE", "/api/editor/records/" + encodeURIComponent(current.id));
    $("record-form").hidden = true;
    $("empty").hidden = false;
    $("empty").textContent = "已删除 " + result.id + "（" + result.source + "）。";
    loadList();
  } catch (e) {
    showProblems(e);
  }
}

async function loadList() {
  const params = new URLSearchParams({q: $("search").value, kind: $("kind").value});
  const data = await api("GET", "/api/editor/records?" + params);
  $("count").textContent = "共 " + data.records.length + " 条";
  $("records").replaceChildren(...data.records.map((r) => el("li", {},
    el("button", {type: "button", class: "record", onclick: () => openRecord(r.id)},
      el("span", {class: "title"}, r.title),
      el("span", {class: "meta"}, el("span", {class: "badge"}, r.kind_name), " " + r.id + (r.updated ? " · " + r.updated : ""),
        r.indexed ? null : el("span", {class: "badge warn", title: "文件内容与索引不一致，保存一次或运行 govqa index"}, "未索引"))))));
  $("file-problems").hidden = !data.problems.length;
  $("problems").replaceChildren(...data.problems.map((p) => el("li", {class: "error"}, p)));
}

// The demand view: each item says what was asked (about which service), what the citizen was told, and offers
// writing the FAQ that answers it; an item written for, or answered since, leaves the list.
let pendingDemand = null;   // the demand item a new FAQ is being written for

function demandState(s) {
  const badges = [];
  if (s.decision !== "answered") badges.push(el("span", {class: "badge " + s.decision}, DECISIONS[s.decision] || s.decision));
  if (s.unhelpful) badges.push(el("span", {class: "badge warn"}, "被点踩 " + s.unhelpful));
  if (s.transferred) badges.push(el("span", {class: "badge clarify"}, "坐席转办 " + s.transferred));
  if (s.unanswered) badges.push(el("span", {class: "badge refused"}, "坐席未解答 " + s.unanswered));
  return badges;
}

function demandRow(s) {
  const given = s.answer ? el("details", {}, el("summary", {}, "查看回答"),
    el("p", {class: "pre small"}, s.answer),
    s.record_id ? el("p", {}, "出处：", recordLink(s.record_id, s.record_id)) : null) : el("span", {class: "muted"}, "—");
  return el("tr", {"data-key": s.key},
    el("td", {}, s.question,
      s.comments.length ? el("div", {class: "small"}, "市民留言：" + s.comments.join("；")) : null,
      s.notes.length ? el("div", {class: "small"}, "坐席记录：" + s.notes.join("；")) : null),
    el("td", {}, s.service ? recordLink(s.service.id, s.service.title)
      : s.asked_after.length ? el("span", {}, "此前在问：", s.asked_after.map((a, i) => [i ? "、" : "", recordLink(a.id, a.title)]))
        : el("span", {class: "muted"}, "未涉及现有事项")),
    el("td", {}, demandState(s)),
    el("td", {class: "num"}, s.count),
    el("td", {}, new Date(s.last_seen * 1000).toLocaleString("zh-CN")),
    el("td", {}, given),
    el("td", {class: "next"},
      el("button", {type: "button", class: "small primary", onclick: () => writeFaq(s)}, "写一条 FAQ"),
      el("button", {type: "button", class: "small", onclick: () => resolveDemand(s, "")}, "标记已解决")));
}

function writeFaq(s) {
  pendingDemand = s;
  showTab("records");
  newRecord("faq", {"问题": s.question, "关联事项": s.service ? s.service.id : ""});
  $("form-message").replaceChildren(el("p", {class: "muted"},
    "为需求信号“" + s.question + "”写一条 FAQ：填好 id 和答案后保存，这条需求就会从列表中移出。"));
}

async function resolveDemand(s, recordId) {
  await api("POST", "/api/editor/demand/resolve", {key: s.key, record_id: recordId});
  if (!$("tab-demand").hidden) loadDemand();
}

async function loadDemand() {
  const data = await api("GET", "/api/editor/demand");
  const left = data.left_out;
  $("demand-summary").textContent = "共 " + data.signals.length + " 条待处理。" +
    (left.follow_up || left.noise ? "已略去 " + left.follow_up + " 条没有上下文的追问（如“那要多少钱”）和 " + left.noise + " 条客套话、算术题等。" : "");
  $("demand-empty").hidden = data.signals.length > 0;
  $("demand").replaceChildren(...data.signals.map(demandRow));
  $("demand-resolved").hidden = !data.resolved.length;
  $("demand-resolved-list").replaceChildren(...data.resolved.map((s) => el("li", {}, s.question,
    s.service ? "（" + s.service.title + "）" : "", "：",
    s.settled_by_answer ? "此后再问已能回答" : "已由 " + (s.resolved_by || "编辑") + " 解决",
    s.resolved_record ? ["，", recordLink(s.resolved_record, s.resolved_record)] : "")));
}

function showTab(name) {
  document.querySelectorAll("[data-tab]").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === name)));
  document.querySelectorAll("main[id^=tab-]").forEach((m) => { m.hidden = m.id !== "tab-" + name; });
  if (name === "demand") loadDemand();
}

let searchTimer = null;
$("search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(loadList, 250); });
$("kind").addEventListener("change", loadList);
$("search-form").addEventListener("submit", (e) => { e.preventDefault(); loadList(); });
document.querySelectorAll("[data-new]").forEach((b) => b.addEventListener("click", () => { pendingDemand = null; newRecord(b.dataset.new); }));
document.querySelectorAll("[data-tab]").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
$("record-form").addEventListener("submit", save);
$("delete").addEventListener("click", removeRecord);
$("refresh-demand").addEventListener("click", loadDemand);

(async () => {
  await showUser($("user"));
  schemas = await api("GET", "/api/editor/schema");
  await Promise.all([loadList(), loadGuides()]);
})();
