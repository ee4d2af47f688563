// The dynamic map: loads the map and the binary tracks, animates every child along the drawn lines. The page's
// state (S) is private to this module; window.cscflow (hooks.js) reads it for scripts and tests.
import { getBlob, getJSON } from "./api.js";
import { dayOf, isoOf } from "./blob.js";
import { CanvasRenderer } from "./canvas.js";
import { buildLegs, colourCodes, drawRange, established, stationCounts, visibleCount, weeklyDots } from "./data.js";
import { nearest, reachable, visibleDots } from "./dots.js";
import { viewLinks } from "./exports.js";
import { densityState, PACE_MS } from "./density.js";
import { GLRenderer } from "./gl.js";
import { expose } from "./hooks.js";
import { TubeMap } from "./map.js";
import { Network } from "./network.js";
import { OverdueOverlay } from "./overdue.js";
import { CATEGORIES, COHORT_A, COHORT_B, paletteArray, REPEAT } from "./palette.js";
import { showChild, showStation } from "./panel.js";
import { ForecastMode } from "./simulated.js";
import { addMonths, countsTable, drawStrip as paintStrip, filterControls, fmtDate, fmtNumber, legend as drawLegend,
  markers } from "./view.js";

const $ = (id) => document.getElementById(id);
const SLOW_MS = 250;          // while playing, the date, slider, counts and dotsDrawn update at most 4 times a second
const S = {
  t: 0, playing: false, speed: 10, colourBy: "repeat", convention: "travel", trails: false,
  where: {}, whereB: {}, compare: "none", shift: 365, layers: [null, null], stays: null, lastDay: null,
  dirty: true, localEvents: JSON.parse(localStorage.getItem("cscflow.events") || "[]"), events: [],
  ready: false, loading: 0, date: null, counts: {}, dotsDrawn: 0, frames: 0, history: false,
};
const params = new URLSearchParams(location.search);
const overlay = new OverdueOverlay(() => recolour());   // the overdue clocks (overdue.js): layer A's colours when on
const forecast = new ForecastMode(params, { convention: () => S.convention, net: () => S.net, renderer: () => S.renderer,
  changed: () => { setupTime(); S.lastDay = null; S.dirty = true; } });   // simulated dots after the origin (simulated.js)

function status(text) { $("status").textContent = text; }

async function loadLayer(i, where) {
  const tracks = await getBlob("/api/tracks", { convention: S.convention, ...where });
  S.layers[i] = { tracks, where };
  buildLayer(i);
}

// A layer's legs on the network (again when the added routes are shown or hidden).
function buildLayer(i) {
  const layer = S.layers[i];
  layer.legs = buildLegs(layer.tracks, S.net);
  if (S.net.refresh()) S.map.draw();
  S.renderer.setLayer(i, layer.legs, codesOf(i));
  S.dirty = true;
}

async function loadStays() { S.stays = await getBlob("/api/stays", S.where); S.lastDay = null; }

async function reload(which = "all") {
  status("Loading…");
  S.ready = false;
  S.loading++;   // not ready until every job is in: a frame drawn half-way (new stays, old tracks) is not the page
  const jobs = [];
  if (which === "all" || which === "a") jobs.push(loadLayer(0, S.where), loadStays(), forecast.load());
  if (S.compare === "cohort" && (which === "all" || which === "b")) jobs.push(loadLayer(1, S.whereB));
  if (S.compare !== "cohort") S.renderer.setLayer(1, null);
  try {
    await Promise.all(jobs);
  } finally {
    S.loading--;
  }
  setupTime();
  S.dirty = true;
  const n = S.layers[0].tracks.header.n_children;
  status(`${fmtNumber(n)} children · ${S.renderer.name}`);
}

