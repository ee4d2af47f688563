// WebGL2 dots: one vertex per leg, positions interpolated in the vertex shader from one time uniform. The canvas
// is opaque and holds the whole map: the painted tube map (a texture, re-uploaded only when it changes) is drawn
// first, then the dots, so the compositor has one changing opaque layer to show and nothing to blend above it.
import { FLOATS } from "./data.js";
import { Density, DensityPass, PACE_MS } from "./density.js";
import { COPY_F, FADE_F, FADE_V, FRAGMENT, program, SPLAT_F, TEX_V, texture, VERTEX } from "./glsl.js";
import { ROUTE_W } from "./network.js";
import { DOT_PX, Splat } from "./splat.js";

const BG = [15 / 255, 24 / 255, 34 / 255];    // the page background, #0f1822

export class GLRenderer {
  // opts.denseAt: legs that may be visible from which splat mode draws density (density.js; 0: always); opts.worker:
  // false to count density on the main thread.
  static create(canvas, dotsMode = "auto", opts = {}) {
    // No antialiasing, depth or stencil, and the drawing buffer not preserved (no copy per frame); trails keep
    // their fading image in a texture of their own instead.
    const gl = canvas.getContext("webgl2", {
      alpha: false, antialias: false, premultipliedAlpha: true, preserveDrawingBuffer: false, depth: false,
      stencil: false, powerPreference: "high-performance",
    });
    return gl ? new GLRenderer(canvas, gl, dotsMode, opts) : null;
  }

