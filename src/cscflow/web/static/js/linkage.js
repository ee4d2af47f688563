// The Linkage page: summary, clerical review (local only) and the quality report.
import { getJSON } from "./api.js";
import { $, el } from "./dom.js";

function fmt(v) {
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString() : v.toPrecision(3);
  return v === null || v === undefined ? "" : String(v);
}

function table(rows) {
  const t = el("table");
  if (!rows || !rows.length) { t.append(el("caption", "none")); return t; }
  const cols = Object.keys(rows[0]);
  const head = el("tr");
  cols.forEach((c) => head.append(el("th", c)));
  t.append(head);
  rows.forEach((r) => {
    const tr = el("tr");
    cols.forEach((c) => tr.append(el("td", fmt(r[c]))));
    t.append(tr);
  });
  return t;
}

function person(title, p) {
  const box = el("div");
  box.append(el("h4", title));
  const dl = el("dl");
  for (const k of ["surname", "forenames", "dob", "sex"]) {
    dl.append(el("dt", k), el("dd", p && p[k] ? p[k] : "—"));
  }
  box.append(dl);
  return box;
}

async function decide(row, decision, box) {
  const res = await fetch("/api/linkage/decisions", {
    method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ proceedings_id: row.proceedings_id, child_id: row.child_id, decision }),
  });
  const note = box.querySelector(".done") || box.appendChild(el("span", "", "done"));
  note.textContent = res.ok ? `${decision}: stored` : `not stored (${res.status})`;
}

function reviewRow(row) {
  const box = el("div", null, "pair");
  box.append(el("p", `${row.source} row ${row.source_row}: probability ${fmt(row.match_probability)} ` +
    `(runner-up ${fmt(row.second_probability)})`));
  const sides = el("div", null, "sides");
  sides.append(person("Legal sheet", row.legal), person(`Child ${row.child_id}`, row.child));
  box.append(sides);
  // evidence: each comparison's match weight (log2 Bayes factor) for this pair
  const ev = Object.entries(row.evidence || {}).filter(([k]) => k.startsWith("mw_"))
    .map(([k, v]) => ({ comparison: k.slice(3), match_weight: v }));
  box.append(table(ev));
  for (const d of ["accept", "reject", "skip"]) {
    const b = el("button", d);
    b.type = "button";
    b.addEventListener("click", () => decide(row, d, box));
    box.append(b);
  }
  return box;
}

async function main() {
  try {
    const s = await getJSON("/api/linkage/summary");
    if (!s.linked) {
      $("summary").textContent = s.message;
      $("status").textContent = "Not linked yet";
      return;
    }
    const c = s.counts;
    const n = (v) => (typeof v === "number" ? v.toLocaleString() : v);  // "<5" as it is
    $("summary").textContent = `${n(c.linked)} linked, ${n(c.review)} for review, ${n(c.unlinked)} unlinked ` +
      `(threshold ${s.threshold}, review band ${s.review_band.join("–")}).`;
  } catch (e) {
    $("status").textContent = `No linkage yet: ${e.message}`;
    return;
  }
  try {
    const r = await getJSON("/api/linkage/review");
    $("review").replaceChildren(...(r.rows.length ? r.rows.map(reviewRow) : [el("p", "Nothing to review.")]));
  } catch (e) {
    $("review").replaceChildren(el("p", `Review not available here: ${e.message}`));
  }
  const rep = await getJSON("/api/linkage/report");
  $("rates").replaceChildren(table(rep.rates));
  $("compare").replaceChildren(table(rep.compare));
  $("sensitivity").replaceChildren(table(rep.sensitivity));
  $("status").textContent = "";
}

main();
