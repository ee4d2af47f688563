// Turning the API's blobs into what the renderers draw and what the station counts read.
import { along, OUTSIDE, ROUTE_W } from "./network.js";

export { OUTSIDE };
export const FOREVER = 1.0e7;     // days: a dot that never leaves (open at the data's end)
export const EXIT_LINGER = 14;    // days a dot stays visible at an exit station before leaving
// Per leg: route, depart, arrive, until (days), traverse offset (px), ring angle, ring place (0-1), station waited at.
export const FLOATS = 8;
export const MAX_OFF = 2.5;       // px: the small traverse offset of slow legs (they keep to one side of the line)
// Days visible: the span groups' upper bounds (a factor of ~1.41 apart: about 15% of a run's legs have already gone).
const SPANS = [1, 2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128, 181, 256, 362, 512, 724, 1024, 1448, 2048, FOREVER / 2];

function hash(i) {                // a small deterministic integer hash in [0, 1)
  let h = (i + 0x9e3779b9) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

// Legs in (child, depart) order, then made drawable: same-day steps spread over their day so they
// can be seen, the time each dot stays visible ("until"), the route it follows on the network, the small
// offset to one side of the line for legs that took longer, its place in the station's waiting ring; finally
// sorted by departure. A dot moves along its route from depart to arrive and waits in the ring of the station
// it reached until it leaves; entering, leaving and staying put have no route (the dot waits at once), and a
// route the user hid (an added one) is not travelled (the dot waits at the next station at once).
// Memory: typed arrays only, ~60 bytes a leg at the peak (6M legs, 1M children: ~400 MB, then 32 + 13 bytes a leg
// kept); each pass is a function of its own (V8 optimises small loops far better: 8 s -> ~2 s at 6M legs).
export function buildLegs(tracks, network, opts = {}) {
  const a = tracks.arrays;
  const n = a.child.length;
  const idx = childOrder(a, n);                      // null: already in (child, depart) order
  const dep = new Float32Array(n), arr = new Float32Array(n), until = new Float32Array(n);
  spreadDays(a, idx, n, tracks.header.stations.map((s) => s.zone === "exit"), dep, arr, until);
  const place = spanGroups(departureOrder(dep, n), dep, until, n);
  const legs = fill(a, idx, n, place, dep, arr, until, network, opts.maxOffPx ?? MAX_OFF);
  legs.groups = place.groups;
  legs.header = tracks.header;
  return legs;
}

function childOrder(a, n) {
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) {
    if (a.child[i] < a.child[i - 1] || (a.child[i] === a.child[i - 1] && a.depart[i] < a.depart[i - 1])) sorted = false;
  }
  if (sorted) return null;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return idx.sort((p, q) => a.child[p] - a.child[q] || a.depart[p] - a.depart[q]);
}

// Same-day steps spread over their day, and how long each dot stays visible.
function spreadDays(a, idx, n, isExit, dep, arr, until) {
  const child = a.child, depart = a.depart, arrive = a.arrive;
  const at = idx ? (q) => idx[q] : (q) => q;
  let i = 0;
  while (i < n) {                                    // one child at a time
    const c = child[at(i)];
    let j = i;
    while (j < n && child[at(j)] === c) j++;
    let k = i;
    while (k < j) {                                  // legs departing on the same day
      const day = Math.floor(depart[at(k)]);
      let m = k;
      let short = false;
      while (m < j && Math.floor(depart[at(m)]) === day) {
        if (arrive[at(m)] - depart[at(m)] < 1) short = true;
        m++;
      }
      const count = m - k;
      for (let q = k; q < m; q++) {
        const l = at(q);
        if (short || count > 1) {
          dep[q] = day + (q - k) / count;
          arr[q] = Math.max(arrive[l], day + (q - k + 1) / count);
        } else {
          dep[q] = depart[l];
          arr[q] = arrive[l];
        }
      }
      k = m;
    }
    for (let q = i; q < j; q++) {
      if (q + 1 < j) until[q] = Math.max(dep[q + 1], dep[q]);
      else {
        const to = a.to[at(q)];
        until[q] = to === OUTSIDE ? arr[q] : isExit[to] ? arr[q] + EXIT_LINGER : FOREVER;
      }
    }
    i = j;
  }
}