// The slider covers the data's observation window: from /api/map's `window` (the returns' reporting years, or
// the month an event log's flow is established), or later, from the first day the map's caseload is
// established (its dots reach 60% of their median over the days from there to the end); "earlier history"
// extends it to the first record. The first frame is the window's first day (or ?date=).
function setupTime() {
  const h = S.layers[0].tracks.header;
  S.epoch = dayOf(h.epoch);
  S.end = Math.max(dayOf(h.end) - S.epoch, forecast.active ? forecast.end : 0);   // the forecast period too
  const win = S.mapData.window;
  if (S.from === undefined) S.from = established(weekly(), win ? Math.max(0, Math.min(S.end, dayOf(win[0]) - S.epoch)) : 0);
  $("history").closest("label").hidden = S.from <= 0;
  if (S.first === undefined) {
    const wanted = params.get("date");
    S.t = wanted ? dayOf(wanted) - S.epoch : S.from;
    S.first = true;
  }
  S.t = Math.max(0, Math.min(S.t, S.end));
  if (S.t < S.from) S.history = $("history").checked = true;
  setSlider();
}

// Dots on the map every 7 days over the whole span (the caseload strip and where it is established).
function weekly() {
  const legs = S.layers[0].legs;
  if (!S.weekly || S.weekly.legs !== legs) S.weekly = { legs, ...weeklyDots(legs, S.end) };
  return S.weekly;
}

// The caseload strip under the slider: dots on the map over the slider's range (a click goes to that day).
function drawStrip() {
  const lo = S.history ? 0 : S.from;
  paintStrip($("strip"), $("strip-label"), { ...forecast.strip(weekly()), lo, end: S.end, epoch: S.epoch });
  forecast.hatch($("strip"), lo, S.end);
}

function setSlider() {
  const lo = S.history ? 0 : S.from;
  $("time").min = String(lo);
  $("time").max = String(S.end);
  $("time").setAttribute("aria-valuetext", S.date ? fmtDate(S.date) : "");
  drawMarkers();
  drawStrip();
}

// ---- drawing ---------------------------------------------------------------------------------
function layout() {
  const box = $("stage").getBoundingClientRect();
  S.map.layout(box.width, box.height, ratio());
  S.renderer.resize(box.width, box.height, ratio());
  S.lastDay = null;
  S.dirty = true;
}

// Canvas pixels per CSS pixel. ?res=0.5 fixes the canvas at half the screen's resolution; otherwise it is full
// resolution, dropping to half while playing when frames are slow (S.lowRes; compositing and rasterising a
// full-size canvas is most of a frame's cost on software rendering) and back to full when paused.
const FIXED_RES = Number(params.get("res")) || 0;
const SLOW_FRAME_MS = 30;
function ratio() {
  const scale = FIXED_RES ? Math.min(4, Math.max(0.25, FIXED_RES)) : S.lowRes ? 0.5 : 1;
  return (window.devicePixelRatio || 1) * scale;
}

function setLowRes(on) {
  if (FIXED_RES || Boolean(S.lowRes) === on) return;
  S.lowRes = on;
  S.intervals = [];
  const box = $("stage").getBoundingClientRect();
  S.map.setRatio(ratio());
  S.renderer.resize(box.width, box.height, ratio());
  S.dirty = true;
}

// While playing: the median of the last 20 frame intervals decides the canvas resolution.
function watchFrames(now) {
  if (!S.playing || S.prev === undefined) return;
  (S.intervals ||= []).push(now - S.prev);
  if (S.intervals.length < 20) return;
  const sorted = [...S.intervals].sort((a, b) => a - b);
  S.intervals = [];
  if (!S.lowRes && sorted[10] > SLOW_FRAME_MS) setLowRes(true);
}

function palettes() {
  if (overlay.active) return [overlay.palette, -1, -1];
  if (S.compare !== "none") return [paletteArray(CATEGORIES), COHORT_A, COHORT_B];
  return [paletteArray(S.colourBy === "repeat" ? REPEAT : CATEGORIES), -1, -1];
}

