/*
 * 政务问答挂件: add to any page with
 *   <script src="https://HOST/widget.js" data-title="示例市政务服务"></script>
 * A floating button opens a chat panel that talks to HOST/api/ask. It lives in a shadow root (the host
 * page's styles cannot break it, its styles cannot leak out) and every question and answer is rendered
 * with textContent, so nothing a citizen types or an answer holds is ever parsed as HTML.
 * Esc closes the panel; 新话题 starts a new conversation; a new answer shows from its start and takes the
 * focus, so Tab reaches its citation first; 👍/👎 are thanked and may carry a comment.
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
    "border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden;font-size:15px;line-height:1.6}",
    ".panel[hidden]{display:none}",
    "header{display:flex;align-items:center;justify-content:space-between;padding:10px 14px;background:#1d4ed8;color:#fff}",
    "header h2{margin:0;font-size:16px;font-weight:600}",
    "header .tools{display:flex;gap:6px;align-items:center}",
    "header button{background:none;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:2px 6px}",
    "header button.restart{font-size:14px;border:1px solid #bfdbfe;border-radius:14px;padding:3px 10px}",
    ".log{flex:1;overflow-y:auto;padding:12px;background:#f3f4f6}",
    ".msg{max-width:88%;margin:6px 0;padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-break:break-word}",
    ".msg:focus{outline:2px solid #93c5fd;outline-offset:1px}",
    ".user{margin-left:auto;background:#1d4ed8;color:#fff}",
    ".bot{background:#fff;border:1px solid #e5e7eb}",
    ".cites{margin-top:6px;padding-top:6px;border-top:1px dashed #d1d5db;font-size:13px}",
    ".cites a{color:#1d4ed8;display:block}",
    ".choices{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    ".choices button,.rate button{border:1px solid #93c5fd;background:#eff6ff;color:#1e40af;border-radius:14px;",
    "padding:3px 10px;font-size:13px;cursor:pointer}",
    ".rate{display:flex;gap:6px;align-items:center;flex-wrap:wrap;margin-top:6px;font-size:13px;color:#4b5563}",
    ".rate input{flex:1;min-width:8em;font-size:16px;padding:4px 8px}",
    ".note{font-size:13px;color:#92400e}",
    ".steps{margin:6px 0 0;padding-left:1.4em;font-size:14px}.steps li{margin:2px 0;overflow-wrap:anywhere}",
    ".steps small{display:block;color:#4b5563}.steps a{color:#1d4ed8}",
    ".event details{margin-top:6px;font-size:13px}.event details li{overflow-wrap:anywhere}",
    "form{display:flex;gap:6px;padding:10px;border-top:1px solid #e5e7eb;background:#fff}",
    "input{flex:1;min-width:0;border:1px solid #6b7280;border-radius:8px;padding:8px 10px;font-size:16px}",
    "input::placeholder{color:#6b7280;opacity:1}",
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
  launcher.setAttribute("aria-label", "在线咨询：打开" + title + "智能问答");
  launcher.setAttribute("aria-expanded", "false");
  var panel = el("section", "panel");
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  var header = el("header");
  var heading = el("h2", null, title);
  var restart = el("button", "restart", "新话题");
  restart.type = "button";
  restart.setAttribute("aria-label", "开始新话题（清空对话，之前说的事项不再沿用）");
  var close = el("button", null, "×");
  close.type = "button";
  close.setAttribute("aria-label", "关闭对话窗口（Esc）");
  var tools = el("div", "tools");
  tools.append(restart, close);
  header.append(heading, tools);
  var log = el("div", "log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "对话记录");
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
    else launcher.focus();
  }

  function bubble(kind, text) {
    var node = el("div", "msg " + kind, text);
    log.append(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function greet() {
    bubble("bot", "您好！我是" + title + "智能助手，可以回答办事材料、流程、地点、时限和收费等问题。");
  }

  // A new conversation: nothing said before is carried over ("那要多少钱" is not about the last service).
  function startOver() {
    session = null;
    try { sessionStorage.removeItem(storageKey); } catch (e) { /* storage may be blocked */ }
    log.replaceChildren();
    greet();
    input.value = "";
    input.focus();
  }

  // "…户口簿2. 符合…": each numbered item of a quoted list on its own line
  function itemLines(text) {
    return text.replace(/([^\s\d.])(?=[1-9]\d?\. )/g, "$1\n");
  }

  function comment(row, questionId, helpful) {
    var form = el("form");
    var box = el("input");
    box.placeholder = helpful ? "还有什么想告诉我们的（选填）" : "哪里没说清楚？（选填）";
    box.maxLength = 500;
    box.setAttribute("aria-label", "您的意见（选填）");
    var submit = el("button", null, "提交");
    submit.type = "submit";
    form.className = "rate";
    form.append(box, submit);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!box.value.trim()) return;
      post("/api/feedback", {question_id: questionId, helpful: helpful, comment: box.value.trim()}).then(function () {
        form.replaceWith(el("div", "rate", "已收到您的意见，谢谢！"));
      }, function () {
        form.replaceWith(el("div", "rate", "意见未能提交，请稍后再试。"));
      });
    });
    row.after(form);
  }

  function rate(box, questionId) {
    var row = el("div", "rate", "这个回答有帮助吗？");
    [["👍 有用", true, "有帮助"], ["👎 没用", false, "没帮助"]].forEach(function (item) {
      var button = el("button", null, item[0]);
      button.type = "button";
      button.setAttribute("aria-label", item[2]);
      button.addEventListener("click", function () {
        post("/api/feedback", {question_id: questionId, helpful: item[1]}).then(function () {
          row.textContent = item[1] ? "谢谢您的肯定！" : "谢谢您的反馈，我们会据此改进。";
          comment(row, questionId, item[1]);
        }, function () {
          row.textContent = "反馈未能提交，请稍后再试。";
        });
      });
      row.append(button);
    });
    box.append(row);
  }

  // A life event (一件事): a compact step list, each step a link to its guide, the merged checklist folded
  // away, instead of the long text, so it fits a phone.
  function eventList(event) {
    var box = el("div", "event");
    box.append(el("strong", null, event.title + "（共" + event.steps.length + "步）"));
    var list = el("ol", "steps");
    event.steps.forEach(function (s) {
      var item = el("li");
      if (s.missing) {
        item.append(el("span", null, s.title + "（办事指南暂缺）"));
      } else {
        var link = el("a", null, s.title);
        link.href = base + "/records/" + encodeURIComponent(s.record_id);
        link.target = "_blank";
        link.rel = "noopener";
        item.append(link);
      }
      if (s.condition) item.append(el("small", null, "适用：" + s.condition));
      list.append(item);
    });
    box.append(list);
    var more = el("details");
    more.append(el("summary", null, "合并材料清单（" + event.checklist.length + "项）"));
    var items = el("ol");
    event.checklist.forEach(function (m) {
      items.append(el("li", null, m.name + "（第" + m.steps.join("、") + "步" + (m.original ? "，带原件" : "") + "）"));
    });
    more.append(items);
    box.append(more);
    if (event.joint_window) box.append(el("div", "note", "联办窗口：" + event.joint_window));
    box.append(el("div", null, event.total_time + "；" + event.total_fees + "。"));
    return box;
  }

  function showAnswer(data) {
    var whole = data.event && data.event.role === "event" && data.decision === "answered";
    var box = bubble("bot", whole ? "" : itemLines(data.answer));
    if (whole) box.append(eventList(data.event));
    if (data.citations && data.citations.length && !whole) {
      var cites = el("div", "cites");
      data.citations.forEach(function (c) {
        var link = el("a", null, "[" + c.n + "] 《" + c.title + "》" + (c.section ? " · " + c.section : ""));
        link.href = base + "/records/" + encodeURIComponent(c.record_id) + (c.section ? "#" + encodeURIComponent(c.section) : "");
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
    return box;
  }

  // The new answer from its start, with the focus on it: Tab goes next to its citation.
  function bringIntoView(box) {
    log.scrollTop = box.offsetTop - log.offsetTop - 8;
    box.setAttribute("tabindex", "-1");
    box.focus({preventScroll: true});
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
      send.disabled = false;
      bringIntoView(showAnswer(data));
    }, function (error) {
      waiting.textContent = error.message;
      send.disabled = false;
      input.focus();
    });
  }

  launcher.addEventListener("click", function () { toggle(panel.hidden); });
  close.addEventListener("click", function () { toggle(false); });
  restart.addEventListener("click", startOver);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      toggle(false);
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    ask(input.value);
  });
  greet();

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
