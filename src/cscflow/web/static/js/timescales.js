// The Timescales page: per rule, the p-chart by month, the team funnel and the due-soon list.
import { getJSON, loadPlotly, query } from "./api.js";
import { $, el } from "./dom.js";

function sortable(columns, rows) {
  const t = el("table");
  if (!rows.length) { t.append(el("caption", "none")); return t; }
  let key = null;
  let dir = 1;
  const draw = () => {
    t.replaceChildren();
    const head = el("tr");
    columns.forEach((c) => {
      const th = el("th", c + (key === c ? (dir > 0 ? " ▲" : " ▼") : ""));
      th.addEventListener("click", () => { dir = key === c ? -dir : 1; key = c; draw(); });
      head.append(th);
    });
    t.append(head);
    const sorted = key ? [...rows].sort((a, b) => (a[key] > b[key] ? dir : a[key] < b[key] ? -dir : 0)) : rows;
    sorted.forEach((r) => {
      const tr = el("tr", undefined, r.status === "overdue" ? "overdue" : "");
      columns.forEach((c) => tr.append(el("td", r[c] === null ? "" : r[c])));
      t.append(tr);
    });
  };
  draw();
  return t;
}

async function chart(id, part) {
  const box = $(id);
  const Plotly = await loadPlotly();
  Plotly.purge(box);
  box.replaceChildren();
  box.style.height = "";
  if (!part || part.none) { box.append(el("p", part ? part.none : "none", "muted")); return; }
  const layout = { ...part.figure.layout, height: 640, autosize: true };  // room for the method under the plot
  box.style.height = "640px";
  Plotly.newPlot(box, part.figure.data, layout, { responsive: true, displaylogo: false, displayModeBar: false });
}

async function show() {
  const rule = $("rule").value;
  const params = { as_of: $("as-of").value, suppress: $("suppress").checked ? "true" : "false" };
  $("status").textContent = "Loading…";
  try {
    const r = await getJSON(`/api/practices/${encodeURIComponent(rule)}`, params);
    $("counts").textContent = Object.entries(r.counts).map(([k, v]) => `${k}: ${v}`).join(" · ") +
      ` (as of ${r.as_of})`;
    await chart("spc", r.spc);
    await chart("funnel", r.funnel);
    $("due").replaceChildren(sortable(r.due_soon.columns, r.due_soon.rows));
    $("reviews").replaceChildren(sortable(r.reviews.columns, r.reviews.rows));
    $("export").href = `/api/practices/${encodeURIComponent(rule)}/due-soon.csv` + query({ as_of: params.as_of });
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
  await show();
}

start().catch((err) => { $("status").textContent = String(err.message || err); });
