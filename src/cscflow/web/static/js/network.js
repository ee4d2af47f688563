// The drawn network, shared by the map painter and every dot renderer: the map's lines and the routes added from
// the data (/api/map's `routes`, journeys.layout.network_routes) as segments in CSS px, the polyline each move
// between two stations follows (a route), and where children wait at each station: a thin ring (annulus) around
// its marker, of bounded radius, whose outer radius grows with the number waiting. While few wait (up to
// FEW_WAITING) each child is a dot in the ring; beyond, the ring is drawn as density (a soft annulus shaded by the
// count, painted by map.js) and the waiting dots are not drawn one by one (no pile of overdrawn dots).
//
// Routes and stations are kept in one Float32Array laid out as an RGBA32F texture (the WebGL point path reads it
// in the vertex shader; the splat and Canvas 2D paths read the same numbers in JavaScript):
//   row k < nRoutes:   texel 0 = (n points, length px, 0, 0); texel i = 1..n = (x, y, distance along, 0) in CSS px
//   row nRoutes + s:   texel 0 = (centre x, centre y, inner radius, outer radius) of station s's waiting ring; the
//                      outer radius is negative when the ring is drawn as density (its waiting dots are not drawn)
export const OUTSIDE = 65535;
export const ROUTE_W = 32;            // texels per row: a header and up to 31 points
export const LINE_PX = 6, ADDED_PX = 1.5, SHARED_PX = 7;   // stroke widths; spacing of lines sharing a segment
export const RING_IN = 13;            // px: waiting children sit outside the station's marker (radius 9 + stroke)
export const RING_MAX = 26;           // px: no ring is wider (labels and counts are placed outside this radius)
export const FEW_WAITING = 100;       // up to this many waiting children are drawn as dots; beyond, as density
const DOT_AREA = 8;                   // px² of ring per waiting dot (5 px dots overlap a little when many wait)
const DENSITY_FULL = 40;              // the density ring reaches its widest at `few` x this many
const ADDED_COLOUR = "#7d8fa3";

// The outer radius (px) of a waiting ring for n children, at most cap, and whether it is drawn as density (more
// than `few` waiting): the dots' annulus grows by DOT_AREA per child, then the density ring on a log scale.
export function ringRadius(n, cap = RING_MAX, few = FEW_WAITING) {
  const dots = (k) => Math.sqrt(RING_IN * RING_IN + (k * DOT_AREA) / Math.PI);
  if (n <= few) return [Math.min(cap, Math.max(RING_IN + 3, dots(n))), false];
  const f = Math.min(1, Math.log(n / few) / Math.log(DENSITY_FULL));
  const start = Math.min(RING_MAX, Math.max(RING_IN + 3, dots(few)));
  return [Math.min(cap, start + (RING_MAX - start) * f), true];
}

// A density ring's opacity for n waiting children: from 0.35 just above `few` to 0.75 at DENSITY_FULL times as many
// (drawn over the lines and the moving dots, which show through).
export function ringShade(n, few = FEW_WAITING) {
  return 0.35 + 0.4 * Math.min(1, Math.max(0, Math.log(n / few) / Math.log(DENSITY_FULL)));
}
export const RING_COLOUR = [252, 213, 197];   // the density rings' colour (the first-time dots' pale pink)

export class Network {
  // few: waiting children drawn as dots up to this many per station (the page's address option `few`).
  constructor(map, few = FEW_WAITING) {
    this.stations = map.stations;
    this.few = few;
    this.index = new Map(map.stations.map((s, i) => [s.id, i]));
    this.lines = (map.lines || []).map((l) => ({ ...l, stations: l.stations.filter((s) => this.index.has(s)) }));
    const routes = map.routes || { added: [], paths: [] };
    this.added = routes.added.filter((r) => this.index.has(r.from) && this.index.has(r.to))
      .map((r) => ({ ...r, a: this.index.get(r.from), b: this.index.get(r.to) }));
    this.paths = new Map();
    for (const p of routes.paths) {
      const via = p.via.map((id) => this.index.get(id));
      if (via.every((v) => v !== undefined)) this.paths.set(via[0] * 65536 + via[via.length - 1], via);
    }
    this.lineSteps = new Set();       // station pairs a map line joins
    for (const line of this.lines) {
      for (let i = 1; i < line.stations.length; i++) {
        const a = this.index.get(line.stations[i - 1]), b = this.index.get(line.stations[i]);
        this.lineSteps.add(a < b ? a * 65536 + b : b * 65536 + a);
      }
    }
    this.routes = [];                 // {from, to, via: [station indexes], added: uses an added route}
    this.routeIds = new Map();
    this.showAdded = true;
    this.counts = new Int32Array(map.stations.length);   // children waiting at each station (dots in its ring)
    this.version = 0;                 // bumped when the texture's numbers change
  }