  constructor(canvas, gl, dotsMode = "auto", opts = {}) {
    this.name = "webgl2";
    this.canvas = canvas;
    this.gl = gl;
    this.prog = program(gl, VERTEX, FRAGMENT);
    this.fade = program(gl, FADE_V, FADE_F);
    this.copy = program(gl, FADE_V, COPY_F);
    this.tex = program(gl, TEX_V, COPY_F);
    this.splatProg = program(gl, FADE_V, SPLAT_F);
    this.uSplat = {};
    for (const name of ["u_tex", "u_idx", "u_pal", "u_texel", "u_h"]) {
      this.uSplat[name] = gl.getUniformLocation(this.splatProg, name);
    }
    this.idxTex = texture(gl);
    this.splat = new Splat();
    this.density = new Density(opts.denseAt, opts.worker !== false && typeof Worker !== "undefined");
    this.densityPass = new DensityPass(gl);
    this.uKeep = gl.getUniformLocation(this.fade, "u_keep");
    this.quadVao = gl.createVertexArray();
    this.u = {};
    this.routeTex = texture(gl);
    this.netVersion = -1;
    for (const name of ["u_t", "u_px", "u_size", "u_pal", "u_fixed", "u_alpha", "u_routes", "u_nRoutes", "u_ring"]) {
      this.u[name] = gl.getUniformLocation(this.prog, name);
    }
    this.layers = [];
    this.quad = gl.createBuffer();
    gl.bindVertexArray(this.quadVao);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.quad);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    for (const p of [this.fade, this.copy, this.splatProg]) {
      const loc = gl.getAttribLocation(p, "a_xy");
      gl.enableVertexAttribArray(loc);
      gl.vertexAttribPointer(loc, 2, gl.FLOAT, false, 0, 0);
    }
    gl.bindVertexArray(null);
    this.trail = null;   // {fb, tex, w, h} while trails are on
    this.bg = { tex: texture(gl, true), lab: texture(gl, true), version: -1, n: 0 };
    // The label boxes: two triangles each in clip space (the copy shader's uv follows from the position).
    this.boxVao = gl.createVertexArray();
    this.boxBuf = gl.createBuffer();
    gl.bindVertexArray(this.boxVao);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.boxBuf);
    const boxLoc = gl.getAttribLocation(this.copy, "a_xy");
    gl.enableVertexAttribArray(boxLoc);
    gl.vertexAttribPointer(boxLoc, 2, gl.FLOAT, false, 0, 0);
    gl.bindVertexArray(null);
    // The station counts: boxes of the counts atlas (x, y in clip space; u, v in the atlas), re-uploaded when the
    // counts change (a few kilobytes, a few times a second while playing).
    this.counts = { tex: texture(gl, true), vao: gl.createVertexArray(), buf: gl.createBuffer(), version: -1, n: 0 };
    gl.bindVertexArray(this.counts.vao);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.counts.buf);
    for (const [name, offset] of [["a_xy", 0], ["a_uv", 8]]) {
      const loc = gl.getAttribLocation(this.tex, name);
      gl.enableVertexAttribArray(loc);
      gl.vertexAttribPointer(loc, 2, gl.FLOAT, false, 16, offset);
    }
    gl.bindVertexArray(null);
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    this.device = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    // How dots are drawn: "points" (interpolated in the vertex shader; for GPUs) or "splat" (stamped in
    // JavaScript; for software WebGL, where each point primitive costs CPU time). ?dots=points|splat overrides.
    const software = /swiftshader|llvmpipe|softpipe|software/i.test(String(this.device));
    this.dots = dotsMode === "points" || dotsMode === "splat" ? dotsMode : software ? "splat" : "points";
  }

  // One layer per cohort drawn: its legs and colour codes. The vertex buffers are made when the point path first
  // draws the layer (splat mode never needs them: at 1M dots they would be another 200 MB in the GPU process).
  setLayer(i, legs, colours) {
    const old = this.layers[i];
    if (old && old.vao) { this.gl.deleteVertexArray(old.vao); this.gl.deleteBuffer(old.buf); this.gl.deleteBuffer(old.colBuf); }
    this.layers[i] = legs ? { legs, colours } : null;
  }

  // The layer's vertex array (made on first use).
  vaoOf(layer) {
    const gl = this.gl;
    if (layer.vao) return layer.vao;
    layer.vao = gl.createVertexArray();
    gl.bindVertexArray(layer.vao);
    layer.buf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, layer.buf);
    gl.bufferData(gl.ARRAY_BUFFER, layer.legs.data, gl.STATIC_DRAW);
    const stride = FLOATS * 4;
    const attr = (name, size, offset) => {
      const loc = gl.getAttribLocation(this.prog, name);
      gl.enableVertexAttribArray(loc);
      gl.vertexAttribPointer(loc, size, gl.FLOAT, false, stride, offset);
    };
    attr("a_leg0", 4, 0);
    attr("a_leg1", 4, 16);
    layer.colBuf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, layer.colBuf);
    gl.bufferData(gl.ARRAY_BUFFER, layer.colours, gl.DYNAMIC_DRAW);
    const loc = gl.getAttribLocation(this.prog, "a_col");
    gl.enableVertexAttribArray(loc);
    gl.vertexAttribPointer(loc, 1, gl.FLOAT, false, 4, 0);
    return layer.vao;
  }

  setColours(i, colours) {
    const layer = this.layers[i];
    if (!layer) return;
    layer.colours = colours;
    if (!layer.colBuf) return;
    this.gl.bindBuffer(this.gl.ARRAY_BUFFER, layer.colBuf);
    this.gl.bufferData(this.gl.ARRAY_BUFFER, colours, this.gl.DYNAMIC_DRAW);
  }

  get dense() { return this.splatting && this.density.on; }

  resize(width, height, ratio) {
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    this.ratio = ratio;
    this.splat.resize(this.canvas.width, this.canvas.height, ratio);
    this.density.resize(width, height);
    this.dropTrail();
  }

  dropTrail() {
    if (!this.trail) return;
    this.gl.deleteFramebuffer(this.trail.fb);
    this.gl.deleteTexture(this.trail.tex);
    this.trail = null;
  }

  // The offscreen image trails fade in (made on first use, the canvas's size).
  trailTarget() {
    const gl = this.gl, w = this.canvas.width, h = this.canvas.height;
    if (this.trail && this.trail.w === w && this.trail.h === h) return this.trail;
    this.dropTrail();
    const tex = texture(gl);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, w, h, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    const fb = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex, 0);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    this.trail = { fb, tex, w, h };
    return this.trail;
  }

  // Wait for the GPU (software here) to finish: used only when measuring frame cost.
  finish() { this.gl.finish(); }

  // The network's routes and rings as a float texture (re-uploaded when they change).
  uploadRoutes(net) {
    const gl = this.gl;
    gl.activeTexture(gl.TEXTURE2);
    gl.bindTexture(gl.TEXTURE_2D, this.routeTex);
    if (net.version !== this.netVersion || net !== this.net) {
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA32F, ROUTE_W, net.rows, 0, gl.RGBA, gl.FLOAT, net.tex);
      this.netVersion = net.version;
      this.net = net;
    }
    gl.activeTexture(gl.TEXTURE0);
  }

  // net: the network (network.js: routes and rings in CSS px); draws: per layer
  // {t, ranges:[[lo,hi], ...], palette:Float32Array(48), fixed:-1|k, ring?:bool (hollow dots), size?:CSS px}.
  // opts.background: {image: a canvas with the painted map, version}; opts.size: a dot's diameter in CSS px; opts.still:
  // the page is not playing (density: draw the last count at once). Returns whether the frame was drawn.
  draw(net, draws, opts = {}) {
    const gl = this.gl;
    this.lastBg = opts.background;
    this.lastView = net;
    this.lastSize = opts.size || DOT_PX;
    this.splatting = this.dots === "splat" && !opts.trails && Boolean(opts.background && opts.background.image);
    this.tally = null;
    if (this.splatting) {
      const dense = this.density.wanted(draws), d0 = draws.find((d) => d), density = this.density;
      if (dense && density.useWorker) {
        // Density counted by the worker (density.js ask): this frame's draws are asked for, and the last count that came
        // back is drawn; while playing, a frame is drawn only when a newer count has come (returns false otherwise).
        density.ask(this.layers, draws, net, d0?.palette, opts.still ? 0 : PACE_MS);
        const s = density.shown;
        this.tally = s ? { visible: s.visible, waiting: s.waiting } : null;
        if (!opts.still && !density.fresh) return false;
        density.fresh = false;
        this.composite(d0?.palette);
        return true;
      }
      if (dense) density.begin(net.stations.length); else this.splat.clear();
      draws.forEach((d, i) => { if (this.layers[i] && d) this.stamp(this.layers[i], d); });
      // Density mode: the frame's count of visible legs and of those waiting at each station (what visibleCount gives)
      this.tally = dense ? { visible: density.visible, waiting: Int32Array.from(density.waiting) } : null;
      this.composite(d0?.palette);
      return true;
    }
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.enable(gl.BLEND);
    if (opts.trails) {             // fade the kept image, then draw the dots into it
      gl.bindFramebuffer(gl.FRAMEBUFFER, this.trailTarget().fb);
      gl.useProgram(this.fade);
      gl.blendFunc(gl.ZERO, gl.SRC_ALPHA);
      gl.uniform1f(this.uKeep, 0.82);
      gl.bindVertexArray(this.quadVao);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    } else {
      if (this.trail) this.dropTrail();
      this.drawBackground(opts.background);
    }
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    this.usePoints(net);
    gl.uniform1f(this.u.u_alpha, opts.trails ? opts.alpha ?? 0.9 : 1);
    draws.forEach((d, i) => {
      const layer = this.layers[i];
      if (!layer || !d) return;
      this.dotStyle(d);
      gl.bindVertexArray(this.vaoOf(layer));
      gl.uniform1f(this.u.u_t, d.t);
      gl.uniform3fv(this.u.u_pal, d.palette);
      gl.uniform1i(this.u.u_fixed, d.fixed ?? -1);
      for (const [lo, hi] of d.ranges) gl.drawArrays(gl.POINTS, lo, hi - lo);
    });
    gl.bindVertexArray(null);
    if (opts.trails) this.present();
    this.drawLabels();
    return true;
  }

  // Extra dots drawn into the current frame (the second period): layer i at time t.
  drawMore(i, d) {
    const gl = this.gl, layer = this.layers[i];
    if (!layer) return;
    if (this.splatting && this.density.on && this.density.useWorker) { this.density.more(i, d); return; }   // same count
    if (this.splatting) {        // onto the same index image, then the frame again
      this.stamp(layer, d);
      this.composite(d.palette);
      return;
    }
    if (this.trail) gl.bindFramebuffer(gl.FRAMEBUFFER, this.trail.fb);
    this.usePoints(this.lastView);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    this.dotStyle(d);
    gl.bindVertexArray(this.vaoOf(layer));
    gl.uniform1f(this.u.u_t, d.t);
    gl.uniform1i(this.u.u_fixed, d.fixed ?? -1);
    for (const [lo, hi] of d.ranges) gl.drawArrays(gl.POINTS, lo, hi - lo);
    gl.bindVertexArray(null);
    if (this.trail) this.present();
    this.drawLabels();
  }

  // The point program with the network bound (texture unit 2) and the CSS px -> clip space scale.
  usePoints(net) {
    const gl = this.gl;
    gl.useProgram(this.prog);
    this.uploadRoutes(net);
    gl.uniform1i(this.u.u_routes, 2);
    gl.uniform1i(this.u.u_nRoutes, net.nRoutes);
    gl.uniform2f(this.u.u_px, (2 * (this.ratio || 1)) / this.canvas.width, (-2 * (this.ratio || 1)) / this.canvas.height);
  }

  stamp(layer, d) {
    if (this.density.on) this.density.add(layer.legs, d.ranges, d.t, layer.colours, d.fixed ?? -1, this.lastView);
    else this.splat.add(layer.legs, d.ranges, d.t, layer.colours, d.fixed ?? -1, this.lastView, d.size || this.lastSize, d.ring);
  }

  // A draw's dot diameter and whether hollow (a ring 1.6 CSS px wide).
  dotStyle(d, r = this.ratio || 1) {
    this.gl.uniform1f(this.u.u_size, (d.size || this.lastSize) * r);
    this.gl.uniform1f(this.u.u_ring, d.ring ? 1.6 * r : 0);
  }

  // Splat mode: upload the index image, draw the map and the dots in one pass, then the labels.
  composite(palette) {
    const gl = this.gl, sp = this.splat;
    this.uploadBackground(this.lastBg);
    if (this.density.on) {
      if (palette) this.palette = palette;
      this.densityPass.draw(this.density, this.palette, this.canvas.width, this.canvas.height, this.ratio || 1);
      this.drawLabels();
      return;
    }
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D, this.idxTex);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    if (this.idxSize !== `${sp.w}x${sp.h}`) {
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.R8UI, sp.w, sp.h, 0, gl.RED_INTEGER, gl.UNSIGNED_BYTE, sp.pixels);
      this.idxSize = `${sp.w}x${sp.h}`;
    } else {
      gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, sp.w, sp.h, gl.RED_INTEGER, gl.UNSIGNED_BYTE, sp.pixels);
    }
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.bg.tex);
    gl.disable(gl.BLEND);
    gl.useProgram(this.splatProg);
    gl.uniform1i(this.uSplat.u_tex, 0);
    gl.uniform1i(this.uSplat.u_idx, 1);
    if (palette) gl.uniform3fv(this.uSplat.u_pal, palette);
    gl.uniform1i(this.uSplat.u_texel, sp.texel);
    gl.uniform1i(this.uSplat.u_h, this.canvas.height);
    gl.bindVertexArray(this.quadVao);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.bindVertexArray(null);
    gl.enable(gl.BLEND);
    this.drawLabels();
  }

  // The painted map (a canvas; version changes when it is repainted, labelsVersion when its labels are) drawn over
  // the whole default framebuffer.
  drawBackground(bg) {
    const gl = this.gl;
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    if (!bg || !bg.image || !bg.image.width) {
      gl.clearColor(BG[0], BG[1], BG[2], 1);
      gl.clear(gl.COLOR_BUFFER_BIT);
      return;
    }
    this.uploadBackground(bg);
    gl.disable(gl.BLEND);
    gl.useProgram(this.copy);
    gl.bindVertexArray(this.quadVao);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.bindVertexArray(null);
    gl.enable(gl.BLEND);
  }

  // The painted map's texture (bound), re-uploaded when the map was repainted.
  uploadBackground(bg) {
    const gl = this.gl;
    gl.bindTexture(gl.TEXTURE_2D, this.bg.tex);
    if (bg.version !== this.bg.version || bg.image !== this.bg.image) {
      gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, true);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, bg.image);
      if (bg.labels && (bg.labelsVersion === undefined || bg.labelsVersion !== this.bg.labelsVersion)) {
        this.bg.labelsVersion = bg.labelsVersion;    // unchanged labels are not uploaded again
        gl.bindTexture(gl.TEXTURE_2D, this.bg.lab);
        gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, bg.labels);
        gl.bindTexture(gl.TEXTURE_2D, this.bg.tex);
      }
      gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
      this.bg.version = bg.version;
      this.bg.image = bg.image;
      this.setBoxes(bg);
    }
  }

  setBoxes(bg) {
    const gl = this.gl, [w, h] = bg.size || [1, 1], out = [];
    for (const [x0, y0, x1, y1] of bg.boxes || []) {
      const a = (2 * x0) / w - 1, b = 1 - (2 * y0) / h, c = (2 * x1) / w - 1, d = 1 - (2 * y1) / h;
      out.push(a, b, c, b, a, d, a, d, c, b, c, d);
    }
    gl.bindBuffer(gl.ARRAY_BUFFER, this.boxBuf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(out), gl.STATIC_DRAW);
    this.bg.n = out.length / 2;
  }

  // Station labels and counts over the dots: only their boxes of the labels image and the counts atlas, blended.
  drawLabels() {
    const gl = this.gl;
    if (!this.lastBg || !this.lastBg.labels) return;
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
    if (this.bg.n) {
      gl.useProgram(this.copy);
      gl.bindTexture(gl.TEXTURE_2D, this.bg.lab);
      gl.bindVertexArray(this.boxVao);
      gl.drawArrays(gl.TRIANGLES, 0, this.bg.n);
    }
    const counts = this.lastBg.counts;
    if (counts && counts.image && counts.image.width) {
      this.uploadCounts(counts, this.lastBg.size || [1, 1]);
      if (this.counts.n) {
        gl.useProgram(this.tex);
        gl.bindTexture(gl.TEXTURE_2D, this.counts.tex);
        gl.bindVertexArray(this.counts.vao);
        gl.drawArrays(gl.TRIANGLES, 0, this.counts.n);
      }
    }
    gl.bindVertexArray(null);
  }

  uploadCounts(counts, [w, h]) {
    const gl = this.gl, c = this.counts;
    if (counts.version === c.version && counts.image === c.image) return;
    gl.bindTexture(gl.TEXTURE_2D, c.tex);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, counts.image);
    const aw = counts.image.width, ah = counts.image.height, out = [];
    for (const { dst: [x0, y0, x1, y1], src: [s0, t0, s1, t1] } of counts.boxes) {
      const a = (2 * x0) / w - 1, b = 1 - (2 * y0) / h, cc = (2 * x1) / w - 1, d = 1 - (2 * y1) / h;
      const u0 = s0 / aw, v0 = t0 / ah, u1 = s1 / aw, v1 = t1 / ah;
      out.push(a, b, u0, v0, cc, b, u1, v0, a, d, u0, v1, a, d, u0, v1, cc, b, u1, v0, cc, d, u1, v1);
    }
    gl.bindBuffer(gl.ARRAY_BUFFER, c.buf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(out), gl.DYNAMIC_DRAW);
    c.n = out.length / 4;
    c.version = counts.version;
    c.image = counts.image;
  }

  // The map, then the trails image blended over it.
  present() {
    const gl = this.gl;
    this.drawBackground(this.lastBg);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    gl.useProgram(this.copy);
    gl.bindTexture(gl.TEXTURE_2D, this.trail.tex);
    gl.bindVertexArray(this.quadVao);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.bindVertexArray(null);
  }
}
