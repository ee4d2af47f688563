"""``cscflow forecast ... --costs FILE``: the forecast's spend, with and without the what-ifs, disclosed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from cscflow.forecast.costs import UnitCosts
    from cscflow.forecast.model import ForecastModel
    from cscflow.forecast.simulate import WhatIf
    from cscflow.workspace.protocol import WorkspaceLike


def costed(ws: WorkspaceLike, model: ForecastModel, costs: UnitCosts, horizon: int, n_sims: int, seed: int,
           wi: WhatIf | None, rules: tuple[str, ...], out: str | None) -> None:
    """Write (``out``: .csv or .json) or print the spend table of ``model``'s forecast and what-if ``wi``."""
    import pandas as pd

    from cscflow.cli.forecast import write
    from cscflow.disclosure import disclose
    from cscflow.forecast.costs import EXAMPLE_LABEL, placement_mix, spend_forecast

    mix = placement_mix(ws, model.origin_)
    mix_note = ("Days in care split across placement types by the workspace's care days in the year before the "
                "origin (903 placement codes)." if mix is not None else
                "Days in care split across placement types by the costs file's mix (the workspace holds no "
                "placement codes).")
    table = spend_forecast(model, costs, horizon, n_sims, seed, mix=mix)
    if wi is not None:
        alt = spend_forecast(model, costs, horizon, n_sims, seed, what_if=wi, mix=mix)
        table = pd.concat([table.assign(scenario="baseline"), alt.assign(scenario="what-if: " + "; ".join(rules))],
                          ignore_index=True)
    method = (f"{model.method_}; {n_sims} simulations of {horizon} months from {model.origin_.date()}. Spend = each "
              f"simulation's days and starts times the unit costs, summed; then its median and 80%/95% intervals. "
              f"{mix_note} Costs: {costs.label}.")
    money = ["forecast", "lower80", "upper80", "lower95", "upper95"]
    table[money] = table[money].round(0)
    table["activity"] = table["activity"].round(1)
    d = disclose(table, "forecast-spend", method=method, window=f"fitted up to {model.origin_.date()}")
    if costs.example:
        d.notes.append(f"{EXAMPLE_LABEL.upper()}: the figures are placeholders (1 a unit), not costs; "
                       "replace them with published or local unit costs (see the file's sources).")
        click.secho(f"Warning: {EXAMPLE_LABEL}: the unit costs in {Path(costs.path).name} are placeholders.",
                    err=True, fg="yellow")
    write(d, out)
