// Analytics pages: the engine's flow tables as plotly charts, a table view and CSV downloads.
import { getJSON, loadPlotly, query } from "./api.js";
import { tableOf } from "./panel.js";

const $ = (id) => document.getElementById(id);
const NOT_MEASURES = new Set(["repeat", "seq", "year", "month", "week", "rank", "order"]);
const WITHHELD = new Set(["<5", "[c]"]);
let ctx = null;
let current = "conversion";

function params() {
  const p = { ...ctx.where(), start: $("a-start").value, end: $("a-end").value };
  if (current === "before_after") p.date = $("a-date").value;
  return p;
}

function isDateLike(values) {
  return values.length > 0 && values.every((v) => typeof v === "string" && /^\d{4}-\d{2}(-\d{2})?/.test(v));
}

// Conversion (a row per from -> to pair with its rate) as a from -> to matrix: one row per station children
// leave, one column per station they go to next, the cell's colour and text the share of those leaving (a
// colour-blind safe scale, Viridis); a withheld or blank rate is an empty cell. The axes carry the stations' ids
// (as the API and the CSV do) and show their names on the map (`label`).
export function matrixSpec(rows, label = (id) => id) {
  const from = [...new Set(rows.map((r) => String(r.source)))];
  const seen = new Set(rows.map((r) => String(r.target)));   // columns: stations in the rows' order, then the rest
  const to = [...from.filter((f) => seen.has(f)), ...[...seen].filter((t) => !from.includes(t))];
  const z = from.map(() => to.map(() => null)), text = from.map(() => to.map(() => ""));
  const pair = from.map((f) => to.map((t) => `${label(f)} → ${label(t)}`));
  for (const r of rows) {
    const i = from.indexOf(String(r.source)), j = to.indexOf(String(r.target));
    const rate = typeof r.rate === "number" ? r.rate : null;
    z[i][j] = rate === null ? null : 100 * rate;
    const n = typeof r.n === "number" ? r.n.toLocaleString("en-GB") : r.n ?? "";
    text[i][j] = rate === null ? String(n) : `${(100 * rate).toFixed(0)}%<br>${n}`;
  }
  const trace = { type: "heatmap", x: to, y: from, z, text, texttemplate: "%{text}", hoverongaps: false, zsmooth: false, xgap: 1, ygap: 1,
    textfont: { size: 10 }, colorscale: "Viridis", zmin: 0, zmax: 100, colorbar: { title: { text: "% of those<br>leaving" } },
    customdata: pair, hovertemplate: "%{customdata}: %{text}<extra></extra>" };
  return { traces: [trace], layout: { margin: { l: 170, r: 20, t: 30, b: 150 },
    xaxis: { title: { text: "went next to (rows: the station left)" }, side: "bottom", tickvals: to, ticktext: to.map(label), tickangle: -40,
      automargin: true },
    yaxis: { autorange: "reversed", tickvals: from, ticktext: from.map(label), automargin: true } } };
}

// The chart carries its method, data window and disclosure rule (so a downloaded image does too).
// below: px from the plot's foot to the caption (clear of the x axis's labels and title).
function withCaption(spec, data, below = 130) {
  if (data.caption) {
    const lines = data.caption.split("<br>").length;
    spec.layout.margin.b = below + 20 + 14 * lines;
    spec.layout.annotations = [{ text: data.caption, xref: "paper", yref: "paper", x: 0, y: 0, yshift: -below, xanchor: "left",
      yanchor: "top", align: "left", showarrow: false, font: { size: 10, color: "#444" } }];
  }
  return spec;
}

// A chart for any flow table: a from -> to matrix for conversion; else the first text/date column along x,
// its numeric columns as traces.
export function chartSpec(table, data) {
  const rows = data.rows;
  const cols = data.columns;
  if (!rows.length) return { traces: [], layout: { title: "No rows for this cohort and period" } };
  if (["source", "target", "rate"].every((c) => cols.includes(c))) {
    return withCaption(matrixSpec(rows, (id) => (ctx && ctx.label ? ctx.label(id) : id)), data, 200);
  }
  // Counts withheld by disclosure control ("<5", "[c]") and blanked rates (null) are gaps, not labels.
  const numeric = cols.filter((c) => rows.every((r) => r[c] === null || typeof r[c] === "number" || WITHHELD.has(r[c]))
    && rows.some((r) => typeof r[c] === "number") && !NOT_MEASURES.has(c));
  // complete / complete_12 ...: false where a look-back reaches before the data start (greyed, not a label)
  const flags = cols.filter((c) => /^(lookback_)?complete(_\d+)?$/.test(c));
  const labels = cols.filter((c) => !numeric.includes(c) && !flags.includes(c));
  const done = (r, c) => {
    const m = /_(\d+)$/.exec(c);
    const f = m && flags.includes(`complete_${m[1]}`) ? `complete_${m[1]}` : flags.find((g) => !/_\d+$/.test(g));
    return !f || r[f] !== false;
  };
  const x = labels.length
    ? rows.map((r) => labels.slice(0, 2).map((c) => r[c]).filter((v) => v !== null && v !== undefined).join(" → ")
      + (flags.length && !done(r, "") ? " (incomplete)" : ""))
    : rows.map((_, i) => i + 1);
  const dates = labels.length && isDateLike(rows.map((r) => r[labels[0]]));
  const xs = dates ? rows.map((r) => r[labels[0]]) : x;
  const quart = ["q1", "q3"].every((q) => numeric.includes(q)) && numeric.includes("median");
  let measures = numeric;
  if (quart) measures = ["median"];
  const rateLike = measures.filter((c) => /rate|share|prop|pct|percent/.test(c));
  if (rateLike.length && rateLike.length < measures.length && !dates) measures = rateLike;
  const traces = measures.slice(0, 6).map((c) => {
    const t = { name: c.replaceAll("_", " "), x: xs, y: rows.map((r) => (typeof r[c] === "number" ? r[c] : null)), type: dates ? "scatter" : "bar" };
    if (flags.length) t.marker = { opacity: rows.map((r) => (done(r, c) ? 1 : 0.3)) };
    if (dates) t.mode = "lines";
    if (quart && c === "median") {
      t.error_y = { type: "data", symmetric: false, array: rows.map((r) => r.q3 - r.median), arrayminus: rows.map((r) => r.median - r.q1) };
      t.name = "median (bars: quartiles)";
    }
    return t;
  });
  const layout = { margin: { l: 60, r: 20, t: 30, b: 120 }, barmode: "group", legend: { orientation: "h" } };
  return withCaption({ traces, layout }, data);
}