// Legs in order of departure: a counting sort on small slices of a day (about one leg a slice; stable), then each
// slice in exact order.
function departureOrder(dep, n) {
  const order = new Uint32Array(n);
  if (!n) return order;
  let lo = Infinity, hi = -Infinity;
  for (let q = 0; q < n; q++) { if (dep[q] < lo) lo = dep[q]; if (dep[q] > hi) hi = dep[q]; }
  const k = Math.min(4096, Math.max(1, n / Math.max(1, hi - lo)));   // slices a day
  const counts = new Uint32Array(Math.floor((hi - lo) * k) + 2);
  for (let q = 0; q < n; q++) counts[Math.floor((dep[q] - lo) * k) + 1]++;
  for (let b = 1; b < counts.length; b++) counts[b] += counts[b - 1];
  for (let q = 0; q < n; q++) order[counts[Math.floor((dep[q] - lo) * k)]++] = q;
  for (let r = 1; r < n; r++) {                      // insertion sort: slices are short
    const q = order[r], v = dep[q];
    let s = r - 1;
    while (s >= 0 && dep[order[s]] > v) { order[s + 1] = order[s]; s--; }
    order[s + 1] = q;
  }
  return order;
}

// Group by how long a dot stays visible (span classes), departure order inside each group: the legs that can
// be visible at t are then, per group, a contiguous run found by two binary searches, and the run holds few
// legs that have already gone (at most those departing within the group's longest span before t). Open legs
// (visible to the end) form the last group, where the run is exact. Returns the legs' order ({order, groups}).
function spanGroups(order, dep, until, n) {
  const classOf = (q) => {
    const span = until[q] - dep[q];
    let c = 0;
    while (c < SPANS.length && span > SPANS[c]) c++;
    return c;
  };
  const perClass = new Uint32Array(SPANS.length + 1);
  for (let r = 0; r < n; r++) perClass[classOf(order[r])]++;
  const groups = [];
  const next = new Uint32Array(perClass.length);
  for (let c = 0, at = 0; c < perClass.length; c++) {
    if (perClass[c]) groups.push({ lo: at, hi: at + perClass[c] });
    next[c] = at; at += perClass[c];
  }
  const place = new Uint32Array(n);
  for (let r = 0; r < n; r++) { const q = order[r]; place[next[classOf(q)]++] = q; }
  return { order: place, groups };
}

// The drawable legs in their final order: per leg FLOATS numbers (data), the child, its repeat number, and the
// running maximum of `until` within its group (drawRange's binary search).
function fill(a, idx, n, { order: place, groups }, dep, arr, until, network, maxOff) {
  const data = new Float32Array(n * FLOATS);
  const child = new Uint32Array(n), repeat = new Uint8Array(n), maxUntil = new Float32Array(n);
  const routes = new Map(), still = [];               // from * 65536 + to -> route; per route: no movement
  const denom = Math.log1p(52);
  let running = -Infinity, g = 0, start = groups.length ? groups[0].lo : -1;
  for (let r = 0; r < n; r++) {
    if (r === start) { running = -Infinity; g++; start = g < groups.length ? groups[g].lo : -1; }
    const q = place[r], l = idx ? idx[q] : q;
    const from = a.from[l], to = a.to[l], c = a.child[l];
    const key = from * 65536 + to;
    let route = routes.get(key);
    if (route === undefined) {
      route = network.routeOf(from, to);
      routes.set(key, route);
      still[route] = network.routes[route].via.length < 2 || network.hidden(route);
    }
    const took = a.arrive[l] - a.depart[l];
    const side = hash(c * 7 + 3) < 0.5 ? -1 : 1;
    const off = side * maxOff * Math.min(1, Math.log1p(Math.max(0, took) / 7) / denom);
    const o = r * FLOATS;
    data[o] = route; data[o + 1] = dep[q]; data[o + 2] = still[route] ? dep[q] : arr[q]; data[o + 3] = until[q];
    data[o + 4] = off; data[o + 5] = 2 * Math.PI * hash(c); data[o + 6] = hash(c + 0x5bd1e995);
    data[o + 7] = to === OUTSIDE ? (from === OUTSIDE ? 0 : from) : to;
    child[r] = c; repeat[r] = a.repeat[l];
    running = Math.max(running, until[q]); maxUntil[r] = running;
  }
  return { n, data, child, repeat, maxUntil };
}
// The runs of legs that can be visible at time t: a list of [lo, hi) (one per span group, empty ones left out).
export function drawRange(legs, t) {
  const out = [];
  for (const { lo: g0, hi: g1 } of legs.groups || [{ lo: 0, hi: legs.n }]) {
    let a = g0, b = g1;                              // first r with maxUntil[r] > t
    while (a < b) { const m = (a + b) >> 1; if (legs.maxUntil[m] > t) b = m; else a = m + 1; }
    const lo = a;
    b = g1;                                          // first r with depart[r] > t
    while (a < b) { const m = (a + b) >> 1; if (legs.data[m * FLOATS + 1] > t) b = m; else a = m + 1; }
    if (a > lo) out.push([lo, a]);
  }
  return out;
}

