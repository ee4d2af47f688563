// The map's forecast period: one simulated run of the fitted model (/api/tracks/simulated) played after the forecast
// origin. Real children's dots are drawn up to the origin; after it only simulated children (the children open at
// the origin continue in simulation, new ones arrive), drawn as hollow violet rings (a renderer layer of their own,
// one fixed palette slot), under a banner that says they are simulated; the slider's forecast part is hatched and
// the station counts there are the simulated ones, as the API disclosed them (1-4 as "<5").
// ?forecast=1 (with horizon, run, source, target, change, arrivals: the Forecast page's "Play on the map") opens
// the map in this mode.
import { getBlob } from "./api.js";
import { dayOf } from "./blob.js";
import { buildLegs, drawRange, visibleCount } from "./data.js";
import { fmtDate, fmtNumber } from "./view.js";

export const SIM_COLOUR = "#b469ff";   // violet (palette.js OVERDUE: the colour furthest from every other dot colour)
export const SIM_SLOT = 15;            // the palette slot the simulated layer is drawn in
export const SIM_LAYER = 2;            // renderer layer (0 and 1: the real cohorts)
const SIM_SIZE = 7;                    // CSS px: a simulated dot's diameter (a ring: wider than a real dot's 5)
const WHAT_IF = ["source", "target", "change", "arrivals"];
const $ = (id) => document.getElementById(id);

function rgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [((v >> 16) & 255) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255];
}

export class ForecastMode {
  // params: the page's URL parameters; page: {convention(), net(), renderer(), changed()} from main.js.
  constructor(params, page) {
    this.page = page;
    this.on = params.get("forecast") === "1";
    this.horizon = Number(params.get("horizon")) || 12;
    this.run = Number(params.get("run")) || 1;
    this.whatIf = {};
    for (const k of WHAT_IF) if (params.get(k)) this.whatIf[k] = params.get(k);
    this.tracks = null;
    this.legs = null;
    this.palettes = new Map();
    this.error = null;
  }

  // The simulated run for the current settings (nothing when off); resolves when its layer is set.
  // A later call wins over one still under way (seq).
  async load() {
    const r = this.page.renderer(), seq = (this.seq = (this.seq || 0) + 1);
    if (!this.on) { this.tracks = this.legs = null; this.loading = false; r.setLayer(SIM_LAYER, null); this.show(); return; }
    this.loading = true;
    this.show();
    let tracks = null, error = null;
    try {
      tracks = await getBlob("/api/tracks/simulated",
        { convention: this.page.convention(), horizon: this.horizon, run: this.run, ...this.whatIf });
    } catch (err) {
      error = String(err.message || err);
    }
    if (seq !== this.seq) return;
    this.loading = false;
    this.tracks = tracks;
    this.error = error;
    if (!tracks) { this.legs = null; r.setLayer(SIM_LAYER, null); this.show(); return; }
    const h = tracks.header;
    this.origin = h.origin_day;
    this.end = dayOf(h.end) - dayOf(h.epoch);   // the real tracks' epoch (the API's)
    this.build();
    this.show();
  }

  // The legs on the network (again when the added routes are shown or hidden).
  build() {
    if (!this.tracks) return;
    this.legs = buildLegs(this.tracks, this.page.net());
    this.page.renderer().setLayer(SIM_LAYER, this.legs, new Float32Array(this.legs.n));
    this.weekly = null;
  }

  get active() { return Boolean(this.on && this.legs); }
  hides(t) { return this.active && t > this.origin; }          // after the origin: no real dot, only simulated ones
  shows(t) { return this.hides(t); }
  realEnd(end) { return this.active ? Math.min(end, this.origin) : end; }   // the last day of real dots shown

  // The palette with the simulated colour in its slot (splat mode composites every layer with one palette).
  palette(p) {
    if (!this.active) return p;
    let out = this.palettes.get(p);
    if (!out) { out = Float32Array.from(p); out.set(rgb(SIM_COLOUR), SIM_SLOT * 3); this.palettes.set(p, out); }
    return out;
  }

  // The frame's draws: after the origin, layer 0 hidden and the simulated layer added.
  draws(draws, t, palette) {
    if (!this.active) return draws;
    if (this.hides(t) && draws[0]) draws[0] = { ...draws[0], ranges: [] };
    while (draws.length < SIM_LAYER) draws.push(null);
    draws[SIM_LAYER] = this.shows(t) ? { t, ranges: drawRange(this.legs, t), palette, fixed: SIM_SLOT, ring: true,
      size: SIM_SIZE } : null;
    return draws;
  }

