"use strict";
// The demand-topics tab of the editor console: charts of the latest mined topics, their table, recomputing them,
// closing a topic with a knowledge-base record, and the export links. The charts are SVG built node by node;
// every text from the server goes in through text nodes or setAttribute, never as markup.
(() => {
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const COLORS = ["#1d4ed8", "#dc2626", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#9a3412", "#475569"];
  const RESOLVED = "#059669";
  let trends = {};

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    for (const child of children.flat(Infinity)) {
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  const short = (text, n) => (text.length > n ? text.slice(0, n - 1) + "…" : text);
  const when = (iso) => iso.replace("T", " ");

  // Horizontal bars: topic labels are long Chinese phrases, which read best on the left.
  function barChart(bars) {
    const row = 26, labelWidth = 236, width = 560, room = width - labelWidth - 44;
    const max = Math.max(1, ...bars.map((b) => b.size));
    return svg("svg", {viewBox: `0 0 ${width} ${bars.length * row + 4}`, class: "chart", role: "img",
      "aria-label": "留言最多的话题：柱状图"},
    bars.map((b, i) => {
      const y = i * row, length = Math.max(2, (b.size / max) * room);
      return svg("g", {},
        svg("title", {}, b.topic + "：" + b.size + " 条" + (b.resolved ? "（已解决）" : "")),
        svg("text", {x: labelWidth - 6, y: y + row / 2 + 4, "text-anchor": "end"}, short(b.topic, 17)),
        svg("rect", {x: labelWidth, y: y + 4, width: length, height: row - 8, rx: 3, fill: b.resolved ? RESOLVED : COLORS[0]}),
        svg("text", {x: labelWidth + length + 5, y: y + row / 2 + 4, class: "value"}, b.size));
    }));
  }

  // One line per charted topic over the run's days (or weeks); the server fills in the zeros.
  function lineChart(line, bars) {
    const width = 560, height = 240, left = 34, right = 12, top = 10, bottom = 36;
    const dates = [...new Set(line.map((p) => p.date))].sort();
    const at = new Map(dates.map((d, i) => [d, i]));
    const max = Math.max(1, ...line.map((p) => p.count));
    const x = (i) => left + (dates.length > 1 ? (i * (width - left - right)) / (dates.length - 1) : (width - left - right) / 2);
    const y = (v) => top + (height - top - bottom) * (1 - v / max);
    const yTicks = [...new Set([0, Math.round(max / 2), max])].map((v) => svg("g", {},
      svg("line", {x1: left, x2: width - right, y1: y(v), y2: y(v), class: "grid-line"}),
      svg("text", {x: left - 5, y: y(v) + 4, "text-anchor": "end"}, v)));
    const anchor = (i) => (dates.length < 2 ? "middle" : i === 0 ? "start" : i === dates.length - 1 ? "end" : "middle");
    // up to six evenly spaced dates; within one year "12-04" is enough
    const ticks = Math.min(dates.length, 6);
    const sameYear = dates[0].slice(0, 4) === dates[dates.length - 1].slice(0, 4);
    const xTicks = [...new Set(Array.from({length: ticks}, (_, k) => Math.round((k * (dates.length - 1)) / Math.max(1, ticks - 1))))]
      .map((i) => svg("text", {x: x(i), y: height - bottom + 18, "text-anchor": anchor(i)}, sameYear ? dates[i].slice(5) : dates[i]));
    const series = bars.map((b, k) => {
      const points = line.filter((p) => p.id === b.id);
      const color = COLORS[k % COLORS.length];
      const xy = (p) => [x(at.get(p.date)), y(p.count)];
      return svg("g", {},
        svg("title", {}, b.topic),
        svg("polyline", {points: points.map((p) => xy(p).join(",")).join(" "), fill: "none", stroke: color, "stroke-width": 2}),
        points.filter((p) => p.count > 0).map((p) => svg("circle", {cx: xy(p)[0], cy: xy(p)[1], r: 3, fill: color},
          svg("title", {}, p.date + "  " + p.topic + "：" + p.count + " 条"))));
    });
    return svg("svg", {viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": "各话题留言数随时间变化：折线图"},
      yTicks, svg("line", {x1: left, x2: left, y1: top, y2: y(0), class: "axis"}),
      svg("line", {x1: left, x2: width - right, y1: y(0), y2: y(0), class: "axis"}), xTicks, series);
  }

  // A line needs two dates: with one, say so (the bar chart has that day's counts) instead of drawing dots.
  function lineView(data) {
    const dates = [...new Set(data.line.map((p) => p.date))].sort();
    if (!dates.length) return [el("p", {class: "muted"}, "暂无数据")];
    if (dates.length < 2) {
      return [el("p", {class: "muted"}, "这些问题都在 " + dates[0] + " 这一天提出，还看不出随时间的变化；" +
        "各话题当天的数量见左侧柱状图。积累几天的问题后，这里会画出每个话题每" + (data.bucket === "week" ? "周" : "天") + "的数量。")];
    }
    return [lineChart(data.line, data.bar), legend(data.bar), lineTable(data.line, data.bar, dates)];
  }

  // The same numbers as a table, for screen readers and for reading exact counts.
  function lineTable(line, bars, dates) {
    const count = new Map(line.map((p) => [p.id + "|" + p.date, p.count]));
    return el("details", {class: "chart-table"}, el("summary", {}, "以表格查看"),
      el("table", {class: "grid"}, el("thead", {}, el("tr", {}, el("th", {}, "话题"), dates.map((d) => el("th", {}, d.slice(5))))),
        el("tbody", {}, bars.map((b) => el("tr", {}, el("th", {}, b.topic), dates.map((d) => el("td", {class: "num"}, count.get(b.id + "|" + d) || 0)))))));
  }

  function legend(bars) {
    return el("ul", {class: "legend"}, bars.map((b, k) => {
      const swatch = el("span", {class: "swatch"});
      swatch.style.background = COLORS[k % COLORS.length];  // CSSOM, which the CSP allows
      return el("li", {title: b.topic}, swatch, short(b.topic, 14));
    }));
  }

  // ---- the table --------------------------------------------------------------------------
  let suggestTimer = null;
  function suggestRecords(text) {  // the knowledge-base search of the records tab, as choices for the id box
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(async () => {
      const data = await api("GET", "/api/editor/records?" + new URLSearchParams({q: text.trim()}));
      $("record-ids").replaceChildren(...data.records.slice(0, 20).map((r) =>
        el("option", {value: r.id}, r.kind_name + " · " + r.title)));
    }, 250);
  }

  async function resolveTopic(topic, input, button, message) {
    const recordId = input.value.trim();
    if (!recordId) {
      message.textContent = "请填写或选择解决这个话题的记录 id";
      return;
    }
    button.disabled = true;
    try {
      await api("POST", "/api/editor/topics/" + encodeURIComponent(topic.id) + "/resolve", {record_id: recordId});
      await load();
    } catch (e) {
      message.textContent = e.message;
      button.disabled = false;
    }
  }

  function handling(t) {
    const input = el("input", {type: "text", list: "record-ids", placeholder: "记录 id（可输入关键词搜索）",
      "aria-label": "解决话题 " + t.label + " 的记录 id"});
    input.addEventListener("input", () => suggestRecords(input.value));
    const message = el("p", {class: "error", role: "alert"});
    const button = el("button", {type: "button", class: "small"}, t.resolved ? "改为此记录" : "标记已解决");
    button.addEventListener("click", () => resolveTopic(t, input, button, message));
    const state = t.resolved
      ? el("div", {class: "ok"}, "已解决：", recordLink(t.record_id, t.record_id),
        el("div", {class: "muted"}, t.resolved_by + " · " + when(t.resolved_at)),
        t.asked_since_resolved ? el("div", {class: "notice"}, "此后又有 " + t.asked_since_resolved + " 条相关问题") : null)
      : el("div", {class: "muted"}, "未解决");
    return el("td", {class: "handling"}, state, el("div", {class: "resolve"}, input, button), message);
  }

  function topicRow(t) {
    return el("tr", {"data-topic": t.id},
      el("td", {}, el("code", {}, t.id)),
      el("td", {}, el("strong", {}, t.label), el("div", {class: "keywords"}, t.keywords.map((k) => el("span", {class: "badge"}, k)))),
      el("td", {class: "num"}, t.size),
      el("td", {}, el("span", {class: "trend " + t.trend}, trends[t.trend] || t.trend),
        el("div", {class: "muted small"}, "近30天 " + t.recent + "，前30天 " + t.previous)),
      el("td", {}, el("ol", {class: "examples"}, t.examples.slice(0, 3).map((q) => el("li", {}, q)))),
      el("td", {class: "dates"}, t.first_seen, el("br"), t.last_seen),
      handling(t));
  }

  // ---- loading and recomputing ---------------------------------------------------------------
  function describe(data) {
    if (!data.run) return "还没有计算过话题。";
    const source = data.run.source === "demand-log" ? "需求日志" : data.run.source;
    return "最近一次计算：" + when(data.run.at) + "，来源：" + source + "，" + data.n_messages + " 条问题归并为 " +
      data.n_topics + " 个话题（至少 2 条相同诉求才成话题）" + (data.refreshing ? "；正在重新计算……" : "");
  }

  async function load() {
    const data = await api("GET", "/api/editor/topics");
    trends = data.trends;
    $("topics-status").textContent = describe(data);
    $("topics-export").hidden = !data.run;
    const none = () => el("p", {class: "muted"}, "暂无数据");
    $("topics-bar").replaceChildren(data.bar.length ? barChart(data.bar) : none());
    $("topics-line").replaceChildren(...lineView(data));
    $("topics-line-title").textContent = "各话题留言数随时间变化（按" + (data.bucket === "week" ? "周" : "日") + "）";
    $("topics-empty").hidden = data.topics.length > 0;
    $("topics").replaceChildren(...data.topics.map(topicRow));
  }

  async function refresh() {
    const button = $("topics-refresh");
    button.disabled = true;
    $("topics-status").textContent = "正在重新计算话题，问题多时需要数十秒……";
    try {
      const result = await api("POST", "/api/editor/topics/refresh", {since: $("topics-since").value || null});
      await load();
      $("topics-status").append("；本次用时 " + result.seconds + " 秒");
    } catch (e) {
      $("topics-status").replaceChildren(el("span", {class: "error"}, e.message));
    } finally {
      button.disabled = false;
    }
  }

  const failed = (e) => $("topics-status").replaceChildren(el("span", {class: "error"}, e.message));
  document.querySelector("[data-tab=topics]").addEventListener("click", () => load().catch(failed));
  $("topics-refresh").addEventListener("click", refresh);
})();