// Position (CSS px) of leg r at time t as [x, y, moving], or null when not shown (gone, not yet there, or
// waiting at a station whose ring is drawn as density). tex and nRoutes: the
// network's routes and rings (network.js); the vertex shader in gl.js computes the same.
const AT = new Float64Array(4);
export function positionOf(legs, r, t, net) {
  const d = legs.data, o = r * FLOATS;
  if (t < d[o + 1] || t >= d[o + 3]) return null;
  const tex = net.tex;
  if (t >= d[o + 2]) {                                  // waiting: in the ring around the station
    const s = (net.nRoutes + d[o + 7]) * ROUTE_W * 4, r0 = tex[s + 2], r1 = tex[s + 3];
    if (r1 < 0) return null;                            // a ring drawn as density: no dot of its own
    const rad = Math.sqrt(r0 * r0 + d[o + 6] * (r1 * r1 - r0 * r0));
    return [tex[s] + rad * Math.cos(d[o + 5]), tex[s + 1] + rad * Math.sin(d[o + 5]), false];
  }
  const p = (t - d[o + 1]) / Math.max(d[o + 2] - d[o + 1], 1e-6);
  along(tex, d[o], p, AT);
  const bend = d[o + 4] * Math.sin(Math.PI * p);
  return [AT[0] - AT[3] * bend, AT[1] + AT[2] * bend, true];
}

// Count visible dots at t (one per child on screen); with `waiting` (an Int32Array per station), also add there
// the dots waiting at each station (in the same pass: it runs a few times a second over every visible leg).
export function visibleCount(legs, t, waiting = null) {
  const d = legs.data;
  let count = 0;
  for (const [lo, hi] of drawRange(legs, t)) {
    for (let r = lo; r < hi; r++) {
      const o = r * FLOATS;
      if (t >= d[o + 3]) continue;
      count++;
      if (waiting && t >= d[o + 2] && t >= d[o + 1]) waiting[d[o + 7]]++;
    }
  }
  return count;
}

// Dots on the map every 7 days from day 0 to `end` (days since the epoch): {days, counts}.
export function weeklyDots(legs, end) {
  const days = [], counts = [];
  for (let d = 0; d <= end; d += 7) { days.push(d); counts.push(visibleCount(legs, d + 0.5)); }
  return { days, counts };
}

// The first day from `start` (sampled weekly: weeklyDots) on which the dots on the map reach 60% of their median from
// there on.
export function established({ days, counts }, start) {
  const from = days.findIndex((d) => d >= start);
  if (from < 0) return start;
  const rest = counts.slice(from);
  const median = [...rest].sort((a, b) => a - b)[Math.floor(rest.length / 2)] || 0;
  const k = rest.findIndex((n) => n >= 0.6 * median);
  return k > 0 ? days[from + k] : start;
}

// Colour index per leg: repeat involvement (1..6+) or an attribute code of the child.
export function colourCodes(legs, tracks, mode) {
  const out = new Float32Array(legs.n);
  if (mode === "repeat") {
    for (let r = 0; r < legs.n; r++) out[r] = Math.min(Math.max(legs.repeat[r], 1), 6) - 1;
  } else {
    const codes = tracks.arrays[`child_code_${mode}`];
    for (let r = 0; r < legs.n; r++) out[r] = codes ? Math.min(codes[legs.child[r]], 15) : 0;
  }
  return out;
}

