// The tube map: painted once (zones, lines, stations, labels, counts) into an offscreen 2D canvas that the dot
// renderer draws beneath the dots in its one opaque canvas (so only one layer changes per frame); an SVG copy
// under the canvas takes the pointer events (station hover/click), and the counts are also kept as SVG text
// (not displayed) for scripts and tests.
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

const COUNT_BOX = [10, -27, 80, -6];   // CSS px from a station's centre: room kept for its counts
const fmt = (n) => Number(n).toLocaleString(navigator.language || "en-GB");   // thousands separators

// Do two boxes [x0, y0, x1, y1] overlap?
export function overlaps(a, b) { return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]; }

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
    const c = this.image, r = this.ratio || 1, geo = this.geo;
    if (!geo) return;
    const w = Math.max(1, Math.round(this.width * r)), h = Math.max(1, Math.round(this.height * r));
    for (const cv of [c, this.labels]) if (cv.width !== w || cv.height !== h) { cv.width = w; cv.height = h; }
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
    ctx.globalAlpha = 0.85;
    for (const l of geo.lines) {
      ctx.beginPath();
      ctx.moveTo(l.x1, l.y1);
      ctx.lineTo(l.x2, l.y2);
      ctx.strokeStyle = l.colour;
      ctx.lineWidth = l.width;
      ctx.setLineDash(l.added ? [6, 4] : []);
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
    this.paintLabels(w, h, r);
    this.paintCounts();
    this.version++;
  }

  // Zone titles and station labels on a transparent image (drawn above the dots), placed so that no two boxes
  // overlap: a zone title above its box, inside the map; a station label below its station, else above, right
  // or left, clear of every station's marker and of the room kept for its counts. this.labelBoxes: the ink's
  // boxes (for the renderers); this.placed: {id, kind, box} (for window.cscflow.geometry).
  paintLabels(w, h, r) {
    const geo = this.geo, ctx = this.labels.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.setTransform(r, 0, 0, r, 0, 0);
    ctx.lineJoin = "round";
    ctx.lineWidth = 4;
    ctx.strokeStyle = BG;
    this.labelBoxes = [];
    const placed = (this.placed = []);
    const taken = [];
    for (const s of geo.stations) {
      taken.push([s.x - 12, s.y - 12, s.x + 12, s.y + 12]);
      placed.push({ id: s.id, kind: "count", box: [s.x + COUNT_BOX[0], s.y + COUNT_BOX[1], s.x + COUNT_BOX[2], s.y + COUNT_BOX[3]] });
    }
    const free = (box) => box[0] >= 2 && box[2] <= this.width - 2 && box[1] >= 2 && box[3] <= this.height - 2 &&
      !taken.some((t) => overlaps(t, box)) && !placed.some((p) => overlaps(p.box, box));
    ctx.font = `600 11px ${FONT}`;
    ctx.letterSpacing = "1px";
    ctx.textAlign = "left";
    for (const z of geo.zones) {
      const text = z.label.toUpperCase(), tw = ctx.measureText(text).width;
      const x = Math.max(4, Math.min(z.x + 6, this.width - tw - 6));
      let box = null;
      for (const y of [z.y - 16, z.y + 4, z.y + z.h + 2, z.y + z.h - 18]) {
        const b = [x - 2, y, x + tw + 2, y + 14];
        if (free(b)) { box = b; break; }
      }
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
    ctx.letterSpacing = "0px";
    ctx.font = `12px ${FONT}`;
    ctx.textAlign = "center";
    for (const s of geo.stations) {
      const half = Math.max(...s.label.map((part) => ctx.measureText(part).width)) / 2 + 3;
      const tall = 13 * s.label.length + 3;
      const spots = [[s.x, s.y + 14], [s.x, s.y - 14 - tall], [s.x + 16 + half, s.y - tall / 2],
        [s.x - 16 - half, s.y - tall / 2], [s.x, s.y + 30], [s.x, s.y - 30 - tall]];
      let at = spots.find(([cx, top]) => free([cx - half, top, cx + half, top + tall])) || spots[0];
      const box = [at[0] - half, at[1], at[0] + half, at[1] + tall];
      s.label.forEach((part, k) => outlined(ctx, part, at[0], at[1] + 12 + 13 * k, "#e8edf2"));
      placed.push({ id: s.id, kind: "station", box });
      this.labelBoxes.push(box);
    }
  }

  // The counts atlas: station i's "here +week" text in slot i (SLOT_W x SLOT_H CSS px), with where each slot is
  // drawn on the map (its ink only) in this.countBoxes.
  paintCounts() {
    const geo = this.geo, r = this.ratio || 1, c = this.countsImage;
    if (!geo) return;
    const cols = COUNT_COLS, rows = Math.max(1, Math.ceil(geo.stations.length / cols));
    const w = Math.round(cols * SLOT_W * r), h = Math.round(rows * SLOT_H * r);
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    const ctx = c.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.setTransform(r, 0, 0, r, 0, 0);
    ctx.lineJoin = "round";
    ctx.lineWidth = 4;
    ctx.strokeStyle = BG;
    ctx.textAlign = "left";
    this.countBoxes = [];
    geo.stations.forEach((s, i) => {
      const [here, week] = this.counts.get(i) || ["", ""];
      if (!here && !week) return;
      const ox = (i % cols) * SLOT_W, oy = Math.floor(i / cols) * SLOT_H;
      let x = ox + 3;                                   // the map's s.x + 13, with the slot at s.x + 10
      if (here) {
        ctx.font = `700 12px ${FONT}`;
        outlined(ctx, here, x, oy + 15, "#ffffff");
        x += ctx.measureText(here).width + 4;
      } else x += 4;
      if (week) {
        ctx.font = `11px ${FONT}`;
        outlined(ctx, week, x, oy + 15, "#ffd54f");
        x += ctx.measureText(week).width;
      }
      const used = Math.min(SLOT_W, x + 3 - ox);
      this.countBoxes.push({
        dst: [s.x + 10, s.y - 27, s.x + 10 + used, s.y - 27 + SLOT_H],
        src: [ox * r, oy * r, (ox + used) * r, (oy + SLOT_H) * r],
      });
    });
    this.countsVersion++;
  }

  // here/week indexed like `order` (station ids of the counts' source).
  setCounts(order, here, week) {
    order.forEach((id, k) => {
      const i = this.index.get(id);
      if (i === undefined || !this.countText) return;
      const [h, w] = this.countText[i];
      h.textContent = here[k] ? fmt(here[k]) : "";
      w.textContent = week[k] ? `+${fmt(week[k])}` : "";
      this.counts.set(i, [h.textContent, w.textContent]);
    });
    this.paintCounts();
  }
}
