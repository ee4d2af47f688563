"""``cscflow forecast WORKSPACE --measure MEASURE --horizon MONTHS [--backtest] [--what-if RULE ...] [--out FILE]``.

Fits the semi-Markov model of :mod:`cscflow.forecast` on the workspace's journeys and simulates it
forward. ``--fit-only`` writes the fitted model as YAML (``--out``) or prints its summary, each with its
diagnostics (routes and days observed in the year before the origin beside simulated, registry
``forecast-diagnostics``). The forecast's
columns are ``month, forecast, lower80, upper80, lower95, upper95``; with ``--what-if`` the table holds
the forecast without and with the changes (``scenario`` column). ``--backtest`` writes ``origin, month,
actual, forecast, lower80, upper80, method`` for cscflow and the baselines and prints the mean absolute
error and 80% coverage by method. Both go through disclosure control (registry ``forecast``: modelled
figures, not counts of children; ``forecast-backtest``: the actuals are counts, 1-4 suppressed unless
``--no-suppress``).

``--costs FILE`` turns the forecast (and each what-if) into spend: every item of the costs file (days in care by
placement type, assessments, section 47 enquiries, CP plan months, proceedings) per month and over the
horizon, its median and intervals taken over the simulations' spend (registry ``forecast-spend``). ``--costs
example`` uses the bundled example, whose figures are placeholders: its output is labelled "example costs, not
published figures" on every row.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cscflow.errors import AnalysisError

if TYPE_CHECKING:
    from cscflow.disclosure import Disclosed
    from cscflow.forecast.simulate import WhatIf
    from cscflow.workspace.protocol import WorkspaceLike

_PCT = r"([+-]?\d+(?:\.\d+)?)%"


def parse_what_if(rules: tuple[str, ...]) -> WhatIf:
    """``SOURCE->TARGET=-10%``, ``arrivals=+5%``, ``uasc=-50%``, ``DURATION:STATION=-20%`` (several at once) as a
    WhatIf."""
    from cscflow.forecast.simulate import WhatIf

    wi = WhatIf()
    for rule in rules:
        r = rule.replace(" ", "")
        if m := re.fullmatch(rf"arrivals={_PCT}", r, flags=re.I):
            wi.arrivals *= 1 + float(m[1]) / 100
        elif m := re.fullmatch(rf"uasc={_PCT}", r, flags=re.I):
            wi.uasc *= 1 + float(m[1]) / 100
        elif m := re.fullmatch(rf"duration:(\w+)={_PCT}", r, flags=re.I):
            wi.duration[m[1]] = wi.duration.get(m[1], 1.0) * (1 + float(m[2]) / 100)
        elif m := re.fullmatch(rf"(\w+)->(\w+)={_PCT}", r):
            wi.share[(m[1], m[2])] = 1 + float(m[3]) / 100
        else:
            raise AnalysisError(f"cannot read the what-if {rule!r}",
                                hint='write "SOURCE->TARGET=-10%", "arrivals=+5%", "uasc=-50%" or '
                                     '"DURATION:STATION=-20%"')
    return wi


@click.command()
@click.argument("workspace", type=click.Path(file_okay=False))
@click.option("--measure", default="looked_after", show_default=True,
              help="referrals, assessments (new stays a month), cp_plan, looked_after, care_leaver (open at month "
                   "end), cp_plan_starts, looked_after_starts.")
@click.option("--horizon", default=12, show_default=True, type=click.IntRange(1, 120), help="Months ahead.")
@click.option("--origin", help="Fit on the data up to this date's last month end (default: the data's last).")
@click.option("--map", "map_name", default="england", show_default=True, help="Process map name or YAML path.")
@click.option("--simulations", default=200, show_default=True, type=click.IntRange(10, 100000))
@click.option("--bootstrap", default=20, show_default=True, type=click.IntRange(1, 1000),
              help="Bootstrap replicates over children (parameter uncertainty).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--fit-only", is_flag=True, help="Fit and write the model as YAML (--out) or print its summary.")
@click.option("--backtest", "do_backtest", is_flag=True, help="Refit at past origins; compare with baselines.")
@click.option("--what-if", "what_if", multiple=True, metavar="RULE", help='e.g. "cp_plan->looked_after=-10%", "arrivals=+5%", "uasc=-50%", "duration:s47=-20%".')
@click.option("--out", type=click.Path(dir_okay=False), help="Write .csv, .json or (--fit-only) .yaml.")
@click.option("--no-suppress", is_flag=True, help="--backtest: show actual counts of 1-9 (internal use only).")
@click.option("--costs", "costs_file", metavar="FILE",
              help="Unit costs (YAML): write the forecast's spend with intervals instead of MEASURE. 'example': "
                   "the bundled example (placeholder figures, labelled as such).")
def forecast(workspace: str, measure: str, horizon: int, origin: str | None, map_name: str, simulations: int,
             bootstrap: int, seed: int, fit_only: bool, do_backtest: bool, what_if: tuple[str, ...], out: str | None,
             no_suppress: bool, costs_file: str | None) -> None:
    """Forecast MEASURE for WORKSPACE from a model fitted to its journeys, with 80% and 95% intervals."""
    import pandas as pd

    import cscflow.forecast as fc
    from cscflow.disclosure import disclose
    from cscflow.forecast.measures import measure as check_measure
    from cscflow.workspace import Workspace

    check_measure(measure)
    wi = parse_what_if(what_if) if what_if else None
    costs = None
    if costs_file:
        if do_backtest or fit_only:
            raise AnalysisError("--costs costs a forecast", hint="leave out --backtest and --fit-only")
        from cscflow.forecast.costs import load_costs

        costs = load_costs(costs_file)
    from cscflow.workspace.workspace import require_workspace

    require_workspace(workspace)
    with Workspace(workspace, read_only=True) as ws:
        if do_backtest:
            from cscflow.forecast.backtesting import summarise

            table = fc.backtest(ws, measure, horizon=horizon, n_sims=simulations, n_boot=min(bootstrap, 10),
                                pmap=map_name, seed=seed)
            click.echo(summarise(table).to_string(index=False), err=out is None)
            method = (f"Backtest of {measure}: the model refitted at past origins, {horizon} months forecast from each "
                      f"({simulations} simulations, {min(bootstrap, 10)} bootstrap replicates) and set against what "
                      "happened, beside the naive, seasonal naive and ETS (statsmodels) forecasts from the same origins; "
                      "lower80/upper80: each method's 80% interval.")
            d = disclose(table, "forecast-backtest", suppress=not no_suppress, method=method,
                         window=f"origins {', '.join(sorted(str(o)[:10] for o in table['origin'].unique()))}")
        else:
            if fit_only:
                fit_and_diagnose(ws, map_name, origin, bootstrap, seed, out)
                return
            model = fc.fit(ws, pmap=map_name, origin=origin, n_boot=bootstrap, seed=seed)
            if costs is not None:
                from cscflow.cli.forecast_costs import costed

                costed(ws, model, costs, horizon, simulations, seed, wi, what_if, out)
                return
            table = fc.forecast(model, measure, horizon, simulations, seed)
            if wi is not None:
                alt = fc.forecast(model, measure, horizon, simulations, seed, what_if=wi)
                table = pd.concat([table.assign(scenario="baseline"),
                                   alt.assign(scenario="what-if: " + "; ".join(what_if))], ignore_index=True)
            method = (f"{model.method_}. {measure}: simulated {simulations} times from the children open on "
                      f"{model.origin_.date()}, parameters from {bootstrap} bootstrap replicates; the median and 80% and "
                      "95% intervals of the simulations" + (". A what-if uses the same random numbers." if wi else "."))
            d = disclose(table, "forecast", method=method,
                         window=f"fitted on the journeys from {model.obs_start_.date()} to {model.origin_.date()}")
    write(d, out)


def fit_and_diagnose(ws: WorkspaceLike, map_name: str, origin: str | None, bootstrap: int, seed: int,
                     out: str | None) -> None:
    """``--fit-only``: fit, then set the fit's routes and days against the data's (the diagnostics, disclosed);
    write both as YAML to ``out`` or print the summary and the diagnostics."""
    from cscflow.forecast.diagnostics import disclosed_diagnostics
    from cscflow.forecast.model import ForecastModel

    model = ForecastModel(pmap=map_name, origin=origin, n_boot=bootstrap, seed=seed)
    stays, stations, exits, obs_start = model.stays_of(ws)
    model.fit_stays(stays, stations, exits, obs_start)
    diag = disclosed_diagnostics(model, stays, seed=seed)
    if out:
        model.save(out, diagnostics=diag)
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(model.summary)
        click.echo("")
        click.echo(diag.text())


def write(d: Disclosed, out: str | None) -> None:
    """A disclosed forecast table printed with its header (method, data, disclosure rule), or written to ``out``:
    CSV with the header as ``#`` lines (read it with ``pandas.read_csv(path, comment="#")``), or JSON records."""
    if not out:
        body = d.table.to_string(index=False, float_format=lambda v: f"{v:,.1f}") if len(d.table) else "(no rows)"
        click.echo("\n".join([*d.header, body]))
    elif out.endswith(".json"):
        Path(out).write_text(d.table.to_json(orient="records", indent=1))
        click.echo(f"wrote {out}", err=True)
    else:
        d.write_csv(out)
        click.echo(f"wrote {out}", err=True)
