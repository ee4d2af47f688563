// Canvas 2D fallback: the same positions computed in JavaScript, one small square per dot.
import { positionOf } from "./data.js";

export class CanvasRenderer {
  static create(canvas) {
    const ctx = canvas.getContext("2d");
    return ctx ? new CanvasRenderer(canvas, ctx) : null;
  }

  constructor(canvas, ctx) {
    this.name = "canvas2d";
    this.device = "canvas2d";
    this.canvas = canvas;
    this.ctx = ctx;
    this.layers = [];
  }

  setLayer(i, legs, colours) { this.layers[i] = legs ? { legs, colours } : null; }
  setColours(i, colours) { if (this.layers[i]) this.layers[i].colours = colours; }

  resize(width, height, ratio) {
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    this.ratio = ratio;
  }

  draw(view, draws, opts = {}) {
    const ctx = this.ctx, ratio = this.ratio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (opts.trails) {
      ctx.globalCompositeOperation = "destination-out";
      ctx.fillStyle = "rgba(0,0,0,0.18)";
      ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
      ctx.globalCompositeOperation = "source-over";
    } else {
      ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const size = opts.size || 4;
    const half = size / 2;
    draws.forEach((d, i) => {
      const layer = this.layers[i];
      if (!layer || !d) return;
      const paths = new Map();
      for (const [lo, hi] of d.ranges) {
        for (let r = lo; r < hi; r++) {
          const p = positionOf(layer.legs, r, d.t, view.toPx);
          if (!p) continue;
          const k = d.fixed >= 0 ? d.fixed : layer.colours[r];
          let path = paths.get(k);
          if (!path) { path = new Path2D(); paths.set(k, path); }
          path.rect(p[0] - half, p[1] - half, size, size);
        }
      }
      for (const [k, path] of paths) {
        const c = d.palette;
        ctx.fillStyle = `rgba(${c[k * 3] * 255 | 0},${c[k * 3 + 1] * 255 | 0},${c[k * 3 + 2] * 255 | 0},0.9)`;
        ctx.fill(path);
      }
    });
  }
}
