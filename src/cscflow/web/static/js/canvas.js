// Canvas 2D fallback: the same positions computed in JavaScript, one round dot each, drawn over the painted
// map in one opaque canvas (trails fade in an offscreen canvas of their own).
import { positionOf } from "./data.js";
import { DOT_PX } from "./splat.js";

export class CanvasRenderer {
  static create(canvas) {
    const ctx = canvas.getContext("2d", { alpha: false });
    return ctx ? new CanvasRenderer(canvas, ctx) : null;
  }

  constructor(canvas, ctx) {
    this.name = "canvas2d";
    this.device = "canvas2d";
    this.canvas = canvas;
    this.ctx = ctx;
    this.layers = [];
    this.trail = null;   // offscreen canvas the trails fade in, while trails are on
  }

  setLayer(i, legs, colours) { this.layers[i] = legs ? { legs, colours } : null; }
  setColours(i, colours) { if (this.layers[i]) this.layers[i].colours = colours; }

  resize(width, height, ratio) {
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    this.ratio = ratio;
    this.trail = null;
  }

  background(bg) {
    const ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (bg && bg.image && bg.image.width) ctx.drawImage(bg.image, 0, 0, this.canvas.width, this.canvas.height);
    else { ctx.fillStyle = "#0f1822"; ctx.fillRect(0, 0, this.canvas.width, this.canvas.height); }
  }

  trailContext() {
    const w = this.canvas.width, h = this.canvas.height;
    if (!this.trail || this.trail.width !== w || this.trail.height !== h) {
      this.trail = document.createElement("canvas");
      this.trail.width = w;
      this.trail.height = h;
    }
    return this.trail.getContext("2d");
  }

  present() {
    this.background(this.lastBg);
    this.ctx.drawImage(this.trail, 0, 0);
  }

  // Extra dots drawn into the current frame (the second period): layer i at time t.
  drawMore(i, d) {
    const ctx = this.trailsOn ? this.trailContext() : this.ctx;
    this.dots(ctx, this.layers[i], d, this.lastView, this.lastSize);
    if (this.trailsOn) this.present();
    this.labels();
  }

  // opts.background: {image: a canvas with the painted map, version}.
  draw(view, draws, opts = {}) {
    this.lastBg = opts.background;
    this.lastView = view;
    this.lastSize = opts.size || DOT_PX;
    this.trailsOn = Boolean(opts.trails);
    let ctx = this.ctx;
    if (opts.trails) {
      ctx = this.trailContext();
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.globalCompositeOperation = "destination-out";
      ctx.fillStyle = "rgba(0,0,0,0.18)";
      ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
      ctx.globalCompositeOperation = "source-over";
    } else {
      this.trail = null;
      this.background(opts.background);
    }
    draws.forEach((d, i) => this.dots(ctx, this.layers[i], d, view, (d && d.size) || this.lastSize));
    if (opts.trails) this.present();
    this.labels();
  }

  // Station labels and counts over the dots.
  labels() {
    const bg = this.lastBg;
    if (!bg || !bg.labels || !bg.labels.width) return;
    this.ctx.setTransform(1, 0, 0, 1, 0, 0);
    this.ctx.drawImage(bg.labels, 0, 0, this.canvas.width, this.canvas.height);
    const counts = bg.counts, r = this.ratio || 1;
    if (!counts || !counts.image || !counts.image.width) return;
    for (const { dst: [x0, y0, x1, y1], src: [s0, t0, s1, t1] } of counts.boxes) {
      this.ctx.drawImage(counts.image, s0, t0, s1 - s0, t1 - t0, x0 * r, y0 * r, (x1 - x0) * r, (y1 - y0) * r);
    }
  }

  dots(ctx, layer, d, net, size) {
    const ratio = this.ratio || 1;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const half = size / 2;
    if (!layer || !d) return;
    const paths = new Map();
    for (const [lo, hi] of d.ranges) {
      for (let r = lo; r < hi; r++) {
        const p = positionOf(layer.legs, r, d.t, net);
        if (!p) continue;
        const k = d.fixed >= 0 ? d.fixed : layer.colours[r];
        let path = paths.get(k);
        if (!path) { path = new Path2D(); paths.set(k, path); }
        path.moveTo(p[0] + half, p[1]);
        path.arc(p[0], p[1], half, 0, 2 * Math.PI);
      }
    }
    for (const [k, path] of paths) {
      const c = d.palette, colour = `rgba(${c[k * 3] * 255 | 0},${c[k * 3 + 1] * 255 | 0},${c[k * 3 + 2] * 255 | 0},0.9)`;
      if (d.ring) { ctx.strokeStyle = colour; ctx.lineWidth = 1.6; ctx.stroke(path); } else { ctx.fillStyle = colour; ctx.fill(path); }
    }
  }
}
