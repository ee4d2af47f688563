// The density count off the page's main thread (density.js Counter): at a million dots the count takes ~13 ms, more
// than the main thread can spare in a frame that also carries a new day's text. The page sends each layer's compact
// arrays once (transferred, not copied), the tables of cells when they change, and one job per frame at most; the
// worker counts, shades the cells for the job's palette and sends both images back (transferred); the page returns
// the buffers of the count it no longer shows, so two pairs go round. Loaded from the app's own origin
// (CSP worker-src 'self'); it imports only count.js.
import { countInto, paint, shadesOf } from "./count.js";

const layers = [];        // per layer: {c: compact arrays, codes: Uint8Array} or null
let tables = null;        // {first, last, at, ringAt, w, h}
let spare = [];           // buffers (ArrayBuffer) of cells-sized images to reuse
let shades = null, shadesKey = "";

function take(n) {
  const i = spare.findIndex((b) => b.byteLength === n * 4);
  return i < 0 ? new Uint32Array(n) : new Uint32Array(spare.splice(i, 1)[0]);
}

self.onmessage = ({ data: m }) => {
  if (m.kind === "layer") layers[m.i] = m.c ? { c: m.c, codes: m.codes } : null;
  else if (m.kind === "codes") { if (layers[m.i]) layers[m.i].codes = m.codes; }
  else if (m.kind === "tables") tables = m.tables;
  else if (m.kind === "count") counted(m);
};

function counted(m) {
  const t0 = performance.now(), n = m.w * m.h;
  spare = spare.concat(m.give || []).slice(-4);
  const cell = take(n), waiting = new Int32Array(m.stations);
  cell.fill(0);
  let placed = 0, visible = 0;
  if (tables && tables.w === m.w && tables.h === m.h) {
    for (const d of m.draws) {
      const layer = layers[d.layer];
      if (!layer) continue;
      const got = countInto(layer.c, layer.codes, d.ranges, d.t, d.fixed, tables, cell, waiting);
      placed += got[0];
      visible += got[1];
    }
  }
  if (m.paletteKey !== shadesKey) { shades = shadesOf(m.palette); shadesKey = m.paletteKey; }
  const rgba = paint(cell, shades, take(n));
  postMessage({ kind: "counted", key: m.key, gen: m.gen, draws: m.draws, w: m.w, h: m.h, placed, visible, waiting, cell, rgba,
    ms: performance.now() - t0 }, [cell.buffer, rgba.buffer, waiting.buffer]);
}
