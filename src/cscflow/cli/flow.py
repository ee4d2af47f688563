"""``cscflow flow WORKSPACE TABLE``: the flow tables of :mod:`cscflow.journeys.flow`.

Every output (``--out`` CSV, ``--json``, the printed table) passes through :mod:`cscflow.disclosure`
(counts of 1-4 as "<5", secondary suppression, derived columns blanked) and starts with its method,
data window and disclosure rule; ``--no-suppress`` (internal use) marks it "NOT SUPPRESSED".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

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
@click.option("--json", "as_json", is_flag=True, help="Print JSON: header (method, data, disclosure), columns, rows.")
@click.option("--no-suppress", is_flag=True, help="Show counts of 1-4 (internal use only; the output says so).")
def flow(workspace: str, table: str, map_name: str, start: str | None, end: str | None, where: tuple[str, ...],
         at: str | None, step: str, top: int | None, out: str | None, as_json: bool, no_suppress: bool) -> None:
    """Print flow TABLE of WORKSPACE for a period and cohort.

    Example: cscflow flow ws dfg --from 2023-04-01 --to 2024-03-31 --where sex=F --out dfg.csv
    """
    from cscflow.disclosure import NOT_SUPPRESSED, disclose, flow_method
    from cscflow.journeys import data_end, data_start
    from cscflow.journeys import flow as flows
    from cscflow.journeys.filters import parse_where
    from cscflow.journeys.maps import load_map
    from cscflow.journeys.windows import source_windows
    from cscflow.workspace import Workspace

    if out and as_json:
        raise CscflowError("--out and --json cannot be used together", hint="choose one")
    kwargs: dict[str, Any] = {"start": start, "end": end, "where": parse_where(list(where)) or None}
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
        try:
            span = (data_start(ws), data_end(ws))
            observed = source_windows(ws)["start"].min()
        except CscflowError:
            span, observed = None, None
    method, window = flow_method(table, map_name, start, end, kwargs["where"], span, observed)
    if table == "before-after":
        method += f" Conversion {kwargs['source']} -> {kwargs['target']}, event date {at or 'the latest event'}."
    d = disclose(df, table, suppress=not no_suppress, method=method, window=window)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        d.write_csv(out)
        click.echo(f"Wrote {len(df)} rows to {out}" + ("" if d.suppressed else f" ({NOT_SUPPRESSED})"))
    elif as_json:
        rows = json.loads(d.table.to_json(orient="records", date_format="iso"))
        click.echo(json.dumps({"table": table, "header": d.header, "suppressed": d.suppressed,
                               "columns": [str(c) for c in d.table.columns], "rows": rows}, indent=1))
    else:
        click.echo(d.text())
