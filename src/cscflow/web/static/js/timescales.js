// The Timescales page: per rule, the p-chart by month, the team funnel, the due-soon list, and the breaches reviewed
// and not reviewed (reviews.js: the list of breaches and the form that marks one reviewed).
import { getJSON, loadPlotly, query } from "./api.js";
import { $, el } from "./dom.js";
import { initReviews, reviewButton, showBreaches } from "./reviews.js";
import { sortable } from "./sortable.js";

async function chart(id, part, height = 640) {
  const box = $(id);
  const Plotly = await loadPlotly();
  Plotly.purge(box);
  box.replaceChildren();
  box.style.height = "";
  if (!part || part.none || !part.figure) { box.append(el("p", part && part.none ? part.none : "none", "muted")); return; }
  const layout = { ...part.figure.layout, height, autosize: true };  // room for the method under the plot
  box.style.height = `${height}px`;
  Plotly.newPlot(box, part.figure.data, layout, { responsive: true, displaylogo: false, displayModeBar: false });
}

const num = (v) => (typeof v === "number" ? v.toLocaleString() : v);  // "<5" and the like as they are

const params = () => ({ as_of: $("as-of").value, suppress: $("suppress").checked ? "true" : "false" });

async function breaches() {
  await showBreaches($("rule").value, params().as_of);
}

async function show() {
  const rule = $("rule").value;
  const p = params();
  $("status").textContent = "Loading…";
  try {
    await breaches();   // first: it tells whether reviews can be stored here (the due-soon list's buttons)
    const r = await getJSON(`/api/practices/${encodeURIComponent(rule)}`, p);
    $("counts").textContent = Object.entries(r.counts).map(([k, v]) => `${k}: ${num(v)}`).join(" · ") +
      ` (as of ${r.as_of})`;
    const rc = r.review_counts;
    $("review-counts").textContent = `Breaches: ${num(rc.late)} · reviewed: ${num(rc.reviewed)} · not reviewed: ${num(rc.unreviewed)}` +
      (p.suppress === "true" ? " (counts of 1 to 4 shown as <5)" : " (not suppressed: internal use only)");
    await chart("spc", r.spc);
    await chart("funnel", r.funnel);
    await chart("reviews-chart", r.reviews, 560);
    $("due").replaceChildren(sortable(r.due_soon.columns, r.due_soon.rows, { title: "review", cell: reviewButton }));
    $("reviews").replaceChildren(sortable(r.reviews.columns, r.reviews.rows));
    $("export").href = `/api/practices/${encodeURIComponent(rule)}/due-soon.csv` + query({ as_of: p.as_of });
    $("status").textContent = "";
  } catch (err) {
    $("status").textContent = String(err.message || err);
  }
}

async function start() {
  const info = await getJSON("/api/practices");
  $("as-of").value = info.as_of;
  for (const r of info.rules) {
    if (r.evaluable) {
      const o = el("option", `${r.rule} (${r.limit})`);
      o.value = r.rule;
      $("rule").append(o);
    } else {
      $("unavailable").append(el("li", `${r.rule}: ${r.why_not}`));
    }
  }
  const wanted = new URLSearchParams(window.location.search).get("rule");  // a link to one rule
  if (wanted && [...$("rule").options].some((o) => o.value === wanted)) $("rule").value = wanted;
  ["rule", "as-of", "suppress"].forEach((id) => $(id).addEventListener("change", show));
  $("breach-show").addEventListener("change", () => breaches().catch((err) => { $("status").textContent = String(err.message || err); }));
  initReviews(show);
  await show();
}

start().catch((err) => { $("status").textContent = String(err.message || err); });
