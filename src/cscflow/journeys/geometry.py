"""The drawn network in pixels, as the web map draws it: the same numbers in Python for pictures and video.

The web map (``web/static/js``) fits the map's stations into its stage (map.js ``TubeMap.layout``), draws each
map line as straight segments between stations (lines sharing a segment side by side, :data:`SHARED_PX` apart)
and the routes the data add (``/api/map``'s ``routes``: :func:`map_routes`, from
:func:`cscflow.journeys.layout.network_routes`) as thin segments, and moves each dot along the polyline of its
route (network.js ``Network``). :class:`MapGeometry` is that code in Python, number for number, so a frame drawn
here puts the stations, lines and dots where the browser does (tests/browser/test_video_geometry.py holds the two
within a pixel).

>>> g = MapGeometry([{"id": "a", "x": 0, "y": 0}, {"id": "b", "x": 1, "y": 0}],
...                 [{"id": "l", "colour": "#000", "stations": ["a", "b"]}], {"added": [], "paths": []}, 360, 220)
>>> g.pos.tolist()
[[70.0, 110.0], [270.0, 110.0]]
>>> k = g.route_of(0, 1)
>>> g.polylines()[0][k, :2].tolist()
[[70.0, 110.0], [270.0, 110.0]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

OUTSIDE = 65535
#: points a route's polyline keeps at most (the web's route texture: a header texel and 31 points)
ROUTE_POINTS = 31
LINE_PX, ADDED_PX, SHARED_PX = 6.0, 1.5, 7.0
RING_IN, RING_MAX, FEW_WAITING = 13.0, 26.0, 100
DOT_AREA, DENSITY_FULL = 8.0, 40.0
ADDED_COLOUR = "#7d8fa3"
#: the stage's padding (CSS px) around the stations' bounding box: left, right, top, bottom (map.js)
PAD = (70.0, 90.0, 60.0, 60.0)


@dataclass
class Segment:
    """One drawn stroke between stations ``a`` and ``b`` (indexes), in pixels."""

    a: int
    b: int
    x1: float
    y1: float
    x2: float
    y2: float
    line: str
    colour: str
    width: float
    added: bool
    label: str


def map_routes(pmap: Any, travel: Any) -> dict[str, list[dict[str, Any]]]:
    """The routes ``/api/map`` sends: every move of everyone's ``travel`` tracks (a :class:`Tracks`) between two
    stations, routed by :func:`cscflow.journeys.layout.network_routes`."""
    from cscflow.journeys.layout import network_routes

    on = (travel.from_ != OUTSIDE) & (travel.to != OUTSIDE)
    ids = pmap.station_ids
    pairs, n = np.unique(travel.from_[on].astype("int64") * 65536 + travel.to[on], return_counts=True)
    moves = {(ids[int(p) // 65536], ids[int(p) % 65536]): int(c) for p, c in zip(pairs, n, strict=True)}
    return network_routes(pmap, moves)


def ring_radius(n: np.ndarray, cap: np.ndarray, few: int = FEW_WAITING) -> tuple[np.ndarray, np.ndarray]:
    """Outer radius (px) of each station's waiting ring for ``n`` waiting children, at most ``cap``, and whether
    it is drawn as density (more than ``few``): network.js ``ringRadius``."""
    n = np.asarray(n, dtype="float64")
    dots = np.sqrt(RING_IN**2 + n * DOT_AREA / math.pi)
    small = np.minimum(cap, np.maximum(RING_IN + 3, dots))
    f = np.minimum(1.0, np.log(np.maximum(n, 1e-9) / few) / math.log(DENSITY_FULL))
    start = min(RING_MAX, max(RING_IN + 3, math.sqrt(RING_IN**2 + few * DOT_AREA / math.pi)))
    big = np.minimum(cap, start + (RING_MAX - start) * f)
    dense = n > few
    return np.where(dense, big, small), dense


def ring_shade(n: np.ndarray, few: int = FEW_WAITING) -> np.ndarray:
    """Opacity of a density ring of ``n`` waiting children (network.js ``ringShade``)."""
    n = np.maximum(np.asarray(n, dtype="float64"), 1e-9)
    return 0.35 + 0.4 * np.minimum(1.0, np.maximum(0.0, np.log(n / few) / math.log(DENSITY_FULL)))


class MapGeometry:
    """Stations, segments and route polylines of a map drawn in a ``width`` x ``height`` pixel stage.

    ``stations`` and ``lines`` are the map's (``/api/map``: id, x, y, zone; id, colour, stations), ``routes`` the
    payload of :func:`map_routes`. Call :meth:`route_of` for every move before :meth:`polylines` (a move the
    routes lack gets an added route of its own, as in the browser).
    """

    def __init__(self, stations: list[dict[str, Any]], lines: list[dict[str, Any]],
                 routes: dict[str, list[dict[str, Any]]], width: float, height: float,
                 few: int = FEW_WAITING) -> None:
        self.stations = stations
        self.few = few
        self.index = {str(s["id"]): i for i, s in enumerate(stations)}
        self.lines = [{**ln, "stations": [str(s) for s in ln["stations"] if str(s) in self.index]} for ln in lines]
        self.added = [{**r, "a": self.index[r["from"]], "b": self.index[r["to"]]}
                      for r in routes.get("added", []) if r["from"] in self.index and r["to"] in self.index]
        self.paths: dict[int, list[int]] = {}
        for p in routes.get("paths", []):
            via = [self.index.get(str(s)) for s in p["via"]]
            if all(v is not None for v in via):
                vv = [int(v) for v in via if v is not None]
                self.paths[vv[0] * 65536 + vv[-1]] = vv
        self.line_steps: set[int] = set()
        for ln in self.lines:
            ids = [self.index[s] for s in ln["stations"]]
            for a, b in zip(ids, ids[1:], strict=False):
                self.line_steps.add(_key(a, b))
        self.routes: list[list[int]] = []
        self.route_ids: dict[int, int] = {}
        self.layout(width, height)

    def layout(self, width: float, height: float) -> None:
        """Fit the stations into the stage (map.js ``layout``) and lay out the segments (network.js ``layout``)."""
        xs = np.array([float(s["x"]) for s in self.stations])
        ys = np.array([float(s["y"]) for s in self.stations])
        x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
        left, right, top, bottom = PAD
        s = min((width - left - right) / max(x1 - x0, 1e-9), (height - top - bottom) / max(y1 - y0, 1e-9))
        self.scale = s
        self.ox = left + (width - left - right - (x1 - x0) * s) / 2 - x0 * s
        self.oy = top + (height - top - bottom - (y1 - y0) * s) / 2 - y0 * s
        self.width, self.height = width, height
        self.pos = np.column_stack([xs * s + self.ox, ys * s + self.oy])
        d = np.hypot(*(self.pos[:, None, :] - self.pos[None, :, :]).transpose(2, 0, 1))
        np.fill_diagonal(d, np.inf)
        self.caps = np.maximum(RING_IN + 3, np.minimum(RING_MAX, d.min(axis=1) / 2 - 3))
        self._segments()

    def _segments(self) -> None:
        shared: dict[int, int] = {}
        for ln in self.lines:
            ids = [self.index[s] for s in ln["stations"]]
            for a, b in zip(ids, ids[1:], strict=False):
                shared[_key(a, b)] = shared.get(_key(a, b), 0) + 1
        segs: list[Segment] = []
        used: dict[int, int] = {}

        def push(a: int, b: int, shift: float, **props: Any) -> None:
            (ax, ay), (bx, by) = self.pos[a], self.pos[b]
            length = math.hypot(bx - ax, by - ay) or 1.0
            nx, ny = -(by - ay) / length * shift, (bx - ax) / length * shift
            segs.append(Segment(a, b, ax + nx, ay + ny, bx + nx, by + ny, **props))

        for ln in self.lines:
            ids = [self.index[s] for s in ln["stations"]]
            for a, b in zip(ids, ids[1:], strict=False):
                k = _key(a, b)
                n = used.get(k, 0)
                used[k] = n + 1
                push(a, b, (n - (shared[k] - 1) / 2) * SHARED_PX, line=str(ln["id"]),
                     label=str(ln.get("label") or ln["id"]), colour=str(ln["colour"]), width=LINE_PX, added=False)
        for r in self.added:
            push(r["a"], r["b"], 0.0, line=f"{r['from']}>{r['to']}", colour=ADDED_COLOUR, width=ADDED_PX,
                 added=True, label=f"Added from the data: {r['from']} to {r['to']}")
        self.segments = segs
        self.by_seg: dict[int, list[Segment]] = {}
        for sg in segs:
            self.by_seg.setdefault(_key(sg.a, sg.b), []).append(sg)

    def route_of(self, frm: int, to: int) -> int:
        """The route id of a move between station indexes (``OUTSIDE`` off the map): network.js ``routeOf``."""
        key = frm * 65536 + to
        if key in self.route_ids:
            return self.route_ids[key]
        if frm == OUTSIDE and to == OUTSIDE:
            via = [0]
        elif OUTSIDE in (frm, to) or frm == to:
            via = [to if frm == OUTSIDE else frm]
        else:
            found = self.paths.get(key) or (self.paths[to * 65536 + frm][::-1] if to * 65536 + frm in self.paths
                                            else None)
            if found is None:
                found = [frm, to]
                if not any({r["a"], r["b"]} == {frm, to} for r in self.added):
                    ids = [str(s["id"]) for s in self.stations]
                    self.added.append({"from": ids[frm], "to": ids[to], "a": frm, "b": to, "rare": True})
                    self._segments()
            via = found
        self.route_ids[key] = len(self.routes)
        self.routes.append(via)
        return self.route_ids[key]

    def polyline(self, via: list[int]) -> list[tuple[float, float]]:
        """The points a route passes, along one segment per step (the previous step's line where it goes on)."""
        if len(via) == 1:
            return [(float(self.pos[via[0], 0]), float(self.pos[via[0], 1]))]
        pts: list[tuple[float, float]] = []
        line = None
        for a, b in zip(via, via[1:], strict=False):
            choices = self.by_seg.get(_key(a, b), [])
            seg = next((s for s in choices if s.line == line), choices[0] if choices else None)
            if seg is None:
                pts += [(float(self.pos[a, 0]), float(self.pos[a, 1])), (float(self.pos[b, 0]), float(self.pos[b, 1]))]
                continue
            line = seg.line
            ends = [(seg.x1, seg.y1), (seg.x2, seg.y2)]
            pts += ends if seg.a == a else ends[::-1]
        return [p for i, p in enumerate(pts) if i == 0 or math.hypot(p[0] - pts[i - 1][0], p[1] - pts[i - 1][1]) > 0.01]

    def polylines(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every route's points (R x 31 x 2, px), distance along at each point (R x 31, +inf past the last) and
        number of points (R)."""
        n_r = max(len(self.routes), 1)
        xy = np.zeros((n_r, ROUTE_POINTS, 2))
        along = np.full((n_r, ROUTE_POINTS), np.inf)
        count = np.ones(n_r, dtype="int64")
        for k, via in enumerate(self.routes):
            pts = np.asarray(self.polyline(via)[:ROUTE_POINTS], dtype="float64")
            xy[k, : len(pts)] = pts
            along[k, : len(pts)] = np.r_[0.0, np.cumsum(np.hypot(*np.diff(pts, axis=0).T))]
            count[k] = len(pts)
        return xy, along, count

    def payload(self) -> dict[str, Any]:
        """Stations and drawn lines in stage pixels (the shape of the web map's ``cscflow.geometry()``)."""
        return {
            "stations": [{"id": s["id"], "x": float(p[0]), "y": float(p[1]), "exit": s.get("zone") == "exit"}
                         for s, p in zip(self.stations, self.pos, strict=True)],
            "lines": [{"id": s.line, "colour": s.colour, "added": s.added, "points": [[s.x1, s.y1], [s.x2, s.y2]]}
                      for s in self.segments],
        }


def _key(a: int, b: int) -> int:
    return a * 65536 + b if a < b else b * 65536 + a