  // The route id of a move (station indexes, OUTSIDE for off the map). Entering, leaving and staying put are
  // one-point routes (the dot waits at the station).
  routeOf(from, to) {
    const key = from * 65536 + to;
    let id = this.routeIds.get(key);
    if (id !== undefined) return id;
    let via;
    if (from === OUTSIDE && to === OUTSIDE) via = [0];
    else if (from === OUTSIDE || to === OUTSIDE || from === to) via = [from === OUTSIDE ? to : from];
    else via = this.paths.get(key) || this.paths.get(to * 65536 + from)?.slice().reverse();
    if (!via) {                        // a move /api/map did not see (it reads everyone's tracks): a route of its own
      via = [from, to];
      if (!this.added.some((r) => (r.a === from && r.b === to) || (r.a === to && r.b === from))) {
        this.added.push({ from: this.stations[from].id, to: this.stations[to].id, a: from, b: to, rare: true });
        this.linesChanged = true;
      }
    }
    const added = via.some((v, i) => i > 0 && !this.lineSteps.has(v < via[i - 1] ? v * 65536 + via[i - 1] : via[i - 1] * 65536 + v));
    id = this.routes.length;
    this.routes.push({ from, to, via, added });
    this.routeIds.set(key, id);
    this.dirty = true;
    return id;
  }

  // After new routes: their polylines (and any line added for a move /api/map did not see). True when the
  // drawn lines changed (the map is then repainted).
  refresh() {
    const changed = Boolean(this.linesChanged);
    if (this.dirty && this.toPx) this.layout(this.toPx);
    this.dirty = this.linesChanged = false;
    return changed;
  }

  // A route that follows an added route the user chose to hide: its dots jump instead of moving.
  hidden(id) { return !this.showAdded && this.routes[id].added; }

  // Segments (CSS px) and every route's polyline for a map placed by toPx (map units -> CSS px).
  layout(toPx) {
    this.toPx = toPx;
    const pos = this.stations.map((s) => toPx(Number(s.x), Number(s.y)));
    this.pos = pos;
    // Each ring's largest radius: RING_MAX, less where another station is near (rings never meet).
    this.caps = pos.map((p, i) => {
      const near = Math.min(...pos.map((q, j) => (j === i ? Infinity : Math.hypot(q[0] - p[0], q[1] - p[1]))));
      return Math.max(RING_IN + 3, Math.min(RING_MAX, near / 2 - 3));
    });
    const segs = [];
    const shared = new Map(), used = new Map();
    const keyOf = (a, b) => (a < b ? a * 65536 + b : b * 65536 + a);
    for (const line of this.lines) {
      for (let i = 1; i < line.stations.length; i++) {
        const k = keyOf(this.index.get(line.stations[i - 1]), this.index.get(line.stations[i]));
        shared.set(k, (shared.get(k) || 0) + 1);
      }
    }
    const push = (a, b, shift, props) => {
      const [ax, ay] = pos[a], [bx, by] = pos[b];
      const len = Math.hypot(bx - ax, by - ay) || 1;
      const nx = (-(by - ay) / len) * shift, ny = ((bx - ax) / len) * shift;
      segs.push({ a, b, x1: ax + nx, y1: ay + ny, x2: bx + nx, y2: by + ny, ...props });
    };
    for (const line of this.lines) {
      for (let i = 1; i < line.stations.length; i++) {
        const a = this.index.get(line.stations[i - 1]), b = this.index.get(line.stations[i]);
        const k = keyOf(a, b), n = used.get(k) || 0;
        used.set(k, n + 1);
        push(a, b, (n - (shared.get(k) - 1) / 2) * SHARED_PX,
          { line: line.id, label: line.label || line.id || "", colour: line.colour, width: LINE_PX, added: false });
      }
    }
    for (const r of this.added) {
      push(r.a, r.b, 0, { line: `${r.from}>${r.to}`, colour: ADDED_COLOUR, width: ADDED_PX, added: true,
        label: `Added from the data: ${this.stations[r.a].label} to ${this.stations[r.b].label}` + addedFor(r, this) });
    }
    this.segments = segs;
    this.bySeg = new Map();
    for (const s of segs) {
      const k = keyOf(s.a, s.b);
      if (!this.bySeg.has(k)) this.bySeg.set(k, []);
      this.bySeg.get(k).push(s);
    }
    this.pack();
  }

  // The points a route passes: along one segment per step (the previous step's line where it goes on).
  polyline(route) {
    const via = route.via, pts = [];
    if (via.length === 1) return [this.pos[via[0]]];
    let line = null;
    for (let i = 1; i < via.length; i++) {
      const a = via[i - 1], b = via[i];
      const choices = this.bySeg.get(a < b ? a * 65536 + b : b * 65536 + a) || [];
      const seg = choices.find((s) => s.line === line) || choices[0];
      if (!seg) { pts.push(this.pos[a], this.pos[b]); continue; }
      line = seg.line;
      const fwd = seg.a === a;
      pts.push(fwd ? [seg.x1, seg.y1] : [seg.x2, seg.y2], fwd ? [seg.x2, seg.y2] : [seg.x1, seg.y1]);
    }
    return pts.filter((p, i) => i === 0 || Math.hypot(p[0] - pts[i - 1][0], p[1] - pts[i - 1][1]) > 0.01);
  }

