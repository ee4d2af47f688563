// Pieces of the map page drawn only from what they are given (no page state): dates and numbers in the
// browser's locale, the cohort filters, the legend, the station counts table and the event markers.
import { dayOf, isoOf } from "./blob.js";
import { CATEGORIES, COHORT_A, COHORT_B, REPEAT, REPEAT_LABELS } from "./palette.js";

const LOCALE = navigator.language || "en-GB";
const DATE_FORMAT = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
const SHORT_DATE = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
export const fmtDate = (iso, short = false) => (short ? SHORT_DATE : DATE_FORMAT).format(new Date(`${iso}T00:00:00Z`));
export const fmtNumber = (n) => (typeof n === "string" ? n : Number(n).toLocaleString(LOCALE));   // "<5" as it is

// The same day a month (n months) away from day t (days since epoch), clamped to the month's length.
export function addMonths(epoch, t, n) {
  const d = new Date((epoch + Math.floor(t)) * 86400000);
  const y = d.getUTCFullYear(), m = d.getUTCMonth() + n;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return Date.UTC(y, m, Math.min(d.getUTCDate(), last)) / 86400000 - epoch;
}

export function describe(where) {
  const parts = Object.entries(where).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(", ") : "everyone";
}

// A select per filter name with its values; a choice is written into `target` (blank: removed), then onChange().
export function filterControls(box, names, values, target, onChange) {
  box.replaceChildren();
  for (const name of names) {
    const options = name === "repeat" ? ["1", "2", "3+"] : values[name];
    if (!options) continue;
    const label = document.createElement("label");
    label.textContent = name === "la" ? "LA" : name.replace("_", " ");
    const select = document.createElement("select");
    select.name = name;
    select.dataset.filter = name;
    select.append(new Option("all", ""));
    options.forEach((v) => select.append(new Option(String(v), String(v))));
    select.value = target[name] || "";
    select.addEventListener("change", () => {
      if (select.value) target[name] = select.value; else delete target[name];
      onChange();
    });
    label.appendChild(select);
    box.appendChild(label);
  }
}

// The key to the dots' colours: the overlay of overdue clocks (overdue.js) when it is on, cohorts A and B, two
// periods, the child's involvement, or an attribute's values.
export function legend(box, { compare, where, whereB, shift, colourBy, attributes, overlay, density }) {
  box.replaceChildren();
  const item = (colour, text) => {
    const span = document.createElement("span");
    const dot = document.createElement("i");
    dot.style.background = colour;
    span.append(dot, document.createTextNode(text));
    box.appendChild(span);
  };
  const head = (text) => {
    const span = document.createElement("span");
    span.className = "legend-head";
    span.textContent = text;
    box.appendChild(span);
  };
  if (overlay) {
    head(overlay.head);
    overlay.items.forEach(([c, text]) => item(c, text));
  } else if (compare === "cohort") {
    item(CATEGORIES[COHORT_A], `A: ${describe(where)}`);
    item(CATEGORIES[COHORT_B], `B: ${describe(whereB)}`);
  } else if (compare === "period") {
    item(CATEGORIES[COHORT_A], "shown date");
    item(CATEGORIES[COHORT_B], `${shift} days later`);
  } else if (colourBy === "repeat") {
    head("Dot colour: the child's involvement with children's services");
    REPEAT.forEach((c, i) => item(c, REPEAT_LABELS[i]));
  } else {
    const labels = (attributes || {})[colourBy] || [];
    labels.slice(0, 16).forEach((l, i) => item(CATEGORIES[i], String(l)));
  }
  if (density !== null && density !== undefined) {     // density.js: past `density` dots, cells of dots, not discs
    head(`Drawing density: with ${density > 0 ? `over ${fmtNumber(density)}` : "these"} children on the move, each ` +
      "spot is a few pixels of map shaded by how many children are there (faint: one; bright: many), in one of their colours");
  }
}

// The caseload strip under the slider: the dots on the map sampled weekly ({days, counts}, days since the epoch) over
// [lo, end], and its text for screen readers in `label`.
export function drawStrip(c, label, { days, counts, lo, end, epoch }) {
  const box = c.getBoundingClientRect(), r = window.devicePixelRatio || 1;
  if (!box.width) return;
  c.width = Math.round(box.width * r);
  c.height = Math.round(box.height * r);
  const ctx = c.getContext("2d");
  ctx.setTransform(r, 0, 0, r, 0, 0);
  ctx.clearRect(0, 0, box.width, box.height);
  const span = Math.max(1, end - lo);
  const top = Math.max(1, ...counts.filter((_, i) => days[i] >= lo));
  ctx.beginPath();
  ctx.moveTo(0, box.height);
  days.forEach((d, i) => { if (d >= lo) ctx.lineTo(((d - lo) / span) * box.width, box.height - (counts[i] / top) * (box.height - 2)); });
  ctx.lineTo(box.width, box.height);
  ctx.closePath();
  ctx.fillStyle = "rgba(86, 180, 233, 0.35)";
  ctx.fill();
  ctx.strokeStyle = "#56b4e9";
  ctx.lineWidth = 1;
  ctx.stroke();
  label.textContent = `Children on the map, ${fmtDate(isoOf(epoch + lo), true)} to ${fmtDate(isoOf(epoch + end), true)} ` +
    `(most: ${fmtNumber(top)})`;
}

// The station counts on a date as a table (for screen readers and anyone who prefers numbers): rows of
// [station label, children here, arrived this week].
export function countsTable(table, caption, rows) {
  const body = table.tBodies[0];
  table.caption.textContent = caption;
  if (body.rows.length !== rows.length) {
    body.replaceChildren(...rows.map(() => {
      const tr = document.createElement("tr");
      tr.append(document.createElement("th"), document.createElement("td"), document.createElement("td"));
      tr.firstChild.scope = "row";
      return tr;
    }));
  }
  rows.forEach((r, k) => r.forEach((v, c) => { body.rows[k].cells[c].textContent = c ? fmtNumber(v) : v; }));
}

// The event markers under the slider (a click goes to the day), placed over [lo, end] days since epoch.
export function markers(box, events, { epoch, lo, end }, onPick) {
  box.replaceChildren();
  for (const e of events) {
    const day = dayOf(e.date) - epoch;
    if (day < lo || day > end) continue;
    const b = document.createElement("button");
    b.type = "button";
    b.className = e.local ? "local" : "";
    b.title = `${fmtDate(e.date)}: ${e.label}`;
    b.setAttribute("aria-label", `Go to ${fmtDate(e.date)}: ${e.label}`);
    b.dataset.date = e.date;
    b.style.left = `${(100 * (day - lo)) / Math.max(1, end - lo)}%`;
    b.addEventListener("click", () => onPick(day));
    box.appendChild(b);
  }
}