function frame(now) {
  if (!S.layers[0]) return;
  const [base, fixedA, fixedB] = palettes(), palette = forecast.palette(base);
  const draws = [{ t: S.t, ranges: drawRange(S.layers[0].legs, S.t), palette, fixed: fixedA }];
  if (S.compare === "cohort" && S.layers[1]) {
    draws.push({ t: S.t, ranges: drawRange(S.layers[1].legs, S.t), palette, fixed: fixedB });
  } else if (S.compare === "period") {
    draws.push(null);
  }
  forecast.draws(draws, S.t, palette);   // layer 0 hidden after the origin, the simulated layer from it
  // Text and counts (the counts atlas repainted, re-uploaded as a small texture): a few times a second while playing
  // (a new day's counts painted in the frame after the one that counted them; in density mode between drawn frames:
  // text()), at once otherwise.
  const m = S.map, dense = S.playing && S.renderer.dense;
  if (S.playing && m.countsDirty && !dense) m.paintCounts();
  else if (!S.playing || S.lastDay === null || (!dense && now - (S.slowAt ?? -Infinity) >= SLOW_MS)) slowUpdate(now);
  if (!S.playing && m.countsDirty) m.paintCounts();
  const background = {
    image: m.image, labels: m.labels, boxes: m.labelBoxes, size: [m.width, m.height], version: m.version,
    labelsVersion: m.labelsVersion,
    counts: { image: m.countsImage, boxes: m.countBoxes, version: m.countsVersion },
  };
  const drawn = S.renderer.draw(S.net, draws, { trails: S.trails, background, still: !S.playing }) !== false;
  if (S.compare === "period") drawPeriodB(palette, fixedB);
  if (Boolean(S.renderer.dense) !== Boolean(S.dense)) { S.dense = S.renderer.dense; legend(); }   // the key says so
  return drawn;
}

// What is shown as text (date, slider, station counts) and the test hook's dotsDrawn, for the current time.
function slowUpdate(now) {
  if (!S.layers[0]) return;
  S.slowAt = now;
  // Dots waiting at each station (the rings): while playing in density mode, the last frame's (density.js counts them)
  const tally = S.playing && S.renderer.tally, waiting = tally ? tally.waiting : new Int32Array(S.mapData.stations.length);
  S.dotsDrawn = tally ? tally.visible : (forecast.hides(S.t) ? 0 : visibleCount(S.layers[0].legs, S.t, waiting)) +
    forecast.visible(S.t, waiting) + (S.compare === "cohort" && S.layers[1] ? visibleCount(S.layers[1].legs, S.t, waiting) : 0);
  S.waiting = waiting;
  const day = Math.floor(S.t);
  if (day !== S.lastDay) updateDay(day);
  overlay.update(S.date, S.convention, S.where, S.playing, S.speed, isoOf(S.epoch + S.end));
}

// The second period reuses layer A's buffers at a shifted time.
function drawPeriodB(palette, fixedB) {
  const t = S.t + Number(S.shift || 0);
  const r = S.renderer;
  r.drawMore(0, { t, ranges: drawRange(S.layers[0].legs, t), palette, fixed: fixedB });
}

function updateDay(day) {
  S.lastDay = day;
  const iso = isoOf(S.epoch + day);
  S.date = iso;
  $("date").textContent = fmtDate(iso);
  $("date").dataset.iso = iso;
  links();
  $("time").value = String(day);
  $("time").setAttribute("aria-valuetext", fmtDate(iso));
  // The waiting rings: the dots waiting at each station now (slowUpdate: layer 0, and the second cohort when
  // compared) size each station's ring and decide whether it is drawn as dots or as density (network.js); the
  // density rings are painted with the counts, in the same repaint and upload (map.js setRings).
  if (S.waiting) S.net.setCounts(S.waiting);
  const rings = S.map.setRings(S.net.rings);
  const simulated = forecast.counts(day);   // after the forecast origin: the simulated run's disclosed counts
  if (simulated || S.stays) {
    const { here, week } = simulated || stationCounts(S.stays, S.epoch + day);
    const ids = simulated ? simulated.ids : S.stays.header.stations;
    S.map.setCounts(ids, here, week, S.playing);   // playing: painted at the next frame
    const counts = {};
    ids.forEach((id, k) => { if (here[k]) counts[id] = here[k]; });
    S.counts = counts;
    countsTable($("counts-table"), `Children at each station on ${fmtDate(S.date)}`, ids.map((id, k) => {
      const i = S.map.index.get(id);
      return [i === undefined ? id : S.mapData.stations[i].label, here[k], week[k]];
    }));
  } else if (rings === "changed") S.map.countsDirty = true;
}

// The downloads follow the view: period, date, speed, convention and cohort (exports.js).
function links() {
  if (S.epoch === undefined || S.lastDay === null || S.lastDay === undefined) return;
  const end = forecast.realEnd(S.end);   // the downloads hold real children only: up to the forecast's origin
  viewLinks({ epoch: S.epoch, day: Math.min(S.lastDay, end), from: S.history ? 0 : S.from, end, where: S.where,
    speed: S.speed, convention: S.convention });
}

