// Side panels: a station's numbers (from the API) and one child's journey (pseudonymised id only).
import { getJSON } from "./api.js";

function h(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

export function fmt(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString("en-GB") : v.toFixed(v < 10 ? 2 : 1);
  return String(v);
}

export function tableOf(rows, section) {
  const table = h("table", { class: "data", "data-section": section });
  if (!rows || !rows.length) {
    table.appendChild(h("caption", {}, "none"));
    return table;
  }
  const cols = Object.keys(rows[0]);
  const head = table.appendChild(h("thead")).appendChild(h("tr"));
  cols.forEach((c) => head.appendChild(h("th", {}, c.replaceAll("_", " "))));
  const body = table.appendChild(h("tbody"));
  rows.forEach((row) => {
    const tr = body.appendChild(h("tr"));
    cols.forEach((c) => tr.appendChild(h("td", { "data-col": c, "data-value": row[c] ?? "" }, fmt(row[c]))));
  });
  return table;
}

export async function showStation(box, id, params) {
  box.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  let data;
  try {
    data = await getJSON(`/api/stations/${encodeURIComponent(id)}`, params);
  } catch (err) {
    box.replaceChildren(h("p", { class: "error" }, String(err.message || err)));
    return null;
  }
  const parts = [h("h2", { "data-station": id }, data.label)];
  if (data.date) {
    const dl = h("dl", { class: "figures" });
    dl.append(h("dt", {}, `Here on ${data.date}`), h("dd", { "data-field": "here_now" }, fmt(data.here_now)));
    dl.append(h("dt", {}, "Arrived in the 7 days to then"), h("dd", { "data-field": "arrived_week" }, fmt(data.arrived_week)));
    parts.push(dl);
  }
  parts.push(h("h3", {}, "All stays here"), tableOf(data.totals, "totals"));
  parts.push(h("h3", {}, "Where they went next"), tableOf(data.onward, "onward"));
  parts.push(h("h3", {}, "Time spent (days)"), tableOf(data.durations, "durations"));
  box.replaceChildren(...parts);
  box.dataset.loaded = id;
  return data;
}

export async function showChild(box, index, params) {
  box.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  try {
    const data = await getJSON(`/api/children/${index}`, params);
    const rows = data.stays.map((s) => ({ episode: s.repeat, station: s.label, start: s.start, end: s.end ?? "open", days: s.days }));
    box.replaceChildren(h("h2", {}, "A child's journey"), h("p", { class: "mono", "data-field": "child_id" }, data.child_id),
      tableOf(rows, "journey"));
    return data;
  } catch (err) {
    box.replaceChildren(h("p", { class: "error" }, String(err.message || err)));
    return null;
  }
}
