// Dots for software WebGL: positions computed in JavaScript and stamped as small anti-aliased discs into one
// byte-per-pixel image, uploaded once per frame and drawn with the map in one full-screen pass.
//
// On a software rasteriser (SwiftShader, llvmpipe) every point primitive costs set-up time on the CPU, about
// 0.4 us each on this project's 2-core machine, so 50,000 points miss 30 frames a second before any pixel is
// written; stamping the same discs from JavaScript costs a few ms, and the upload of the index image is the same
// whatever the number of dots. On a real GPU the point path (positions in the vertex shader) is used. The
// positions follow data.positionOf (and the vertex shader in gl.js).
//
// A byte holds (coverage level << 4) | palette index: level 0 = no dot, 1-3 = a third, two thirds, all of the
// pixel covered (the disc's rim is blended with the map in the shader); index 0-15.
import { FLOATS } from "./data.js";
import { ROUTE_W } from "./network.js";

export const DOT_PX = 5;      // a dot's diameter in CSS px (every renderer)

// The stamp of a disc `diameter` texels wide centred on a texel: [dx, dy, level] with level 1-3; without the
// middle `hole` texels wide (a ring) when hole > 0.
function disc(diameter, hole = 0) {
  const r = diameter / 2, reach = Math.ceil(r), out = [], h2 = (hole / 2) ** 2;
  for (let dy = -reach; dy <= reach; dy++) {
    for (let dx = -reach; dx <= reach; dx++) {
      let inside = 0;
      for (let sy = 0; sy < 4; sy++) {
        for (let sx = 0; sx < 4; sx++) {
          const x = dx - 0.375 + sx * 0.25, y = dy - 0.375 + sy * 0.25;
          if (x * x + y * y <= r * r && x * x + y * y >= h2) inside++;
        }
      }
      const level = Math.round((3 * inside) / 16);
      if (level) out.push(dx, dy, level);
    }
  }
  return Int32Array.from(out);
}

export class Splat {
  constructor() {
    this.w = 0;
    this.h = 0;
    this.texel = 1;     // canvas px per image texel
    this.pixels = new Uint8Array(0);
  }

  // The index image for a canvas of width x height px (ratio canvas px per CSS px): one texel per canvas px, or
  // per 2x2 canvas px on high-density screens (still one per CSS px there).
  resize(width, height, ratio) {
    this.ratio = ratio;
    this.texel = ratio >= 1.5 ? 2 : 1;
    this.w = Math.max(1, Math.ceil(width / this.texel));
    this.h = Math.max(1, Math.ceil(height / this.texel));
    if (this.pixels.length !== this.w * this.h) this.pixels = new Uint8Array(this.w * this.h);
    this.stampFor = null;
  }

  clear() { this.pixels.fill(0); }

  // Stamp the legs of `ranges` visible at time t: net is the network (routes and rings, CSS px); `ring`: hollow
  // dots (a ring 1.6 CSS px wide).
  add(legs, ranges, t, colours, fixed, net, size = DOT_PX, ring = false) {
    const d = legs.data, px = this.pixels, w = this.w, h = this.h, tex = net.tex, nR = net.nRoutes;
    const k = this.ratio / this.texel;                      // texels per CSS px
    const key = `${size * k}/${ring}/${w}`;
    if (!this.stampFor || this.stampFor[0] !== key) {
      const st = disc(size * k, ring ? (size - 3.2) * k : 0), at = new Int32Array(st.length / 3), level = new Uint8Array(st.length / 3);
      for (let i = 0; i < at.length; i++) { at[i] = st[3 * i + 1] * w + st[3 * i]; level[i] = st[3 * i + 2] << 4; }
      this.stampFor = [key, at, level];
    }
    const spots = this.stampFor[1], levels = this.stampFor[2], m = spots.length, reach = Math.ceil((size * k) / 2);
    for (const [lo, hi] of ranges) {
      for (let r = lo; r < hi; r++) {
        const o = r * FLOATS;
        if (t < d[o + 1] || t >= d[o + 3]) continue;
        let x, y;
        if (t >= d[o + 2]) {
          const s = (nR + d[o + 7]) * ROUTE_W * 4, r0 = tex[s + 2], r1 = tex[s + 3];
          if (r1 < 0) continue;                     // a ring drawn as density (map.js paints it)
          const rad = Math.sqrt(r0 * r0 + d[o + 6] * (r1 * r1 - r0 * r0));
          x = tex[s] + rad * Math.cos(d[o + 5]); y = tex[s + 1] + rad * Math.sin(d[o + 5]);
        } else {                                    // along the route (network.along, inlined)
          const p = (t - d[o + 1]) / Math.max(d[o + 2] - d[o + 1], 1e-6);
          const rt = d[o] * ROUTE_W * 4, n = tex[rt];
          if (n < 2) { x = tex[rt + 4]; y = tex[rt + 5]; } else {
            const dist = p * tex[rt + 1];
            let i = 2;
            while (i < n && tex[rt + i * 4 + 2] < dist) i++;
            const a = rt + (i - 1) * 4, b = rt + i * 4;
            const seg = tex[b + 2] - tex[a + 2], f = seg > 1e-6 ? Math.min(1, Math.max(0, (dist - tex[a + 2]) / seg)) : 0;
            const dx = tex[b] - tex[a], dy = tex[b + 1] - tex[a + 1], len = Math.sqrt(dx * dx + dy * dy) || 1;
            const bend = (d[o + 4] * Math.sin(Math.PI * p)) / len;
            x = tex[a] + dx * f - dy * bend; y = tex[a + 1] + dy * f + dx * bend;
          }
        }
        const cx = Math.round(x * k - 0.5), cy = Math.round(y * k - 0.5);
        if (cx < reach || cy < reach || cx + reach >= w || cy + reach >= h) continue;
        const c = fixed >= 0 ? fixed : colours[r] | 0, centre = cy * w + cx;
        for (let i = 0; i < m; i++) {
          const q = centre + spots[i], v = levels[i] | c;
          if (v >= px[q]) px[q] = v;
        }
      }
    }
  }
}
