// Statistics pages: one page per analysis (leaving-care curves, routes out of care, incidence,
// funnels, benchmarking, Sankeys). Charts download as PNG or SVG; tables as CSV with small
// numbers suppressed. Data from /api/stats (cscflow.web.api.stats).
import { getJSON, loadPlotly, query } from "./api.js";

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c) e.appendChild(c);
  return e;
}

const FREE = { measure: "select", year: "number", la: "text", as_of: "date", window_start: "date", min_flow: "number" };
// What each option is called on the page (the API's names are for scripts).
const LABELS = {
  measure: "Measure", year: "Year ending 31 March", la: "LA to mark (code)", overdispersion: "Overdispersion",
  as_of: "As of", window_start: "From", min_flow: "Smallest flow drawn", by: "Group by", event: "Event",
  population: "Population",
};

function optionInput(name, catalog) {
  const id = `stats-opt-${name}`;
  let input;
  if (name === "measure") {
    input = el("select", { id, name });
    for (const m of catalog.measures) input.appendChild(el("option", { value: m.name, text: m.title }));
  } else if (catalog.choices[name]) {
    input = el("select", { id, name });
    input.appendChild(el("option", { value: "", text: "(default)" }));
    for (const c of catalog.choices[name]) input.appendChild(el("option", { value: c, text: c.replace(/_/g, " ") }));
  } else {
    input = el("input", { id, name, type: FREE[name] || "text" });
    if (name === "year") input.value = "2025";
  }
  return el("label", { class: "stats-option" }, el("span", { text: (LABELS[name] || name.replace(/_/g, " ")) + " " }), input);
}

// A number as a reader wants it: counts with thousands separators (years and codes as they are), other figures to
// two decimals (three significant digits below 1: rates and p-values keep their size).
export function cell(column, v) {
  if (v === null || v === undefined) return "";
  if (typeof v !== "number") return String(v);
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return /year|code|^la$|^age/.test(column) ? String(v) : v.toLocaleString("en-GB");
  const a = Math.abs(v);
  if (a >= 1000) return v.toLocaleString("en-GB", { maximumFractionDigits: 0 });
  if (a >= 1) return v.toLocaleString("en-GB", { maximumFractionDigits: 2 });
  return v.toLocaleString("en-GB", { maximumSignificantDigits: 3 });
}

function renderTable(box, columns, rows) {
  box.textContent = "";
  const t = el("table", { class: "stats-table" });
  const head = el("tr");
  columns.forEach((c) => head.appendChild(el("th", { text: c })));
  t.appendChild(el("thead", {}, head));
  const body = el("tbody");
  for (const r of rows.slice(0, 200)) {
    const tr = el("tr", r.complete === false ? { class: "incomplete", style: "opacity:0.45", title: "look-back reaches before the data start: too low" } : {});
    for (const c of columns) {
      const v = r[c];
      tr.appendChild(el("td", { text: cell(c, v) }));
    }
    body.appendChild(tr);
  }
  t.appendChild(body);
  box.appendChild(t);
  if (rows.length > 200) box.appendChild(el("p", { class: "muted", text: `First 200 of ${rows.length} rows; download the CSV for all.` }));
}

export async function mount(root, ctx = {}) {
  root.textContent = "";
  const catalog = await getJSON("/api/stats");
  const nav = el("nav", { class: "stats-nav", id: "stats-nav" });
  const opts = el("form", { class: "stats-options", id: "stats-options" });
  const status = el("p", { class: "muted", id: "stats-status" });
  const chart = el("div", { id: "stats-chart", class: "stats-chart" });
  const tools = el("p", { class: "stats-tools" });
  const png = el("button", { type: "button", id: "stats-png", text: "Download PNG" });
  const svg = el("button", { type: "button", id: "stats-svg", text: "Download SVG" });
  const csv = el("a", { id: "stats-csv", href: "#", download: "", text: "Download CSV" });
  tools.append(png, document.createTextNode(" "), svg, document.createTextNode(" "), csv,
    el("span", { class: "muted", text: " (counts of 1–4 shown as <5, counts that would give one back as [c]; method and data window under the chart)" }));
  const summary = el("div", { id: "stats-summary" });
  const table = el("div", { id: "stats-table" });
  root.append(nav, opts, status, chart, tools, el("h3", { text: "Summary" }), summary, el("h3", { text: "Table" }), table);

  let current = null;
  const byName = Object.fromEntries(catalog.analyses.map((a) => [a.name, a]));

  function params() {
    const p = {};
    for (const input of opts.querySelectorAll("input,select")) if (input.value) p[input.name] = input.value;
    return p;
  }

  async function show() {
    const a = byName[current];
    status.textContent = "Computing…";
    try {
      const data = await getJSON(`/api/stats/${a.name}`, params());
      const Plotly = await loadPlotly();
      // at least 620 px: the title, the method under the plot and the legend leave the plot itself room to read
      const layout = { ...data.figure.layout, height: Math.max(data.figure.layout.height || 0, 620) };
      await Plotly.react(chart, data.figure.data, layout, { responsive: true, displaylogo: false });
      renderTable(table, data.columns, data.rows);
      const cols = data.summary.length ? Object.keys(data.summary[0]) : [];
      renderTable(summary, cols, data.summary);
      csv.href = `/api/stats/${a.name}${query({ ...params(), format: "csv" })}`;
      csv.setAttribute("download", `cscflow_${a.name}.csv`);
      status.textContent = data.title;
    } catch (err) {
      status.textContent = `Could not compute ${a.title}: ${err.message}`;
      chart.textContent = "";
      table.textContent = "";
      summary.textContent = "";
    }
  }

  function select(name) {
    current = name;
    for (const b of nav.querySelectorAll("button")) b.classList.toggle("active", b.dataset.analysis === name);
    opts.textContent = "";
    for (const o of byName[name].options) if (o !== "population") opts.appendChild(optionInput(o, catalog)); // a file: CLI only
    const go = el("button", { type: "submit", text: "Update" });
    opts.appendChild(go);
    show();
  }

  opts.addEventListener("submit", (e) => { e.preventDefault(); show(); });
  for (const a of catalog.analyses) {
    const b = el("button", { type: "button", class: "tab", text: a.title });
    b.dataset.analysis = a.name;
    b.addEventListener("click", () => select(a.name));
    nav.appendChild(b);
  }
  const download = async (format) => {
    const Plotly = await loadPlotly();
    Plotly.downloadImage(chart, { format, filename: `cscflow_${current}`, width: 1000, height: 600 });
  };
  png.addEventListener("click", () => download("png"));
  svg.addEventListener("click", () => download("svg"));
  select(catalog.analyses.find((a) => a.name === "funnel") ? "funnel" : catalog.analyses[0].name);
  return { select, ctx };
}

export default mount;