async function show(table) {
  current = table;
  document.querySelectorAll("#flow-tabs button").forEach((b) => b.classList.toggle("active", b.dataset.table === table));
  $("a-date-box").hidden = table !== "before_after";
  const chart = $("chart");
  const p = params();
  $("csv").href = `/api/flow/${table}${query({ ...p, format: "csv" })}`;
  $("csv").setAttribute("download", `cscflow_${table}.csv`);
  let data;
  try {
    data = await getJSON(`/api/flow/${table}`, p);
  } catch (err) {
    chart.replaceChildren(document.createTextNode(String(err.message || err)));
    $("flow-table").replaceChildren();
    return;
  }
  const tbl = tableOf(data.rows, table);
  tbl.querySelectorAll("tbody tr").forEach((tr, i) => {
    if (data.rows[i] && (data.rows[i].complete === false || data.rows[i].lookback_complete === false)) {
      tr.classList.add("incomplete");
      tr.style.opacity = "0.45";
      tr.title = "Look-back reaches before the data start: the rate can only be too low";
    }
  });
  $("flow-table").replaceChildren(tbl);
  window.cscflow.analytics = { table, rows: data.rows.length };
  try {
    const Plotly = await loadPlotly();
    const spec = chartSpec(table, data);
    // A from -> to matrix gets a row of 30 px per station (in the box's fixed 460 px its 20 rows were squeezed
    // until every other label and every cell's figures were lost); other charts keep the box's height.
    const heat = spec.traces.length && spec.traces[0].type === "heatmap" ? spec.traces[0].y.length : 0;
    const height = heat ? Math.max(460, spec.layout.margin.t + spec.layout.margin.b + 30 * heat) : 0;
    chart.style.height = height ? `${height}px` : "";
    if (height) spec.layout.height = height;
    chart.replaceChildren();
    await Plotly.newPlot(chart, spec.traces, spec.layout, { displaylogo: false, displayModeBar: false, responsive: true });
    chart.title = (data.header || []).join("\n");
    window.cscflow.analytics.charted = true;
  } catch (err) {
    chart.textContent = String(err.message || err);
  }
}

export function init(context) {
  ctx = context;
  const tabs = $("flow-tabs");
  // The tables and their labels come from the one list the engine, the CLI and the API read.
  getJSON("/api/flow").then((tables) => {
    for (const { table: name, label } of tables) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.dataset.table = name;
      b.addEventListener("click", () => show(name));
      tabs.appendChild(b);
    }
  }).catch((err) => {
    console.error("cscflow: the list of flow tables could not be loaded", err);
    $("status").textContent = `Error: the list of flow tables could not be loaded (${err.message || err})`;
  });
  for (const id of ["a-start", "a-end", "a-date"]) $(id).addEventListener("change", () => show(current));
  $("toggle-table").addEventListener("click", () => { $("flow-table").hidden = !$("flow-table").hidden; });
  document.querySelectorAll("nav button.tab").forEach((tab) => {
    tab.addEventListener("click", () => {
      document.querySelectorAll("nav button.tab").forEach((t) => t.classList.toggle("active", t === tab));
      document.querySelectorAll(".view").forEach((v) => { v.hidden = v.id !== tab.dataset.view; });
      if (tab.dataset.view === "analytics-view") show(current);
      if (tab.dataset.view === "stats-view") mountStats();
      if (tab.dataset.view === "map-view") window.dispatchEvent(new Event("resize"));
    });
  });
  // A link from another page (?view=analytics or ?view=stats) opens that view.
  const wanted = { analytics: "analytics-view", stats: "stats-view" }[new URLSearchParams(window.location.search).get("view")];
  const open = () => { const t = document.querySelector(`nav button.tab[data-view="${wanted}"]`); if (t && !t.hidden) t.click(); };
  if (wanted === "analytics-view") open();
  // The statistics pages (stats.js): their tab shows once the module has loaded; a failure is shown, not hidden.
  import("./stats.js").then((m) => {
    statsModule = m; $("stats-tab").hidden = false;
    if (wanted === "stats-view") open();
  }).catch((err) => {
    console.error("cscflow: the statistics pages could not be loaded", err);
    $("status").textContent = `Error: the statistics pages could not be loaded (${err.message || err})`;
  });
}

let statsModule = null;
let statsMounted = false;
function mountStats() {
  if (!statsModule || statsMounted) return;
  statsMounted = true;
  const mount = statsModule.mount || statsModule.default || statsModule.init;
  if (typeof mount === "function") mount($("stats-view"), { where: ctx.where });
}
