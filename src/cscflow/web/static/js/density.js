// Density for many dots on software WebGL: past DENSE_AT legs that may be visible (drawRange's runs), each visible dot
// adds one to the count of the small cell (CELL_PX CSS px square) its centre falls in, instead of stamping a disc
// (splat.js). At a million dots most discs would lie on others; the counts say how many children are on each stretch
// of line, which overdraw hides. A cell's shade grows with its count (a lone dot is a faint spot, a crowded stretch
// of line bright), in the colour of the last dot counted there (so the colours appear about in proportion to the
// dots); the image is filtered linearly when drawn with the map, so a cell is a soft spot, not a square.
//
// Positions follow data.positionOf on the line itself: each route's polyline is sampled every CSS px beforehand, each
// sample holding the cell it falls in, so a moving dot costs one division and two table lookups (no walk along the
// polyline, no trigonometry); the place found is at most half a CSS px from the exact one. The traverse offset of
// slow legs (at most 2.5 px, there so that dots overlap less) is left out: here overlap is what is counted. One word a
// cell holds the count (low 24 bits) and the colour code of the last dot counted (high 8): one read and one write a
// dot. The legs' times and routes are read from compact arrays of their own (15 bytes a leg, made on first use) rather
// than the 32-byte rows of legs.data: at 1M dots the pass streams 17 MB instead of 37 MB, twice as fast. (Computing x
// and y per dot with the offset, and separate count and colour arrays, made it 2-3 times slower again.)
// Waiting children in a ring drawn as density (network.js) are counted as visible but not placed (the ring shows them).
//
// The count (count.js, ~13 ms at 1M dots) runs in a Web Worker (density-worker.js) where the browser has them: the
// compact arrays are handed to it once per set of legs, the tables when they change, and each drawn frame asks for the
// count of its time; the frame draws the last count that came back (double-buffered: the worker fills one pair of
// images while the page shows the other). While playing, a frame is drawn when a newer count has come, so the page's
// thread keeps only the text and the upload (a drawn frame ~1 ms). `?worker=0` (or no Worker) counts on the page's
// thread, as before.
import { countInto, paint, RING_ANGLES, RING_PLACES, shadesOf } from "./count.js";
import { FLOATS } from "./data.js";
import { FADE_V, program } from "./glsl.js";
import { ROUTE_W } from "./network.js";

export const DENSE_AT = 250_000;     // legs that may be visible at t: from here on the map draws density
export const CELL_PX = 2;            // CSS px a side of a density cell
export const PACE_MS = 25;           // while playing, the worker is asked for a count at most this often

export class Density {
  // at: legs from which density is drawn (0: always; the page's address option `dense`); worker: count in a worker
  // (density-worker.js) when the browser has them, else on the main thread.
  constructor(at = DENSE_AT, worker = typeof Worker !== "undefined") {
    this.at = at;
    this.on = false;
    this.w = this.h = 0;
    this.cell = new Uint32Array(0);  // per cell: count | colour code << 24 (counted here: no worker)
    this.rgba = new Uint32Array(0);
    this.shades = null;
    this.placed = this.visible = 0;
    this.tablesVersion = 0;
    this.useWorker = worker;
    this.counter = null;             // the worker, made on first use
    this.shown = null;               // the worker's last count: {key, draws, w, h, cell, rgba, placed, visible, waiting, ms}
    this.fresh = false;              // a count arrived since the last drawn frame
    this.busy = false;               // a job is with the worker
    this.queued = null;              // the job to send when it is done (only the latest waits)
    this.asked = null;               // the key of the last job sent or queued
    this.job = null;                 // this frame's job, sent once the frame's draws are all in (flush)
    this.postedAt = -Infinity;       // when the last job was sent
    this.sent = [];                  // per layer: the legs and colours the worker holds
    this.gen = 0;                    // bumped when the worker is sent other legs (its older counts are dropped)
    this.spare = [];                 // buffers of counts no longer shown, returned with the next job
    this.onresult = () => {};        // a count arrived (the page draws again)
    this.times = [];                 // the worker's last counts' times (ms)
  }

  // Whether this frame draws density: the legs the frame's draws may show reach `at` (on until they fall to 80% of it).
  wanted(draws) {
    let n = 0;
    for (const d of draws) if (d) for (const [lo, hi] of d.ranges) n += hi - lo;
    this.on = this.at <= 0 || n >= (this.on ? 0.8 : 1) * this.at;
    return this.on;
  }

