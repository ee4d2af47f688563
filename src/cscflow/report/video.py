"""The map's animation as an MP4 video (H.264, yuv420p: plays in PowerPoint, Keynote and every browser), frame by
frame, without a browser.

Each frame is the web map at one moment: the geometry the web app draws (:mod:`cscflow.journeys.geometry`, the
routes ``/api/map`` sends), every child's dot where the browser puts it (:mod:`cscflow.journeys.dots`), painted
by :class:`cscflow.report.frames.Painter`, with the date, the legend and the children at each station burnt in.
Those counts go through :mod:`cscflow.disclosure` (the ``caseload`` rule, as the report's map stills: 1-4 shown
as "<5"); the moving dots are positions, drawn as on the web map, while a station where 1 to 4 children wait shows
a faint ring the size of 5 instead of their countable dots (the map still draws a count of 1-4 as 5). Encoded by PyAV (FFmpeg's libx264, bundled in its
wheels for Windows, macOS and Linux: nothing to compile).
"""

from __future__ import annotations

import datetime as dt
import math
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cscflow.errors import AnalysisError, CscflowError
from cscflow.journeys.track_rows import OUTSIDE as OUTSIDE_ROW

#: limits of a video (a 4K or hour-long render is a job for a batch, not this command)
MAX_SIZE = (3840, 2160)
MAX_FRAMES = 108_000
CRF = 20          # libx264 quality (lower is better; 18-23 is visually clean for flat graphics)
PRESET = "veryfast"


@dataclass
class VideoOptions:
    """What a video shows: period, speed, picture, cohort, map and track convention."""

    start: str | None = None
    end: str | None = None
    fps: int = 30
    days_per_second: float = 30.0
    size: tuple[int, int] = (1280, 720)
    where: dict[str, Any] | None = None
    map_name: Any = "england"
    convention: str = "travel"


