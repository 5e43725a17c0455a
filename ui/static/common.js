// Shared by the staff pages and the record page: building DOM without innerHTML, and JSON calls.
"use strict";

// el("p", {class: "x", onclick: fn}, "text", child) — strings always become text nodes, never markup.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// A link to a record's page, opening at the cited section when one is given (record.js scrolls to it).
function recordLink(id, label, section) {
  const anchor = section ? "#" + encodeURIComponent(section) : "";
  return el("a", {href: "/records/" + encodeURIComponent(id) + anchor, target: "_blank", rel: "noopener"}, label);
}

// Text with [start, end) ranges wrapped in <mark>.
function markedText(text, spans) {
  const out = document.createDocumentFragment();
  let at = 0;
  for (const [start, end] of spans || []) {
    if (start < at) continue;
    out.append(text.slice(at, start), el("mark", {}, text.slice(start, end)));
    at = end;
  }
  out.append(text.slice(at));
  return out;
}

class ApiError extends Error {
  constructor(message, status, problems) {
    super(message);
    this.status = status;
    this.problems = problems || [];
  }
}

async function api(method, url, body) {
  const options = {method, credentials: "same-origin", headers: {}};
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch (e) {
    throw new ApiError("无法连接服务器，请检查网络后重试", 0);
  }
  let data = {};
  try { data = await response.json(); } catch (e) { /* an empty or non-JSON body */ }
  if (response.status === 401 && !url.endsWith("/api/login")) {
    location.href = "/login?next=" + encodeURIComponent(location.pathname);
  }
  if (!response.ok) throw new ApiError(data.error || "请求失败（" + response.status + "）", response.status, data.problems);
  return data;
}

// The clipboard API needs a secure context; plain http on an office network falls back to execCommand.
async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try { await navigator.clipboard.writeText(text); return true; } catch (e) { /* fall through */ }
  }
  const area = el("textarea", {class: "offscreen", readonly: true});
  area.value = text;
  document.body.append(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  return ok;
}

function flash(button, text) {
  const before = button.textContent;
  button.textContent = text;
  setTimeout(() => { button.textContent = before; }, 1500);
}

async function showUser(slot) {
  const me = await api("GET", "/api/me");
  const roles = {agent: "坐席", editor: "编辑"};
  slot.replaceChildren(
    el("span", {class: "who"}, me.name + "（" + (roles[me.role] || me.role) + "）"),
    el("button", {type: "button", class: "link", onclick: async () => {
      await api("POST", "/api/logout");
      location.href = "/login";
    }}, "退出"));
  return me;
}

function scoreBar(score) {
  const pct = Math.round(Math.max(0, Math.min(1, score)) * 100);
  const bar = el("span", {class: "score", title: "匹配度 " + pct + "%"}, el("span", {class: "fill"}), el("span", {class: "pct"}, pct + "%"));
  bar.firstChild.style.width = pct + "%";  // CSSOM, which the pages' CSP allows (style attributes it does not)
  return bar;
}