  // Cells for a stage of width x height CSS px.
  resize(width, height) {
    this.w = Math.max(1, Math.ceil(width / CELL_PX));
    this.h = Math.max(1, Math.ceil(height / CELL_PX));
    if (this.cell.length !== this.w * this.h) {
      this.cell = new Uint32Array(this.w * this.h);
      this.rgba = new Uint32Array(this.w * this.h);
    }
  }

  // A new frame counted here: no dot counted; `waiting` (per station, Int32Array) counts the legs waiting at each station.
  begin(stations) {
    this.cell.fill(0);
    this.placed = this.visible = 0;
    if (!this.waiting || this.waiting.length !== stations) this.waiting = new Int32Array(stations); else this.waiting.fill(0);
  }

  // Each route sampled every CSS px: the cell each sample falls in (-1: off the stage), from the network's texture
  // numbers (network.js), rebuilt when the routes are laid out again or the stage is resized.
  table(net) {
    if (this.lut && this.lutKey === net.segments && this.lutRoutes === net.nRoutes && this.lutTex === net.tex &&
      this.lutSize === `${this.w}x${this.h}`) return this.lut;
    const tex = net.tex, nR = net.nRoutes, first = new Int32Array(nR), last = new Float32Array(nR);
    let total = 0;
    for (let k = 0; k < nR; k++) {
      const o = k * ROUTE_W * 4;
      first[k] = total;
      last[k] = tex[o] < 2 ? 0 : Math.max(1, Math.ceil(tex[o + 1]));
      total += last[k] + 1;
    }
    const at = new Int32Array(total).fill(-1), w = this.w, h = this.h;
    const put = (s, x, y) => {
      const cx = Math.floor(x / CELL_PX), cy = Math.floor(y / CELL_PX);
      if (cx >= 0 && cy >= 0 && cx < w && cy < h) at[s] = cy * w + cx;
    };
    for (let k = 0; k < nR; k++) {
      const o = k * ROUTE_W * 4, n = tex[o], length = tex[o + 1];
      if (n < 2) { put(first[k], tex[o + 4], tex[o + 5]); continue; }
      let i = 2;
      for (let j = 0; j <= last[k]; j++) {
        const dist = (length * j) / last[k];
        while (i < n && tex[o + i * 4 + 2] < dist) i++;
        const a = o + (i - 1) * 4, b = o + i * 4, seg = tex[b + 2] - tex[a + 2];
        const f = seg > 1e-6 ? Math.min(1, Math.max(0, (dist - tex[a + 2]) / seg)) : 0;
        put(first[k] + j, tex[a] + (tex[b] - tex[a]) * f, tex[a + 1] + (tex[b + 1] - tex[a + 1]) * f);
      }
    }
    this.lutKey = net.segments; this.lutRoutes = nR; this.lutTex = tex; this.lutSize = `${w}x${h}`;
    this.lut = { first, last, at };
    this.tablesVersion++;
    return this.lut;
  }

  // The cells of the stations' waiting rings: per station, RING_ANGLES x RING_PLACES places (a leg's angle and place
  // in the ring, data.js), -1 where the ring is drawn as density (its children are not dots) or off the stage; made
  // again when the rings change (a few times a second while playing).
  rings(net) {
    const size = `${this.w}x${this.h}`;
    if (this.ringFor === net && this.ringVersion === net.version && this.ringSize === size) return this.ringAt;
    const nS = net.rings ? net.rings.length : 0, out = new Int32Array(Math.max(1, nS * RING_ANGLES * RING_PLACES)).fill(-1);
    for (let st = 0; st < nS; st++) {
      const g = net.rings[st];
      if (g.dense) continue;
      for (let a = 0; a < RING_ANGLES; a++) {
        const angle = (2 * Math.PI * (a + 0.5)) / RING_ANGLES;
        for (let q = 0; q < RING_PLACES; q++) {
          const rad = Math.sqrt(g.inner ** 2 + ((q + 0.5) / RING_PLACES) * (g.outer ** 2 - g.inner ** 2));
          const cx = Math.floor((g.x + rad * Math.cos(angle)) / CELL_PX), cy = Math.floor((g.y + rad * Math.sin(angle)) / CELL_PX);
          if (cx >= 0 && cy >= 0 && cx < this.w && cy < this.h) out[(st * RING_ANGLES + a) * RING_PLACES + q] = cy * this.w + cx;
        }
      }
    }
    this.ringFor = net; this.ringVersion = net.version; this.ringSize = size; this.ringAt = out;
    this.tablesVersion++;
    return out;
  }

