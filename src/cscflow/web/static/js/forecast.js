// The Forecast page: a measure's fan chart with a what-if at one junction and on arrivals, and its spend.
import { getJSON, loadPlotly } from "./api.js";
import { $, el } from "./dom.js";

window.cscflow = window.cscflow || {};
const state = { options: null, seq: 0 };

function table(columns, rows) {
  const t = el("table");
  if (!rows.length) { t.append(el("caption", "none")); return t; }
  const head = el("tr");
  columns.forEach((c) => { const th = el("th", c); th.scope = "col"; head.append(th); });
  t.append(head);
  rows.forEach((r) => {
    const tr = el("tr");
    columns.forEach((c) => {
      const v = r[c];
      tr.append(el("td", v === null ? "" : typeof v === "number" ? v.toLocaleString("en-GB") : v));
    });
    t.append(tr);
  });
  return t;
}

async function chart(box, figure) {
  const Plotly = await loadPlotly();
  Plotly.purge(box);
  box.replaceChildren();
  const layout = { ...figure.layout, height: 560, autosize: true };
  box.style.height = "560px";
  await Plotly.newPlot(box, figure.data, layout, { responsive: true, displaylogo: false });
}

function targets() {
  const j = state.options.junctions.find((x) => x.source === $("source").value);
  $("target").replaceChildren();
  (j ? j.targets : []).forEach((t) => {
    const o = el("option", `${t.label} (fitted ${(100 * t.share).toFixed(1)}%)`);
    o.value = t.target;
    $("target").append(o);
  });
}

function shareNote() {
  const j = state.options.junctions.find((x) => x.source === $("source").value);
  const t = j && j.targets.find((x) => x.target === $("target").value);
  const change = Number($("change").value);
  $("change-out").textContent = `${change > 0 ? "+" : ""}${change}%`;
  const arr = Number($("arrivals").value);
  $("arrivals-out").textContent = `${arr > 0 ? "+" : ""}${arr}%`;
  $("share-note").textContent = t && change
    ? `${j.label} → ${t.label}: fitted share ${(100 * t.share).toFixed(1)}%, in the what-if ` +
      `${Math.min(100, 100 * t.share * (1 + change / 100)).toFixed(1)}% (the other next steps rescaled to make up the rest).`
    : "Move a slider to compare a what-if with the baseline (same random numbers, side by side).";
}

async function show() {
  const seq = ++state.seq;
  shareNote();
  const params = { measure: $("measure").value, horizon: $("horizon").value, costs: $("costs").value,
    source: $("source").value, target: $("target").value, change: $("change").value, arrivals: $("arrivals").value };
  $("status").textContent = "Simulating…";
  playLink(params);
  try {
    const r = await getJSON("/api/forecast", params);
    if (seq !== state.seq) return;  // a newer request is under way
    $("chart-title").textContent = `Forecast: ${r.label}` + (r.what_if ? ` (what-if: ${r.what_if})` : "");
    await chart($("fan"), r.figure);
    $("table").replaceChildren(table(r.columns, r.rows), ...r.header.map((h) => el("p", h, "muted")));
    const sp = r.spend;
    $("spend-section").hidden = !sp;
    if (sp && sp.none) {
      $("spend-label").textContent = sp.none;
      $("spend").replaceChildren();
      $("spend-table").replaceChildren();
    } else if (sp) {
      $("spend-label").textContent = sp.example
        ? "Example costs, not published figures: every unit cost is a placeholder of 1, so these are weighted " +
          "counts of activity, not money. Put your unit costs in costs.yaml in the workspace folder."
        : `Costs: ${sp.label}.`;
      await chart($("spend"), sp.figure);
      $("spend-table").replaceChildren(table(sp.columns, sp.rows), ...sp.header.map((h) => el("p", h, "muted")));
    }
    $("status").textContent = "";
    window.cscflow.forecast = { charted: true, rows: r.rows.length, spend: Boolean(sp && !sp.none), seq };
  } catch (err) {
    if (seq !== state.seq) return;
    $("status").textContent = String(err.message || err);
    window.cscflow.error = String(err.message || err);
  }
}

// "Play on the map": the map in forecast mode (simulated.js) with this horizon and what-if, from a month before the origin.
function playLink(p) {
  const q = new URLSearchParams({ forecast: "1", horizon: p.horizon });
  if (Number(p.change) && p.source && p.target) ["source", "target", "change"].forEach((k) => q.set(k, p[k]));
  if (Number(p.arrivals)) q.set("arrivals", p.arrivals);
  const origin = state.options && state.options.origin;
  if (origin) q.set("date", new Date(Date.parse(`${origin}T00:00:00Z`) - 30 * 86400000).toISOString().slice(0, 10));
  $("play-on-map").href = `/?${q}`;
}

async function start() {
  const o = await getJSON("/api/forecast/options");
  state.options = o;
  const ids = ["measure", "horizon", "costs", "source", "target", "change", "arrivals", "reset"];
  if (!o.available) {
    $("status").textContent = "";
    $("about").textContent = `No forecast for this workspace: ${o.why}`;
    ids.forEach((id) => { $(id).disabled = true; });
    window.cscflow.forecast = { unavailable: true };
    $("play-on-map").parentElement.hidden = true;
    return;
  }
  $("speed").textContent = `Fewer simulations than the command line, for speed: ${o.simulations} a scenario, ` +
    `parameters from ${o.bootstrap} bootstrap replicates (cscflow forecast uses 200 and 20); the intervals are ` +
    `rougher. Fitted on the journeys from ${o.observed_from} to ${o.origin} (in ${o.fit_seconds} s, once).`;
  o.measures.forEach((m) => { const x = el("option", m.label); x.value = m.id; $("measure").append(x); });
  $("measure").value = o.measures.some((m) => m.id === "looked_after") ? "looked_after" : o.measures[0].id;
  o.junctions.forEach((j) => { const x = el("option", j.label); x.value = j.source; $("source").append(x); });
  if (o.junctions.some((j) => j.source === "cp_plan")) $("source").value = "cp_plan";
  targets();
  if (o.costs.workspace) {
    $("costs-workspace").disabled = false;
    $("costs-workspace").textContent = `the workspace's costs.yaml (${o.costs.label})`;
  } else {
    $("costs-why").textContent = `Your own unit costs: ${o.costs.why}.`;
  }
  $("source").addEventListener("change", () => { targets(); show(); });
  ["measure", "horizon", "costs", "target", "change", "arrivals"].forEach((id) => $(id).addEventListener("change", show));
  ["change", "arrivals"].forEach((id) => $(id).addEventListener("input", shareNote));
  $("reset").addEventListener("click", () => { $("change").value = 0; $("arrivals").value = 0; show(); });
  await show();
  window.cscflow.ready = true;
}

start().catch((err) => {
  $("status").textContent = String(err.message || err);
  window.cscflow.error = String(err.message || err);
});
