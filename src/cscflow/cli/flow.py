"""``cscflow flow WORKSPACE TABLE``: the flow tables of :mod:`cscflow.journeys.flow`."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from cscflow.errors import AnalysisError, CscflowError

TABLE_NAMES = ("stations", "conversion", "durations", "dfg", "variants", "caseload", "rereferrals",
               "nfa-by-prior", "s47-outcomes", "before-after")


@click.command()
@click.argument("workspace", type=click.Path(file_okay=False))
@click.argument("table", type=click.Choice(TABLE_NAMES))
@click.option("--map", "map_name", default="england", show_default=True,
              help="Process map: england, front_door, auto, or a map YAML file.")
@click.option("--from", "start", metavar="DATE", help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "end", metavar="DATE", help="Last day of the period (YYYY-MM-DD).")
@click.option("--where", "where", multiple=True, metavar="COLUMN=VALUE",
              help="Cohort filter (repeatable): sex, ethnicity, age_band, disability, uasc, team, "
                   "referral_source, repeat.")
@click.option("--at", "at", metavar="DATE", help="before-after: the event date (default: the latest event).")
@click.option("--step", "step", metavar="SOURCE:TARGET", default="assessment:nfa", show_default=True,
              help="before-after: the conversion compared.")
@click.option("--top", type=int, help="variants: keep the most common paths only.")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write CSV to this file.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON records.")
def flow(workspace: str, table: str, map_name: str, start: str | None, end: str | None, where: tuple[str, ...],
         at: str | None, step: str, top: int | None, out: str | None, as_json: bool) -> None:
    """Print flow TABLE of WORKSPACE for a period and cohort.

    Example: cscflow flow ws dfg --from 2023-04-01 --to 2024-03-31 --where sex=F --out dfg.csv
    """
    from cscflow.journeys import flow as flows
    from cscflow.journeys.filters import parse_where
    from cscflow.journeys.maps import load_map
    from cscflow.workspace import Workspace

    if out and as_json:
        raise CscflowError("--out and --json cannot be used together", hint="choose one")
    kwargs: dict = {"start": start, "end": end, "where": parse_where(list(where)) or None}
    if table == "before-after":
        if ":" not in step:
            raise AnalysisError(f"--step {step!r} is not SOURCE:TARGET", hint="write e.g. --step assessment:nfa")
        kwargs["source"], kwargs["target"] = step.split(":", 1)
        kwargs["at"] = at
    if table == "variants" and top:
        kwargs["top"] = top
    with Workspace(workspace, read_only=True) as ws:
        pmap = load_map(map_name, ws)
        df = flows.TABLES[table](ws, pmap, **kwargs)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(out, index=False)
        click.echo(f"Wrote {len(df)} rows to {out}")
    elif as_json:
        click.echo(json.dumps(json.loads(df.to_json(orient="records", date_format="iso")), indent=1))
    else:
        with pd.option_context("display.max_rows", 500, "display.width", 200, "display.max_columns", 30):
            click.echo(df.to_string(index=False) if len(df) else "(no rows)")
