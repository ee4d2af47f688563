"""``cscflow stats WORKSPACE ANALYSIS [options] --out FILE``.

The table goes to ``--out`` as CSV or JSON, or the figure as HTML, PNG or SVG by the file's
extension (PNG/SVG drawn with matplotlib, no browser needed); without ``--out`` the summary is printed. Every
output passes through :mod:`cscflow.disclosure` (counts of 1-4 as "<5", secondary suppression,
curves coarsened, the figure drawn from the disclosed table) and carries its method, data window and
disclosure rule; ``--no-suppress`` (internal use) marks it "NOT SUPPRESSED: internal use only".
"""

from __future__ import annotations

from pathlib import Path

import click

from cscflow.errors import AnalysisError


@click.command()
@click.argument("workspace", type=click.Path(file_okay=False))
@click.argument("analysis", metavar="ANALYSIS")
@click.option("--by", help="leaving-care cohort: proceedings, legal_status, age_at_entry, entry_year.")
@click.option("--as-of", "as_of", help="Censoring date (default: the last date in the workspace).")
@click.option("--window-start", help="leaving-care, routes: periods begun earlier enter late (default: the "
              "start of each source's data, e.g. 1 April of the first SSDA903 return).")
@click.option("--event", help="incidence: care, referral or cp_plan.")
@click.option("--population", type=click.Path(dir_okay=False, exists=True),
              help="incidence: a CSV of cohort denominators: la, birth_year, births (live births) or la, year, "
              "age, population (mid-year, single year of age); without it 1/18 of ONS 0-17 (an approximation).")
@click.option("--measure", help="funnel/benchmark: a DfE measure such as cla_31march, rereferrals; teams: "
              "assessment-45wd (the key practice's clocks, from the referral, as `cscflow practices`), "
              "assessment-nfa, cp-repeat or rereferral.")
@click.option("--year", type=int, help="funnel/teams: the collection year (ending 31 March).")
@click.option("--la", help="funnel/benchmark: the LA to highlight (default: the workspace's LA).")
@click.option("--overdispersion", type=click.Choice(["auto", "none", "additive", "multiplicative"]),
              help="funnel/teams: widen the limits for overdispersion (default auto: additive random effects "
              "when phi is more than chance gives; none turns it off).")
@click.option("--min-flow", "min_flow", type=int, help="sankey: smallest flow shown (default 5).")
@click.option("--out", "out", type=click.Path(dir_okay=False),
              help="Write .csv or .json (table), .html, .png or .svg (figure).")
@click.option("--size", default="1000x650", show_default=True, metavar="WxH", help=".png/.svg: size in pixels.")
@click.option("--no-suppress", is_flag=True, help="Show counts of 1-4 (internal use only; the output says so).")
def stats(workspace: str, analysis: str, out: str | None, no_suppress: bool, size: str, **options: object) -> None:
    """Run ANALYSIS on WORKSPACE (`cscflow stats WORKSPACE list` names every analysis and what it does).

    Example: cscflow stats ws leaving-care --out leaving-care.csv"""
    from cscflow.cli.startup import loading_libraries

    with loading_libraries():
        from cscflow import disclosure
        from cscflow.analytics import ANALYSES, run
        from cscflow.workspace import Workspace

    if analysis == "list":
        for name, (what, opts) in ANALYSES.items():
            flags = ', '.join('--' + o.replace('_', '-') for o in opts)
            click.echo(f"{name:<30} {what}" + (f" (options: {flags})" if opts else ""))
        return
    if analysis not in ANALYSES:
        raise AnalysisError(f"no analysis {analysis!r}", hint=f"use one of {', '.join(ANALYSES)}")
    from cscflow.workspace.workspace import require_workspace

    require_workspace(workspace)
    with Workspace(workspace, read_only=True) as ws:
        result = run(ws, analysis, **options)
    suppressed = not no_suppress
    if out is None:
        click.echo(result.disclose_summary(suppressed).text())
        return
    path = Path(out)
    ext = path.suffix.lower()
    if ext == ".csv":
        result.disclose(suppressed).write_csv(path)
    elif ext == ".json":
        import json

        d, summary = result.disclose(suppressed), result.disclose_summary(suppressed)
        body = {"name": analysis, "header": d.header, "columns": [str(c) for c in d.table.columns],
                "rows": json.loads(d.table.to_json(orient="records", date_format="iso")),
                "summary": json.loads(summary.table.to_json(orient="records", date_format="iso"))}
        path.write_text(json.dumps(body, indent=1), encoding="utf-8")
    elif ext == ".html":
        result.figure_for(suppressed).write_html(path, include_plotlyjs=True, full_html=True)
    elif ext in (".png", ".svg"):  # drawn with matplotlib: no browser (kaleido's Chrome) needed
        from cscflow.cli.map import parse_size
        from cscflow.report.pictures import save

        save(result.figure_for(suppressed), path, parse_size(size))
    else:
        raise AnalysisError(f"cannot write {path.name}: unknown extension {ext or '(none)'}",
                            hint="use .csv, .json, .html, .png or .svg")
    click.echo(f"Wrote {path}" + ("" if suppressed else f" ({disclosure.NOT_SUPPRESSED})"))
