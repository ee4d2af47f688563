"""Where each child's dot is at a moment, as the web map puts it, in numpy: for pictures and video.

:func:`drawable` turns :class:`cscflow.journeys.tracks.Tracks` into the legs the browser draws (data.js
``buildLegs``: same-day steps spread over their day, how long each dot stays visible, its route on a
:class:`~cscflow.journeys.geometry.MapGeometry`, the small traverse offset of slow legs, its place in the waiting
ring); :meth:`Dots.at` gives every visible dot's position at a time (data.js ``positionOf``), the waiting rings
sized as network.js sizes them. The same numbers as the browser's, so a video frame shows the web map's dots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from cscflow.journeys.geometry import OUTSIDE, RING_IN, MapGeometry, ring_radius, ring_shade

FOREVER = 1.0e7      # days: a dot that never leaves (open at the data's end)
EXIT_LINGER = 14.0   # days a dot stays visible at an exit before leaving
MAX_OFF = 2.5        # px: the traverse offset of slow legs
#: days visible: upper bounds of the span groups (data.js)
SPANS = np.array([2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, FOREVER / 2])


def js_hash(i: np.ndarray) -> np.ndarray:
    """data.js ``hash``: a deterministic integer hash of ``i`` in [0, 1) (32-bit arithmetic; the values below are
    the browser's).

    >>> js_hash(np.array([0, 1, 12345])).round(6).tolist()
    [0.573398, 0.588394, 0.279565]
    """
    m = np.uint64(0xFFFFFFFF)
    h = (np.asarray(i, dtype="int64").astype("uint64") + np.uint64(0x9E3779B9)) & m
    h = ((h ^ (h >> np.uint64(16))) * np.uint64(0x85EBCA6B)) & m
    h = ((h ^ (h >> np.uint64(13))) * np.uint64(0xC2B2AE35)) & m
    h ^= h >> np.uint64(16)
    return h.astype("float64") / 4294967296.0


@dataclass
class Frame:
    """The dots visible at one time: positions (px), palette index, child, whether moving, the station each waits at
    (-1 while moving), and the waiting rings of the stations (children waiting, outer radius, drawn as density,
    opacity)."""

    x: np.ndarray
    y: np.ndarray
    colour: np.ndarray
    child: np.ndarray
    moving: np.ndarray
    station: np.ndarray
    waiting: np.ndarray
    ring_outer: np.ndarray
    ring_dense: np.ndarray
    ring_alpha: np.ndarray


@dataclass
class Dots:
    """Drawable legs (sorted by departure) on a geometry; :meth:`at` places them."""

    geometry: MapGeometry
    route: np.ndarray
    depart: np.ndarray
    arrive: np.ndarray
    until: np.ndarray
    offset: np.ndarray
    angle: np.ndarray
    place: np.ndarray
    station: np.ndarray
    child: np.ndarray
    colour: np.ndarray
    groups: list[tuple[int, int]]
    max_until: np.ndarray

    def __post_init__(self) -> None:
        self.xy, self.along, self.count = self.geometry.polylines()
        self.length = np.where(np.isfinite(self.along), self.along, 0.0).max(axis=1)

    def visible(self, t: float) -> np.ndarray:
        """Indexes of the legs visible at ``t`` (departed and not yet gone), in drawing order: data.js
        ``drawRange`` (two binary searches per span group), then ``positionOf``'s test."""
        runs = []
        for g0, g1 in self.groups:
            lo = _first(self.max_until, g0, g1, lambda v: v > t)
            hi = _first(self.depart, lo, g1, lambda v: v > t)
            if hi > lo:
                runs.append(np.arange(lo, hi))
        idx = np.concatenate(runs) if runs else np.zeros(0, dtype="int64")
        shown: np.ndarray = idx[(self.depart[idx] <= t) & (t < self.until[idx])]
        return shown

    def at(self, t: float) -> Frame:
        """The dots at time ``t`` (days since the tracks' epoch): data.js ``positionOf`` for every visible leg."""
        g = self.geometry
        idx = self.visible(t)
        waits = t >= self.arrive[idx]
        n_st = len(g.stations)
        waiting = np.bincount(self.station[idx[waits]], minlength=n_st)[:n_st]
        outer, dense = ring_radius(waiting, g.caps, g.few)
        # waiting dots: in the ring around the station (none of their own where the ring is drawn as density)
        w = idx[waits]
        st = self.station[w]
        rad = np.sqrt(RING_IN**2 + self.place[w] * (outer[st] ** 2 - RING_IN**2))
        wx = g.pos[st, 0] + rad * np.cos(self.angle[w])
        wy = g.pos[st, 1] + rad * np.sin(self.angle[w])
        keep_w = ~dense[st]
        # moving dots: along their route's polyline, bent a little to one side when slow
        m = idx[~waits]
        p = (t - self.depart[m]) / np.maximum(self.arrive[m] - self.depart[m], 1e-6)
        mx, my = self._along(self.route[m], p)
        bend = self.offset[m] * np.sin(math.pi * p)
        mx, my = mx[0] - mx[1] * bend, my[0] + my[1] * bend
        both = np.concatenate([w[keep_w], m])
        order = np.argsort(both, kind="stable")             # the drawing order: the legs' order
        sel = both[order]
        return Frame(
            x=np.concatenate([wx[keep_w], mx])[order], y=np.concatenate([wy[keep_w], my])[order],
            colour=self.colour[sel], child=self.child[sel],
            moving=np.concatenate([np.zeros(int(keep_w.sum()), bool), np.ones(m.size, bool)])[order],
            station=np.concatenate([st[keep_w], np.full(m.size, -1)])[order],
            waiting=waiting, ring_outer=outer, ring_dense=dense, ring_alpha=np.where(dense, ring_shade(waiting, g.few), 0),
        )

    def _along(self, route: np.ndarray, p: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray],
                                                                  tuple[np.ndarray, np.ndarray]]:
        """((x, uy), (y, ux)): the point at fraction ``p`` of each route and its unit direction (network.js
        ``along``)."""
        n = self.count[route]
        d = p * self.length[route]
        cum = self.along[route]                                   # (k, 31), +inf past the last point
        inner = np.arange(cum.shape[1])
        before = (cum < d[:, None]) & (inner >= 1) & (inner < (n - 1)[:, None])
        e = np.minimum(1 + before.sum(axis=1), np.maximum(n - 1, 1))
        rows = np.arange(route.size)
        a, b = self.xy[route, e - 1], self.xy[route, e]
        ca, cb = cum[rows, e - 1], cum[rows, e]
        f = np.clip((d - ca) / np.maximum(np.where(np.isfinite(cb), cb, ca) - ca, 1e-6), 0, 1)
        dx, dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
        length = np.hypot(dx, dy)
        length = np.where(length > 0, length, 1.0)
        single = n < 2
        x = np.where(single, self.xy[route, 0, 0], a[:, 0] + dx * f)
        y = np.where(single, self.xy[route, 0, 1], a[:, 1] + dy * f)
        ux, uy = np.where(single, 0, dx / length), np.where(single, 0, dy / length)
        return (x, uy), (y, ux)