// Density mode while playing: with its worker (density.js), a frame is drawn when the worker's next count has come and
// the text (counts, date) is done in the display frames between; counted on this thread (a million dots: ~20 ms a
// frame), at most every PACE_MS (30 frames a second), the text between.
function paced(now) {
  return S.playing && S.renderer.dense && !S.renderer.density.useWorker && now - (S.drawnAt ?? -Infinity) < PACE_MS;
}
function text(now) { if (S.map.countsDirty) S.map.paintCounts(); else if (now - (S.slowAt ?? -Infinity) >= SLOW_MS) slowUpdate(now); }

function loop(now) {
  if (S.playing) {
    const dt = Math.min(0.25, (now - (S.prev ?? now)) / 1000);
    S.t += dt * S.speed;
    if (S.t >= S.end) { S.t = S.end; setPlaying(false); }
    S.dirty = true;
    watchFrames(now);
  }
  S.prev = now;
  if ((S.dirty || S.trails) && paced(now)) text(now);
  else if (S.dirty || S.trails) {
    const t0 = hook.probe ? performance.now() : 0;
    if (!frame(now)) { text(now); requestAnimationFrame(loop); return; }   // no newer count from the worker yet
    S.drawnAt = now;
    if (hook.probe) {
      if (S.renderer.finish) S.renderer.finish();
      hook.drawMs.push(performance.now() - t0);
    }
    S.dirty = false;
    S.frames++;
    if (!S.ready && S.layers[0] && !S.loading) {
      S.ready = true;
      S.firstFrameMs ??= performance.now();
    }
  }
  requestAnimationFrame(loop);
}

// ---- controls ---------------------------------------------------------------------------------
function setPlaying(on) {
  S.playing = on;
  S.dirty = true;
  S.intervals = [];
  if (!on) setLowRes(false);               // paused: the map at full resolution again
  if (!on) slowUpdate(performance.now());   // paused: the date, counts and dotsDrawn are current at once
  $("play").textContent = on ? "❚❚" : "▶";
  $("play").setAttribute("aria-label", on ? "pause" : "play");
  $("play").setAttribute("aria-pressed", String(on));
}

function setSpeed(v) { showSpeed(Math.pow(365 / 10, Number(v) / 100)); }      // 1 day/s .. a year in 10 s

function showSpeed(daysPerSecond) {
  S.speed = daysPerSecond;
  $("speed-label").textContent = S.speed < 10 ? `${S.speed.toFixed(1)} days/s` : `${Math.round(S.speed)} days/s`;
  links();
}

function setDay(day) {
  S.t = Math.max(0, Math.min(S.end, day));
  if (S.t < S.from && !S.history) { S.history = $("history").checked = true; setSlider(); }
  S.lastDay = null;
  S.dirty = true;
}

// Space plays and pauses; the arrow keys step a day (with Shift: a month), anywhere on the map page but in a
// text box, a list or a button (which keep their own keys).
function onKey(e) {
  if ($("map-view").hidden || e.altKey || e.ctrlKey || e.metaKey) return;
  const target = e.target;
  if (target.closest && target.closest("input:not([type=range]), select, textarea, button, summary, a, [contenteditable]")) return;
  if (e.key === " " || e.code === "Space") {
    e.preventDefault();
    setPlaying(!S.playing);
  } else if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
    e.preventDefault();
    const sign = e.key === "ArrowRight" ? 1 : -1;
    setDay(e.shiftKey ? addMonths(S.epoch, S.t, sign) : Math.floor(S.t) + sign);
  }
}

function legend() {
  drawLegend($("legend"), { compare: S.compare, where: S.where, whereB: S.whereB, shift: S.shift, colourBy: S.colourBy,
    attributes: S.layers[0] ? S.layers[0].tracks.header.attributes : {}, overlay: overlay.legend(),
    density: S.dense ? S.renderer.density.at : null });
}

