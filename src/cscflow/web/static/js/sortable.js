// A table sorted by a click (or Enter / Space) on a column's header button; every value shown as text (never HTML:
// notes are free text typed by users). `extra`: an optional last column, {title, cell(row) -> element or null}.
import { el } from "./dom.js";

export function sortable(columns, rows, extra = null) {
  const t = el("table");
  if (!rows.length) { t.append(el("caption", "none")); return t; }
  let key = null;
  let dir = 1;
  const draw = () => {
    t.replaceChildren();
    const head = el("tr");
    columns.forEach((c) => {
      const th = el("th");
      th.scope = "col";
      if (key === c) th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      const b = el("button", c + (key === c ? (dir > 0 ? " ▲" : " ▼") : ""), "sort");
      b.type = "button";
      b.addEventListener("click", () => { dir = key === c ? -dir : 1; key = c; draw(); t.querySelector(`th[aria-sort] button`).focus(); });
      th.append(b);
      head.append(th);
    });
    if (extra) { const th = el("th", extra.title); th.scope = "col"; head.append(th); }
    t.append(head);
    const sorted = key ? [...rows].sort((a, b) => (a[key] > b[key] ? dir : a[key] < b[key] ? -dir : 0)) : rows;
    sorted.forEach((r) => {
      const tr = el("tr", undefined, r.status === "overdue" ? "overdue" : "");
      columns.forEach((c) => tr.append(el("td", r[c] === null ? "" : r[c])));
      if (extra) {
        const td = el("td");
        const cell = extra.cell(r);
        if (cell) td.append(cell);
        tr.append(td);
      }
      t.append(tr);
    });
  };
  draw();
  return t;
}
