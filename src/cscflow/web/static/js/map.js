// The tube map: painted once (zones, lines, stations, labels, counts) into an offscreen 2D canvas that the dot
// renderer draws beneath the dots in its one opaque canvas (so only one layer changes per frame); an SVG copy
// under the canvas takes the pointer events (station hover/click), and the counts are also kept as SVG text
// (not displayed) for scripts and tests.
import { RING_COLOUR, RING_MAX } from "./network.js";

const NS = "http://www.w3.org/2000/svg";

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

const BG = "#0f1822", MUTED = "#93a4b5";
const SLOT_W = 110, SLOT_H = 21, COUNT_COLS = 8;   // the counts atlas: CSS px per station slot, slots per row
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';

// Text with a dark outline (the SVG labels' paint-order: stroke).
function outlined(ctx, text, x, y, fill) {
  ctx.strokeText(text, x, y);
  ctx.fillStyle = fill;
  ctx.fillText(text, x, y);
}

// Split a label into lines of about `width` characters at spaces.
function wrap(text, width) {
  const lines = [];
  for (const word of String(text).split(" ")) {
    const last = lines.length - 1;
    if (last >= 0 && (lines[last] + " " + word).length <= width) lines[last] += " " + word;
    else lines.push(word);
  }
  return lines;
}

const COUNT_W = 80;                    // CSS px kept for a station's counts ("3,608 +195")
const fmt = (n) => (typeof n === "string" ? n : Number(n).toLocaleString(navigator.language || "en-GB"));   // "<5" kept
// A station label's places (below, above, right, left, then the diagonals): what each costs beside the lines it
// crosses (2 a line, 1 an added route), so a label keeps beside its station over a line rather than drift away.
const SPOT_PENALTY = [0, 0.5, 1, 1, 3, 3, 3, 3];
const RING_SLOT = 2 * RING_MAX + 4;    // CSS px: a density ring's square in the counts atlas

// A waiting ring drawn as density ({x, y, inner, outer, alpha}, CSS px): a soft annulus, brightest in its middle.
function paintRing(ctx, g) {
  const rgb = RING_COLOUR.join(", "), a = g.alpha;
  const grad = ctx.createRadialGradient(g.x, g.y, g.inner, g.x, g.y, g.outer);
  grad.addColorStop(0, `rgba(${rgb}, ${a * 0.55})`);
  grad.addColorStop(0.35, `rgba(${rgb}, ${a})`);
  grad.addColorStop(0.8, `rgba(${rgb}, ${a})`);
  grad.addColorStop(1, `rgba(${rgb}, ${a * 0.3})`);
  ctx.fillStyle = grad;
  ctx.beginPath();
  ctx.arc(g.x, g.y, g.outer, 0, 2 * Math.PI);
  ctx.arc(g.x, g.y, g.inner, 0, 2 * Math.PI, true);
  ctx.fill();
}

// Do two boxes [x0, y0, x1, y1] overlap?
export function overlaps(a, b) { return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]; }

// Does a box meet the disc (cx, cy, r)?
function meetsDisc(box, cx, cy, r) {
  const dx = cx - Math.max(box[0], Math.min(cx, box[2])), dy = cy - Math.max(box[1], Math.min(cy, box[3]));
  return dx * dx + dy * dy < r * r;
}

// Does the segment (x1, y1)-(x2, y2) cross a box (Liang-Barsky clipping)?
function crosses(box, { x1, y1, x2, y2 }) {
  let t0 = 0, t1 = 1;
  const dx = x2 - x1, dy = y2 - y1;
  for (const [p, q] of [[-dx, x1 - box[0]], [dx, box[2] - x1], [-dy, y1 - box[1]], [dy, box[3] - y1]]) {
    if (p === 0) { if (q < 0) return false; continue; }
    const r = q / p;
    if (p < 0) { if (r > t1) return false; if (r > t0) t0 = r; } else { if (r < t0) return false; if (r < t1) t1 = r; }
  }
  return true;
}

