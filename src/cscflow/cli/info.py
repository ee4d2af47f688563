"""``cscflow info WORKSPACE``."""

from __future__ import annotations

import json

import click

from cscflow.workspace import Workspace


@click.command()
@click.argument("workspace", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(workspace: str, as_json: bool) -> None:
    """Show what WORKSPACE holds: rows per table, the span of the episodes, stays per stage."""
    from cscflow.journeys.windows import source_windows

    with Workspace(workspace, read_only=True) as ws:
        summary = ws.summary()
        windows = source_windows(ws) if "stages" in summary else None
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"Workspace {summary['workspace']} (engine {summary['engine']}, LA {summary['la'] or '?'})")
    for name, n in summary["rows"].items():
        click.echo(f"  {name:<12} {n:>10,}")
    if "stages" in summary:
        click.echo(f"Stays start from {summary['first_start']} to {summary['last_start']}")
        if windows is not None and not windows.empty:
            observed = windows["start"].min()
            if str(observed.date()) > summary["first_start"]:
                click.echo(f"The sources hold every stay from {observed:%Y-%m-%d}; stays begun earlier are the history "
                           "of those that lasted (docs/methods.md, 'One data start').")
        for stage, n in summary["stages"].items():
            click.echo(f"  {stage:<20} {n:>10,}")
