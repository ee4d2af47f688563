"""``cscflow video`` on the synthetic county: one minute of video (1,800 frames at 30 fps, 1280x720) timed as the
documented command, a whole process from start to exit; beside it the naive way of drawing the same frames (each
one a matplotlib figure: the painted map shown as a picture, the dots a scatter, the date a text), timed on a
sample of frames and scaled to 1,800, encoded by the same encoder.

Run: ``python -m bench video`` (builds the county preset in a temporary folder) or
``python bench/bench_video.py WORKSPACE`` (an existing workspace, e.g. ``demo-county/workspace``: its data must
span 2011-06-01 to 2016-05-05, as the county preset's do).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START, END, DPS = "2011-06-01", "2016-05-05", "30"   # 1,800 days at 30 days a second: 60 s, 1,800 frames
SAMPLE = 60


def command(ws: Path, out: Path) -> list[str]:
    script = Path(sys.executable).parent / ("cscflow.exe" if os.name == "nt" else "cscflow")
    return [str(script), "video", str(ws), "--from", START, "--to", END, "--days-per-second", DPS, "--out", str(out)]


def ours(ws: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of the documented command as a process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(command(ws, out), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(done.stderr)
    print(done.stdout.strip())
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def naive(ws: Path, out: Path) -> float:
    """Seconds per frame of the naive way: a matplotlib figure per frame, encoded by the same encoder."""
    import matplotlib

    matplotlib.use("Agg")
    import av
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from cscflow import Workspace
    from cscflow.report.video import Scene, VideoOptions

    with Workspace(ws, read_only=True) as w:
        scene = Scene(w, VideoOptions(START, END, 30, float(DPS)))
    times = scene.times()[:: len(scene.times()) // SAMPLE][:SAMPLE]
    bg = scene.painter.background
    palette = scene.painter.palette / 255
    container = av.open(str(out), mode="w")
    stream = container.add_stream("libx264", rate=30)
    stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
    stream.options = {"crf": "20", "preset": "veryfast"}
    t0 = time.perf_counter()
    for t in times:
        f = scene.dots.at(float(t))
        fig = Figure(figsize=(12.8, 7.2), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.imshow(bg, extent=(0, 1280, 720, 0))
        ax.scatter(f.x, f.y, s=(5 * 0.72) ** 2, c=palette[np.clip(f.colour, 0, 15)], alpha=0.9, linewidths=0)
        ax.text(14, 36, f"day {t:.1f}", color="white", fontsize=17, fontweight="bold")
        ax.set_xlim(0, 1280)
        ax.set_ylim(720, 0)
        ax.set_axis_off()
        fig.canvas.draw()
        img = np.asarray(fig.canvas.buffer_rgba())[..., :3]  # type: ignore[attr-defined]
        for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return (time.perf_counter() - t0) / len(times)


def main(workspace: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if workspace is None:
            from cscflow.cli.demo import build_demo

            t0 = time.perf_counter()
            ws = build_demo(Path(tmp), seed=0, preset="county", echo=lambda _m: None)
            print(f"built the county preset in {time.perf_counter() - t0:.1f} s", flush=True)
        else:
            ws = Path(workspace)
        load = os.getloadavg()
        wall, cpu = ours(ws, Path(tmp) / "ours.mp4")
        size = (Path(tmp) / "ours.mp4").stat().st_size / 1e6
        print(f"cscflow video, 1,800 frames 1280x720 at 30 fps (the whole command): {wall:.1f} s wall, {cpu:.1f} s "
              f"CPU, {1800 / wall:.1f} frames/s, {size:.1f} MB (load average before: {load[0]:.2f})", flush=True)
        per_frame = naive(ws, Path(tmp) / "naive.mp4")
        print(f"naive (a matplotlib figure per frame, {SAMPLE} frames sampled): {per_frame * 1000:.0f} ms a frame, "
              f"{per_frame * 1800:.0f} s for 1,800 frames; ours is {per_frame * 1800 / wall:.1f}x faster "
              f"(load average after: {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
