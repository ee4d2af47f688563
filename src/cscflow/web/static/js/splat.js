// Dots for software WebGL: positions computed in JavaScript and stamped as small squares of palette indexes into
// one byte-per-texel image, uploaded once per frame and drawn with the map in one full-screen pass.
//
// On a software rasteriser (SwiftShader, llvmpipe) every point primitive costs set-up time on the CPU, about
// 0.4 us each on this project's 2-core machine, so 50,000 points miss 30 frames a second before any pixel is
// written; stamping the same squares from JavaScript costs ~2 ms, and the upload of a 0.3 MB index image is
// the same whatever the number of dots. On a real GPU the point path (positions interpolated in the vertex
// shader) is used. The positions follow the vertex shader's formula (see gl.js and data.positionOf).
import { FLOATS } from "./data.js";

export class Splat {
  constructor() {
    this.w = 0;
    this.h = 0;
    this.texel = 1;     // canvas px per image texel
    this.pixels = new Uint8Array(0);
  }

  // The index image for a canvas of width x height px (ratio canvas px per CSS px): one texel per 2x2 canvas px
  // when the canvas is at least at CSS resolution.
  resize(width, height, ratio) {
    this.ratio = ratio;
    this.texel = ratio >= 1 ? 2 : 1;
    this.w = Math.max(1, Math.ceil(width / this.texel));
    this.h = Math.max(1, Math.ceil(height / this.texel));
    if (this.pixels.length !== this.w * this.h) this.pixels = new Uint8Array(this.w * this.h);
  }

  clear() { this.pixels.fill(0); }

  // Stamp the legs of `ranges` visible at time t: colour index k (0-15) is stored as k + 1 (0 = no dot).
  // lin = [s, ox, oy] maps map units to CSS px (x * s + ox); size is the dot's side in CSS px.
  add(legs, ranges, t, colours, fixed, lin, size) {
    const d = legs.data, px = this.pixels, w = this.w, h = this.h;
    const k = this.ratio / this.texel;                      // texels per CSS px
    const side = Math.max(1, Math.round(size * k)), half = side / 2;
    const s = lin[0] * k, ox = lin[1] * k, oy = lin[2] * k;
    const one = fixed >= 0 ? fixed + 1 : 0;
    for (const [lo, hi] of ranges) {
      for (let r = lo; r < hi; r++) {
        const o = r * FLOATS;
        if (t < d[o + 4] || t >= d[o + 6]) continue;
        const span = Math.max(d[o + 5] - d[o + 4], 1e-6);
        let p = (t - d[o + 4]) / span;
        if (p > 1) p = 1;
        const ax = d[o] * s + ox, ay = d[o + 1] * s + oy, dx = d[o + 2] * s + ox - ax, dy = d[o + 3] * s + oy - ay;
        const len = Math.sqrt(dx * dx + dy * dy);
        const bend = len > 1e-6 ? (d[o + 7] * k * Math.sin(Math.PI * p)) / len : 0;
        const x = Math.round(ax + dx * p - dy * bend + d[o + 8] * k - half);
        const y = Math.round(ay + dy * p + dx * bend + d[o + 9] * k - half);
        if (x < 0 || y < 0 || x + side > w || y + side > h) continue;
        const c = one || (colours[r] | 0) + 1;
        for (let row = 0, at = y * w + x; row < side; row++, at += w) for (let q = 0; q < side; q++) px[at + q] = c;
      }
    }
  }
}
