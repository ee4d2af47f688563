// Where the dots are, from the legs (data.positionOf: the renderers' formula), for a click on the map and for scripts
// and tests (window.cscflow.dotPositions, firstDot).
import { drawRange, positionOf } from "./data.js";

// The visible dots of `legs` at time t, in page coordinates (box: the stage's), in drawing order, at most `limit`.
export function visibleDots(legs, t, net, colours, box, limit = 1000) {
  const out = [];
  for (const [lo, hi] of drawRange(legs, t)) {
    for (let r = lo; r < hi && out.length < limit; r++) {
      const p = positionOf(legs, r, t, net);
      if (p) out.push({ x: box.left + p[0], y: box.top + p[1], colour: colours[r], moving: p[2], child: legs.child[r] });
    }
  }
  return out;
}

// The first of `dots` a click reaches (not over a station, whose click opens the station): {x, y, child} or null.
export function reachable(dots) {
  for (const d of dots) {
    const under = document.elementFromPoint(d.x, d.y);
    if (d.x <= 0 || d.y <= 0 || !under || under.closest(".station")) continue;
    return { x: d.x, y: d.y, child: d.child };
  }
  return null;
}

// The dot nearest (x, y) (CSS px in the stage) within 6 px over the layers ({legs} or null) at t: {layer, child} or null.
export function nearest(layers, t, net, x, y) {
  let best = null, bestD = 36;
  layers.forEach((layer, li) => {
    if (!layer) return;
    for (const [lo, hi] of drawRange(layer.legs, t)) {
      for (let r = lo; r < hi; r++) {
        const p = positionOf(layer.legs, r, t, net);
        if (!p) continue;
        const d = (p[0] - x) ** 2 + (p[1] - y) ** 2;
        if (d < bestD) { bestD = d; best = { layer: li, child: layer.legs.child[r] }; }
      }
    }
  });
  return best;
}
