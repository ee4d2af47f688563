// The count behind density (density.js), shared by the page and its worker (density-worker.js): the visible legs'
// dots counted into small cells, and the cells' shades. No DOM and no WebGL here, so a worker can import it.
//
// A leg's compact arrays (density.js compact): dep, arr, until (days), route (its sampled route: tables.first/last/at)
// and ring (its place in its station's waiting ring: tables.ringAt). A cell's word holds the count (low 24 bits) and the
// colour code of the last dot counted there (high 8): one read and one write a dot.
export const RING_ANGLES = 128, RING_PLACES = 8;   // a waiting ring's places (angle x distance from the centre)
export const RING = RING_ANGLES * RING_PLACES;
const FULL = 16;                     // dots in a cell for full opacity (a lone dot: half)
const WHITE = 256;                   // dots in a cell (and more) for the brightest shade (the colour mixed with white)

// The dots of the legs of `ranges` ([[lo, hi), ...]) visible at t counted into `cell`, and those waiting into `waiting`
// (per station); codes: a colour code per leg (Uint8Array), or fixed >= 0 for all. Returns [dots placed, legs visible].
export function countInto(c, codes, ranges, t, fixed, { first, last, at, ringAt }, cell, waiting) {
  let placed = 0, visible = 0;
  for (const [lo, hi] of ranges) {
    const got = fixed >= 0 ? countFixed(c, lo, hi, t, first, last, at, ringAt, cell, fixed << 24, waiting)
      : count(c, lo, hi, t, first, last, at, ringAt, cell, codes, waiting);
    placed += got[0];
    visible += got[1];
  }
  return [placed, visible];
}

// The hot loop: small and alone, as V8 compiles best; twice, for colour codes per leg and for one colour.
function count({ dep: DEP, arr: ARR, until: UNTIL, route, ring }, lo, hi, t, first, last, at, ringAt, cell, col, waiting) {
  let placed = 0, visible = 0;
  for (let r = lo; r < hi; r++) {
    const dep = DEP[r];
    if (t < dep || t >= UNTIL[r]) continue;
    visible++;
    const arr = ARR[r], rt = route[r];
    let i;
    if (t < arr) i = at[first[rt] + ((((t - dep) / (arr - dep)) * last[rt] + 0.5) | 0)];
    else { i = ringAt[ring[r]]; waiting[(ring[r] / RING) | 0]++; }
    if (i < 0) continue;
    cell[i] = ((cell[i] + 1) & 0xffffff) | (col[r] << 24);
    placed++;
  }
  return [placed, visible];
}
function countFixed({ dep: DEP, arr: ARR, until: UNTIL, route, ring }, lo, hi, t, first, last, at, ringAt, cell, code, waiting) {
  let placed = 0, visible = 0;
  for (let r = lo; r < hi; r++) {
    const dep = DEP[r];
    if (t < dep || t >= UNTIL[r]) continue;
    visible++;
    const arr = ARR[r], rt = route[r];
    let i;
    if (t < arr) i = at[first[rt] + ((((t - dep) / (arr - dep)) * last[rt] + 0.5) | 0)];
    else { i = ringAt[ring[r]]; waiting[(ring[r] / RING) | 0]++; }
    if (i < 0) continue;
    cell[i] = ((cell[i] + 1) & 0xffffff) | code;
    placed++;
  }
  return [placed, visible];
}

// Per palette (Float32Array of 16 RGB triples, 0-1): colour index * 256 + min(count, 255) -> premultiplied RGBA (a
// little-endian word). A cell's shade grows with its count: a lone dot faint, towards white past FULL.
export function shadesOf(palette) {
  const shades = new Uint32Array(16 * 256);
  for (let c = 0; c < 16; c++) {
    for (let n = 1; n < 256; n++) {
      const a = Math.min(1, 0.5 + (0.5 * Math.log(n)) / Math.log(FULL));
      const white = 0.6 * Math.min(1, Math.max(0, Math.log(n / FULL) / Math.log(WHITE / FULL)));
      const ch = (j) => Math.round(255 * a * (palette[c * 3 + j] * (1 - white) + white));
      shades[c * 256 + n] = (ch(0) | (ch(1) << 8) | (ch(2) << 16) | (Math.round(255 * a) << 24)) >>> 0;
    }
  }
  return shades;
}

// The cells as premultiplied RGBA words into `out` (the density texture's pixels).
export function paint(cell, shades, out) {
  for (let i = 0; i < cell.length; i++) {
    const v = cell[i], n = v & 0xffffff;
    out[i] = n ? shades[((v >>> 16) & 0xf00) | (n < 255 ? n : 255)] : 0;
  }
  return out;
}