// A layer's colour codes: the overdue clocks' (layer A, while the overlay is on) or the "colour by" choice's.
function codesOf(i) {
  const { legs, tracks } = S.layers[i];
  return i === 0 && overlay.active ? overlay.codes(legs, S.convention, S.where) : colourCodes(legs, tracks, S.colourBy);
}

function recolour() {
  S.layers.forEach((layer, i) => layer && S.renderer.setColours(i, codesOf(i)));
  legend();
  S.dirty = true;
}

function drawMarkers() {
  const all = [...S.events.map((e) => ({ ...e, local: false })), ...S.localEvents.map((e) => ({ ...e, local: true }))];
  markers($("markers"), all, { epoch: S.epoch, lo: S.history ? 0 : S.from, end: S.end }, setDay);
}

function panelParams() {
  return { date: isoOf(S.epoch + Math.floor(S.t)), ...S.where };
}

// The dot a click at (x, y) (CSS px in the stage) is on; simulated children have no journey to show.
function nearestDot(x, y) { return forecast.hides(S.t) ? null : nearest(S.layers, S.t, S.net, x, y); }

function wire() {
  $("play").addEventListener("click", () => setPlaying(!S.playing));
  $("speed").addEventListener("input", (e) => setSpeed(e.target.value));
  $("time").addEventListener("input", (e) => setDay(Number(e.target.value)));
  $("jump").addEventListener("change", (e) => e.target.value && setDay(dayOf(e.target.value) - S.epoch));
  $("trails").addEventListener("change", (e) => { S.trails = e.target.checked; S.dirty = true; });
  $("colour-by").addEventListener("change", (e) => { S.colourBy = e.target.value; recolour(); });
  $("convention").addEventListener("change", async (e) => { S.convention = e.target.value; await reload(); });
  $("compare").addEventListener("change", async (e) => {
    S.compare = e.target.value;
    $("filters-b").hidden = S.compare !== "cohort";
    $("period-b").hidden = S.compare !== "period";
    await reload("b");
    legend();
  });
  $("shift").addEventListener("input", (e) => { S.shift = Number(e.target.value) || 0; legend(); S.dirty = true; });
  $("add-event").addEventListener("submit", (e) => {
    e.preventDefault();
    S.localEvents.push({ date: $("event-date").value, label: $("event-label").value, kind: "added" });
    localStorage.setItem("cscflow.events", JSON.stringify(S.localEvents));
    drawMarkers();
  });
  S.map.onStation = async (id, type) => {
    const i = S.map.index.get(id);
    if (type === "click") {
      hook.panel = await showStation($("panel"), id, panelParams());
      return;
    }
    const tip = $("tooltip");
    const n = S.counts[id] || 0;
    const [x, y] = S.map.toPx(Number(S.mapData.stations[i].x), Number(S.mapData.stations[i].y));
    tip.textContent = `${S.mapData.stations[i].label}: ${fmtNumber(n)} here on ${fmtDate(S.date)} (click for more)`;
    tip.style.left = `${x + 14}px`;
    tip.style.top = `${y + 14}px`;
    tip.hidden = false;
    clearTimeout(S.tipTimer);
    S.tipTimer = setTimeout(() => { tip.hidden = true; }, 2500);
  };
  $("map-under").addEventListener("click", async (e) => {
    if (e.target.closest(".station")) return;
    const box = $("stage").getBoundingClientRect();
    const hit = nearestDot(e.clientX - box.left, e.clientY - box.top);
    if (hit) {
      const where = hit.layer === 0 ? S.where : S.whereB;
      hook.child = await showChild($("panel"), hit.child, { convention: S.convention, ...where });
    }
  });
  window.addEventListener("resize", () => { layout(); if (S.layers[0]) drawStrip(); });
  document.addEventListener("keydown", onKey);
  $("strip").addEventListener("click", (e) => {
    const box = e.currentTarget.getBoundingClientRect(), lo = S.history ? 0 : S.from;
    setDay(Math.round(lo + ((e.clientX - box.left) / box.width) * (S.end - lo)));
  });
  $("history").addEventListener("change", (e) => { S.history = e.target.checked; setSlider(); S.lastDay = null; S.dirty = true; });
  $("added").addEventListener("change", (e) => {
    S.net.showAdded = e.target.checked;
    S.net.layout(S.map.toPx);
    S.map.draw();
    S.layers.forEach((layer, i) => layer && buildLayer(i));
  });
}

