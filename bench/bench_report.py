"""The board report and the pictures on the synthetic county: time per section, file size, and the time of a
map still and a chart picture drawn without a browser.

Run: ``python -m bench report`` (the county preset) or ``python bench/bench_report.py --quick`` (tiny).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path


def main(quick: bool = False) -> None:
    from cscflow import Workspace
    from cscflow.analytics import run
    from cscflow.cli.demo import build_demo
    from cscflow.journeys.maps import load_map
    from cscflow.report import Options, pictures, write_report
    from cscflow.report.mapimage import map_figure, save, station_counts

    preset = "tiny" if quick else "county"
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ws_dir = build_demo(Path(tmp), seed=0, preset=preset, echo=lambda _m: None)
        print(f"built the {preset} county in {time.perf_counter() - t0:.1f} s", flush=True)
        with Workspace(ws_dir, read_only=True) as ws:
            marks: list[tuple[str, float]] = []
            t0 = time.perf_counter()
            path = write_report(ws, Path(tmp) / "report.html", Options(),
                                progress=lambda m: marks.append((m, time.perf_counter())))
            total = time.perf_counter() - t0
            ends = [t for _, t in marks[1:]] + [t0 + total]
            print(f"report: {total:.1f} s, {path.stat().st_size / 1e6:.2f} MB; per section: " + ", ".join(
                f"{m} {e - s:.1f} s" for (m, s), e in zip(marks, ends, strict=True)))
            pmap = load_map("england", ws)
            day = "2017-06-30"
            t0 = time.perf_counter()
            d = station_counts(ws, pmap, day)
            save(map_figure(pmap, d.table, day), Path(tmp) / "map.png")
            print(f"map still (PNG 1200x700): {time.perf_counter() - t0:.2f} s")
            fig = run(ws, "leaving-care").figure
            t0 = time.perf_counter()
            pictures.save(fig, Path(tmp) / "curve.svg")
            pictures.save(fig, Path(tmp) / "curve.png")
            print(f"leaving-care curve as SVG and PNG: {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
