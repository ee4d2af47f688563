"""``cscflow practices WORKSPACE [--rule ID ...] [--as-of DATE] [--summary] [--out FILE]``.

Without ``--summary``: one row per clock (``rule, child_id, start, due, stop, working_days, status,
team``; pseudonymised child ids only). With ``--summary``: clocks due, met and late by month
(``--by month``, default) or team (``--by team``), through disclosure control. ``--due-soon`` lists
the running clocks overdue or due within 5 working days. ``--out`` writes .csv or .json; without it
the table is printed. ``--rules FILE`` reads an LA's copy of the rules; ``--list`` shows the rules and
which of them the loaded returns can show.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from cscflow.errors import AnalysisError, WorkspaceError


@click.command()
@click.argument("workspace", type=click.Path(file_okay=False))
@click.option("--rule", "rule_ids", multiple=True, metavar="ID", help="Only this rule (repeatable).")
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False, exists=True),
              help="A rules file (a copy of the bundled rules.yaml, edited).")
@click.option("--as-of", "as_of", help="Evaluate the clocks at this date (default: the last date of the data).")
@click.option("--summary", is_flag=True, help="Clocks due, met and late by month or team instead of one row per clock.")
@click.option("--by", type=click.Choice(["month", "team"]), default="month", show_default=True,
              help="--summary: by the month the clocks were due, or by team.")
@click.option("--due-soon", "due_soon", is_flag=True, help="Only running clocks overdue or due in 5 working days.")
@click.option("--list", "list_rules", is_flag=True, help="List the rules and whether the data can show them.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write .csv or .json.")
@click.option("--no-suppress", is_flag=True, help="--summary: show counts of 1-4 (internal use only).")
@click.option("--review", metavar="RULE,CHILD_ID,START", help="Mark a breach reviewed (with --cause, --note, --action).")
@click.option("--cause", help="--review: the cause category (capacity, scheduling, partner_agency, "
              "family_engagement, recording, process, other).")
@click.option("--note", default="", help="--review: what happened (kept in the workspace, never exported).")
@click.option("--action", "action_text", default="", help="--review: the action agreed.")
@click.option("--reviews", "show_reviews", is_flag=True, help="Breaches reviewed and their causes by month.")
def practices(workspace: str, rule_ids: tuple[str, ...], rules_file: str | None, as_of: str | None, summary: bool,
              by: str, due_soon: bool, list_rules: bool, out: str | None, no_suppress: bool, review: str | None,
              cause: str | None, note: str, action_text: str, show_reviews: bool) -> None:
    """Key practices of WORKSPACE: every statutory-timescale clock (met, breached, open, overdue)."""
    from cscflow.cli.startup import loading_libraries

    with loading_libraries():
        from cscflow.practices import clocks as clocks_mod
        from cscflow.practices import summary as summ
        from cscflow.practices.rules import load_rules
        from cscflow.workspace import Workspace

    rules = load_rules(rules_file)
    have = (Path(workspace) / "cscflow.duckdb").exists()
    if list_rules:  # with a workspace: also what its tables hold (e.g. no reviews loaded)
        if have:
            with Workspace(workspace, read_only=True) as ws:
                table = clocks_mod.coverage(rules, ws=ws, as_of=as_of)
        else:
            table = clocks_mod.coverage(rules)
        click.echo(table.to_string(index=False))
        return
    if not have:
        raise WorkspaceError(f"no workspace at {workspace}", hint="create one with `cscflow load` or `cscflow demo`")
    from cscflow.practices import reviews as rev

    with Workspace(workspace, read_only=True) as ws:
        if review:
            _review(ws, review, cause, note, action_text)
            return
        table = clocks_mod.evaluate(ws, rules, as_of, rule_ids=list(rule_ids) or None)
        stored = rev.load(ws)
    day = table.attrs["as_of"]
    method = ("Statutory-timescale clocks (rules: " + (Path(rules_file).name if rules_file else "bundled rules.yaml")
              + "); working days count England bank holidays, the start day being day 0.")
    window = summ.window_text(table)
    if show_reviews:
        data = rev.causes_by_month(rev.with_reviews(table, stored))
        d = summ.disclose(data, "practices-reviews", suppress=not no_suppress, method=method, window=window)
    elif summary:
        name, data = "practices-summary", summ.by_period(table, by)
        d = summ.disclose(data, name, suppress=not no_suppress, method=method, window=window)
    else:
        data = summ.due_soon(table, day) if due_soon else table
        d = summ.disclose(data, "practices-clocks", suppress=False, method=method, window=window)
        d.notes.append("Child-level list for the LA's own use: pseudonymised ids only; do not publish.")
    for rid, why in table.attrs["unavailable"].items():
        if not rule_ids or rid in rule_ids:
            d.notes.append(f"Not evaluated: {rid}: {why}.")
    if out is None:
        click.echo(d.text())
        return
    path = Path(out)
    ext = path.suffix.lower()
    if ext == ".csv":
        d.write_csv(path)
    elif ext == ".json":
        body = {"name": d.name, "header": d.header, "as_of": str(day), "columns": [str(c) for c in d.table.columns],
                "rows": json.loads(d.table.to_json(orient="records", date_format="iso"))}
        path.write_text(json.dumps(body, indent=1), encoding="utf-8")
    else:
        raise AnalysisError(f"cannot write {path.name}: unknown extension {ext or '(none)'}", hint="use .csv or .json")
    click.echo(f"Wrote {path} ({len(d.table):,} rows)")


def _review(ws: object, review: str, cause: str | None, note: str, action: str) -> None:
    from cscflow.practices import reviews as rev

    parts = [p.strip() for p in review.split(",")]
    if len(parts) != 3 or not all(parts):
        raise AnalysisError(f"--review {review!r}", hint="give RULE,CHILD_ID,START (the clock's start date)")
    if not cause:
        raise AnalysisError("--review without --cause", hint=f"give --cause, one of {', '.join(rev.CAUSES)}")
    done = rev.mark(ws, parts[0], parts[1], parts[2], cause, note, action)  # the web app's form stores through it too
    click.echo(f"Reviewed {done['rule']} for {done['child_id']} (clock started {done['start']}): {cause}")
