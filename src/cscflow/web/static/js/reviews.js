// Learning without harm, on the Timescales page: the rule's breaches (clocks stopped late or still running past their
// due date) with their review, and the form that marks one reviewed with a cause, a note and an action. The form
// posts to /api/practices/{rule}/reviews, which stores it in the workspace through practices.reviews.mark (what
// `cscflow practices WS --review` calls) and answers only a browser on the machine that holds the workspace. Notes
// are free text: always shown as text, never as HTML.
import { getJSON } from "./api.js";
import { $, el } from "./dom.js";
import { sortable } from "./sortable.js";

const LATE = new Set(["breached", "overdue"]);
const S = { local: false, causes: null, picked: null, onSaved: null, saved: 0 };

// The "Review" button of a breached or overdue clock's row (null for other rows, or where reviews cannot be stored).
export function reviewButton(row) {
  if (!LATE.has(row.status) || !S.local) return null;
  const b = el("button", row.cause ? "Review again" : "Review", "review");
  b.type = "button";
  b.setAttribute("aria-label", `${row.cause ? "Review again" : "Review"} the ${row.status} ${row.rule} clock of ` +
    `child ${row.child_id} started ${row.start}`);
  b.addEventListener("click", () => pick(row, b));
  return b;
}

function pick(row, opener) {
  S.picked = { rule: row.rule, child_id: row.child_id, start: row.start, opener };
  $("review-what").textContent = `Review the ${row.status} ${row.rule} clock of child ${row.child_id} ` +
    `(started ${row.start}, due ${row.due})`;
  $("review-cause").value = row.cause || "";
  $("review-note").value = row.note || "";
  $("review-action").value = row.action || "";
  $("review-form").hidden = false;
  $("review-cause").focus();
}

function close() {
  $("review-form").hidden = true;
  const opener = S.picked && S.picked.opener;
  S.picked = null;
  if (opener && opener.isConnected) opener.focus();
}

function fillCauses(causes) {
  if (S.causes) return;
  S.causes = causes;
  const select = $("review-cause");
  select.append(new Option("choose a cause", ""));
  for (const [id, text] of Object.entries(causes)) select.append(new Option(`${id.replace(/_/g, " ")}: ${text}`, id));
}

// The list of breaches of `rule` at `asOf` (the "Show" choice: not reviewed, reviewed or all).
export async function showBreaches(rule, asOf) {
  const r = await getJSON(`/api/practices/${encodeURIComponent(rule)}/breaches`, { as_of: asOf, show: $("breach-show").value });
  fillCauses(r.causes);
  S.local = Boolean(r.notes_shown);
  $("review-local").hidden = S.local;
  const table = sortable(r.columns, r.rows, S.local ? { title: "review", cell: reviewButton } : null);
  const parts = [table];
  if (r.truncated) parts.push(el("p", "The 1,000 breaches due most recently are shown.", "muted"));
  $("breaches").replaceChildren(...parts);
  $("breaches").dataset.rows = String(r.rows.length);
}

async function save(e) {
  e.preventDefault();
  const p = S.picked;
  if (!p) return;
  const status = $("review-status");
  const body = { child_id: p.child_id, start: p.start, cause: $("review-cause").value, note: $("review-note").value,
    action: $("review-action").value };
  let res;
  try {
    res = await fetch(`/api/practices/${encodeURIComponent(p.rule)}/reviews`, {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
  } catch (err) {
    status.textContent = `Not stored: ${err.message || err}`;
    status.className = "error";
    return;
  }
  if (!res.ok) {
    let msg = String(res.status);
    try { msg = (await res.json()).detail || msg; } catch (err) { /* not JSON */ }
    status.textContent = `Not stored: ${typeof msg === "string" ? msg : JSON.stringify(msg)}`;
    status.className = "error";
    return;
  }
  S.saved++;
  status.className = "";
  status.textContent = `Reviewed: ${p.rule} for child ${p.child_id} (clock started ${p.start}), cause ${body.cause.replace(/_/g, " ")}.`;
  $("review-form").hidden = true;
  S.picked = null;
  if (S.onSaved) await S.onSaved();
  $("review-status").dataset.saved = String(S.saved);
}

// Wire the form once; onSaved() redraws the page (the counts, the chart and the lists) after a review is stored.
export function initReviews(onSaved) {
  S.onSaved = onSaved;
  $("review-form").addEventListener("submit", save);
  $("review-cancel").addEventListener("click", close);
  $("review-form").addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
}
