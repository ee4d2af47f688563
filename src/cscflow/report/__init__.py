"""Board-ready outputs: a self-contained HTML report, pictures (PNG, SVG) of charts and of the map, and the map's
animation as an MP4 video, all drawn without a browser.

:func:`write_report` builds the report of a workspace (:mod:`cscflow.report.build` gathers the disclosed
tables, figures and map stills; :mod:`cscflow.report.html` writes one page with everything inline);
:mod:`cscflow.report.pictures` redraws a disclosed plotly figure with matplotlib and
:mod:`cscflow.report.mapimage` draws the map on a date; :func:`write_video` (:mod:`cscflow.report.video`) renders
the map's animation frame by frame.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cscflow.report.build import SECTIONS, Options, build
from cscflow.report.video import VideoInfo, VideoOptions, write_video


def report_html(ws: Any, opts: Options | None = None, progress: Callable[[str], Any] = lambda _m: None) -> str:
    """The report of workspace ``ws`` as one HTML string."""
    import datetime as dt

    from cscflow.report.html import render

    opts = opts or Options()
    sections = build(ws, opts, progress)
    la = f"LA {ws.la}" if ws.la else "the workspace"
    from cscflow.report.build import _where

    cohort = f" Cohort: {_where(opts.where)} (every section)." if opts.where else ""
    sub = (f"Children's social care in {la}: produced by cscflow on {dt.date.today():%d %B %Y}.{cohort} "
           "Every count has been through disclosure control (see 'How numbers were suppressed').")
    return render(sections, "How children move through children's social care", sub)


def write_report(ws: Any, path: str | Path, opts: Options | None = None,
                 progress: Callable[[str], Any] = lambda _m: None) -> Path:
    """Write the report of ``ws`` to ``path`` (UTF-8 HTML)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_html(ws, opts, progress), encoding="utf-8")
    return path


__all__ = ["SECTIONS", "Options", "VideoInfo", "VideoOptions", "build", "report_html", "write_report", "write_video"]