  // Both tables, as count.js reads them.
  tables(net) {
    const { first, last, at } = this.table(net), ringAt = this.rings(net);
    return { first, last, at, ringAt, w: this.w, h: this.h };
  }

  // Count the legs of `ranges` visible at time t into the cells here (colour codes per leg, or `fixed` >= 0 for all).
  add(legs, ranges, t, colours, fixed, net) {
    const got = countInto(compact(legs), codes(colours), ranges, t, fixed, this.tables(net), this.cell, this.waiting);
    this.placed += got[0];
    this.visible += got[1];
  }

  // The cells counted here as premultiplied RGBA (little-endian words) for a palette (Float32Array of 16 RGB triples).
  image(palette) {
    if (!this.shades || this.shadesFor !== palette) { this.shades = shadesOf(palette); this.shadesFor = palette; }
    return paint(this.cell, this.shades, this.rgba);
  }

  // ---- the count in a worker ----
  // The frame's draws ({t, ranges, fixed} per layer; layers: the renderer's {legs, colours}) asked of the worker, once
  // the frame's draws are all in (more: the second period's); the frame then draws the last count that came back.
  // While playing (pace: PACE_MS), a count is asked for at most every PACE_MS: a frame drawn every other display frame
  // (30 a second) whose count has two frames' time in the worker, which shares the machine with the page's compositing.
  ask(layers, draws, net, palette, pace = 0) {
    const job = [];
    draws.forEach((d, i) => { if (d && layers[i]) job.push({ layer: i, t: d.t, ranges: d.ranges, fixed: d.fixed ?? -1 }); });
    if (!this.job) queueMicrotask(() => this.flush());
    this.job = { draws: job, layers, net, palette, pace };
  }

  more(i, d) {
    if (this.job && this.job.layers[i]) this.job.draws.push({ layer: i, t: d.t, ranges: d.ranges, fixed: d.fixed ?? -1 });
  }

  flush() {
    const { draws, layers, net, palette, pace } = this.job;
    this.job = null;
    if (!this.worker()) { this.onresult(); return; }
    const tables = this.tables(net);
    if (this.tablesSent !== this.tablesVersion) {
      this.counter.postMessage({ kind: "tables", tables });
      this.tablesSent = this.tablesVersion;
    }
    for (const { layer: i } of draws) this.send(i, layers[i]);
    const paletteKey = Array.prototype.join.call(palette || []);
    const key = `${this.gen}|${this.w}x${this.h}|${this.tablesVersion}|${paletteKey}|` +
      draws.map((d) => `${d.layer}:${d.t}:${d.fixed}`).join(";");
    if (key === this.asked) return;              // this count is shown or on its way
    const now = performance.now();
    if (now - this.postedAt < pace) return;      // while playing, a count at most every PACE_MS
    this.asked = key;
    const msg = { kind: "count", key, gen: this.gen, w: this.w, h: this.h, stations: net.stations.length, palette, paletteKey,
      draws };
    if (this.busy) this.queued = msg; else this.post(msg);
  }

  // The worker (made on first use); null when there is none (then the page counts on its main thread).
  worker() {
    if (!this.useWorker) return null;
    if (this.counter) return this.counter;
    try {
      this.counter = new Worker(new URL("./density-worker.js", import.meta.url), { type: "module" });
    } catch (err) {
      return this.noWorker(err);
    }
    this.counter.onmessage = ({ data }) => this.counted(data);
    this.counter.onerror = (e) => this.noWorker(e.message || e);
    return this.counter;
  }

  noWorker(err) {
    console.warn("cscflow: density counted on the main thread (no worker):", err);
    if (this.counter) this.counter.terminate();
    this.useWorker = false;
    this.counter = null;
    this.shown = null;
    this.busy = false;
    this.onresult();
    return null;
  }

