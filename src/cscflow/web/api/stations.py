"""``/api/stations/{id}``: the numbers of one station for the panel shown on hover or click.

Here now (the engine's ``stations_on``), arrived in the last 7 days, and the
station's rows of the flow tables: totals (``stations``), onward conversion
(``conversion``) and time spent (``durations``: median and quartiles).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Path, Query, Request, Response

from cscflow.web.api import bad, cohort, json_body, parse_date, records, state, where_key
from cscflow.web.api.flow import flow_table
from cscflow.web.api.tracks import counts_on

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
) -> Response:
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

    def build() -> dict[str, Any]:
        if day is not None:
            out.update(_on_date(st, station_id, day, where))
        out["totals"] = rows_of(flow_table(st, "stations", *period, where), station_id)
        out["onward"] = rows_of(flow_table(st, "conversion", *period, where), station_id)
        out["durations"] = rows_of(flow_table(st, "durations", *period, where), station_id)
        return out

    return json_body(st, ("station", station_id, day, period, where_key(where)), build)


def _on_date(st: Any, station: str, day: dt.date, where: dict[str, Any] | None) -> dict[str, Any]:
    """Children at ``station`` on ``day`` (the counts of ``/api/counts``: the engine's ``stations_on`` rule) and
    the children with a timeline row there begun in the 7 days to ``day``, both counted on the cached timeline
    rows (no query per station and date)."""
    from cscflow.journeys.track_rows import cohort_mask

    here = {r["station"]: r["children"] for r in counts_on(st, day, where)}

    def compute() -> dict[str, int]:
        rows, keep, _ = cohort_mask(st.ws, st.pmap, where)
        d = (pd.Timestamp(day) - pd.Timestamp("1970-01-01")).days
        m = (rows.sday >= d - 6) & (rows.sday <= d)
        if keep is not None:
            m &= keep
        ids = st.pmap.station_ids
        n_kids = max(int(rows.child_ids.shape[0]), 1)
        pairs = np.unique(rows.st[m].astype("int64") * n_kids + rows.ci[m])
        counts = np.bincount(pairs // n_kids, minlength=len(ids))[: len(ids)]
        return {s: int(c) for s, c in zip(ids, counts, strict=True)}

    arrived: dict[str, int] = st.cached(("arrived_week", day, where_key(where)), compute)
    return {"here_now": int(here.get(station, 0)), "arrived_week": arrived.get(station, 0)}
