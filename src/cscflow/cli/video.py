"""``cscflow video WORKSPACE --from DATE --to DATE [--fps 30] [--days-per-second N] [--size 1280x720]
[--where ...] --out map.mp4``: the map's animation as an MP4 (H.264) for slides and browsers, rendered frame by
frame without a browser (see :mod:`cscflow.report.video`), a progress bar on stderr."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from cscflow.errors import AnalysisError


@click.command()
@click.argument("workspace", type=click.Path(file_okay=False))
@click.option("--from", "start", metavar="DATE", help="First day shown (YYYY-MM-DD; default: a year before --to).")
@click.option("--to", "end", metavar="DATE", help="Last day shown (YYYY-MM-DD; default: the data's last day).")
@click.option("--fps", default=30, show_default=True, type=int, help="Frames a second.")
@click.option("--days-per-second", "days_per_second", default=30.0, show_default=True, type=float,
              help="Days of the data a second of video shows.")
@click.option("--size", default="1280x720", show_default=True, metavar="WxH", help="Picture size in pixels (even).")
@click.option("--where", "where", multiple=True, metavar="COLUMN=VALUE", help="Cohort filter (repeatable), as for "
              "`cscflow flow`.")
@click.option("--convention", default="travel", show_default=True, type=click.Choice(["travel", "queue"]),
              help="How dots move: toward the station whose activity is under way (travel), or between stays.")
@click.option("--map", "map_name", default="england", show_default=True, help="Process map.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="The .mp4 file to write.")
def video(workspace: str, start: str | None, end: str | None, fps: int, days_per_second: float, size: str,
          where: tuple[str, ...], convention: str, map_name: str, out: str) -> None:
    """Render the map of WORKSPACE as an MP4 video (H.264: plays in PowerPoint and browsers).

    Example: cscflow video ws --from 2016-04-01 --to 2017-03-31 --days-per-second 6 --out year.mp4
    """
    from cscflow.cli.map import parse_day, parse_size
    from cscflow.journeys.filters import parse_where
    from cscflow.report.video import VideoOptions, check, encoder, write_video
    from cscflow.workspace import Workspace

    if Path(out).suffix.lower() != ".mp4":
        raise AnalysisError(f"cannot write {Path(out).name}: the video is an .mp4 file", hint="use --out map.mp4")
    first, last = (parse_day(v, o) if v else None for v, o in ((start, "--from"), (end, "--to")))
    opts = VideoOptions(first, last, fps, days_per_second, parse_size(size), parse_where(list(where)) or None,
                        map_name, convention)
    check(opts)
    encoder()
    from cscflow.workspace.workspace import require_workspace

    require_workspace(workspace)
    click.echo("Preparing the map and the tracks ...", err=True)
    bar: Any = None

    def step(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Rendering", file=sys.stderr,
                                    show_pos=True, show_eta=True)
        bar.update(done - bar.pos)
        if done == total:
            bar.render_finish()

    with Workspace(workspace, read_only=True) as ws:
        info = write_video(ws, out, opts, progress=step)
    size_mb = info.path.stat().st_size / 1e6
    click.echo(f"Wrote {info.path} ({info.frames:,} frames, {info.seconds:.1f} s at {info.fps} fps, "
               f"{info.size[0]}x{info.size[1]}, {info.start:%d %b %Y} to {info.end:%d %b %Y}; {size_mb:.1f} MB)")