export class TubeMap {
  constructor(under, over, map, network) {
    this.under = under;    // zones, lines, stations (takes the pointer events)
    this.over = over;      // labels and counts, drawn above the dots
    this.map = map;
    this.net = network;    // the drawn lines and routes (network.js)
    this.index = new Map(map.stations.map((s, i) => [s.id, i]));
    this.onStation = null;
    this.image = document.createElement("canvas");   // the painted map the renderers draw beneath the dots
    this.labels = document.createElement("canvas");  // station labels and counts (transparent), drawn over them
    this.labelBoxes = [];                              // [x0, y0, x1, y1] CSS px: where this.labels has ink
    this.version = 0;                                  // bumped on each repaint (renderers re-upload then)
    // The counts change a few times a second while playing: they are painted into a small atlas of their own
    // (one slot per station), so a count update uploads a few kilobytes, not the whole map.
    this.countsImage = document.createElement("canvas");
    this.countBoxes = [];                              // {dst: [x0, y0, x1, y1] CSS px, src: [...] atlas px}
    this.countsVersion = 0;
    this.counts = new Map();                           // station index -> [here, week]
    this.labelsVersion = 0;                            // bumped when the labels are repainted (not the rings)
    this.ringsKey = null;
    this.ringsList = [];                               // the density rings as painted (radius and shade as keyed)
  }

  // Fit the map's bounding box into width x height px (with room for labels).
  layout(width, height, ratio = 1) {
    this.ratio = ratio;
    const xs = this.map.stations.map((s) => Number(s.x)), ys = this.map.stations.map((s) => Number(s.y));
    const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    const pad = { l: 70, r: 90, t: 60, b: 60 };
    const s = Math.min((width - pad.l - pad.r) / Math.max(x1 - x0, 1e-9), (height - pad.t - pad.b) / Math.max(y1 - y0, 1e-9));
    const ox = pad.l + (width - pad.l - pad.r - (x1 - x0) * s) / 2 - x0 * s;
    const oy = pad.t + (height - pad.t - pad.b - (y1 - y0) * s) / 2 - y0 * s;
    this.width = width; this.height = height; this.s = s; this.ox = ox; this.oy = oy;
    this.toPx = (x, y) => [x * s + ox, y * s + oy];
    this.net.layout(this.toPx);
    this.draw();
  }

  draw() {
    this.ringsKey = null;                              // the rings are repainted for the new layout
    this.setRings(this.net.rings || []);
    for (const svg of [this.under, this.over]) {
      svg.replaceChildren();
      svg.setAttribute("width", this.width);
      svg.setAttribute("height", this.height);
      svg.setAttribute("viewBox", `0 0 ${this.width} ${this.height}`);
    }
    const pos = this.map.stations.map((s) => this.toPx(Number(s.x), Number(s.y)));
    const geo = (this.geo = { zones: [], lines: [], stations: [], pos });
    // Zones: a soft box around each zone's stations, with its name.
    const zones = el("g", { class: "zones" }, this.under);
    for (const zone of this.map.zones) {
      if (zone === "exit") continue;
      const members = this.map.stations.map((s, i) => [s, pos[i]]).filter(([s]) => s.zone === zone);
      const px = members.map(([, p]) => p[0]), py = members.map(([, p]) => p[1]);
      const m = 30;
      const x = Math.min(...px) - m, y = Math.min(...py) - m;
      el("rect", { x, y, width: Math.max(...px) - Math.min(...px) + 2 * m, height: Math.max(...py) - Math.min(...py) + 2 * m,
        rx: 14, class: `zone ${zone === "exit" ? "zone-exit" : ""}` }, zones);
      geo.zones.push({ x, y, w: Math.max(...px) - Math.min(...px) + 2 * m, h: Math.max(...py) - Math.min(...py) + 2 * m,
        label: zone === "exit" ? "exits" : zone });
      el("text", { x: x + 8, y: y + 14, class: "zone-label" }, zones).textContent = zone === "exit" ? "exits" : zone;
    }
    // Lines (parallel strokes where several lines share a segment) and the routes added from the data, thin.
    const lines = el("g", { class: "lines" }, this.under);
    for (const seg of this.net.segments) {
      if (seg.added && !this.net.showAdded) continue;
      geo.lines.push(seg);
      el("line", { x1: seg.x1, y1: seg.y1, x2: seg.x2, y2: seg.y2, stroke: seg.colour,
        class: seg.added ? "line added" : "line" }, lines).appendChild(el("title")).textContent = seg.label;
    }
    // Stations: interchange rings; exits as rounded squares.
    const stations = el("g", { class: "stations" }, this.under);
    const labels = el("g", { class: "labels" }, this.over);
    this.countText = [];
    this.map.stations.forEach((s, i) => {
      const [x, y] = pos[i];
      const g = el("g", { class: `station ${s.zone === "exit" ? "exit" : ""}`, "data-station": s.id, tabindex: 0 }, stations);
      if (s.zone === "exit") el("rect", { x: x - 8, y: y - 8, width: 16, height: 16, rx: 4 }, g);
      else el("circle", { cx: x, cy: y, r: 9 }, g);
      el("circle", { cx: x, cy: y, r: 22, class: "hit" }, g);
      g.appendChild(el("title")).textContent = s.label;
      for (const type of ["click", "mouseenter", "focus"]) {
        g.addEventListener(type, () => this.onStation && this.onStation(s.id, type));
      }
      geo.stations.push({ id: s.id, x, y, exit: s.zone === "exit", label: wrap(s.label, 13) });
      const label = el("text", { x, y: y + 24, class: "station-label", "text-anchor": "middle" }, labels);
      wrap(s.label, 13).forEach((part, k) => { el("tspan", { x, dy: k ? 13 : 0 }, label).textContent = part; });
      const count = el("text", { x: x + 13, y: y - 12, class: "count", "data-station": s.id }, labels);
      const here = el("tspan", { class: "here" }, count);
      const week = el("tspan", { class: "week", dx: 4 }, count);
      this.countText.push([here, week]);
    });
    this.counts = new Map();
    this.paint();
  }

