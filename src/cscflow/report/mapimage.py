"""A still of the process map on one date, drawn without a browser (matplotlib): SVG or PNG.

The geometry is the map's (:class:`cscflow.journeys.maps.ProcessMap`: the stations' x, y and the lines' colours,
as ``/api/map`` serves them); each station is a circle whose area grows with the children there on the date
(:func:`cscflow.journeys.flow.stations_on`), labelled with that count after disclosure control (the
``caseload`` rule: a count of 1-4 is written "<5" and drawn at the size of 5). No total is written, so no hidden
count can be had back by difference.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cscflow.errors import AnalysisError

#: the default picture size in pixels (width, height)
SIZE = (1200, 700)
DPI = 100


def station_counts(ws: Any, pmap: Any, date: Any, where: dict[str, Any] | None = None) -> Any:
    """Children at each station on ``date``, disclosed (a :class:`cscflow.disclosure.Disclosed` of
    station, children with counts of 1-4 as "<5")."""
    from cscflow.disclosure import disclose
    from cscflow.journeys.flow import stations_on

    day = pd.Timestamp(date)
    raw = stations_on(ws, pmap, day, where=where)
    method = (f"Children at each station of the process map on {day:%d %B %Y} (a child is at a station from the "
              "day a stay there starts until the day before it ends); circles' areas grow with the count.")
    from cscflow.report.build import _where

    window = f"the workspace's stays on {day:%Y-%m-%d}" + (f"; cohort {_where(where)}" if where else "") + "."
    return disclose(raw[["station", "children"]], "caseload", method=method, window=window)


def map_figure(pmap: Any, counts: pd.DataFrame, date: Any, size: tuple[int, int] = SIZE,
               title: str | None = None, caption: str = "") -> Any:
    """A matplotlib figure of the map with the disclosed ``counts`` (station, children) on ``date``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    w, h = size
    if w < 200 or h < 150:
        raise AnalysisError(f"a map picture of {w}x{h} pixels is too small", hint="ask for at least 200x150")
    fig = Figure(figsize=(w / DPI, h / DPI), dpi=DPI)
    ax = fig.add_axes((0.02, 0.12 if caption else 0.04, 0.96, 0.8 if caption else 0.86))
    ax.set_axis_off()
    pos = {s["id"]: (float(s["x"]), float(s["y"])) for s in pmap.stations
           if s.get("x") is not None and s.get("y") is not None}
    if not pos:
        raise AnalysisError(f"the map {pmap.name!r} has no station positions", hint="give its stations x and y")
    for k, line in enumerate(pmap.lines):
        pts = [pos[s] for s in line["stations"] if s in pos]
        if len(pts) > 1:
            off = (k % 3 - 1) * 0.03  # parallel lines a little apart, as on the web map
            ax.plot([p[0] for p in pts], [p[1] + off for p in pts], color=line["colour"], lw=4, alpha=0.85,
                    solid_capstyle="round", zorder=1, label=line.get("label", line["id"]))
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(max(ys) + 0.8, min(ys) - 0.8)  # y grows downwards, as on the web map
    shown = dict(zip(counts["station"].astype(str), counts["children"], strict=True)) if len(counts) else {}
    biggest = max([v for v in shown.values() if isinstance(v, int | float)] + [5])
    exits = set(pmap.exit_ids)
    rings: list[tuple[str, float, float, float]] = []
    for s in pmap.stations:
        if s["id"] not in pos:
            continue
        x, y = pos[s["id"]]
        value = shown.get(s["id"], 0)
        n = 5 if isinstance(value, str) else float(value)
        area = 60 + 1400 * (n / biggest) if n else 40
        ax.scatter([x], [y], s=area, facecolor="white" if not n else "#0b0c0c", edgecolor="#0b0c0c",
                   alpha=0.25 if s["id"] in exits else 0.9, linewidths=1.5, zorder=2)
        rings.append((s["id"], x, y, (area / 3.1416) ** 0.5))  # the circle's radius in points
        if n:
            ax.annotate(f"{value:,}" if not isinstance(value, str) else value, (x, y),
                        xytext=(0, (area / 3.1416) ** 0.5 + 2), textcoords="offset points", ha="center",
                        va="bottom", fontsize=10, fontweight="bold", color="#0b0c0c", zorder=3)
    label_stations(fig, ax, pmap, rings)
    ax.legend(loc="lower right", fontsize=8, frameon=False, ncol=min(4, max(1, len(pmap.lines))))
    fig.suptitle(title or f"Children at each station on {pd.Timestamp(date):%d %B %Y}", x=0.02, ha="left",
                 fontsize=14)
    if caption:
        fig.text(0.02, 0.02, caption, fontsize=7, color="#505a5f", ha="left", va="bottom", wrap=True)
    return fig


