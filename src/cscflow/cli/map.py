"""``cscflow map WORKSPACE --at DATE --out map.svg|map.png``: a still of the process map on a date, drawn without
a browser (matplotlib), each station labelled with its children there after disclosure control."""

from __future__ import annotations

from pathlib import Path

import click

from cscflow.errors import AnalysisError


@click.command("map")
@click.argument("workspace", type=click.Path(file_okay=False))
@click.option("--at", "at", metavar="DATE", help="The date (YYYY-MM-DD; default: the data's last day).")
@click.option("--where", "where", multiple=True, metavar="COLUMN=VALUE", help="Cohort filter (repeatable).")
@click.option("--map", "map_name", default="england", show_default=True, help="Process map.")
@click.option("--size", default="1200x700", show_default=True, metavar="WxH", help="Picture size in pixels.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Write .svg or .png.")
def map_still(workspace: str, at: str | None, where: tuple[str, ...], map_name: str, size: str, out: str) -> None:
    """Draw the map of WORKSPACE on a date as SVG or PNG (no browser needed)."""
    from cscflow.cli.startup import loading_libraries

    with loading_libraries():
        import pandas as pd

        from cscflow.journeys import data_end
        from cscflow.journeys.filters import parse_where
        from cscflow.journeys.maps import load_map
        from cscflow.report.mapimage import map_figure, save, station_counts
        from cscflow.workspace import Workspace

    dims = parse_size(size)
    if Path(out).suffix.lower() not in (".svg", ".png"):
        raise AnalysisError(f"cannot write {Path(out).name}", hint="use .svg or .png")
    from cscflow.workspace.workspace import require_workspace

    require_workspace(workspace)
    with Workspace(workspace, read_only=True) as ws:
        pmap = load_map(map_name, ws)
        day = pd.Timestamp(parse_day(at, "--at")) if at else data_end(ws).normalize()
        d = station_counts(ws, pmap, day, parse_where(list(where)) or None)
    fig = map_figure(pmap, d.table, day, size=dims, caption=" ".join(d.header[1:]))
    click.echo(f"Wrote {save(fig, out)}")


def parse_day(value: str, option: str) -> str:
    """``value`` checked as a YYYY-MM-DD date (an AnalysisError naming ``option`` when it is not one)."""
    import datetime as dt

    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise AnalysisError(f"{option} {value!r} is not a date", hint="write it as YYYY-MM-DD") from None


def parse_size(size: str) -> tuple[int, int]:
    """``"1200x700"`` as (1200, 700)."""
    try:
        w, h = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise AnalysisError(f"--size {size!r} is not WIDTHxHEIGHT", hint="write e.g. --size 1200x700") from None
    return w, h
