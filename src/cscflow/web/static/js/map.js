// The tube map in SVG: zones, lines, stations, labels and the counts at each station.
const NS = "http://www.w3.org/2000/svg";

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
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

export class TubeMap {
  constructor(under, over, map) {
    this.under = under;    // zones, lines, stations (takes the pointer events)
    this.over = over;      // labels and counts, drawn above the dots
    this.map = map;
    this.index = new Map(map.stations.map((s, i) => [s.id, i]));
    this.onStation = null;
  }

  // Fit the map's bounding box into width x height px (with room for labels).
  layout(width, height) {
    const xs = this.map.stations.map((s) => Number(s.x)), ys = this.map.stations.map((s) => Number(s.y));
    const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    const pad = { l: 70, r: 90, t: 60, b: 60 };
    const s = Math.min((width - pad.l - pad.r) / Math.max(x1 - x0, 1e-9), (height - pad.t - pad.b) / Math.max(y1 - y0, 1e-9));
    const ox = pad.l + (width - pad.l - pad.r - (x1 - x0) * s) / 2 - x0 * s;
    const oy = pad.t + (height - pad.t - pad.b - (y1 - y0) * s) / 2 - y0 * s;
    this.width = width; this.height = height; this.s = s; this.ox = ox; this.oy = oy;
    this.toPx = (x, y) => [x * s + ox, y * s + oy];
    this.view = {
      scale: [(2 * s) / width, (-2 * s) / height],
      shift: [(2 * ox) / width - 1, 1 - (2 * oy) / height],
      px: [2 / width, -2 / height],
      toPx: this.toPx,
    };
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
      el("text", { x: x + 8, y: y + 14, class: "zone-label" }, zones).textContent = zone === "exit" ? "exits" : zone;
    }
    // Lines: parallel strokes where several lines share a segment.
    const lines = el("g", { class: "lines" }, this.under);
    const shared = new Map();
    for (const line of this.map.lines) {
      for (let i = 1; i < line.stations.length; i++) {
        const key = [line.stations[i - 1], line.stations[i]].sort().join("|");
        shared.set(key, (shared.get(key) || 0) + 1);
      }
    }
    const used = new Map();
    for (const line of this.map.lines) {
      for (let i = 1; i < line.stations.length; i++) {
        const a = this.index.get(line.stations[i - 1]), b = this.index.get(line.stations[i]);
        if (a === undefined || b === undefined) continue;
        const key = [line.stations[i - 1], line.stations[i]].sort().join("|");
        const k = used.get(key) || 0;
        used.set(key, k + 1);
        const shift = (k - (shared.get(key) - 1) / 2) * 7;
        const [ax, ay] = pos[a], [bx, by] = pos[b];
        const len = Math.hypot(bx - ax, by - ay) || 1;
        const nx = (-(by - ay) / len) * shift, ny = ((bx - ax) / len) * shift;
        el("line", { x1: ax + nx, y1: ay + ny, x2: bx + nx, y2: by + ny, stroke: line.colour, class: "line" }, lines)
          .appendChild(el("title")).textContent = line.label || line.id || "";
      }
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
      const label = el("text", { x, y: y + 24, class: "station-label", "text-anchor": "middle" }, labels);
      wrap(s.label, 13).forEach((part, k) => { el("tspan", { x, dy: k ? 13 : 0 }, label).textContent = part; });
      const count = el("text", { x: x + 13, y: y - 12, class: "count", "data-station": s.id }, labels);
      const here = el("tspan", { class: "here" }, count);
      const week = el("tspan", { class: "week", dx: 4 }, count);
      this.countText.push([here, week]);
    });
  }

  // here/week indexed like `order` (station ids of the counts' source).
  setCounts(order, here, week) {
    order.forEach((id, k) => {
      const i = this.index.get(id);
      if (i === undefined || !this.countText) return;
      const [h, w] = this.countText[i];
      h.textContent = here[k] ? String(here[k]) : "";
      w.textContent = week[k] ? `+${week[k]}` : "";
    });
  }
}