  // Simulated dots visible at t (adding those waiting at each station to `waiting`).
  visible(t, waiting) { return this.shows(t) ? visibleCount(this.legs, t, waiting) : 0; }

  // The station counts of a day after the origin (the disclosed simulated counts), else null.
  counts(day) {
    if (!this.hides(day)) return null;
    const c = this.tracks.header.counts, j = Math.min(day - c.first_day, c.here[0].length - 1);
    return { ids: c.stations, here: c.here.map((row) => row[j]), week: c.week.map((row) => row[j]) };
  }

  // The caseload strip's weekly counts with the simulated dots after the origin.
  strip(weekly) {
    if (!this.active) return weekly;
    const days = [], counts = [];
    weekly.days.forEach((d, i) => { if (d <= this.origin) { days.push(d); counts.push(weekly.counts[i]); } });
    for (let d = days.length ? days[days.length - 1] + 7 : this.origin; d <= this.end; d += 7) {
      days.push(d);
      counts.push(visibleCount(this.legs, d + 0.5));
    }
    return { days, counts };
  }

  // The forecast part of the strip under the slider, hatched in the simulated colour.
  hatch(canvas, lo, end) {
    $("time").classList.toggle("forecast", this.active);
    if (!this.active) return;
    const box = canvas.getBoundingClientRect(), ctx = canvas.getContext("2d");
    const x0 = ((this.origin - lo) / Math.max(1, end - lo)) * box.width;
    $("time").style.setProperty("--forecast-from", `${Math.max(0, Math.min(1, x0 / (box.width || 1))) * 100}%`);
    ctx.save();
    ctx.fillStyle = "rgba(180, 105, 255, 0.18)";
    ctx.fillRect(x0, 0, box.width - x0, box.height);
    ctx.beginPath();
    ctx.rect(x0, 0, box.width - x0, box.height);
    ctx.clip();
    ctx.strokeStyle = "rgba(180, 105, 255, 0.7)";
    ctx.beginPath();
    for (let x = x0 - box.height; x < box.width; x += 6) { ctx.moveTo(x, box.height); ctx.lineTo(x + box.height, 0); }
    ctx.stroke();
    ctx.restore();
    ctx.fillStyle = SIM_COLOUR;
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillText("simulated", x0 + 4, 11);
  }

  // The banner over the map, the side panel's controls and the slider's shading.
  show() {
    const banner = $("sim-banner"), h = this.tracks && this.tracks.header;
    banner.hidden = !this.on;
    document.querySelectorAll(".sim-key").forEach((e) => { e.hidden = !this.on; });
    $("sim-on").checked = this.on;
    $("sim-horizon").value = String(this.horizon);
    $("sim-run").textContent = `Another run (now run ${this.run})`;
    $("sim-run").disabled = !this.on;
    if (!this.on) return;
    if (this.error) { banner.textContent = `No simulated forecast: ${this.error}`; return; }
    if (!h || this.loading) { banner.textContent = "Simulated forecast: running the fitted model…"; return; }
    banner.replaceChildren();
    const strong = document.createElement("strong");
    strong.textContent = h.note;
    const more = document.createElement("span");
    more.textContent = ` · run ${h.run} · real children's dots up to ${fmtDate(h.origin)}, after it only simulated ` +
      `ones (hollow violet rings; the ${fmtNumber(h.n_open)} children open then continue in simulation; cohort filters apply ` +
      "to real children only) · ";
    const link = document.createElement("a");
    link.href = `/forecast`;
    link.textContent = "Forecast page";
    banner.append(strong, more, link);
  }

  // What scripts and tests read (hooks.js).
  state(t) {
    const h = this.tracks && this.tracks.header;
    return { on: this.on, loaded: Boolean(this.legs) && !this.loading, error: this.error, origin: h ? h.origin : null,
      end: h ? h.end : null, run: this.run, horizon: this.horizon, whatIf: h ? h.what_if : null,
      children: h ? h.n_children : 0, dotsDrawn: this.active ? this.visible(t, null) : 0,
      banner: $("sim-banner").hidden ? null : $("sim-banner").textContent };
  }

  wire() {
    const reload = async () => { await this.load(); this.page.changed(); };
    $("sim-on").addEventListener("change", (e) => { this.on = e.target.checked; reload(); });
    $("sim-horizon").addEventListener("change", (e) => { this.horizon = Number(e.target.value); if (this.on) reload(); });
    $("sim-run").addEventListener("click", () => { this.run = (this.run % 20) + 1; reload(); });
    $("added").addEventListener("change", () => { this.build(); this.page.changed(); });
  }
}
