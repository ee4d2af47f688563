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
import { FLOATS } from "./data.js";
import { FADE_V, program } from "./glsl.js";
import { ROUTE_W } from "./network.js";

export const DENSE_AT = 250_000;     // legs that may be visible at t: from here on the map draws density
export const CELL_PX = 2;            // CSS px a side of a density cell
const FULL = 16;                     // dots in a cell for full opacity (a lone dot: half)
const RING_ANGLES = 128, RING_PLACES = 8;   // a waiting ring's places (angle x distance from the centre)
const RING = RING_ANGLES * RING_PLACES;
const WHITE = 256;                   // dots in a cell (and more) for the brightest shade (the colour mixed with white)

export class Density {
  constructor(at = DENSE_AT) {
    this.at = at;                    // 0: always (the page's address option `dense`)
    this.on = false;
    this.w = this.h = 0;
    this.cell = new Uint32Array(0);  // per cell: count | colour code << 24
    this.rgba = new Uint32Array(0);
    this.lutKey = null;
    this.shades = null;              // per palette: colour index * 256 + min(count, 255) -> RGBA (premultiplied)
    this.placed = this.visible = 0;
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

  // A new frame: no dot counted; `waiting` (per station, Int32Array) counts the legs waiting at each station.
  begin(stations) {
    this.cell.fill(0);
    this.placed = this.visible = 0;
    if (!this.waiting || this.waiting.length !== stations) this.waiting = new Int32Array(stations); else this.waiting.fill(0);
  }

  // Each route sampled every CSS px: the cell each sample falls in (-1: off the stage), from the network's texture
  // numbers (network.js), rebuilt when the routes are laid out again or the stage is resized.
  table(net) {
    if (this.lut && this.lutKey === net.segments && this.lutRoutes === net.nRoutes && this.lutTex === net.tex &&
      this.lutCells === this.cell) return this.lut;
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
    this.lutKey = net.segments; this.lutRoutes = nR; this.lutTex = tex; this.lutCells = this.cell;
    this.lut = { first, last, at };
    return this.lut;
  }

  // The cells of the stations' waiting rings: per station, RING_ANGLES x RING_PLACES places (a leg's angle and place
  // in the ring, data.js), -1 where the ring is drawn as density (its children are not dots) or off the stage; made
  // again when the rings change (a few times a second while playing).
  rings(net) {
    if (this.ringFor === net && this.ringVersion === net.version && this.ringCells === this.cell) return this.ringAt;
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
    this.ringFor = net; this.ringVersion = net.version; this.ringCells = this.cell; this.ringAt = out;
    return out;
  }

  // Count the legs of `ranges` visible at time t into the cells (colour codes per leg, or `fixed` >= 0 for all).
  add(legs, ranges, t, colours, fixed, net) {
    const { first, last, at } = this.table(net), ringAt = this.rings(net), c = compact(legs), cell = this.cell;
    for (const [lo, hi] of ranges) {
      const got = fixed >= 0 ? countFixed(c, lo, hi, t, first, last, at, ringAt, cell, fixed << 24, this.waiting)
        : count(c, lo, hi, t, first, last, at, ringAt, cell, codes(colours), this.waiting);
      this.placed += got[0];
      this.visible += got[1];
    }
  }

  // The cells as premultiplied RGBA (little-endian words) for a palette (Float32Array of 16 RGB triples, 0-1).
  image(palette) {
    if (!this.shades || this.shadesFor !== palette) {
      this.shades = new Uint32Array(16 * 256);
      for (let c = 0; c < 16; c++) {
        for (let n = 1; n < 256; n++) {
          const a = Math.min(1, 0.5 + (0.5 * Math.log(n)) / Math.log(FULL));
          const white = 0.6 * Math.min(1, Math.max(0, Math.log(n / FULL) / Math.log(WHITE / FULL)));
          const ch = (j) => Math.round(255 * a * (palette[c * 3 + j] * (1 - white) + white));
          this.shades[c * 256 + n] = (ch(0) | (ch(1) << 8) | (ch(2) << 16) | (Math.round(255 * a) << 24)) >>> 0;
        }
      }
      this.shadesFor = palette;
    }
    const cell = this.cell, out = this.rgba, shades = this.shades;
    for (let i = 0; i < cell.length; i++) {
      const v = cell[i], n = v & 0xffffff;
      out[i] = n ? shades[((v >>> 16) & 0xf00) | (n < 255 ? n : 255)] : 0;
    }
    return out;
  }

  // For scripts and tests: the cells with dots, as [x, y (CSS px from the stage's corner: the cell's centre), count].
  cells() {
    const out = [];
    for (let i = 0; i < this.cell.length; i++) {
      const n = this.cell[i] & 0xffffff;
      if (n) out.push([((i % this.w) + 0.5) * CELL_PX, (Math.floor(i / this.w) + 0.5) * CELL_PX, n]);
    }
    return out;
  }
}

// The map with the density cells over it (premultiplied colour and coverage, filtered linearly).
// The legs' depart, arrive, until, route and place in a station's ring as arrays of their own (made once per set of
// legs), and their colour codes as bytes (once per colouring).
const COMPACT = new WeakMap(), CODES = new WeakMap();
function compact(legs) {
  let c = COMPACT.get(legs);
  if (c) return c;
  const n = legs.n, d = legs.data;
  c = { dep: new Float32Array(n), arr: new Float32Array(n), until: new Float32Array(n), route: new Uint16Array(n),
    ring: new Uint32Array(n) };
  for (let r = 0, o = 0; r < n; r++, o += FLOATS) {
    c.route[r] = d[o]; c.dep[r] = d[o + 1]; c.arr[r] = d[o + 2]; c.until[r] = d[o + 3];
    const a = Math.floor((d[o + 5] / (2 * Math.PI)) * RING_ANGLES) % RING_ANGLES;
    c.ring[r] = (d[o + 7] * RING_ANGLES + a) * RING_PLACES + Math.min(RING_PLACES - 1, Math.floor(d[o + 6] * RING_PLACES));
  }
  COMPACT.set(legs, c);
  return c;
}
function codes(colours) {
  let c = CODES.get(colours);
  if (!c) { c = Uint8Array.from(colours); CODES.set(colours, c); }
  return c;
}

// The dots of legs [lo, hi) at t counted into the cells (the hot loop: small and alone, as V8 compiles best; twice,
// for colour codes per leg and for one colour), and those waiting into `waiting`: [dots placed, legs visible].
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

// For scripts and tests (window.cscflow.density): whether density is drawn, the dots counted into cells and the legs
// visible, the cells with dots ([x, y, count]: page coordinates of the cell's centre, box: the stage's) and their side.
export function densityState(renderer, box) {
  const d = renderer && renderer.density;
  if (!d) return { on: false };
  return { on: Boolean(renderer.dense), placed: d.placed, visible: d.visible, cellPx: CELL_PX, at: d.at,
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
    const gl = this.gl, { w, h } = density, pixels = new Uint8Array(density.image(palette).buffer);
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
