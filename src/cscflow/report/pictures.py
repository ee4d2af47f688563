"""PNG and SVG of a chart without a browser: the disclosed plotly figure redrawn with matplotlib.

plotly's own image export (kaleido) drives a Chrome of its own, which a locked-down council PC may not
allow; matplotlib draws in-process with no browser. What is drawn is the figure's data (the one
:meth:`cscflow.analytics.Result.figure_for` built from the disclosed table), so the picture carries the same
numbers as the web chart: scatter traces as lines, steps ("hv"), markers and shaded bands (``tonexty``),
bars (stacked as plotly's ``relative``/``stack``), and Sankey diagrams as columns of nodes joined by bands;
the title, axis titles and the method, data window and disclosure caption are written on it.
"""

from __future__ import annotations

import base64
import re
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from cscflow.errors import AnalysisError

SIZE = (1000, 650)
DPI = 100
_TAG = re.compile(r"<[^>]+>")
_DTYPES = {"f8": "<f8", "f4": "<f4", "i4": "<i4", "i2": "<i2", "i1": "i1", "u1": "u1", "u2": "<u2", "u4": "<u4",
           "i8": "<i8", "u8": "<u8"}


def plain(text: Any) -> str:
    """Plotly's HTML-ish text (``<br>``, tags) as plain lines."""
    if not text:
        return ""
    return _TAG.sub("", str(text).replace("<br>", "\n")).strip()


def _arr(v: Any) -> np.ndarray:
    """A trace's data as an array (plotly may store it as base64 ``bdata``)."""
    if v is None:
        return np.array([])
    if isinstance(v, dict) and "bdata" in v:
        out = np.frombuffer(base64.b64decode(v["bdata"]), dtype=_DTYPES.get(v.get("dtype", "f8"), "<f8"))
        return out.reshape(v["shape"]) if "shape" in v and isinstance(v["shape"], list) else out
    return np.asarray(v, dtype=object)


def _num(v: Any) -> np.ndarray:
    a = _arr(v)
    try:
        return a.astype(float)
    except (TypeError, ValueError):
        return a