// Children at each station on a day, by the contracts.md rule (a stay at S with start <= d and
// (open or d < end), or starting on d), and children who arrived in the 7 days to d. The first call builds a table of
// both counts for every day (dailyCounts), so a day's counts cost one lookup per station while playing (a pass over
// every stay took ~50 ms at 1M children); stays out of order within a child fall back to that pass.
const DAILY = new WeakMap();
export function stationCounts(stays, day) {
  let table = DAILY.get(stays);
  if (table === undefined) { table = dailyCounts(stays); DAILY.set(stays, table); }
  if (!table) return countStays(stays, day);
  const { k, d0, days, here: H, week: W } = table, here = new Int32Array(k), week = new Int32Array(k);
  if (day < d0) return { here, week };
  const j = Math.min(day, d0 + days - 2) - d0;   // the last day of the table: only open stays left
  for (let s = 0; s < k; s++) { here[s] = H[s * days + j]; week[s] = W[s * days + j]; }
  return { here, week };
}

// The counts of every day from the first stay's start to a week after the last finite day (later days are the same as
// the table's last but one), per station: each child's days at a station (each stay's [start, max(end, start + 1))) and days after an
// arrival ([start, start + 7)) merged into one run of days per child and station (so a child counts once), added as
// +1 / -1 at the ends of each run and summed. Needs each child's stays at a station in order of start (the stays blob
// is in timeline order); null when they are not or the table would be too large.
function dailyCounts(stays) {
  const { child, station, start, end } = stays.arrays;
  const k = stays.header.stations.length, n = child.length;
  let d0 = Infinity, last = -Infinity;
  for (let i = 0; i < n; i++) {
    d0 = Math.min(d0, start[i]);
    last = Math.max(last, start[i], end[i] === OPEN ? -Infinity : end[i]);
  }
  if (!n) return { k, d0: 0, days: 1, here: new Int32Array(k), week: new Int32Array(k) };
  const days = last - d0 + 9;
  if (days * k > 5e7) return null;
  const H = new Int32Array(k * days), W = new Int32Array(k * days);
  const who = new Int32Array(k).fill(-1), from = new Float64Array(k), hereTo = new Float64Array(k), weekTo = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const st = station[i], c = child[i], s = start[i] - d0, row = st * days;
    if (who[st] !== c) { who[st] = c; from[st] = -Infinity; hereTo[st] = -Infinity; weekTo[st] = -Infinity; }
    if (s < from[st]) return null;
    from[st] = s;
    const e = end[i] === OPEN ? days - 1 : Math.min(days - 1, Math.max(end[i] - d0, s + 1));
    let a = Math.max(s, hereTo[st]);
    if (e > a) { H[row + a]++; H[row + e]--; hereTo[st] = e; }
    a = Math.max(s, weekTo[st]);
    if (s + 7 > a) { W[row + a]++; W[row + s + 7]--; weekTo[st] = s + 7; }
  }
  for (let st = 0; st < k; st++) {
    for (let j = 1, row = st * days; j < days; j++) { H[row + j] += H[row + j - 1]; W[row + j] += W[row + j - 1]; }
  }
  return { k, d0, days, here: H, week: W };
}
const OPEN = 2147483647;   // the stays blob's end of a stay still open

function countStays(stays, day) {
  const { child, station, start, end } = stays.arrays;
  const k = stays.header.stations.length;
  const here = new Int32Array(k), week = new Int32Array(k);
  const lastHere = new Int32Array(k).fill(-1), lastWeek = new Int32Array(k).fill(-1);
  for (let i = 0; i < child.length; i++) {
    const s = start[i];
    if (s > day) continue;
    const st = station[i], c = child[i];
    if ((s === day || day < end[i]) && lastHere[st] !== c) { here[st]++; lastHere[st] = c; }
    if (s > day - 7 && lastWeek[st] !== c) { week[st]++; lastWeek[st] = c; }
  }
  return { here, week };
}