  // Fill the texture's numbers (routes, then the stations' rings).
  pack() {
    const nR = this.routes.length, nS = this.stations.length;
    this.nRoutes = nR;
    this.rows = Math.max(1, nR + nS);
    if (!this.tex || this.tex.length !== ROUTE_W * 4 * this.rows) this.tex = new Float32Array(ROUTE_W * 4 * this.rows);
    const t = this.tex;
    t.fill(0);
    this.routes.forEach((route, k) => {
      const pts = this.polyline(route).slice(0, ROUTE_W - 1);
      let along = 0;
      const o = k * ROUTE_W * 4;
      pts.forEach(([x, y], i) => {
        if (i) along += Math.hypot(x - pts[i - 1][0], y - pts[i - 1][1]);
        t.set([x, y, along, 0], o + (i + 1) * 4);
      });
      t[o] = pts.length;
      t[o + 1] = along;
    });
    this.packRings();
  }

  packRings() {
    const t = this.tex, nR = this.nRoutes;
    this.rings = this.stations.map((s, i) => {
      const o = (nR + i) * ROUTE_W * 4, [x, y] = this.pos[i];
      const [outer, dense] = ringRadius(this.counts[i], this.caps[i], this.few);
      t[o] = x; t[o + 1] = y; t[o + 2] = RING_IN; t[o + 3] = dense ? -outer : outer;
      return { x, y, inner: RING_IN, outer, dense, n: this.counts[i], alpha: dense ? ringShade(this.counts[i], this.few) : 0 };
    });
    this.version++;
  }

  // Children waiting at each station (indexed like the map's stations: the dots in its ring) size the rings.
  setCounts(counts) {
    this.counts = counts;
    if (this.pos) this.packRings();
  }

  // What is drawn, in page coordinates (window.cscflow.geometry; dx, dy: the stage's corner; placed: the map's label
  // boxes): the lines (one polyline per segment), the stations, the label boxes and the waiting rings (radii now and
  // at their widest, whether drawn as density, children waiting).
  geometry(dx, dy, placed) {
    return {
      lines: this.drawnLines(dx, dy),
      stations: this.stations.map((s, i) => ({ id: s.id, x: this.pos[i][0] + dx, y: this.pos[i][1] + dy, exit: s.zone === "exit" })),
      labels: (placed || []).map((p) => ({ id: p.id, kind: p.kind, box: [p.box[0] + dx, p.box[1] + dy, p.box[2] + dx, p.box[3] + dy] })),
      rings: (this.rings || []).map((g, i) => ({ id: this.stations[i].id, x: g.x + dx, y: g.y + dy, inner: g.inner,
        outer: g.outer, cap: this.caps[i], dense: g.dense, waiting: g.n })),
    };
  }

  // The drawn lines in page coordinates (for window.cscflow.geometry): one polyline per segment.
  drawnLines(dx, dy) {
    return (this.segments || []).filter((s) => !s.added || this.showAdded).map((s) => ({
      id: s.line, colour: s.colour, added: s.added, points: [[s.x1 + dx, s.y1 + dy], [s.x2 + dx, s.y2 + dy]],
    }));
  }
}

// What an added route's title says it carries: the move it was added for, with that move's share of its
// station's moves out (a part of a longer way when the move follows lines for the rest).
function addedFor(r, net) {
  const label = (id) => { const i = net.index.get(id); return i === undefined ? id : net.stations[i].label; };
  const move = r.move && (r.move[0] !== r.from || r.move[1] !== r.to) ? ` on the way ${label(r.move[0])} to ${label(r.move[1])}` : "";
  const share = r.share ? `, ${Math.round(100 * r.share)}% of ${label(r.move ? r.move[0] : r.from)}'s moves out` : "";
  return move || share ? ` (${(move + share).replace(/^[ ,]+/, "")})` : "";
}

// Position (CSS px) on route k at fraction p of its length, and the unit direction there: out = [x, y, ux, uy].
export function along(tex, k, p, out) {
  const o = k * ROUTE_W * 4, n = tex[o];
  if (n < 2) { out[0] = tex[o + 4]; out[1] = tex[o + 5]; out[2] = 0; out[3] = 0; return out; }
  const d = p * tex[o + 1];
  let i = 2;
  while (i < n && tex[o + i * 4 + 2] < d) i++;
  const a = o + (i - 1) * 4, b = o + i * 4;
  const seg = Math.max(tex[b + 2] - tex[a + 2], 1e-6), f = Math.min(1, Math.max(0, (d - tex[a + 2]) / seg));
  const dx = tex[b] - tex[a], dy = tex[b + 1] - tex[a + 1], len = Math.hypot(dx, dy) || 1;
  out[0] = tex[a] + dx * f; out[1] = tex[a + 1] + dy * f; out[2] = dx / len; out[3] = dy / len;
  return out;
}
