"""``/forecast`` and ``/api/forecast...``: the Forecast page (a measure's fan chart, what-ifs, spend).

GET /forecast                    the Forecast page
GET /api/forecast/options        {"available", "why", "origin", "observed_from", "measures", "junctions",
                                  "simulations", "bootstrap", "horizon_max", "costs": {"workspace", "why"}}
GET /api/forecast?measure=&horizon=&source=&target=&change=&arrivals=&costs=
                                 {"measure", "label", "what_if", "header", "columns", "rows", "figure",
                                  "spend": null | {"label", "example", "header", "columns", "rows", "figure"}
                                  | {"none": why}}

``change`` scales the share of SOURCE->TARGET by that percentage (the other next steps of SOURCE rescaled),
``arrivals`` the arrivals; both are percentages. ``costs``: ``none``, ``example`` (the bundled placeholder
figures, labelled "example costs, not published figures") or ``workspace`` (``costs.yaml`` in the workspace
folder). The model is fitted once per workspace generation (:meth:`Workspace.cached`) with
:data:`WEB_BOOTSTRAP` replicates, and each scenario is simulated once, :data:`WEB_SIMULATIONS` times, for
every measure and cost item; the page says so. Every table and figure goes through disclosure control.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse

from cscflow.web.api import bad, json_body, records, state

if TYPE_CHECKING:
    import numpy as np

    from cscflow.forecast.explore import Prepared
    from cscflow.forecast.simulate import WhatIf
    from cscflow.web.app import WebState

router = APIRouter(tags=["forecast"])
PAGE = "forecast.html"
#: simulations a scenario and bootstrap replicates of the fit in the web app (the CLI's defaults: 200 and 20)
WEB_SIMULATIONS = 100
WEB_BOOTSTRAP = 10
HORIZON_MAX = 36
COSTS_FILE = "costs.yaml"
_NAME = r"^[a-z0-9_]{0,40}$"


@router.get("/forecast", include_in_schema=False)
def page() -> FileResponse:
    """The Forecast page."""
    from cscflow.web.app import STATIC

    return FileResponse(STATIC / PAGE, headers={"cache-control": "no-store"})


def _prepared(st: WebState) -> Prepared:
    from cscflow.forecast.explore import prepare

    with st.lock:
        return st.ws.cached("web-forecast-fit", (st.map_name, WEB_BOOTSTRAP),
                            lambda: prepare(st.ws, st.pmap, n_boot=WEB_BOOTSTRAP), size=1)


def _sims(st: WebState, prepared: Prepared, horizon: int, wi: WhatIf | None) -> dict[str, np.ndarray]:
    from cscflow.forecast.explore import label, simulate_all

    model = prepared.model
    assert model is not None
    key = (st.map_name, horizon, label(wi) if wi else "")
    with st.lock:  # the workspace's caches are not shared across threads
        return st.ws.cached("web-forecast-sims", key,
                            lambda: simulate_all(model, horizon, WEB_SIMULATIONS, seed=0, what_if=wi), size=8)


def _costs_path(st: WebState) -> Path | None:
    return Path(st.workspace_path) / COSTS_FILE if st.workspace_path else None


@router.get("/api/forecast/options")
def options(request: Request) -> dict[str, Any]:
    """What the page can offer: the measures, the junctions with their fitted shares, the costs available."""
    from cscflow.errors import AnalysisError
    from cscflow.forecast.costs import load_costs
    from cscflow.forecast.explore import LABELS, junctions
    from cscflow.forecast.measures import MEASURES

    st = state(request)
    prepared = _prepared(st)
    costs: dict[str, Any] = {"workspace": False, "why": f"no {COSTS_FILE} in the workspace folder"}
    cp = _costs_path(st)
    if cp is not None and cp.is_file():
        try:
            c = load_costs(cp)
            costs = {"workspace": True, "label": c.label, "example": c.example, "why": None}
        except AnalysisError as err:  # shown on the page, which stays usable without costs
            costs["why"] = err.message + (f" ({err.hint})" if err.hint else "")
    out: dict[str, Any] = {"available": prepared.model is not None, "why": prepared.error,
                           "simulations": WEB_SIMULATIONS, "bootstrap": WEB_BOOTSTRAP, "horizon_max": HORIZON_MAX,
                           "costs": costs}
    m = prepared.model
    if m is None:
        return out
    labels = st.pmap.labels
    js = junctions(m, prepared.moves)
    for j in js:
        j["label"] = labels.get(j["source"], j["source"])
        for t in j["targets"]:
            t["label"] = labels.get(t["target"], t["target"])
    out.update(origin=str(m.origin_.date()), observed_from=str(m.obs_start_.date()), junctions=js,
               measures=[{"id": k, "label": LABELS.get(k, k)} for k, (s, _) in MEASURES.items() if s in m.stations_],
               fit_seconds=round(prepared.seconds, 1))
    return out


def _what_if(prepared: Prepared, source: str, target: str, change: float, arrivals: float) -> WhatIf | None:
    from cscflow.forecast.simulate import WhatIf

    m = prepared.model
    assert m is not None
    wi = WhatIf()
    if change and source and target:
        if source not in m.stations_:
            raise bad(f"no station {source!r} on the map")
        if target not in m.targets_:
            raise bad(f"no next step {target!r} of {source!r}")
        wi.share[(source, target)] = 1 + change / 100
    if arrivals:
        wi.arrivals = 1 + arrivals / 100
    return wi if wi.share or wi.arrivals != 1.0 else None


def _with_scenarios(base: pd.DataFrame, alt: pd.DataFrame | None, what: str) -> pd.DataFrame:
    if alt is None:
        return base.assign(scenario="baseline")
    return pd.concat([base.assign(scenario="baseline"), alt.assign(scenario=f"what-if: {what}")], ignore_index=True)


def _spend(st: WebState, prepared: Prepared, costs_name: str, base: dict[str, Any], alt: dict[str, Any] | None,
           what: str, method: str, window: str) -> dict[str, Any] | None:
    from cscflow.disclosure import disclose, numeric
    from cscflow.errors import AnalysisError
    from cscflow.forecast.costs import EXAMPLE_LABEL, items_of, load_costs, spend_by_simulation, spend_table
    from cscflow.forecast.explore import months_of
    from cscflow.forecast.plotting import fan_chart

    if costs_name == "none":
        return None
    m = prepared.model
    assert m is not None
    cp = _costs_path(st)
    if costs_name == "workspace" and (cp is None or not cp.is_file()):
        return {"none": f"no {COSTS_FILE} in the workspace folder: copy the example costs file there and fill it in"}
    try:
        c = load_costs("example" if costs_name == "example" else str(cp))
        items = items_of(c, m.stations_)
        tables = []
        for sims in (base, alt):
            if sims is None:
                continue
            spend, activity = spend_by_simulation(sims, c, items, prepared.mix if prepared.mix is not None else c.mix)
            tables.append(spend_table(spend, activity, months_of(m, next(iter(sims.values())).shape[1]), c.label))
    except AnalysisError as err:
        return {"none": err.message + (f" ({err.hint})" if err.hint else "")}
    t = _with_scenarios(tables[0], tables[1] if len(tables) > 1 else None, what)
    money = ["forecast", "lower80", "upper80", "lower95", "upper95"]
    t[money] = t[money].round(0)
    t["activity"] = t["activity"].round(1)
    d = disclose(t, "forecast-spend", method=method + f" Spend: each simulation's days and starts times the unit "
                 f"costs, summed, then its median and intervals. Costs: {c.label}.", window=window)
    if c.example:
        d.notes.append(f"{EXAMPLE_LABEL.upper()}: the unit costs are placeholders (1 a unit), not costs.")
    n = numeric(d.table)
    monthly = n[(n["item"] == "all") & (n["month"] != "total")]
    title = "Spend a month, all items" + (f" ({EXAMPLE_LABEL})" if c.example else f" ({c.currency})")
    fig = d.annotate(fan_chart(monthly, title=title, y_title="example units" if c.example else c.currency))
    totals = d.table[d.table["month"] == "total"].drop(columns=["month", "costs"])
    return {"label": c.label, "example": c.example, "header": d.header, "columns": [str(x) for x in totals.columns],
            "rows": records(totals), "figure": json.loads(fig.to_json())}


@router.get("/api/forecast")
def forecast(
    request: Request,
    measure: str = Query("looked_after", pattern=_NAME),
    horizon: int = Query(12, ge=1, le=HORIZON_MAX),
    source: str = Query("", pattern=_NAME),
    target: str = Query("", pattern=_NAME),
    change: float = Query(0.0, ge=-100, le=100),
    arrivals: float = Query(0.0, ge=-50, le=50),
    costs: str = Query("none", pattern="^(none|example|workspace)$"),
) -> Response:
    """The fan chart of ``measure`` (baseline, and the what-if when one is set) and, with ``costs``, its spend."""
    from cscflow.forecast.measures import MEASURES

    st = state(request)
    prepared = _prepared(st)
    if prepared.model is None:
        raise bad(f"no forecast: {prepared.error}")
    if measure not in MEASURES:
        raise bad(f"no measure {measure!r}; use one of {', '.join(MEASURES)}")
    wi = _what_if(prepared, source, target, change, arrivals)
    cp = _costs_path(st)
    stamp = cp.stat().st_mtime_ns if costs == "workspace" and cp is not None and cp.is_file() else 0
    key = ("forecast", measure, horizon, source, target, change, arrivals, costs, stamp)
    return json_body(st, key, lambda: _answer(st, prepared, measure, horizon, wi, costs))


def _answer(st: WebState, prepared: Prepared, measure: str, horizon: int, wi: WhatIf | None,
            costs: str) -> dict[str, Any]:
    from cscflow.disclosure import disclose, numeric
    from cscflow.forecast.explore import LABELS, label, measure_table
    from cscflow.forecast.plotting import fan_chart

    m = prepared.model
    assert m is not None
    base = _sims(st, prepared, horizon, None)
    alt = _sims(st, prepared, horizon, wi) if wi is not None else None
    what = label(wi) if wi is not None else ""
    t = _with_scenarios(measure_table(m, base, measure), None if alt is None else measure_table(m, alt, measure), what)
    num = ["forecast", "lower80", "upper80", "lower95", "upper95"]
    t[num] = t[num].round(1)
    method = (f"{m.method_}. Simulated {WEB_SIMULATIONS} times from the children open on {m.origin_.date()} (the "
              f"command line uses 200 by default), parameters from {WEB_BOOTSTRAP} bootstrap replicates; the "
              "median and 80% and 95% intervals of the simulations. A what-if uses the same random numbers.")
    window = f"fitted on the journeys from {m.obs_start_.date()} to {m.origin_.date()}"
    d = disclose(t, "forecast", method=method, window=window)
    hist = prepared.history[prepared.history["measure"] == measure][["month", "actual"]].reset_index(drop=True)
    dh = disclose(hist, "forecast-history", window=window)
    y = LABELS.get(measure, measure)
    fig = d.annotate(fan_chart(numeric(d.table), numeric(dh.table), title=f"Forecast: {y}", y_title=y))
    return {"measure": measure, "label": y, "origin": str(m.origin_.date()), "what_if": what,
            "header": d.header, "columns": [str(c) for c in d.table.columns], "rows": records(d.table),
            "figure": json.loads(fig.to_json()),
            "spend": _spend(st, prepared, costs, base, alt, what, method, window)}


__all__ = ["router"]