  // A layer's legs (compact arrays, transferred: the page keeps no copy) and colour codes, sent when they change.
  send(i, layer) {
    const had = this.sent[i] || {};
    if (had.legs === layer.legs && had.colours === layer.colours) return;
    if (had.legs !== layer.legs) {
      const c = build(layer.legs), codes = Uint8Array.from(layer.colours);
      this.counter.postMessage({ kind: "layer", i, c, codes }, [...Object.values(c).map((a) => a.buffer), codes.buffer]);
      this.gen++;
    } else {
      const codes = Uint8Array.from(layer.colours);
      this.counter.postMessage({ kind: "codes", i, codes }, [codes.buffer]);
    }
    this.sent[i] = { legs: layer.legs, colours: layer.colours };
  }

  post(msg) {
    this.postedAt = performance.now();
    msg.give = this.spare;
    this.spare = [];
    this.counter.postMessage(msg, msg.give);
    this.busy = true;
  }

  // A count back from the worker: shown from the next frame (one from before other legs were sent is dropped).
  counted(r) {
    this.busy = false;
    if (r.gen === this.gen && r.w === this.w && r.h === this.h) {
      if (this.shown) this.spare.push(this.shown.cell.buffer, this.shown.rgba.buffer);
      this.shown = r;
      this.placed = r.placed;
      this.visible = r.visible;
      this.fresh = true;
      this.times.push(r.ms);
      if (this.times.length > 60) this.times.shift();
    } else {
      this.spare.push(r.cell.buffer, r.rgba.buffer);
    }
    if (this.queued) { this.post(this.queued); this.queued = null; }
    this.onresult();
  }

  // The image to draw: the worker's last count (empty until the first arrives) or the one counted here.
  pixels(palette) {
    if (!this.counter) return this.image(palette);
    const s = this.shown;
    if (s && s.w === this.w && s.h === this.h) return s.rgba;
    if (this.rgba.length !== this.w * this.h) this.rgba = new Uint32Array(this.w * this.h);
    return this.rgba.fill(0);
  }

  // The count drawn: the worker's or this thread's.
  get counts() { return this.counter ? this.shown : { cell: this.cell, w: this.w, waiting: this.waiting }; }

  // Whether the count drawn is the one of the last frame's draws (the page is still and the worker has caught up).
  get current() {
    return !this.counter || (Boolean(this.shown) && this.shown.key === this.asked && !this.busy && !this.job);
  }

  // For tests: the worker's last count counted again here, on this thread, from the same legs, times and tables, with
  // whether every cell's word (count and colour) is the same.
  recount(layers, net) {
    const s = this.shown;
    if (!this.counter || !s) return null;
    const cell = new Uint32Array(s.w * s.h), waiting = new Int32Array(net.stations.length), tables = this.tables(net);
    let placed = 0, visible = 0;
    for (const d of s.draws) {
      const { legs, colours } = layers[d.layer];
      const got = countInto(compact(legs), codes(colours), d.ranges, d.t, d.fixed, tables, cell, waiting);
      placed += got[0];
      visible += got[1];
    }
    return { placed, visible, same: cell.every((v, i) => v === s.cell[i]),
      waitingSame: waiting.every((v, i) => v === s.waiting[i]) };
  }

  // For scripts and tests: the cells with dots, as [x, y (CSS px from the stage's corner: the cell's centre), count].
  cells() {
    const out = [], c = this.counts;
    if (!c) return out;
    for (let i = 0; i < c.cell.length; i++) {
      const n = c.cell[i] & 0xffffff;
      if (n) out.push([((i % c.w) + 0.5) * CELL_PX, (Math.floor(i / c.w) + 0.5) * CELL_PX, n]);
    }
    return out;
  }
}

// The legs' depart, arrive, until, route and place in a station's ring as arrays of their own (made once per set of
// legs here; for the worker, made and handed over), and their colour codes as bytes (once per colouring).
const COMPACT = new WeakMap(), CODES = new WeakMap();
function compact(legs) {
  let c = COMPACT.get(legs);
  if (!c) { c = build(legs); COMPACT.set(legs, c); }
  return c;
}
function build(legs) {
  const n = legs.n, d = legs.data;
  const c = { dep: new Float32Array(n), arr: new Float32Array(n), until: new Float32Array(n), route: new Uint16Array(n),
    ring: new Uint32Array(n) };
  for (let r = 0, o = 0; r < n; r++, o += FLOATS) {
    c.route[r] = d[o]; c.dep[r] = d[o + 1]; c.arr[r] = d[o + 2]; c.until[r] = d[o + 3];
    const a = Math.floor((d[o + 5] / (2 * Math.PI)) * RING_ANGLES) % RING_ANGLES;
    c.ring[r] = (d[o + 7] * RING_ANGLES + a) * RING_PLACES + Math.min(RING_PLACES - 1, Math.floor(d[o + 6] * RING_PLACES));
  }
  return c;
}
function codes(colours) {
  let c = CODES.get(colours);
  if (!c) { c = Uint8Array.from(colours); CODES.set(colours, c); }
  return c;
}

