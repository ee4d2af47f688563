// Turning the API's blobs into what the renderers draw and what the station counts read.
export const OUTSIDE = 65535;     // station index of "outside the map" in the tracks
export const FOREVER = 1.0e7;     // days: a dot that never leaves (open at the data's end)
export const EXIT_LINGER = 14;    // days a dot stays visible at an exit station before leaving
export const FLOATS = 10;         // per leg: from.xy, to.xy, depart, arrive, until, off, jitter.xy
const SPANS = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, FOREVER / 2];  // days visible: group upper bounds

function hash(i) {                // a small deterministic integer hash in [0, 1)
  let h = (i + 0x9e3779b9) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

// Legs in (child, depart) order, then made drawable: same-day steps spread over their day so they
// can be seen, the time each dot stays visible ("until"), the perpendicular offset for legs that
// took longer, a small scatter so waiting dots do not sit on one pixel; finally sorted by departure.
export function buildLegs(tracks, opts = {}) {
  const a = tracks.arrays;
  const h = tracks.header;
  const n = a.child.length;
  const stations = h.stations;
  const isExit = stations.map((s) => s.zone === "exit");
  const xs = stations.map((s) => Number(s.x)), ys = stations.map((s) => Number(s.y));
  const width = Math.max(1e-9, Math.max(...xs) - Math.min(...xs));
  const enterDx = opts.enterDx ?? width * 0.04;
  const maxOff = opts.maxOffPx ?? 14;
  const scatter = opts.scatterPx ?? 9;

  // (child, depart) order; the engine usually sends it already.
  let idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) {
    if (a.child[i] < a.child[i - 1] || (a.child[i] === a.child[i - 1] && a.depart[i] < a.depart[i - 1])) sorted = false;
  }
  if (!sorted) idx.sort((p, q) => a.child[p] - a.child[q] || a.depart[p] - a.depart[q]);

  const dep = new Float64Array(n), arr = new Float64Array(n), until = new Float64Array(n);
  let i = 0;
  while (i < n) {                                    // one child at a time
    const c = a.child[idx[i]];
    let j = i;
    while (j < n && a.child[idx[j]] === c) j++;
    let k = i;
    while (k < j) {                                  // legs departing on the same day
      const day = Math.floor(a.depart[idx[k]]);
      let m = k;
      let short = false;
      while (m < j && Math.floor(a.depart[idx[m]]) === day) {
        if (a.arrive[idx[m]] - a.depart[idx[m]] < 1) short = true;
        m++;
      }
      const count = m - k;
      for (let q = k; q < m; q++) {
        const l = idx[q];
        if (short || count > 1) {
          dep[q] = day + (q - k) / count;
          arr[q] = Math.max(a.arrive[l], day + (q - k + 1) / count);
        } else {
          dep[q] = a.depart[l];
          arr[q] = a.arrive[l];
        }
      }
      k = m;
    }
    for (let q = i; q < j; q++) {
      if (q + 1 < j) until[q] = Math.max(dep[q + 1], dep[q]);
      else {
        const to = a.to[idx[q]];
        until[q] = to === OUTSIDE ? arr[q] : isExit[to] ? arr[q] + EXIT_LINGER : FOREVER;
      }
    }
    i = j;
  }

  // Sort by departure (counting sort on the day, stable).
  let lo = Infinity, hi = -Infinity;
  for (let q = 0; q < n; q++) { lo = Math.min(lo, Math.floor(dep[q])); hi = Math.max(hi, Math.floor(dep[q])); }
  const order = new Uint32Array(n);
  if (n) {
    const counts = new Uint32Array(hi - lo + 2);
    for (let q = 0; q < n; q++) counts[Math.floor(dep[q]) - lo + 1]++;
    for (let b = 1; b < counts.length; b++) counts[b] += counts[b - 1];
    for (let q = 0; q < n; q++) order[counts[Math.floor(dep[q]) - lo]++] = q;
  }

  // Group by how long a dot stays visible (span classes), departure order inside each group: the legs that can
  // be visible at t are then, per group, a contiguous run found by two binary searches, and the run holds few
  // legs that have already gone (at most those departing within the group's longest span before t). Open legs
  // (visible to the end) form the last group, where the run is exact.
  const cls = new Uint8Array(n), perClass = new Uint32Array(SPANS.length + 1);
  for (let r = 0; r < n; r++) {
    const q = order[r], span = until[q] - dep[q];
    let c = 0;
    while (c < SPANS.length && span > SPANS[c]) c++;
    cls[r] = c; perClass[c]++;
  }
  const groups = [];
  const next = new Uint32Array(perClass.length);
  for (let c = 0, at = 0; c < perClass.length; c++) {
    if (perClass[c]) groups.push({ lo: at, hi: at + perClass[c] });
    next[c] = at; at += perClass[c];
  }
  const place = new Uint32Array(n);
  for (let r = 0; r < n; r++) place[next[cls[r]]++] = order[r];

  const data = new Float32Array(n * FLOATS);
  const child = new Uint32Array(n), repeat = new Uint8Array(n);
  const depart = new Float32Array(n), maxUntil = new Float32Array(n);
  let running = -Infinity, g = 0;
  for (let r = 0; r < n; r++) {
    while (g < groups.length && r >= groups[g].hi) g++;
    if (r === groups[g].lo) running = -Infinity;
    const q = place[r], l = idx[q];
    const from = a.from[l], to = a.to[l], c = a.child[l];
    let fx, fy, tx, ty;
    if (to !== OUTSIDE) { tx = xs[to]; ty = ys[to]; }
    if (from !== OUTSIDE) { fx = xs[from]; fy = ys[from]; }
    if (from === OUTSIDE && to === OUTSIDE) { fx = tx = xs[0]; fy = ty = ys[0]; }
    else if (from === OUTSIDE) { fx = tx - enterDx; fy = ty; }
    else if (to === OUTSIDE) { tx = fx; ty = fy; }
    const took = a.arrive[l] - a.depart[l];
    const side = hash(c * 7 + 3) < 0.5 ? -1 : 1;
    const off = side * maxOff * Math.min(1, Math.log1p(Math.max(0, took) / 7) / Math.log1p(52));
    const angle = 2 * Math.PI * hash(c), radius = scatter * Math.sqrt(hash(c + 0x5bd1e995));
    const o = r * FLOATS;
    data[o] = fx; data[o + 1] = fy; data[o + 2] = tx; data[o + 3] = ty;
    data[o + 4] = dep[q]; data[o + 5] = arr[q]; data[o + 6] = until[q];
    data[o + 7] = off; data[o + 8] = radius * Math.cos(angle); data[o + 9] = radius * Math.sin(angle);
    child[r] = c; repeat[r] = a.repeat[l]; depart[r] = dep[q];
    running = Math.max(running, until[q]); maxUntil[r] = running;
  }
  return { n, data, child, repeat, depart, maxUntil, groups, header: h };
}

