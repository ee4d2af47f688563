"""``/api/stations/{id}``: the numbers of one station for the panel shown on hover or click.

Here now (the engine's ``stations_on``), arrived in the last 7 days, and the
station's rows of the flow tables: totals (``stations``), onward conversion
(``conversion``) and time spent (``durations``: median and quartiles).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pandas as pd
from fastapi import APIRouter, Path, Query, Request

from cscflow.web.api import bad, cohort, parse_date, records, state, where_key
from cscflow.web.api.flow import flow_table

router = APIRouter(prefix="/api", tags=["stations"])

#: Columns that name the station a flow-table row is about.
STATION_COLUMNS = ("station", "from", "from_station", "source")


def rows_of(frame: pd.DataFrame, station: str) -> list[dict[str, Any]]:
    """Rows of a flow table about ``station`` (first matching station column)."""
    for col in STATION_COLUMNS:
        if col in frame.columns:
            return records(frame[frame[col].astype(str) == station])
    return []


@router.get("/stations/{station_id}")
def get_station(
    request: Request,
    station_id: str = Path(..., max_length=60),
    date: str | None = Query(None, max_length=10),
    start: str | None = Query(None, max_length=10),
    end: str | None = Query(None, max_length=10),
) -> dict[str, Any]:
    """Counts, onward conversion and time spent for one station (on ``date``, for the cohort)."""
    where = cohort(request, {"date", "start", "end"})
    st = state(request)
    stations = {s["id"]: s for s in st.pmap.stations}
    if station_id not in stations:
        raise bad(f"no station {station_id[:40]!r} on this map; stations are {', '.join(stations)}")
    day = parse_date(date, "date")
    period = (parse_date(start, "start"), parse_date(end, "end"))
    out: dict[str, Any] = {
        "station": station_id,
        "label": stations[station_id].get("label", station_id),
        "zone": stations[station_id].get("zone"),
        "date": day.isoformat() if day else None,
    }
    if day is not None:
        out.update(_on_date(st, station_id, day, where))
    out["totals"] = rows_of(flow_table(st, "stations", *period, where), station_id)
    out["onward"] = rows_of(flow_table(st, "conversion", *period, where), station_id)
    out["durations"] = rows_of(flow_table(st, "durations", *period, where), station_id)
    return out


def _on_date(st: Any, station: str, day: dt.date, where: dict[str, Any] | None) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        from cscflow.journeys import flow, timelines

        here = flow.stations_on(st.ws, st.pmap, day, where=where)
        match = here.loc[here["station"] == station, "children"]
        tl = timelines(st.ws, st.pmap, where=where)
        week_start = day - dt.timedelta(days=6)
        arrived = tl.filter(
            (tl.station == station)
            & (tl.start.cast("date") >= ibis.literal(week_start))
            & (tl.start.cast("date") <= ibis.literal(day))
        ).child_id.nunique()
        return {
            "here_now": int(match.iloc[0]) if len(match) else 0,
            "arrived_week": int(st.ws.execute(arrived)),
        }

    counts: dict[str, Any] = st.cached(("station_on", station, day, where_key(where)), compute)
    return counts
