// The map's overlay of key-practice clocks overdue: when switched on, the dots of children with a clock overdue at the
// map's date (its due date passed, still running: the status cscflow.practices.evaluate gives at that date, computed
// by /api/overdue) are drawn bright violet and every other dot dim grey, for any rule or the one picked. The answer
// names dots by their child index in /api/tracks (the same convention and cohort), so both renderers colour them
// through the colour codes and palette every dot already has. The date asked follows the map's, one request at a
// time: exact while paused; while playing, each answer is of a day a little ahead, drawn when the map reaches it and
// kept until the next (the legend says the day drawn).
import { getJSON } from "./api.js";
import { NOT_OVERDUE, OVERDUE, paletteArray } from "./palette.js";

const $ = (id) => document.getElementById(id);
const key = (convention, where) => JSON.stringify([convention, where]);

export class OverdueOverlay {
  // onChange(): the overlay was switched, its rule picked or a new answer came: the page recolours and redraws.
  constructor(onChange) {
    this.onChange = onChange;
    this.on = false;
    this.allowed = true;      // not while two cohorts or two periods are compared (their colours are fixed)
    this.rule = "";            // "" = any rule
    this.answer = null;        // the last answer, for `answerFor` (convention and cohort)
    this.answerFor = null;
    this.pending = null;       // an answer for a day ahead of the map (while playing), drawn when the map gets there
    this.latency = 0.5;        // seconds an answer takes (learnt)
    this.busy = false;
    this.error = null;
    this.requests = 0;
    this.flags = null;         // per child index: 1 when overdue (for the rule picked)
    this.palette = paletteArray([NOT_OVERDUE, OVERDUE]);
    $("overdue").addEventListener("change", (e) => { this.on = e.target.checked; this.refresh(); });
    $("overdue-rule").addEventListener("change", (e) => { this.rule = e.target.value; this.flags = null; this.refresh(); });
    $("compare").addEventListener("change", (e) => {
      this.allowed = e.target.value === "none";
      $("overdue").disabled = !this.allowed;
      this.note(this.allowed ? "" : "Not while comparing: the compared dots have colours of their own.");
      this.refresh();
    });
  }

  // True when the overlay colours the dots (switched on, and nothing compared).
  get active() { return this.on && this.allowed; }

  refresh() {
    if (this.active && this.args) this.update(...this.args);
    this.onChange();
  }

  // The map shows `iso` for `convention` and cohort `where` (called a few times a second): while paused, ask for the
  // overdue dots of that day; while playing (`speed` days a second, the data ending on `last`), ask for the day the
  // map will show when the answer comes (one request at a time, its time learnt from the last ones) and draw that
  // answer once the map reaches its day, so the colours are never of a day the map has not shown yet.
  update(iso, convention, where, playing = false, speed = 0, last = null) {
    this.args = [iso, convention, where, playing, speed, last];
    if (!this.active || !iso) return;
    const k = key(convention, where), p = this.pending;
    if (p && (p.k !== k || (!playing && p.a.as_of > iso))) this.pending = null;
    else if (p && p.a.as_of <= iso) { this.pending = null; this.apply(p.a, p.k); }
    if (this.busy || (playing && this.pending)) return;
    if (this.answer && this.answerFor === k && this.answer.as_of === iso) return;
    const ahead = playing ? Math.ceil(speed * this.latency * 1.25) : 0;
    let day = ahead ? new Date(Date.parse(`${iso}T00:00:00Z`) + ahead * 86400000).toISOString().slice(0, 10) : iso;
    if (last && day > last) day = last;
    if (playing && this.answer && this.answerFor === k && this.answer.as_of >= day) return;
    this.fetch(day, convention, where, k);
  }

  async fetch(day, convention, where, k) {
    this.busy = true;
    this.requests++;
    const t0 = performance.now();
    try {
      const a = await getJSON("/api/overdue", { as_of: day, convention, ...where });
      this.latency = 0.5 * this.latency + 0.5 * ((performance.now() - t0) / 1000);
      this.error = null;
      this.rules(a.rules);
      const now = this.args ? this.args[0] : day;
      if (a.as_of <= now) this.apply(a, k); else this.pending = { a, k };
    } catch (err) {
      this.error = String(err.message || err);
      this.note(`Overdue clocks not available: ${this.error}`);
    }
    this.busy = false;
    if (this.args && !this.error) this.update(...this.args);   // the map has moved on meanwhile
  }

  apply(a, k) {
    this.answer = a;
    this.answerFor = k;
    this.flags = null;
    this.describe();
    this.onChange();
  }

  // The rules of the select: "any rule", then every clock rule the data can show.
  rules(list) {
    const select = $("overdue-rule");
    if (select.options.length > 1) return;
    for (const r of list) select.append(new Option(`${r.rule} (${r.limit})`, r.rule));
    select.value = this.rule;
  }

  note(text) { $("overdue-note").textContent = text; }

  describe() {
    const a = this.answer;
    if (!a) return;
    const r = this.rule ? a.rules.find((x) => x.rule === this.rule) : null;
    const n = r ? r.children : a.any;
    this.note(`${n} ${n === 1 ? "child" : "children"} with ${r ? `a ${r.rule} clock` : "a clock"} overdue on ${a.as_of}` +
      " (counts of 1 to 4 shown as <5; children waiting in a shaded ring are not drawn one by one).");
  }

  // Colour codes of `legs` (data.js buildLegs) for the convention and cohort of their layer: 1 where the leg's child
  // has a clock overdue (of the rule picked), else 0; all 0 until the answer for that layer has come.
  codes(legs, convention, where) {
    const out = new Float32Array(legs.n);
    if (!this.answer || this.answerFor !== key(convention, where)) return out;
    if (!this.flags || this.flags.length !== legs.header.n_children) {
      this.flags = new Uint8Array(legs.header.n_children);
      const k = this.rule ? this.answer.rules.findIndex((x) => x.rule === this.rule) : -1;
      this.answer.children.forEach((c, i) => {
        if (c < this.flags.length && (k < 0 || this.answer.rules_of[i].includes(k))) this.flags[c] = 1;
      });
      this.describe();
    }
    for (let r = 0; r < legs.n; r++) out[r] = this.flags[legs.child[r]];
    return out;
  }

  // The legend's entries while active: [[colour, text], ...] and a heading.
  legend() {
    if (!this.active) return null;
    const what = this.rule ? `a ${this.rule} clock` : "a key-practice clock";
    const when = this.answer ? ` on ${this.answer.as_of}` : "";
    return { head: `Dot colour: children with ${what} overdue${when}`,
      items: [[OVERDUE, "clock overdue (due date passed, still running)"], [NOT_OVERDUE, "no clock overdue"]] };
  }

  // For scripts and tests (window.cscflow.overdue).
  state() {
    return { on: this.on, active: this.active, rule: this.rule, asOf: this.answer ? this.answer.as_of : null,
      children: this.answer ? this.answer.children.length : 0, busy: this.busy,
      requests: this.requests, error: this.error };
  }
}
