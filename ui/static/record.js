"use strict";
// The full text of one guide, policy or FAQ, as cited by an answer: every field in the order of the file,
// opening at the cited section (the address's #section), without the names kept only for search
// (别名, 相似问法).
const HIDDEN = new Set(["id", "类型", "事项名称", "标题", "问题", "别名", "相似问法"]);
// an answer's section names that are not the name of the field holding them
const SECTION_FIELDS = {"事项概述": "办理对象", "咨询电话与网上办理": "咨询电话", "温馨提示": "说明", "文件信息": "发文机关"};

function renderValue(key, value) {
  if (Array.isArray(value)) {
    if (value.length && typeof value[0] === "object") {
      if (key === "正文") {
        return value.map((s) => el("section", {class: "article", id: s.heading || null},
          s.heading ? el("h3", {}, s.heading) : null, el("p", {class: "pre"}, s.text)));
      }
      const columns = [...new Set(value.flatMap((row) => Object.keys(row)))];
      return el("table", {class: "grid"},
        el("thead", {}, el("tr", {}, el("th", {}, "序号"), columns.map((c) => el("th", {}, c)))),
        el("tbody", {}, value.map((row, i) => el("tr", {}, el("td", {}, i + 1),
          columns.map((c) => el("td", {}, row[c] === undefined ? "" : row[c]))))));
    }
    return el("ol", {}, value.map((item) => el("li", {}, item)));
  }
  if (value && typeof value === "object") {
    return el("p", {}, Object.entries(value).map(([k, v]) => k + "：" + v).join("；"));
  }
  return el("p", {class: "pre"}, String(value));
}

// The cited section, marked and in view, with the focus on it so reading (and Tab) starts there.
function openAtCitedSection() {
  const wanted = decodeURIComponent(location.hash.slice(1));
  const target = wanted && document.getElementById(SECTION_FIELDS[wanted] || wanted);
  if (!target) return;
  target.classList.add("cited");
  target.setAttribute("tabindex", "-1");
  target.scrollIntoView({block: "start"});
  target.focus({preventScroll: true});
}

async function showRecord() {
  const slot = document.getElementById("record");
  const id = decodeURIComponent(location.pathname.split("/").pop());
  try {
    const data = await api("GET", "/api/records/" + encodeURIComponent(id));
    document.title = data.title + " · 示例市政务服务";
    const fields = Object.entries(data.record).filter(([k, v]) => !HIDDEN.has(k) && v !== "" && v !== null &&
      !(Array.isArray(v) && !v.length));
    slot.replaceChildren(
      el("p", {class: "badge"}, data.kind_name),
      el("h1", {}, data.title),
      ...fields.map(([k, v]) => el("div", {class: "field", id: k}, el("h2", {}, k), renderValue(k, v))));
    openAtCitedSection();
  } catch (e) {
    slot.replaceChildren(el("h1", {}, "未找到"), el("p", {class: "error"}, e.message));
  }
}

window.addEventListener("hashchange", openAtCitedSection);
showRecord();