// For scripts and tests (window.cscflow.density): whether density is drawn, the dots counted into cells and the legs
// visible, the cells with dots ([x, y, count]: page coordinates of the cell's centre, box: the stage's) and their side;
// whether a worker counts them, the median time of its last 60 counts (ms), and whether the count drawn is of the last
// frame's draws.
export function densityState(renderer, box) {
  const d = renderer && renderer.density;
  if (!d) return { on: false };
  return { on: Boolean(renderer.dense), placed: d.placed, visible: d.visible, cellPx: CELL_PX, at: d.at,
    worker: Boolean(d.counter), countMs: d.times.length ? [...d.times].sort((a, b) => a - b)[d.times.length >> 1] : null,
    current: d.current,
    cells: renderer.dense ? d.cells().map(([x, y, n]) => [x + box.left, y + box.top, n]) : [] };
}

const DENSITY_F = `#version 300 es
precision mediump float;
in vec2 v_uv;
uniform sampler2D u_tex, u_dens;
uniform highp vec2 u_scale;          // canvas px -> density texture coordinates
uniform highp float u_h;             // canvas height (px)
out vec4 colour;
void main() {
  vec4 map = texture(u_tex, v_uv);
  vec4 d = texture(u_dens, vec2(gl_FragCoord.x, u_h - gl_FragCoord.y) * u_scale);
  colour = vec4(map.rgb * (1.0 - d.a) + d.rgb, 1.0);
}`;

// The WebGL side: the density texture and the one full-screen pass that draws the map (texture unit 0) under it.
export class DensityPass {
  constructor(gl) {
    this.gl = gl;
    this.prog = program(gl, FADE_V, DENSITY_F);
    this.u = {};
    for (const name of ["u_tex", "u_dens", "u_scale", "u_h"]) this.u[name] = gl.getUniformLocation(this.prog, name);
    this.vao = gl.createVertexArray();
    gl.bindVertexArray(this.vao);
    gl.bindBuffer(gl.ARRAY_BUFFER, gl.createBuffer());
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    const loc = gl.getAttribLocation(this.prog, "a_xy");
    gl.enableVertexAttribArray(loc);
    gl.vertexAttribPointer(loc, 2, gl.FLOAT, false, 0, 0);
    gl.bindVertexArray(null);
    this.tex = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, this.tex);
    for (const k of [gl.TEXTURE_MIN_FILTER, gl.TEXTURE_MAG_FILTER]) gl.texParameteri(gl.TEXTURE_2D, k, gl.LINEAR);
    for (const k of [gl.TEXTURE_WRAP_S, gl.TEXTURE_WRAP_T]) gl.texParameteri(gl.TEXTURE_2D, k, gl.CLAMP_TO_EDGE);
    this.size = "";
  }

  // Draw into the default framebuffer of width x height px (ratio canvas px per CSS px); the map's texture is bound
  // to unit 0.
  draw(density, palette, width, height, ratio) {
    const gl = this.gl, { w, h } = density, pixels = new Uint8Array(density.pixels(palette).buffer);
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D, this.tex);
    if (this.size !== `${w}x${h}`) {
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, w, h, 0, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
      this.size = `${w}x${h}`;
    } else {
      gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
    }
    gl.activeTexture(gl.TEXTURE0);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, width, height);
    gl.disable(gl.BLEND);
    gl.useProgram(this.prog);
    gl.uniform1i(this.u.u_tex, 0);
    gl.uniform1i(this.u.u_dens, 1);
    gl.uniform2f(this.u.u_scale, 1 / (ratio * CELL_PX * w), 1 / (ratio * CELL_PX * h));
    gl.uniform1f(this.u.u_h, height);
    gl.bindVertexArray(this.vao);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.bindVertexArray(null);
    gl.enable(gl.BLEND);
  }
}