// The runs of legs that can be visible at time t: a list of [lo, hi) (one per span group, empty ones left out).
export function drawRange(legs, t) {
  const out = [];
  for (const { lo: g0, hi: g1 } of legs.groups || [{ lo: 0, hi: legs.n }]) {
    let a = g0, b = g1;                              // first r with maxUntil[r] > t
    while (a < b) { const m = (a + b) >> 1; if (legs.maxUntil[m] > t) b = m; else a = m + 1; }
    const lo = a;
    b = g1;                                          // first r with depart[r] > t
    while (a < b) { const m = (a + b) >> 1; if (legs.depart[m] > t) b = m; else a = m + 1; }
    if (a > lo) out.push([lo, a]);
  }
  return out;
}

// Screen position (px) of leg r at time t, or null when not shown; toPx maps map units to px.
export function positionOf(legs, r, t, toPx) {
  const d = legs.data, o = r * FLOATS;
  if (t < d[o + 4] || t >= d[o + 6]) return null;
  const span = Math.max(d[o + 5] - d[o + 4], 1e-6);
  const p = Math.min(1, Math.max(0, (t - d[o + 4]) / span));
  const [ax, ay] = toPx(d[o], d[o + 1]);
  const [bx, by] = toPx(d[o + 2], d[o + 3]);
  const dx = bx - ax, dy = by - ay, len = Math.hypot(dx, dy);
  const bend = d[o + 7] * Math.sin(Math.PI * p);
  const nx = len > 1e-6 ? -dy / len : 0, ny = len > 1e-6 ? dx / len : 0;
  return [ax + dx * p + nx * bend + d[o + 8], ay + dy * p + ny * bend + d[o + 9]];
}

// Count visible dots at t (one per child on screen).
export function visibleCount(legs, t) {
  const d = legs.data;
  let count = 0;
  for (const [lo, hi] of drawRange(legs, t)) for (let r = lo; r < hi; r++) if (t < d[r * FLOATS + 6]) count++;
  return count;
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
// (open or d < end), or starting on d), and children who arrived in the 7 days to d.
export function stationCounts(stays, day) {
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