@dataclass
class VideoInfo:
    """What was written: the file, its frames, rate and size, and the period it shows."""

    path: Path
    frames: int
    fps: int
    size: tuple[int, int]
    start: dt.date
    end: dt.date

    @property
    def seconds(self) -> float:
        """The video's length in seconds."""
        return self.frames / self.fps


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` as (1280, 720) (an AnalysisError when it is not WIDTHxHEIGHT)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise AnalysisError(f"size {text!r} is not WIDTHxHEIGHT", hint="write e.g. 1280x720") from None
    return w, h


def check(opts: VideoOptions) -> None:
    """Refuse options no video can have, with what to write instead."""
    w, h = opts.size
    if w % 2 or h % 2 or w < 320 or h < 240 or w > MAX_SIZE[0] or h > MAX_SIZE[1]:
        raise AnalysisError(f"a video of {w}x{h} pixels cannot be made",
                            hint="give even numbers from 320x240 to 3840x2160, e.g. --size 1280x720")
    if not 1 <= opts.fps <= 120:
        raise AnalysisError(f"--fps {opts.fps} is out of range", hint="use 1 to 120 frames a second, e.g. 30")
    if not (opts.days_per_second > 0 and math.isfinite(opts.days_per_second)):
        raise AnalysisError(f"--days-per-second {opts.days_per_second} is not a speed", hint="use e.g. 30")


def encoder() -> Any:
    """PyAV, checked to have an H.264 encoder (a clear error when it is missing)."""
    try:
        import av
    except ImportError:
        raise CscflowError("the video needs PyAV, which is not installed",
                           hint="pip install av (it is a dependency of cscflow: reinstall cscflow)") from None
    try:
        av.codec.Codec("libx264", "w")
    except Exception:
        raise CscflowError("this PyAV has no H.264 encoder (libx264)",
                           hint="install PyAV from its wheels on PyPI (pip install --force-reinstall av)") from None
    return av


def write_video(ws: Any, out: str | Path, opts: VideoOptions | None = None,
                progress: Callable[[int, int], Any] = lambda _done, _total: None) -> VideoInfo:
    """Render the map of ``ws`` from ``opts.start`` to ``opts.end`` into the MP4 file ``out``.

    Frame ``k`` shows the moment ``start + k * days_per_second / fps`` (days); there are
    ``round(days * fps / days_per_second)`` frames (at least one). ``progress(done, total)`` is called after each
    frame.
    """
    opts = opts or VideoOptions()
    check(opts)
    out = Path(out)
    if out.suffix.lower() != ".mp4":
        raise AnalysisError(f"cannot write {out.name}: the video is an .mp4 file", hint="use --out map.mp4")
    encoder()
    return encode(Scene(ws, opts), out, progress)


def encode(scene: Scene, out: str | Path, progress: Callable[[int, int], Any] = lambda _d, _t: None) -> VideoInfo:
    """Encode the frames of ``scene`` (gathered from the workspace beforehand) into the MP4 file ``out``."""
    av = encoder()
    opts = scene.opts
    out = Path(out)
    times = scene.times()
    out.parent.mkdir(parents=True, exist_ok=True)
    w, h = opts.size
    container = av.open(str(out), mode="w", options={"movflags": "+faststart"})
    # Frames are drawn here (numpy) while a second thread converts and encodes the previous ones (PyAV and
    # FFmpeg release the GIL): the two cores both work.
    todo: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=4)
    failed: list[BaseException] = []

    def encode_all(stream: Any) -> None:
        try:
            while (picture := todo.get()) is not None:
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                frame = frame.reformat(format="yuv420p", dst_colorspace=1, dst_color_range=1)
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        except BaseException as err:  # handed to the drawing thread, which raises it
            failed.append(err)
            while todo.get() is not None:   # let the drawing thread finish putting
                pass

    try:
        stream = container.add_stream("libx264", rate=opts.fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": str(CRF), "preset": PRESET}
        cc = stream.codec_context
        cc.color_primaries = cc.color_trc = cc.colorspace = 1    # BT.709, as the frames are converted
        cc.color_range = 1                                        # limited ("TV") range, what players expect
        worker = threading.Thread(target=encode_all, args=(stream,), daemon=True)
        worker.start()
        try:
            for k, t in enumerate(times):
                if failed:
                    break
                todo.put(scene.frame(t))
                progress(k + 1, len(times))
        finally:
            todo.put(None)
            worker.join()
        if failed:
            raise failed[0]
    finally:
        container.close()
    return VideoInfo(out, len(times), opts.fps, opts.size, scene.start.date(), scene.end.date())


class Scene:
    """Everything a frame needs, gathered once: geometry, drawable legs, disclosed counts by day, the painter."""

    def __init__(self, ws: Any, opts: VideoOptions) -> None:
        from cscflow.journeys import data_end, data_start, tracks
        from cscflow.journeys.dots import drawable
        from cscflow.journeys.geometry import MapGeometry, map_routes
        from cscflow.journeys.maps import load_map
        from cscflow.report.frames import BAND, REPEAT, REPEAT_LABELS, Painter

        self.opts = opts
        pmap = load_map(opts.map_name, ws)
        first, last = data_start(ws).normalize(), data_end(ws).normalize()
        self.end = pd.Timestamp(opts.end) if opts.end else last
        self.start = pd.Timestamp(opts.start) if opts.start else max(first, self.end - pd.Timedelta(days=365))
        if self.end <= self.start:
            raise AnalysisError(f"the video's period {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d} is empty",
                                hint="give --to after --from")
        everyone = tracks(ws, pmap, "travel", None)
        cohort = tracks(ws, pmap, opts.convention, opts.where) if opts.where or opts.convention != "travel" \
            else everyone
        self.epoch = pd.Timestamp(cohort.epoch)
        w, h = opts.size
        stations = [dict(s) for s in pmap.stations]
        if any(s.get("x") is None or s.get("y") is None for s in stations):
            raise AnalysisError(f"the map {pmap.name!r} has stations without positions",
                                hint="give every station x and y (or use a map that has them, e.g. england)")
        lines = [{"id": ln["id"], "colour": ln["colour"], "stations": [str(s) for s in ln["stations"]],
                  "label": ln.get("label")} for ln in pmap.lines]
        self.geometry = MapGeometry(stations, lines, map_routes(pmap, everyone), w, h - BAND)
        self.dots = drawable(cohort, self.geometry)
        self.station_ids = pmap.station_ids
        self.counts = self._counts(ws, pmap)
        cohort_text = _where(opts.where)
        foot = (f"{cohort_text + ' · ' if cohort_text else ''}Numbers: children at each station on the day; "
                "counts of 1 to 4 shown as <5, and 1 to 4 children waiting as a faint ring (disclosure control). "
                "Each dot is a child; made by cscflow.")
        self.painter = Painter(self.geometry, (w, h), REPEAT, list(zip(REPEAT, REPEAT_LABELS, strict=True)),
                               "Dot colour: involvement with children's services", foot)

    def times(self) -> np.ndarray:
        """The moment of each frame, in days since the tracks' epoch."""
        days = (self.end - self.start).days
        n = max(1, round(days * self.opts.fps / self.opts.days_per_second))
        if n > MAX_FRAMES:
            raise AnalysisError(f"the video would have {n:,} frames (more than {MAX_FRAMES:,})",
                                hint="shorten the period or raise --days-per-second")
        t0 = int((self.start - self.epoch).days)
        out: np.ndarray = t0 + np.arange(n) * (self.opts.days_per_second / self.opts.fps)
        return out

    def _counts(self, ws: Any, pmap: Any) -> dict[int, list[str]]:
        """Children at each station on each day the video shows, disclosed (the ``caseload`` rule), as the
        text burnt in beside each station ("" for none)."""
        from cscflow.disclosure import disclose
        from cscflow.journeys.track_rows import cohort_mask

        rows, keep, _ = cohort_mask(ws, pmap, self.opts.where)
        days = np.array(sorted({int(math.floor(t)) for t in self.times()}))
        zero = int((self.epoch - pd.Timestamp("1970-01-01")).days)
        n_st = len(self.station_ids)
        grid = station_days(rows, keep, n_st, zero + int(days[0]), zero + int(days[-1]))[days - days[0]]
        d_idx, s_idx = np.nonzero(grid)
        table = pd.DataFrame({"day": days[d_idx], "station": [self.station_ids[i] for i in s_idx],
                              "children": grid[d_idx, s_idx].astype("int64")})
        shown = disclose(table, "caseload",
                         method="Children at each station of the process map on each day of the video.").table
        index = {s: i for i, s in enumerate(self.station_ids)}
        out = {int(d): [""] * n_st for d in days}
        for d, s, n in shown.itertuples(index=False):
            out[int(d)][index[str(s)]] = n if isinstance(n, str) else (f"{int(n):,}" if n else "")
        return out

    def frame(self, t: float) -> np.ndarray:
        """The picture at moment ``t`` (days since the epoch), H x W x 3 uint8."""
        day = int(math.floor(t))
        date = self.epoch + pd.Timedelta(days=day)
        counts = self.counts.get(day) or [""] * len(self.station_ids)
        return self.painter.frame(few_waiting_hidden(self.dots.at(t), self.geometry), counts, f"{date.day} {date:%B %Y}")


def few_waiting_hidden(f: Any, geometry: Any, threshold: int | None = None) -> Any:
    """Frame ``f`` with the waiting dots of each station where 1 to ``threshold - 1`` children wait replaced by a
    faint ring of the size of ``threshold`` (the report's map still draws a count of 1-4 as 5): a few dots in a
    ring could be counted. Moving dots are positions and stay."""
    from dataclasses import replace

    from cscflow.disclosure import THRESHOLD
    from cscflow.journeys.geometry import ring_radius

    threshold = threshold or THRESHOLD
    few = (f.waiting >= 1) & (f.waiting < threshold) & ~f.ring_dense
    if not few.any():
        return f
    keep = (f.station < 0) | ~few[np.maximum(f.station, 0)]
    size = ring_radius(np.full(len(few), threshold), geometry.caps, geometry.few)[0]
    return replace(f, x=f.x[keep], y=f.y[keep], colour=f.colour[keep], child=f.child[keep], moving=f.moving[keep],
                   station=f.station[keep], ring_outer=np.where(few, size, f.ring_outer),
                   ring_dense=f.ring_dense | few, ring_alpha=np.where(few, 0.35, f.ring_alpha))


def station_days(rows: Any, keep: np.ndarray | None, n_stations: int, first: int, last: int) -> np.ndarray:
    """Children at each station on each day ``first``..``last`` (days since 1970-01-01) of the timeline ``rows``
    (those of ``keep``): the rule of :meth:`Rows.stations_on` (at a station from the day a stay starts until the
    day before it ends, or on the day of a same-day stay; a child counted once a station and day) for every day at
    once. Returns days x stations.

    A child's stays at one station are merged where they overlap, then each merged stay adds one from its first
    day to its last (a difference array).
    """
    on = rows.st != OUTSIDE_ROW
    if keep is not None:
        on &= keep
    st = rows.st[on].astype("int64")
    child = rows.ci[on].astype("int64")
    s = np.maximum(rows.sday[on].astype("int64"), first)
    e = np.minimum(np.maximum(rows.eday[on].astype("int64"), rows.sday[on].astype("int64") + 1), last + 1)
    live = e > s
    st, child, s, e = st[live], child[live], s[live], e[live]
    span = last + 2 - first
    key = child * n_stations + st
    order = np.lexsort((s, key))
    key, st, s, e = key[order], st[order], s[order] - first, e[order] - first
    flat_s, flat_e = key * span + s, key * span + e         # one line of days per (child, station): no overlap
    reach = np.maximum.accumulate(flat_e) if flat_e.size else flat_e
    starts = np.ones(flat_s.size, dtype=bool)
    starts[1:] = flat_s[1:] >= reach[:-1]                    # begins after everything before it has ended
    begin = np.flatnonzero(starts)
    ends = np.maximum.reduceat(flat_e, begin) - key[begin] * span if begin.size else begin
    size = (span + 1) * n_stations
    diff = (np.bincount(s[begin] * n_stations + st[begin], minlength=size)
            - np.bincount(ends * n_stations + st[begin], minlength=size))
    out: np.ndarray = np.cumsum(diff.reshape(span + 1, n_stations), axis=0)[: last + 1 - first]
    return out


def _where(where: dict[str, Any] | None) -> str:
    if not where:
        return ""
    return "Cohort: " + ", ".join(f"{k}={'|'.join(map(str, v)) if isinstance(v, list | tuple) else v}"
                                  for k, v in sorted(where.items()))