def drawable(tracks: Any, geometry: MapGeometry, colour_by: str = "repeat") -> Dots:
    """The legs of ``tracks`` as the browser draws them (data.js ``buildLegs``), sorted by departure; colour is
    the palette index (repeat involvement 1..6+ as 0..5, else the child's code of attribute ``colour_by``)."""
    child = np.asarray(tracks.child, dtype="int64")
    dep0 = np.asarray(tracks.depart, dtype="float32").astype("float64")
    arr0 = np.asarray(tracks.arrive, dtype="float32").astype("float64")
    frm, to = np.asarray(tracks.from_, dtype="int64"), np.asarray(tracks.to, dtype="int64")
    idx = np.lexsort((dep0, child))
    child, dep0, arr0, frm, to = child[idx], dep0[idx], arr0[idx], frm[idx], to[idx]
    repeat = np.asarray(tracks.repeat)[idx]
    n = child.size
    day = np.floor(dep0)
    # runs of legs of one child departing on one day: spread over the day when several or one is same-day
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = (child[1:] != child[:-1]) | (day[1:] != day[:-1])
    run = np.cumsum(new_run) - 1
    starts = np.flatnonzero(new_run)
    size = np.diff(np.r_[starts, n])
    short = np.maximum.reduceat((arr0 - dep0 < 1).astype("int8"), starts).astype(bool) if n else np.zeros(0, bool)
    k = np.arange(n) - starts[run]
    count = size[run]
    spread = short[run] | (count > 1)
    dep = np.where(spread, day + k / count, dep0)
    arr = np.where(spread, np.maximum(arr0, day + (k + 1) / count), arr0)
    last = np.ones(n, dtype=bool)
    last[:-1] = child[1:] != child[:-1]
    nxt = np.r_[dep[1:], 0.0] if n else dep
    exits = np.array([s.get("zone") == "exit" for s in geometry.stations] + [False])
    to_i = np.where(to == OUTSIDE, len(geometry.stations), to)
    until = np.where(~last, np.maximum(nxt, dep),
                     np.where(to == OUTSIDE, arr, np.where(exits[to_i], arr + EXIT_LINGER, FOREVER)))
    by_day = np.argsort(np.floor(dep), kind="stable")       # by departure day (the browser's counting sort)
    # then grouped by how long a dot stays visible (the browser's span groups), by departure day in each group
    cls = np.searchsorted(SPANS, (until - dep)[by_day], side="left")
    order = by_day[np.argsort(cls, kind="stable")]
    sizes = np.bincount(cls, minlength=len(SPANS) + 1)
    bounds = np.r_[0, np.cumsum(sizes)]
    groups = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
    pairs = frm[order] * 65536 + to[order]
    uniq, first = np.unique(pairs, return_index=True)
    route_of = {int(p): geometry.route_of(int(p) // 65536, int(p) % 65536) for p in uniq[np.argsort(first)]}
    route = np.array([route_of[int(p)] for p in uniq], dtype="int64")[np.searchsorted(uniq, pairs)]
    still = np.array([len(v) < 2 for v in geometry.routes])[route]
    c = child[order]
    took = arr0[order] - dep0[order]
    side = np.where(js_hash(c * 7 + 3) < 0.5, -1.0, 1.0)
    offset = side * MAX_OFF * np.minimum(1.0, np.log1p(np.maximum(0, took) / 7) / math.log1p(52))
    f, t = frm[order], to[order]
    station = np.where(t == OUTSIDE, np.where(f == OUTSIDE, 0, f), t)
    if colour_by == "repeat":
        colour = np.clip(repeat[order].astype("int64"), 1, 6) - 1
    else:
        codes = tracks.codes.get(colour_by)
        colour = np.minimum(codes[c], 15) if codes is not None else np.zeros(n, "int64")
    f32 = np.float32
    d = dep[order].astype(f32).astype("float64")               # the browser keeps times as float32
    u = until[order].astype(f32).astype("float64")
    max_until = np.empty(n)
    for g0, g1 in groups:                                       # running latest "until" in each group
        max_until[g0:g1] = np.maximum.accumulate(until[order][g0:g1])
    return Dots(geometry, route, d, np.where(still, d, arr[order].astype(f32)), u, offset.astype(f32),
                (2 * math.pi * js_hash(c)).astype(f32), js_hash(c + 0x5BD1E995).astype(f32), station, c, colour,
                groups, max_until.astype(f32).astype("float64"))


def _first(values: np.ndarray, lo: int, hi: int, cond: Any) -> int:
    """The browser's binary search: the first index in [lo, hi) where ``cond`` holds (assuming it holds from
    there on; on an array sorted by day only, it probes the same places the browser does)."""
    while lo < hi:
        m = (lo + hi) >> 1
        if cond(float(values[m])):
            hi = m
        else:
            lo = m + 1
    return lo
