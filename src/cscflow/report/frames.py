"""Video frames of the map, drawn fast with numpy: the web map's look (map.js ``paintMap``: dark ground, zones,
lines, stations) painted once by matplotlib, then per frame the dots stamped as anti-aliased discs, the labels laid
over them, the density rings and the disclosed station counts, the date and the legend.

A :class:`Painter` is made once per video (:meth:`Painter.frame` then costs a few milliseconds for tens of
thousands of dots): the background and the labels are pictures, the dots a few vectorised passes (coverage of each
pixel by each dot summed with ``np.bincount``), the texts small sprites cached by their string.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from cscflow.journeys.dots import Frame
from cscflow.journeys.geometry import MapGeometry

BG = "#0f1822"
MUTED = "#93a4b5"
DOT_PX = 5.0           # a dot's diameter (px), as in the browser
DOT_ALPHA = 0.9
RING_COLOUR = np.array([252, 213, 197], dtype="float32")
REPEAT = ["#ffffff", "#fcd5c5", "#f9a58a", "#f06a4f", "#cc2a26", "#8b0000"]
REPEAT_LABELS = ["1st time", "2nd", "3rd", "4th", "5th", "6th or more"]
CATEGORIES = ["#56b4e9", "#e69f00", "#009e73", "#f0e442", "#cc79a7", "#d55e00", "#0072b2", "#999999",
              "#88ccee", "#ddcc77", "#117733", "#cc6677", "#44aa99", "#aa4499", "#882255", "#dddddd"]
#: px kept under the map for the legend and the disclosure line
BAND = 44
DPI = 100


def rgb(hex_colour: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` as a tuple of 0-255 ints."""
    v = int(hex_colour.lstrip("#"), 16)
    return (v >> 16) & 255, (v >> 8) & 255, v & 255


@lru_cache(maxsize=8)
def _font(size: int, bold: bool) -> Any:
    from pathlib import Path

    import matplotlib
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), size)


@lru_cache(maxsize=4096)
def sprite(text: str, size: int, bold: bool, colour: str, outline: int = 3) -> np.ndarray:
    """``text`` as an RGBA float32 sprite (premultiplied), outlined in the ground colour like the web map's text."""
    from PIL import Image, ImageDraw

    font = _font(size, bold)
    box = font.getbbox(text, stroke_width=outline)
    w, h = box[2] - box[0] + 2, box[3] - box[1] + 2
    img = Image.new("RGBA", (max(w, 1), max(h, 1)), (0, 0, 0, 0))
    ImageDraw.Draw(img).text((1 - box[0], 1 - box[1]), text, font=font, fill=(*rgb(colour), 255),
                             stroke_width=outline, stroke_fill=(*rgb(BG), 255))
    a = np.asarray(img, dtype="float32") / 255.0
    a[..., :3] *= a[..., 3:4]
    return a


def blend(frame: np.ndarray, sp: np.ndarray, x: float, y: float) -> None:
    """Lay premultiplied RGBA sprite ``sp`` on ``frame`` (H x W x 3 uint8) with its top left at (x, y)."""
    h, w = sp.shape[:2]
    x0, y0 = round(x), round(y)
    fx0, fy0, fx1, fy1 = max(x0, 0), max(y0, 0), min(x0 + w, frame.shape[1]), min(y0 + h, frame.shape[0])
    if fx1 <= fx0 or fy1 <= fy0:
        return
    s = sp[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]
    region = frame[fy0:fy1, fx0:fx1].astype("float32")
    frame[fy0:fy1, fx0:fx1] = (region * (1 - s[..., 3:4]) + s[..., :3] * 255).astype("uint8")