  // Repaint at another canvas resolution (canvas px per CSS px).
  setRatio(ratio) {
    this.ratio = ratio;
    this.paint();
  }

  // Paint the map and the current counts into this.image (the layout's size times the pixel ratio).
  paint() {
    const r = this.ratio || 1, geo = this.geo;
    if (!geo) return;
    const w = Math.max(1, Math.round(this.width * r)), h = Math.max(1, Math.round(this.height * r));
    for (const cv of [this.image, this.labels]) if (cv.width !== w || cv.height !== h) { cv.width = w; cv.height = h; }
    this.paintMap();
    this.paintLabels(w, h, r);
    this.paintCounts();
    this.labelsVersion++;
  }

  // The map's image: zones, lines, stations.
  paintMap() {
    const c = this.image, r = this.ratio || 1, geo = this.geo;
    if (!geo || !c.width) return;
    const ctx = c.getContext("2d", { alpha: false });
    ctx.setTransform(r, 0, 0, r, 0, 0);
    ctx.fillStyle = BG;
    ctx.fillRect(0, 0, this.width, this.height);
    ctx.lineJoin = "round";
    for (const z of geo.zones) {
      ctx.beginPath();
      ctx.roundRect(z.x, z.y, z.w, z.h, 14);
      ctx.fillStyle = "rgba(255,255,255,0.035)";
      ctx.fill();
      ctx.strokeStyle = "rgba(255,255,255,0.12)";
      ctx.lineWidth = 1;
      ctx.stroke();
    }
    ctx.lineCap = "round";
    for (const l of [...geo.lines].sort((p, q) => Number(q.added) - Number(p.added))) {   // added ones beneath
      ctx.beginPath();
      ctx.moveTo(l.x1, l.y1);
      ctx.lineTo(l.x2, l.y2);
      ctx.strokeStyle = l.colour;
      ctx.lineWidth = l.width;
      ctx.globalAlpha = l.added ? 0.55 : 0.85;
      ctx.setLineDash(l.added ? [3, 4] : []);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
    ctx.lineWidth = 3;
    for (const s of geo.stations) {
      ctx.beginPath();
      if (s.exit) { ctx.roundRect(s.x - 8, s.y - 8, 16, 16, 4); ctx.fillStyle = BG; ctx.strokeStyle = "#b1b4b6"; }
      else { ctx.arc(s.x, s.y, 9, 0, 2 * Math.PI); ctx.fillStyle = "#ffffff"; ctx.strokeStyle = BG; }
      ctx.fill();
      ctx.stroke();
    }
    this.version++;
  }

  // Zone titles, station labels and the places of the counts on a transparent image (drawn above the dots), placed
  // so that no two boxes overlap and none meets a station's ring (at its widest, net.caps): the counts beside the
  // ring (upper right, else another corner), a zone title on its box's edge where it crosses fewest drawn lines
  // (the dots run on them), a station label beside its ring where it crosses fewest lines (below, else above, right
  // or left; the diagonals cost more: SPOT_PENALTY).
  // this.labelBoxes: the ink's boxes (for the renderers); this.placed: {id, kind, box} (window.cscflow.geometry).
  paintLabels(w, h, r) {
    const geo = this.geo, ctx = this.labels.getContext("2d"), caps = this.net.caps || [];
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.setTransform(r, 0, 0, r, 0, 0);
    ctx.lineJoin = "round";
    ctx.lineWidth = 4;
    ctx.strokeStyle = BG;
    this.labelBoxes = [];
    const placed = (this.placed = []);
    const rings = geo.stations.map((s, i) => [s.x, s.y, (caps[i] || 14) + 1]);
    const free = (box) => box[0] >= 2 && box[2] <= this.width - 2 && box[1] >= 2 && box[3] <= this.height - 2 &&
      !rings.some(([x, y, rad]) => meetsDisc(box, x, y, rad)) && !placed.some((p) => overlaps(p.box, box));
    const linesCrossed = (box) => geo.lines.reduce((n, l) => n + (crosses(box, l) ? (l.added ? 1 : 2) : 0), 0);
    // The free box of `boxes` crossing fewest lines, plus its penalty (penalties[k], default 0), the first on a tie
    // (null when none is free); with anyLines, the first free box.
    const best = (boxes, anyLines = false, penalties = []) => {
      let out = null, least = Infinity;
      boxes.forEach((box, k) => {
        if (least === 0 || !free(box)) return;
        const n = (anyLines ? 0 : linesCrossed(box)) + (penalties[k] || 0);
        if (n < least) { out = box; least = n; }
      });
      return out;
    };
    // The counts' first choice (upper right of the ring) is kept for them while the station labels are placed.
    const upperRight = geo.stations.map((st, i) => {
      const d = rings[i][2] / Math.SQRT2 + 1;
      return [st.x + d, st.y - d - SLOT_H, st.x + d + COUNT_W, st.y - d];
    });
    placed.push(...upperRight.map((box) => ({ kind: "reserved", box })));
    ctx.letterSpacing = "0px";
    ctx.font = `12px ${FONT}`;
    ctx.textAlign = "center";
    geo.stations.forEach((s, i) => {
      const half = Math.max(...s.label.map((part) => ctx.measureText(part).width)) / 2 + 3;
      const tall = 13 * s.label.length + 3, R = rings[i][2] + 1;
      let box = null;
      for (const k of [0, 16, 32]) {      // nearest first: farther out only when no place beside the ring is free
        const d = (R + k) / Math.SQRT2;
        const spots = [[s.x, s.y + R + k], [s.x, s.y - R - k - tall], [s.x + R + k + half, s.y - tall / 2],
          [s.x - R - k - half, s.y - tall / 2], [s.x + d + half, s.y + d], [s.x - d - half, s.y + d],
          [s.x + d + half, s.y - d - tall], [s.x - d - half, s.y - d - tall]];
        box = best(spots.map(([cx, top]) => [cx - half, top, cx + half, top + tall]), false, SPOT_PENALTY);
        if (box) break;
      }
      if (!box && placed.some((p) => p.kind === "reserved")) {   // no room: without the counts' reservations
        placed.splice(0, placed.length, ...placed.filter((p) => p.kind !== "reserved"));
        for (const k of [0, 16, 32]) {
          box = best([[s.x, s.y + R + k], [s.x, s.y - R - k - tall], [s.x + R + k + half, s.y - tall / 2],
            [s.x - R - k - half, s.y - tall / 2]].map(([cx, top]) => [cx - half, top, cx + half, top + tall]));
          if (box) break;
        }
      }
      box ||= [s.x - half, s.y + R, s.x + half, s.y + R + tall];
      const cx = (box[0] + box[2]) / 2;
      s.label.forEach((part, k) => outlined(ctx, part, cx, box[1] + 12 + 13 * k, "#e8edf2"));
      placed.push({ id: s.id, kind: "station", box });
      this.labelBoxes.push(box);
    });
    placed.splice(0, placed.length, ...placed.filter((p) => p.kind !== "reserved"));
    // Counts: beside the ring, on a diagonal (clear of the horizontal and vertical lines), the upper right unless
    // it is taken (always in the same place, so the eye finds them; their backdrop keeps them legible over lines).
    this.countAt = geo.stations.map((s, i) => {
      const d = rings[i][2] / Math.SQRT2 + 1, R = rings[i][2] + 1;
      const box = best([
        [s.x + d, s.y - d - SLOT_H, s.x + d + COUNT_W, s.y - d],
        [s.x - d - COUNT_W, s.y - d - SLOT_H, s.x - d, s.y - d],
        [s.x + d, s.y + d, s.x + d + COUNT_W, s.y + d + SLOT_H],
        [s.x - d - COUNT_W, s.y + d, s.x - d, s.y + d + SLOT_H],
        [s.x + R, s.y - SLOT_H / 2, s.x + R + COUNT_W, s.y + SLOT_H / 2],
        [s.x - R - COUNT_W, s.y - SLOT_H / 2, s.x - R, s.y + SLOT_H / 2],
        [s.x - COUNT_W / 2, s.y - R - SLOT_H, s.x + COUNT_W / 2, s.y - R],
        [s.x - COUNT_W / 2, s.y + R, s.x + COUNT_W / 2, s.y + R + SLOT_H],
        [s.x - COUNT_W / 2, s.y - R - 2 * SLOT_H, s.x + COUNT_W / 2, s.y - R - SLOT_H],
      ], true) || [s.x + d, s.y - d - SLOT_H, s.x + d + COUNT_W, s.y - d];
      placed.push({ id: s.id, kind: "count", box });
      return { box, right: box[2] <= s.x, centre: box[0] < s.x && s.x < box[2] };   // aligned towards the station
    });
    ctx.font = `600 11px ${FONT}`;
    ctx.letterSpacing = "1px";
    ctx.textAlign = "left";
    for (const z of geo.zones) {
      const text = z.label.toUpperCase(), tw = ctx.measureText(text).width;
      const boxes = [];
      const xs = [z.x + 6, z.x + z.w - tw - 8, z.x + (z.w - tw) / 2];
      for (let x = z.x + 18; x < z.x + z.w - tw - 8; x += 12) xs.push(x);
      if (tw > z.w - 12) xs.push(z.x + z.w - tw + 24, z.x - 24);   // wider than its box: off its middle too
      for (const y of [z.y - 16, z.y + 4, z.y + z.h + 2, z.y + z.h - 18, z.y - 32, z.y + z.h + 18]) {
        for (const x of xs) {
          const x0 = Math.max(4, Math.min(x, this.width - tw - 6));
          boxes.push([x0 - 2, y, x0 + tw + 2, y + 14]);
        }
      }
      const box = best(boxes);
      if (!box) continue;          // no room: the zone's box still shows it
      ctx.fillStyle = "rgba(15, 24, 34, 0.85)";   // a backdrop: the title reads clear of the dots beneath
      ctx.beginPath();
      ctx.roundRect(box[0], box[1], box[2] - box[0], box[3] - box[1], 3);
      ctx.fill();
      ctx.fillStyle = MUTED;
      ctx.fillText(text, box[0] + 2, box[1] + 11);
      placed.push({ id: z.label, kind: "zone", box });
      this.labelBoxes.push(box);
    }
  }

  // The counts atlas: station i's "here +week" text in slot i (SLOT_W x SLOT_H CSS px) on a dark backdrop, and
  // below them the density rings (setRings), with where each slot is drawn on the map (its ink only, in the box
  // paintLabels kept for it; the rings first) in this.countBoxes.
  paintCounts() {
    const geo = this.geo, r = this.ratio || 1, c = this.countsImage;
    this.countsDirty = false;
    if (!geo || !this.countAt) return;
    const cols = COUNT_COLS, rows = Math.max(1, Math.ceil(geo.stations.length / cols));
    const ringCols = Math.floor((cols * SLOT_W) / RING_SLOT), ringRows = Math.ceil(this.ringsList.length / ringCols);
    const w = Math.round(cols * SLOT_W * r), h = Math.round((rows * SLOT_H + ringRows * RING_SLOT) * r);
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    const ctx = c.getContext("2d", { willReadFrequently: true });   // drawn on the CPU: no GPU-process raster per update
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, w, h);
    this.countBoxes = [];
    // The density rings first (the counts are drawn over them), each in a slot below the counts' rows.
    this.ringsList.forEach((g, k) => {
      const ox = (k % ringCols) * RING_SLOT, oy = rows * SLOT_H + Math.floor(k / ringCols) * RING_SLOT;
      ctx.setTransform(r, 0, 0, r, (ox + RING_SLOT / 2 - g.x) * r, (oy + RING_SLOT / 2 - g.y) * r);
      paintRing(ctx, g);
      const half = RING_SLOT / 2;
      this.countBoxes.push({ dst: [g.x - half, g.y - half, g.x + half, g.y + half],
        src: [ox * r, oy * r, (ox + RING_SLOT) * r, (oy + RING_SLOT) * r] });
    });
    ctx.setTransform(r, 0, 0, r, 0, 0);
    ctx.lineJoin = "round";
    ctx.lineWidth = 3;
    ctx.strokeStyle = BG;
    ctx.textAlign = "left";
    geo.stations.forEach((s, i) => {
      const [here, week] = this.counts.get(i) || ["", ""];
      if (!here && !week) return;
      const ox = (i % cols) * SLOT_W, oy = Math.floor(i / cols) * SLOT_H;
      ctx.font = `700 12px ${FONT}`;
      const hw = here ? ctx.measureText(here).width : 0;
      ctx.font = `11px ${FONT}`;
      const ww = week ? ctx.measureText(week).width : 0;
      const used = Math.min(SLOT_W, Math.ceil(6 + hw + (here && week ? 4 : 0) + ww));
      ctx.fillStyle = "rgba(15, 24, 34, 0.8)";      // a backdrop: the numbers read over the dots beneath
      ctx.beginPath();
      ctx.roundRect(ox + 0.5, oy + 2.5, used - 1, SLOT_H - 5, 4);
      ctx.fill();
      let x = ox + 3;
      if (here) {
        ctx.font = `700 12px ${FONT}`;
        outlined(ctx, here, x, oy + 15, "#ffffff");
        x += hw + 4;
      }
      if (week) {
        ctx.font = `11px ${FONT}`;
        outlined(ctx, week, x, oy + 15, "#ffd54f");
      }
      const { box, right, centre } = this.countAt[i];
      const x0 = right ? box[2] - used : centre ? (box[0] + box[2] - used) / 2 : box[0];
      this.countBoxes.push({
        dst: [x0, box[1], x0 + used, box[1] + SLOT_H],
        src: [ox * r, oy * r, (ox + used) * r, (oy + SLOT_H) * r],
      });
    });
    this.countsVersion++;
  }

