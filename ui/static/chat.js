"use strict";
// The citizen chat's additions to Gradio (loaded in the page head by ui/citizen.py):
// - Chinese screen-reader names where Gradio's are English ("chatbot conversation", "Copy message"), and each
//   message named by its plain text, not its Markdown source;
// - a new answer is brought into view from its start (not scrolled to its end) and takes the keyboard focus,
//   so Tab goes next to its citation, then its buttons, then back to the question box.
(() => {
  const NAMES = {"chatbot conversation": "对话记录", "Copy message": "复制这条消息", "Copy conversation": "复制全部对话",
    "Copy": "复制", "Copied": "已复制", "Clear": "清空对话", "Scroll down": "滚动到最新消息"};
  let answers = 0;
  let queued = false;

  const plain = (node) => (node.innerText || node.textContent || "").replace(/\s+/g, " ").trim();

  function label(node, text) {
    if (node.getAttribute("aria-label") !== text) node.setAttribute("aria-label", text);
  }

  function nameAll(chat) {
    chat.querySelectorAll("[aria-label]").forEach((node) => {
      const current = node.getAttribute("aria-label");
      if (NAMES[current]) {
        label(node, NAMES[current]);
        if (node.title) node.title = NAMES[current];
      } else if (current.startsWith("Select example")) {
        label(node, "示例问题：" + plain(node));
      }
    });
    // Gradio gives the example buttons a role=list parent without listitems (axe: aria-required-children)
    chat.querySelectorAll(".examples[role=list]").forEach((node) => {
      node.setAttribute("role", "group");
      label(node, "示例问题");
    });
    chat.querySelectorAll("[data-testid=user]").forEach((node) => label(node, "您的提问：" + plain(node)));
    chat.querySelectorAll("[data-testid=bot]").forEach((node) => label(node, "回答：" + plain(node)));
  }

  function showNewest(chat) {
    const bots = chat.querySelectorAll("[data-testid=bot]");
    const grew = bots.length > answers;
    answers = bots.length;
    if (!grew) return;
    const newest = bots[bots.length - 1];
    newest.setAttribute("tabindex", "-1");
    (newest.closest(".message-row") || newest).scrollIntoView({block: "start"});
    newest.focus({preventScroll: true});
  }

  function update() {
    queued = false;
    const chat = document.getElementById("govqa-chat");
    if (!chat) return;
    nameAll(chat);
    showNewest(chat);
  }

  new MutationObserver(() => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(update);
    }
  }).observe(document.documentElement, {childList: true, subtree: true, attributes: true,
    attributeFilter: ["aria-label"], characterData: true});
})();
