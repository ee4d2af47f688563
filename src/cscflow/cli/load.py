"""``cscflow load WORKSPACE FILE...`` and ``cscflow quality WORKSPACE [--json]``."""

from __future__ import annotations

import json
import sys

import click

from cscflow.errors import CscflowError


@click.command()
@click.argument("workspace", type=click.Path(file_okay=False))
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", default="auto", show_default=True,
              type=click.Choice(["auto", "annex-a", "cin", "903", "events", "legal"], case_sensitive=False),
              help="Format of the files (auto detects each file).")
@click.option("--mapping", type=str, default=None,
              help="YAML mapping for event logs in other layouts (or a bundled one: ssd).")
@click.option("--la", "la", type=str, default=None,
              help="3-digit DfE code of the LA (remembered; files that state their LA are checked against it).")
@click.option("--multi-la", is_flag=True,
              help="A workspace of several LAs on purpose (regional/national): the LA is part of each child's "
                   "identity; --la then names the LA of files that do not state one. Fixed at the first load.")
@click.option("--open-stages", is_flag=True,
              help="Event logs: keep stage values outside the CSC vocabulary (any process log; use --map auto).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def load(workspace: str, files: tuple[str, ...], fmt: str, mapping: str | None, la: str | None,
         multi_la: bool, open_stages: bool, quiet: bool) -> None:
    """Load LA files (Annex A, CIN census, SSDA903, event logs, legal spreadsheets) into WORKSPACE.

    Folders are searched for files. Loading a file again replaces what it loaded before.
    """
    from cscflow.journeys.timeline import prepare
    from cscflow.sources import load as load_files
    from cscflow.workspace import Workspace

    if la is not None and not (la.isdigit() and len(la) == 3):
        raise CscflowError(f"--la {la!r} is not a 3-digit DfE LA code", hint="for example --la 886 (Kent)")
    show = not quiet and sys.stderr.isatty()
    with Workspace(workspace, la=la, multi_la=True if multi_la else None) as ws:
        bar = click.progressbar(length=1, label="loading", file=sys.stderr) if show else None

        def progress(step: str, done: int, total: int) -> None:
            if bar is None:
                return
            bar.length = max(total, 1)
            bar.label = step[:40].ljust(40)
            bar.update(done - bar.pos)

        try:
            if bar is not None:
                bar.__enter__()
            reports = load_files(ws, list(files), format=fmt, mapping=mapping, progress=progress,
                                 open_stages=open_stages, la=la)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        summary = ws.summary()
        prepared = prepare(ws)
    for r in reports:
        if r.format == "not loaded":  # found in a folder, its format unknown
            click.echo(f"{r.file}: not loaded: {r.problems[0]['problem']}")
            continue
        line = (f"{r.file} ({r.format}): read {r.rows_read:,}, loaded {r.rows_loaded:,}, "
                f"quarantined {r.rows_quarantined:,}, repaired {r.rows_repaired:,}")
        if r.duplicate_stays:
            line += f", {r.duplicate_stays:,} stays already loaded from another source"
        click.echo(line)
        for p in r.problems[:5]:
            click.echo(f"    {p['count']:>8,}  {p['problem']}")
    rows = summary["rows"]
    click.echo(f"Workspace {workspace}: {rows['children']:,} children, {rows['episodes']:,} stays, "
               f"{rows['quarantine']:,} quarantined cells. See `cscflow quality {workspace}`.")
    if prepared:
        click.echo(f"Stored the {prepared[0]} map's timeline ({prepared[1]:,} rows) for `cscflow flow` and `serve`.")


@click.command()
@click.argument("workspace", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def quality(workspace: str, as_json: bool) -> None:
    """Show the data-quality report of WORKSPACE: per source file, and impossible sequences."""
    from cscflow.sources import quality_report
    from cscflow.workspace import Workspace

    with Workspace(workspace, read_only=True) as ws:
        rep = quality_report(ws)
    if as_json:
        click.echo(json.dumps(rep, indent=2, default=str))
        return
    if not rep["sources"]:
        click.echo(f"Nothing loaded in {workspace} yet (run `cscflow load {workspace} FILE...`).")
    for s in rep["sources"]:
        click.echo(f"{s['file']} ({s['format']}): read {s['rows_read']:,}, loaded {s['rows_loaded']:,}, "
                   f"quarantined {s['rows_quarantined']:,}, repaired {s['rows_repaired']:,}")
        for p in s["problems"]:
            click.echo(f"  {p['count']:>8,}  {p['problem']}")
            for ex in p["examples"][:2]:
                where = ", ".join(f"{k} {ex[k]}" for k in ("row", "column", "value", "child_id") if ex.get(k))
                fix = ex.get("how_to_fix") or ""
                click.echo(f"            {where}{' - ' if where and fix else ''}{fix}")
    if rep["sequences"]:
        click.echo("Impossible sequences (children):")
        for p in rep["sequences"]:
            click.echo(f"  {p['count']:>8,}  {p['problem']}")
