"""``cscflow report WORKSPACE [--from] [--to] [--where ...] [--sections ...] [--at DATE ...] --out report.html``.

One self-contained HTML file (no network access; plotly.js and CSS inline) with a summary, stills of the map,
the flow tables, the statistics, statutory timescales and linkage quality, every number through
:mod:`cscflow.disclosure`; printable to A4 from the browser (see :mod:`cscflow.report`).
"""

from __future__ import annotations

from pathlib import Path

import click

from cscflow.errors import CscflowError


@click.command()
@click.argument("workspace", type=click.Path(file_okay=False))
@click.option("--from", "start", metavar="DATE", help="First day of the period (YYYY-MM-DD) of the flow tables and map.")
@click.option("--to", "end", metavar="DATE", help="Last day of the period (YYYY-MM-DD).")
@click.option("--where", "where", multiple=True, metavar="COLUMN=VALUE", help="Cohort filter (repeatable), as for "
              "`cscflow flow`.")
@click.option("--sections", default=",".join(["summary", "map", "flow", "stats", "timescales", "linkage"]),
              show_default=True, help="Comma-separated sections, in order.")
@click.option("--at", "dates", multiple=True, metavar="DATE", help="Date of a map still (repeatable; default: "
              "the period's end).")
@click.option("--map", "map_name", default="england", show_default=True, help="Process map.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="The .html file to write.")
def report(workspace: str, start: str | None, end: str | None, where: tuple[str, ...], sections: str,
           dates: tuple[str, ...], map_name: str, out: str) -> None:
    """Write a self-contained, disclosure-controlled HTML report of WORKSPACE for boards and inspectors.

    Example: cscflow report ws --from 2023-04-01 --to 2024-03-31 --out report.html
    """
    from cscflow.journeys.filters import parse_where
    from cscflow.report import SECTIONS, Options, write_report
    from cscflow.workspace import Workspace

    chosen = tuple(s.strip() for s in sections.split(",") if s.strip())
    bad = [s for s in chosen if s not in SECTIONS]
    if bad or not chosen:
        raise CscflowError(f"no report section {bad[0] if bad else '(none)'!r}", hint=f"use {', '.join(SECTIONS)}")
    if Path(out).suffix.lower() not in (".html", ".htm"):
        raise CscflowError(f"cannot write {Path(out).name}: the report is an .html file", hint="use --out report.html")
    from cscflow.workspace.workspace import require_workspace

    require_workspace(workspace)
    from cscflow.cli.map import parse_day

    start, end = (parse_day(v, o) if v else None for v, o in ((start, "--from"), (end, "--to")))
    dates = tuple(parse_day(d, "--at") for d in dates)
    opts = Options(start, end, parse_where(list(where)) or None, chosen, dates, map_name)
    with Workspace(workspace, read_only=True) as ws:
        path = write_report(ws, out, opts, progress=lambda m: click.echo(f"  {m} ...", err=True))
    click.echo(f"Wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