// Visible dots of layer 0 at the current time, in page coordinates, in drawing order; one a click reaches (dots.js).
function dotPositions(limit = 1000) {
  return visibleDots(S.layers[0].legs, S.t, S.net, codesOf(0), $("stage").getBoundingClientRect(), limit);
}
function firstDot() { return reachable(dotPositions(1e9)); }

// What is drawn, in page coordinates (network.js).
function geometry() { const b = $("stage").getBoundingClientRect(); return S.net.geometry(b.left, b.top, S.map.placed); }

const hook = expose({
  ready: () => S.ready, date: () => S.date, playing: () => S.playing, dotsDrawn: () => S.dotsDrawn,
  stationCounts: () => ({ ...S.counts }), frames: () => S.frames, firstFrameMs: () => S.firstFrameMs,
  span: () => (S.end === undefined ? null : [isoOf(S.epoch), isoOf(S.epoch + S.end)]),
  window: () => (S.end === undefined ? null : [isoOf(S.epoch + S.from), isoOf(S.epoch + S.end)]),
  renderer: () => S.renderer && S.renderer.name, dots: () => S.renderer && (S.renderer.name === "canvas2d" ? "canvas" : S.renderer.dots),
  device: () => S.renderer && S.renderer.device, stations: () => S.mapData && S.mapData.stations.length,
  overdue: () => overlay.state(), simulated: () => forecast.state(S.t),
  density: () => densityState(S.renderer, $("stage").getBoundingClientRect()),
}, {
  setDate: (iso) => setDay(dayOf(iso) - S.epoch),
  play: () => setPlaying(true),
  pause: () => setPlaying(false),
  setSpeed: (daysPerSecond) => showSpeed(Number(daysPerSecond)),
  dotPositions, firstDot, geometry, recountDensity: () => S.renderer.density?.recount(S.renderer.layers, S.net) ?? null,
});

async function main() {
  const [mapData, events] = await Promise.all([getJSON("/api/map"), getJSON("/api/events")]);
  S.mapData = mapData;
  S.filters = mapData.filters;
  S.events = events;
  S.net = new Network(mapData, Number(params.get("few")) || undefined);   // ?few=N: dots up to N waiting
  S.map = new TubeMap($("map-under"), $("map-over"), mapData, S.net);
  $("added").closest("label").hidden = !S.net.added.length;
  const canvas = $("dots");
  const denseAt = params.get("dense") === null ? undefined : Number(params.get("dense"));   // ?dense=N: density from N
  const opts = { denseAt, worker: params.get("worker") !== "0" };   // ?worker=0: density counted on the main thread
  S.renderer = (params.get("renderer") !== "canvas" && GLRenderer.create(canvas, params.get("dots") || "auto", opts)) ||
    CanvasRenderer.create(canvas);
  if (S.renderer.density) S.renderer.density.onresult = () => { S.dirty = true; };   // the worker's count came: draw it
  wire();
  forecast.wire();
  setSpeed($("speed").value);
  layout();
  await reload();
  const header = S.layers[0].tracks.header;
  for (const name of Object.keys(header.attributes || {})) $("colour-by").append(new Option(name.replace("_", " "), name));
  const values = { ...(header.attributes || {}), ...(S.mapData.values || {}) };
  filterControls($("filters"), S.filters, values, S.where, () => reload());
  filterControls($("filters-b"), S.filters, values, S.whereB, () => reload("b"));
  legend();
  requestAnimationFrame(loop);
  // Playing from the start unless a date was asked for or the user prefers reduced motion (then paused).
  const still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  if (!still && !params.get("date") && params.get("play") !== "0") setPlaying(true);
  const names = new Map(S.mapData.stations.map((s) => [s.id, s.label]));
  import("./analytics.js").then((m) => m.init({ where: () => ({ ...S.where }), events: () => S.events,
    label: (id) => names.get(id) ?? id })).catch((err) => {
    console.error("cscflow: the analytics pages could not be loaded", err);
    hook.error = String(err.message || err);
    status(`Error: the analytics pages could not be loaded (${hook.error})`);
  });
}

main().catch((err) => {
  hook.error = String(err.message || err);
  status(`Error: ${hook.error}`);
});
