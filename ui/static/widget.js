/*
 * 政务问答挂件: add to any page with
 *   <script src="https://HOST/widget.js" data-title="示例市政务服务"></script>
 * A floating button opens a chat panel that talks to HOST/api/ask. It lives in a shadow root (the host
 * page's styles cannot break it, its styles cannot leak out) and every question and answer is rendered
 * with textContent, so nothing a citizen types or an answer holds is ever parsed as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__govqaWidget) return;
  window.__govqaWidget = true;
  var base = script.src.replace(/\/widget\.js(?:[?#].*)?$/, "");
  var title = script.getAttribute("data-title") || "政务服务智能问答";
  var storageKey = "govqa-session:" + base;
  var session = null;
  try { session = sessionStorage.getItem(storageKey); } catch (e) { /* storage may be blocked */ }

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',system-ui,sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;padding:12px 20px;",
    "background:#1d4ed8;color:#fff;font-size:15px;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer}",
    ".launcher:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}",
    ".panel{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:min(380px,calc(100vw - 16px));",
    "height:min(560px,calc(100vh - 100px));display:flex;flex-direction:column;background:#fff;color:#111827;",
    "border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden;font-size:14px;line-height:1.6}",
    ".panel[hidden]{display:none}",
    "header{display:flex;align-items:center;justify-content:space-between;padding:10px 14px;background:#1d4ed8;color:#fff}",
    "header h2{margin:0;font-size:16px;font-weight:600}",
    "header button{background:none;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer}",
    ".log{flex:1;overflow-y:auto;padding:12px;background:#f3f4f6}",
    ".msg{max-width:88%;margin:6px 0;padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-break:break-word}",
    ".user{margin-left:auto;background:#1d4ed8;color:#fff}",
    ".bot{background:#fff;border:1px solid #e5e7eb}",
    ".cites{margin-top:6px;padding-top:6px;border-top:1px dashed #d1d5db;font-size:12px}",
    ".cites a{color:#1d4ed8;display:block}",
    ".choices{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    ".choices button,.rate button{border:1px solid #93c5fd;background:#eff6ff;color:#1e40af;border-radius:14px;",
    "padding:3px 10px;font-size:13px;cursor:pointer}",
    ".rate{display:flex;gap:6px;align-items:center;margin-top:6px;font-size:12px;color:#6b7280}",
    ".note{font-size:12px;color:#92400e}",
    "form{display:flex;gap:6px;padding:10px;border-top:1px solid #e5e7eb;background:#fff}",
    "input{flex:1;min-width:0;border:1px solid #d1d5db;border-radius:8px;padding:8px 10px;font-size:15px}",
    "form button{border:0;border-radius:8px;padding:8px 14px;background:#1d4ed8;color:#fff;font-size:15px;cursor:pointer}",
    "form button:disabled{background:#9ca3af}",
    "@media (max-width:480px){.panel{right:8px;bottom:76px}.launcher{right:12px;bottom:12px}}"
  ].join("");

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  var host = el("div");
  host.id = "govqa-widget";
  var root = host.attachShadow({mode: "open"});
  var style = el("style");
  style.textContent = CSS;
  var launcher = el("button", "launcher", "💬 在线咨询");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  var panel = el("section", "panel");
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  var header = el("header");
  var heading = el("h2", null, title);
  var close = el("button", null, "×");
  close.type = "button";
  close.setAttribute("aria-label", "关闭");
  header.append(heading, close);
  var log = el("div", "log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  var form = el("form");
  var input = el("input");
  input.placeholder = "请输入您的问题";
  input.maxLength = 2000;
  input.setAttribute("aria-label", "您的问题");
  var send = el("button", null, "发送");
  send.type = "submit";
  form.append(input, send);
  panel.append(header, log, form);
  root.append(style, launcher, panel);

  function toggle(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) input.focus();
  }

  function bubble(kind, text) {
    var node = el("div", "msg " + kind, text);
    log.append(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function rate(box, questionId) {
    var row = el("div", "rate", "这个回答有帮助吗？");
    [["👍 有用", true, "有帮助"], ["👎 没用", false, "没帮助"]].forEach(function (item) {
      var button = el("button", null, item[0]);
      button.type = "button";
      button.setAttribute("aria-label", item[2]);
      button.addEventListener("click", function () {
        post("/api/feedback", {question_id: questionId, helpful: item[1]}).then(function () {
          row.textContent = "谢谢您的反馈！";
        }, function () {
          row.textContent = "反馈未能提交，请稍后再试。";
        });
      });
      row.append(button);
    });
    box.append(row);
  }

  function showAnswer(data) {
    var box = bubble("bot", data.answer);
    if (data.citations && data.citations.length) {
      var cites = el("div", "cites");
      data.citations.forEach(function (c) {
        var link = el("a", null, "[" + c.n + "] 《" + c.title + "》" + (c.section ? " · " + c.section : ""));
        link.href = base + "/records/" + encodeURIComponent(c.record_id);
        link.target = "_blank";
        link.rel = "noopener";
        cites.append(link);
      });
      box.append(cites);
    }
    var choices = data.decision === "clarify" ? data.options : (data.answered ? [] : data.suggestions);
    if (choices && choices.length) {
      var row = el("div", "choices");
      choices.forEach(function (c) {
        var button = el("button", null, c.title);
        button.type = "button";
        button.addEventListener("click", function () { ask(c.title); });
        row.append(button);
      });
      box.append(row);
    }
    (data.notices || []).forEach(function (n) { box.append(el("div", "note", "提示：" + n)); });
    if (data.question_id) rate(box, data.question_id);
    log.scrollTop = log.scrollHeight;
  }

  function post(path, body) {
    return fetch(base + path, {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body), credentials: "omit"
    }).catch(function () {
      throw new Error("无法连接服务，请检查网络后重试。");
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.error || "服务暂时不可用，请稍后再试。");
        return data;
      });
    });
  }

  function ask(question) {
    question = question.trim();
    if (!question) return;
    bubble("user", question);
    input.value = "";
    send.disabled = true;
    var waiting = bubble("bot", "正在查找……");
    post("/api/ask", {question: question, session_id: session, channel: "widget"}).then(function (data) {
      waiting.remove();
      session = data.session_id;
      try { sessionStorage.setItem(storageKey, session); } catch (e) { /* storage may be blocked */ }
      showAnswer(data);
    }, function (error) {
      waiting.textContent = error.message;
    }).then(function () {
      send.disabled = false;
      input.focus();
    });
  }

  launcher.addEventListener("click", function () { toggle(panel.hidden); });
  close.addEventListener("click", function () { toggle(false); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    ask(input.value);
  });
  bubble("bot", "您好！我是" + title + "智能助手，可以回答办事材料、流程、地点、时限和收费等问题。");

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
