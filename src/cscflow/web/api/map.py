"""``/api/map``: the process map (stations, lines, zones), the data's span and the event markers."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter, Request, Response

from cscflow.journeys.layout import ROUTE_DETOUR, ROUTE_MIN, ROUTE_SHARE
from cscflow.journeys.maps import ProcessMap
from cscflow.web.api import FILTERS, cohort, json_body, jsonable, records, state

router = APIRouter(prefix="/api", tags=["map"])


def map_payload(pmap: ProcessMap) -> dict[str, Any]:
    """The map as JSON: stations (id, label, x, y, zone), lines and the zones in drawing order."""
    stations = [
        {k: jsonable(s.get(k)) for k in ("id", "label", "x", "y", "zone")} for s in pmap.stations
    ]
    zones: list[str] = []
    for s in stations:
        if s["zone"] not in zones:
            zones.append(s["zone"])
    return {
        "name": pmap.name,
        "stations": stations,
        "lines": [{"id": line["id"], "colour": line["colour"], "stations": [str(s) for s in line["stations"]]}
                  for line in pmap.lines],  # journeys.maps gives every line these keys
        "zones": zones,
    }


@router.get("/map")
def get_map(request: Request) -> Response:
    """Stations, lines and zones of the process map, with the cohort filters the API accepts."""
    cohort(request)
    st = state(request)

    def build() -> dict[str, Any]:
        payload = st.cached(("map",), lambda: map_payload(st.pmap))
        values = st.cached(("values",), lambda: filter_values(st.ws))
        routes = st.cached(("routes",), lambda: data_routes(st))
        window = st.cached(("window",), lambda: observation_window(st))
        return {**payload, "filters": list(FILTERS), "la": st.ws.la, "values": values, "routes": routes,
                "route_share": ROUTE_SHARE, "route_min": ROUTE_MIN, "route_detour": ROUTE_DETOUR, "window": window}

    return json_body(st, ("map-body",), build)


def observation_window(st: Any) -> list[str] | None:
    """[first, last] ISO dates of the data's observation window (:func:`cscflow.journeys.windows.observation_window`,
    the one rule); the map opens where, from there on, its caseload is established (main.js)."""
    from cscflow.journeys.windows import observation_window as window_of

    window = window_of(st.ws)
    return None if window is None else [d.date().isoformat() for d in window]


def data_routes(st: Any) -> dict[str, list[dict[str, Any]]]:
    """The route every move of everyone's tracks follows on the map, and the routes the map lacks
    (:func:`cscflow.journeys.geometry.map_routes`; the video draws with the same)."""
    from cscflow.journeys.geometry import map_routes
    from cscflow.web.api.tracks import engine_tracks

    t, _ = engine_tracks(st, "travel", None)
    return map_routes(st.pmap, t)


def filter_values(ws: Any) -> dict[str, list[Any]]:
    """Values offered for filters whose values are not in the tracks header (teams of every stay)."""
    ep = ws.table("episodes")
    teams = ws.execute(ep.filter(ep.team.notnull()).select("team").distinct())["team"]
    ch = ws.table("children")
    las = sorted(str(a) for a in ws.execute(ch.filter(ch.la.notnull()).select("la").distinct())["la"])
    return {"team": sorted(str(t) for t in teams), "disability": ["Yes", "No"], "uasc": ["Yes", "No"],
            **({"la": las} if len(las) > 1 else {})}  # an LA filter only in a multi-LA workspace


@router.get("/events")
def get_events(request: Request) -> list[dict[str, Any]]:
    """Dated markers from the workspace's ``events`` table (e.g. an Ofsted inspection)."""
    cohort(request)
    st = state(request)

    def compute() -> list[dict[str, Any]]:
        if "events" not in st.ws.tables():
            return []
        frame = st.ws.table("events").order_by("date").execute()
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
        return records(frame[["date", "label", "kind"]])

    return st.cached(("events",), compute)