def figure(fig: Any, size: tuple[int, int] = SIZE) -> Any:
    """A matplotlib figure drawing plotly figure ``fig`` (a ``go.Figure`` or its dict) at ``size`` pixels."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    spec = fig if isinstance(fig, dict) else fig.to_plotly_json()
    layout = spec.get("layout", {})
    traces = list(spec.get("data", []))
    notes = [plain(a.get("text")) for a in layout.get("annotations", []) or []]
    caption = "\n".join(line for n in notes for para in n.split("\n") for line in textwrap.wrap(para, max(60, int(size[0] / 5.3))))
    w, h = size
    if w < 200 or h < 150:
        raise AnalysisError(f"a picture of {w}x{h} pixels is too small", hint="ask for at least 200x150")
    out = Figure(figsize=(w / DPI, h / DPI), dpi=DPI)
    n_cap = caption.count("\n") + 1 if caption else 0
    bottom = min(0.5, 0.1 + n_cap * 11 / h)
    heading = layout.get("title") or {}
    title = "\n".join(t for t in (plain(heading.get("text")), plain((heading.get("subtitle") or {}).get("text"))) if t)
    n_title = title.count("\n") + 1 if title else 0
    top = max(bottom + 0.25, 0.93 - 0.035 * max(0, n_title - 1))
    ax = out.add_axes((0.08, bottom, 0.9, top - bottom))
    if any(t.get("type") == "sankey" for t in traces):
        for t in traces:
            if t.get("type") == "sankey":
                _sankey(ax, t)
    else:
        _xy(ax, traces, layout)
    if title:
        out.suptitle("\n".join(textwrap.wrap(title.split("\n")[0], 110)), x=0.02, y=0.99, ha="left", va="top",
                     fontsize=12)
    if caption:
        out.text(0.02, 0.01, caption, fontsize=6.5, color="#444444", ha="left", va="bottom")
    return out


def _xy(ax: Any, traces: list[dict[str, Any]], layout: dict[str, Any]) -> None:
    from cscflow.analytics.plotting import PALETTE

    stack: dict[Any, float] = {}
    prev: tuple[np.ndarray, np.ndarray] | None = None
    bars = [t for t in traces if t.get("type") == "bar"]
    cats: list[Any] = []
    for t in bars:
        for x in _arr(t.get("x")).tolist():
            if x not in cats:
                cats.append(x)
    colour_i = 0
    for t in traces:
        kind = t.get("type", "scatter")
        name = t.get("name") or ""
        legend = t.get("showlegend", True) is not False and bool(name)
        line = t.get("line") or {}
        marker = t.get("marker") or {}
        colour = line.get("color") or (marker.get("color") if isinstance(marker.get("color"), str) else None)
        if kind == "bar":
            colour = colour or PALETTE[colour_i % len(PALETTE)]
            colour_i += 1
            x, y = _arr(t.get("x")).tolist(), _num(t.get("y"))
            pos = [cats.index(v) for v in x]
            base = [stack.get(p, 0.0) for p in pos]
            yv = np.nan_to_num(y.astype(float))
            ax.bar(pos, yv, bottom=base, color=colour, label=name if legend else None, width=0.8)
            for p, v in zip(pos, yv, strict=True):
                stack[p] = stack.get(p, 0.0) + float(v)
            ax.set_xticks(range(len(cats)), [str(c) for c in cats], rotation=45 if len(cats) > 8 else 0,
                          fontsize=8)
            continue
        if kind not in ("scatter", "scattergl"):
            continue
        x, y = _num(t.get("x")), _num(t.get("y"))
        if x.dtype == object:  # categories or dates: drawn in order
            x = np.array([str(v) for v in x], dtype=object)
        mode = t.get("mode") or "lines"
        width = line.get("width", 2)
        draw = "steps-post" if line.get("shape") == "hv" else "default"
        if t.get("fill") == "tonexty" and prev is not None and len(prev[0]) == len(x):
            c = t.get("fillcolor") or colour or "#1f77b4"
            ax.fill_between(x.astype(float), prev[1].astype(float), y.astype(float), step="post" if draw !=
                            "default" else None, color=_mpl_colour(c), linewidth=0)
        if "lines" in mode and width:
            colour = colour or PALETTE[colour_i % len(PALETTE)]
            colour_i += 1
            ls = {"dash": "--", "dot": ":", "dashdot": "-."}.get(str(line.get("dash")), "-")
            ax.plot(x, y, drawstyle=draw, color=_mpl_colour(colour), lw=width, ls=ls,
                    label=name if legend else None, marker="o" if "markers" in mode else None, ms=4)
        elif "markers" in mode:
            c = colour or PALETTE[colour_i % len(PALETTE)]
            colour_i += 1
            sym = {"diamond": "D", "star": "*", "square": "s"}.get(str(marker.get("symbol")), "o")
            size = marker.get("size", 7)
            ax.scatter(x, y, color=_mpl_colour(c), marker=sym, s=(size if isinstance(size, int | float) else 7) ** 2,
                       label=name if legend else None, zorder=3)
        prev = (x, y)
    for axis, key in ((ax.xaxis, "xaxis"), (ax.yaxis, "yaxis")):
        a = layout.get(key) or {}
        label = plain((a.get("title") or {}).get("text"))
        if label:
            axis.set_label_text(label)
        if a.get("type") == "log":
            (ax.set_xscale if key == "xaxis" else ax.set_yscale)("log")
    ax.grid(True, color="#e5e5e5", lw=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, frameon=False)


def _mpl_colour(c: str) -> Any:
    """A plotly colour (#hex, rgb(), rgba()) as matplotlib takes it."""
    m = re.match(r"rgba?\(([^)]*)\)", str(c).replace(" ", ""))
    if not m:
        return c
    parts = [float(p) for p in m.group(1).split(",")]
    rgb = tuple(p / 255 for p in parts[:3])
    return (*rgb, parts[3]) if len(parts) == 4 else rgb


def _sankey(ax: Any, t: dict[str, Any]) -> None:
    """Nodes in columns by their depth from the sources, heights by flow, links as straight-edged bands."""
    from matplotlib.patches import Polygon, Rectangle

    from cscflow.analytics.plotting import PALETTE

    labels = [str(v) for v in _arr((t.get("node") or {}).get("label")).tolist()]
    link = t.get("link") or {}
    src = [int(v) for v in _num(link.get("source"))]
    tgt = [int(v) for v in _num(link.get("target"))]
    val = [float(v) for v in _num(link.get("value"))]
    n = len(labels)
    depth = [0] * n
    for _ in range(n):
        for s, g in zip(src, tgt, strict=True):
            depth[g] = max(depth[g], depth[s] + 1)
    size = [max(sum(v for s, v in zip(src, val, strict=True) if s == i),
                sum(v for g, v in zip(tgt, val, strict=True) if g == i)) for i in range(n)]
    cols = max(depth, default=0) + 1
    total = max([sum(size[i] for i in range(n) if depth[i] == c) for c in range(cols)] + [1.0])
    gap = 0.04
    y0: dict[int, float] = {}
    for c in range(cols):
        members = [i for i in range(n) if depth[i] == c]
        y = 0.0
        for i in members:
            y0[i] = y
            y += size[i] / total * (1 - gap * max(0, len(members) - 1)) + gap
    out_at = dict(y0)
    in_at = dict(y0)
    xw = 0.02
    for k, (s, g, v) in enumerate(zip(src, tgt, val, strict=True)):
        hgt = v / total * (1 - gap * 3)
        xs, xg = depth[s] / max(1, cols - 1) * 0.9 + xw, depth[g] / max(1, cols - 1) * 0.9
        a, b = out_at[s], in_at[g]
        ax.add_patch(Polygon([(xs, a), (xg, b), (xg, b + hgt), (xs, a + hgt)], closed=True,
                             color=PALETTE[s % len(PALETTE)], alpha=0.3, lw=0))
        out_at[s] += hgt
        in_at[g] += hgt
        del k
    for i in range(n):
        x = depth[i] / max(1, cols - 1) * 0.9
        hgt = size[i] / total * (1 - gap * 3)
        ax.add_patch(Rectangle((x, y0[i]), xw, hgt, color=PALETTE[i % len(PALETTE)]))
        ha = "right" if depth[i] == cols - 1 and cols > 1 else "left"
        ax.text(x - 0.005 if ha == "right" else x + xw + 0.005, y0[i] + hgt / 2, f"{labels[i]} ({size[i]:,.0f})",
                ha=ha, va="center", fontsize=8)
    ax.set_xlim(-0.02, 0.94)
    ax.set_ylim(1.05, -0.05)
    ax.set_axis_off()


def save(fig: Any, path: str | Path, size: tuple[int, int] = SIZE) -> Path:
    """Write plotly figure ``fig`` as .png or .svg (by extension) at ``size`` pixels, no browser needed."""
    from cscflow.report.mapimage import save as save_mpl

    return save_mpl(figure(fig, size), path)