class Painter:
    """Paints frames of ``geometry`` (a stage of width x height px) into a ``size`` picture."""

    def __init__(self, geometry: MapGeometry, size: tuple[int, int], palette: list[str],
                 legend: list[tuple[str, str]], legend_head: str, footnote: str) -> None:
        self.g = geometry
        self.w, self.h = size
        self.palette = np.array([rgb(c) for c in palette] + [(255, 255, 255)] * (16 - len(palette)),
                                dtype="float32")[:16]
        self.background = self._paint_map(legend, legend_head, footnote)
        self.labels = self._paint_labels()
        ky, kx = np.mgrid[-3:4, -3:4].astype("int32")
        self.kx, self.ky = kx.ravel(), ky.ravel()
        reach = int(math.ceil(float(self.g.caps.max()))) + 2
        yy, xx = np.mgrid[0 : 2 * reach + 1, 0 : 2 * reach + 1]
        self.ring_reach = reach
        self.ring_grid = (xx, yy)

    # ---- once per video -------------------------------------------------------------------------------------
    def _figure(self) -> tuple[Any, Any]:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(self.w / DPI, self.h / DPI), dpi=DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, self.w)
        ax.set_ylim(self.h, 0)
        ax.set_axis_off()
        return fig, ax

    def _paint_map(self, legend: list[tuple[str, str]], head: str, footnote: str) -> np.ndarray:
        """Zones, lines (added ones beneath, dashed), stations, the legend and the footnote (map.js paintMap)."""
        from matplotlib.patches import Circle, FancyBboxPatch

        fig, ax = self._figure()
        fig.patch.set_facecolor(BG)
        pt = 72 / DPI   # points per pixel
        g = self.g
        zones: dict[str, list[int]] = {}
        self.zone_titles: list[tuple[str, float, float, float, float]] = []
        for i, s in enumerate(g.stations):
            zones.setdefault(str(s.get("zone")), []).append(i)
        for zone, members in zones.items():
            if zone == "exit" or zone == "None":
                continue
            p = g.pos[members]
            x, y = p[:, 0].min() - 30, p[:, 1].min() - 30
            w, h = np.ptp(p[:, 0]) + 60, np.ptp(p[:, 1]) + 60
            ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=14",
                                        facecolor=(1, 1, 1, 0.035), edgecolor=(1, 1, 1, 0.12), lw=1 * pt))
            self.zone_titles.append((zone.upper(), x, y, w, h))
        for sg in sorted(g.segments, key=lambda s: -int(s.added)):
            ax.plot([sg.x1, sg.x2], [sg.y1, sg.y2], color=sg.colour, lw=sg.width * pt,
                    alpha=0.55 if sg.added else 0.85, solid_capstyle="round", dash_capstyle="round",
                    ls=(0, (3 / sg.width, 4 / sg.width)) if sg.added else "-")
        for s, (x, y) in zip(g.stations, g.pos, strict=True):
            if s.get("zone") == "exit":
                ax.add_patch(FancyBboxPatch((x - 8, y - 8), 16, 16, boxstyle="round,pad=0,rounding_size=4",
                                            facecolor=BG, edgecolor="#b1b4b6", lw=3 * pt))
            else:
                ax.add_patch(Circle((x, y), 9, facecolor="#ffffff", edgecolor=BG, lw=3 * pt))
        top = self.h - BAND
        ax.text(12, top + 14, head, color=MUTED, fontsize=11 * pt, va="center")
        x = 12 + len(head) * 6.2 + 14
        for colour, label in legend:
            ax.add_patch(Circle((x + 5, top + 14), 5, facecolor=colour, edgecolor="none"))
            ax.text(x + 14, top + 14, label, color="#e8edf2", fontsize=11 * pt, va="center")
            x += 24 + len(label) * 6.6
        ax.text(12, top + 34, footnote, color=MUTED, fontsize=10 * pt, va="center")
        fig.canvas.draw()
        return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()

    def _paint_labels(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Station labels (beside each ring where they cross fewest lines, as the browser places them) on a
        transparent picture, kept sparse: (flat pixel index, premultiplied rgb, alpha)."""
        import matplotlib.patheffects as pe

        fig, ax = self._figure()
        fig.patch.set_alpha(0)
        placed: list[tuple[float, float, float, float]] = []
        self.count_at: list[tuple[float, float]] = []
        g = self.g
        for i in range(len(g.stations)):
            x, y = g.pos[i]
            d = (float(g.caps[i]) + 1) / math.sqrt(2) + 1
            self.count_at.append((x + d, y - d - 18))
            placed.append((x + d, y - d - 18, x + d + 60, y - d))
        for i, s in enumerate(g.stations):
            x, y = g.pos[i]
            r = float(g.caps[i]) + 2
            parts = _wrap(str(s.get("label") or s["id"]), 13)
            half = max(len(p) for p in parts) * 3.5 + 3
            tall = 13 * len(parts) + 3
            spots = [(x, y + r), (x, y - r - tall), (x + r + half, y - tall / 2), (x - r - half, y - tall / 2)]
            boxes = [(cx - half, top, cx + half, top + tall) for cx, top in spots]
            ok = [b for b in boxes if b[0] >= 2 and b[2] <= self.w - 2 and b[1] >= 2 and b[3] <= self.h - BAND
                  and not any(_overlaps(b, p) for p in placed)]
            box = min(ok or boxes[:1], key=lambda b: sum(_crosses(b, sg) * (1 if sg.added else 2)
                                                        for sg in g.segments))
            placed.append(box)
            for k, part in enumerate(parts):
                t = ax.text((box[0] + box[2]) / 2, box[1] + 12 + 13 * k, part, color="#e8edf2",
                            fontsize=12 * 72 / DPI * 0.92, ha="center", va="baseline")
                t.set_path_effects([pe.withStroke(linewidth=4 * 72 / DPI, foreground=BG)])
        for text, x, y, w, h in self.zone_titles:   # on the zone's edge, clear of the labels, else inside
            tw = len(text) * 8.0 + 4
            boxes = [(bx, by, bx + tw, by + 14) for by in (y - 16, y + 4, y + h + 2, y + h - 18)
                     for bx in (x + 6, x + w - tw - 8)]
            box = next((b for b in boxes if b[1] >= 2 and not any(_overlaps(b, p) for p in placed)), boxes[1])
            placed.append(box)
            ax.text(box[0] + 2, box[1] + 11, text, color=MUTED, fontsize=11 * 72 / DPI, fontweight="bold",
                    va="baseline")
        fig.canvas.draw()
        img = np.asarray(fig.canvas.buffer_rgba()).astype("float32") / 255.0
        flat = img.reshape(-1, 4)
        idx = np.flatnonzero(flat[:, 3] > 0.004)
        a = flat[idx, 3:4]
        return idx, flat[idx, :3] * 255 * a, a  # agg's buffer is not premultiplied

    # ---- per frame ------------------------------------------------------------------------------------------
    def frame(self, dots: Frame, counts: list[str], date_text: str) -> np.ndarray:
        """One frame (H x W x 3 uint8): the map, ``dots``, labels, density rings, ``counts`` by station, date."""
        out = self.background.copy()
        self._stamp(out, dots)
        flat = out.reshape(-1, 3)
        idx, col, a = self.labels
        flat[idx] = (flat[idx] * (1 - a) + col).astype("uint8")
        self._rings(out, dots)
        for (x, y), text in zip(self.count_at, counts, strict=True):
            if text:
                blend(out, sprite(text, 12, True, "#ffffff"), x, y)
        blend(out, sprite(date_text, 24, True, "#ffffff"), 14, 12)
        return out

    def _stamp(self, out: np.ndarray, f: Frame) -> None:
        """Anti-aliased discs of :data:`DOT_PX` at the dots' positions, ``DOT_ALPHA`` opaque, blended once per
        pixel (coverage summed over the dots, colour their coverage-weighted mean)."""
        if not f.x.size:
            return
        h, w = out.shape[:2]
        x, y = f.x.astype("float32"), f.y.astype("float32")
        fx, fy = np.floor(x).astype("int32"), np.floor(y).astype("int32")
        px = fx[:, None] + self.kx[None, :]
        py = fy[:, None] + self.ky[None, :]
        dx, dy = px + np.float32(0.5) - x[:, None], py + np.float32(0.5) - y[:, None]
        cov = np.clip(np.float32(DOT_PX / 2 + 0.5) - np.sqrt(dx * dx + dy * dy), 0, 1)
        ok = (cov > 0) & (px >= 0) & (px < w) & (py >= 0) & (py < h)
        pix = (py * w + px)[ok]
        c = cov[ok]
        colours = self.palette[np.broadcast_to(np.clip(f.colour, 0, 15)[:, None], ok.shape)[ok]]
        # the pixels touched, numbered 0..k-1 without a sort: a full-frame scratch of slots (written before read)
        slot = self._slots(h * w)
        m = np.arange(pix.size, dtype="int32")
        slot[pix] = m
        first = np.flatnonzero(slot[pix] == m)            # one entry per touched pixel
        hit = pix[first]
        slot[hit] = np.arange(hit.size, dtype="int32")
        inv = slot[pix]
        total = np.bincount(inv, weights=c, minlength=hit.size)
        sums = np.column_stack([np.bincount(inv, weights=c * colours[:, k], minlength=hit.size) for k in range(3)])
        alpha = (DOT_ALPHA * np.minimum(total, 1.0))[:, None]
        flat = out.reshape(-1, 3)
        flat[hit] = (flat[hit] * (1 - alpha) + sums / total[:, None] * alpha).astype("uint8")

    def _slots(self, n: int) -> np.ndarray:
        scratch: np.ndarray | None = getattr(self, "_scratch", None)
        if scratch is None or scratch.size != n:
            scratch = self._scratch = np.zeros(n, dtype="int32")
        return scratch

    def _rings(self, out: np.ndarray, f: Frame) -> None:
        """The density rings (more waiting than are drawn as dots): a soft annulus, brightest in its middle."""
        xx, yy = self.ring_grid
        r = self.ring_reach
        for i in np.flatnonzero(f.ring_dense):
            cx, cy = self.g.pos[i]
            x0, y0 = int(math.floor(cx)) - r, int(math.floor(cy)) - r
            dist = np.hypot(xx + x0 + 0.5 - cx, yy + y0 + 0.5 - cy)
            inner, outer, a = 13.0, float(f.ring_outer[i]), float(f.ring_alpha[i])
            s = np.clip((dist - inner) / max(outer - inner, 1e-6), 0, 1)
            shade = np.interp(s, [0, 0.35, 0.8, 1], [a * 0.55, a, a, a * 0.3])
            cover = np.clip(outer + 0.5 - dist, 0, 1) * np.clip(dist - inner + 0.5, 0, 1)
            alpha = (shade * cover).astype("float32")[..., None]
            sp = np.concatenate([RING_COLOUR / 255 * alpha, alpha], axis=2)
            blend(out, sp, x0, y0)


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _crosses(box: tuple[float, ...], sg: Any) -> bool:
    """Does segment ``sg`` cross ``box`` (Liang-Barsky clipping, as map.js)?"""
    t0, t1 = 0.0, 1.0
    dx, dy = sg.x2 - sg.x1, sg.y2 - sg.y1
    for p, q in ((-dx, sg.x1 - box[0]), (dx, box[2] - sg.x1), (-dy, sg.y1 - box[1]), (dy, box[3] - sg.y1)):
        if p == 0:
            if q < 0:
                return False
            continue
        r = q / p
        if p < 0:
            if r > t1:
                return False
            t0 = max(t0, r)
        else:
            if r < t0:
                return False
            t1 = min(t1, r)
    return True