def label_stations(fig: Any, ax: Any, pmap: Any, rings: list[tuple[str, float, float, float]]) -> list[Any]:
    """Write each station's label (wrapped at 16 characters) where it overlaps no other label, count or circle:
    under the circle, else beside it (right, left), else above its count; where every place is taken, the
    least crowded. Returns the label texts (their extents are what tests read)."""
    import textwrap

    from matplotlib import patheffects
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    renderer = (fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)).get_renderer()
    to_px = 72.0 / fig.dpi  # points per pixel
    taken = [t.get_window_extent(renderer) for t in ax.texts]  # the counts, written already
    for _id, x, y, r in rings:
        cx, cy = ax.transData.transform((x, y))
        rp = r / to_px
        taken.append(Bbox.from_extents(cx - rp, cy - rp, cx + rp, cy + rp))
    frame = ax.get_window_extent(renderer)
    line_px = np.concatenate([_samples(ax.transData.transform(np.column_stack([ln.get_xdata(), ln.get_ydata()])))
                              for ln in ax.get_lines()] or [np.empty((0, 2))])
    out = []
    by_id = {s["id"]: s for s in pmap.stations}
    for sid, x, y, r in rings:
        text = "\n".join(textwrap.wrap(str(by_id[sid].get("label", sid)), 16)) or sid
        spots = [((0, -r - 3), "center", "top"), ((r + 4, 0), "left", "center"), ((-r - 4, 0), "right", "center"),
                 ((0, r + 18), "center", "bottom")]
        best: tuple[float, Any] | None = None
        for offset, ha, va in spots:
            t = ax.annotate(text, (x, y), xytext=offset, textcoords="offset points", ha=ha, va=va, fontsize=8,
                            color="#505a5f", zorder=3, linespacing=1.0)
            box = t.get_window_extent(renderer)
            on_lines = int(((line_px[:, 0] > box.x0) & (line_px[:, 0] < box.x1) & (line_px[:, 1] > box.y0)
                            & (line_px[:, 1] < box.y1)).sum())  # a line under the words: readable, less so
            crowd = sum(_overlap(box, o) for o in taken) + 4 * _outside(box, frame) + 2 * on_lines
            if best is None or crowd < best[0]:
                if best is not None:
                    best[1].remove()
                best = (crowd, t)
            else:
                t.remove()
            if crowd == 0:
                break
        assert best is not None
        best[1].set_path_effects([patheffects.withStroke(linewidth=3, foreground="white")])
        taken.append(best[1].get_window_extent(renderer))
        out.append(best[1])
    return out


def _samples(points: Any, step: float = 3.0) -> Any:
    """Points every ``step`` pixels along the polyline ``points`` (display coordinates)."""
    out = [points[:1]]
    for a, b in zip(points[:-1], points[1:], strict=True):
        k = max(int(np.hypot(*(b - a)) / step), 1)
        out.append(a + (b - a) * (np.arange(1, k + 1)[:, None] / k))
    return np.concatenate(out)


def _overlap(a: Any, b: Any) -> float:
    """The area (pixels) two boxes share."""
    w = float(min(a.x1, b.x1) - max(a.x0, b.x0))
    h = float(min(a.y1, b.y1) - max(a.y0, b.y0))
    return max(w, 0.0) * max(h, 0.0)


def _outside(box: Any, frame: Any) -> float:
    """The area (pixels) of ``box`` outside ``frame``."""
    return float(box.width * box.height) - _overlap(box, frame)


def save(fig: Any, path: str | Path) -> Path:
    """Write a matplotlib figure as .svg or .png (by extension) at its own size in pixels."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".svg", ".png"):
        raise AnalysisError(f"cannot write {path.name}: unknown extension {ext or '(none)'}", hint="use .svg or .png")
    path.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".svg":
        path.write_text(svg_text(fig), encoding="utf-8")
    else:
        fig.savefig(path, format="png", dpi=DPI)
    return path


def svg_text(fig: Any) -> str:
    """The figure as SVG text with its words as text (searchable, small), without the XML prolog."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "cscflow"}):
        fig.savefig(buf, format="svg", dpi=DPI, metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]