  // The waiting rings drawn as density (network.js: more than `few` children): a soft annulus per station, its
  // width and shade read from the count, painted into the counts atlas (a small texture: every renderer draws it
  // with the counts, over the dots, in the same pass, so a ring costs nothing per frame and its update uploads a
  // few kilobytes, not the whole map; no waiting dot is drawn under it). Painted with the counts (main.js sets the
  // rings before the counts of a new day: one repaint and one upload), the look kept to a px of radius and a
  // tenth of shade.
  // Returns "changed" when the rings to paint changed (paintCounts then paints them), else true.
  setRings(rings) {
    const key = rings.map((g) => (g.dense ? `${Math.round(g.outer)}:${Math.round(10 * g.alpha)}` : "")).join(",");
    if (key === this.ringsKey) return true;
    this.ringsKey = key;
    this.ringsList = rings.filter((g) => g.dense)
      .map((g) => ({ ...g, outer: Math.round(g.outer), alpha: Math.round(10 * g.alpha) / 10 }));
    return "changed";
  }

  // here/week indexed like `order` (station ids of the counts' source).
  // later: paint the counts atlas at the next frame (this.countsDirty; main.js frame) rather than now, so that a
  // new day's counting and its painting and upload fall in two frames while playing.
  setCounts(order, here, week, later = false) {
    order.forEach((id, k) => {
      const i = this.index.get(id);
      if (i === undefined || !this.countText) return;
      const [h, w] = this.countText[i];
      h.textContent = here[k] || week[k] ? fmt(here[k]) : "";   // 0 beside "+12": none stayed (e.g. an ICPC)
      w.textContent = week[k] ? `+${fmt(week[k])}` : "";
      this.counts.set(i, [h.textContent, w.textContent]);
    });
    if (later) this.countsDirty = true;
    else this.paintCounts();
  }
}
