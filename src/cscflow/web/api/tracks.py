"""Binary animation data: ``/api/tracks`` (the engine's legs), ``/api/stays`` (timeline stays for the
station counts) and ``/api/counts`` (children at each station on a date, from the engine).

Both blobs are made by the one packer, :func:`cscflow.journeys.tracks.pack_blob`, in the layout that
docs/contracts.md gives byte by byte.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Query, Request, Response

from cscflow.journeys.tracks import pack_blob
from cscflow.web.api import bad, cohort, json_body, parse_date, records, state, where_key

router = APIRouter(prefix="/api", tags=["tracks"])

CONVENTIONS = ("travel", "queue")
#: ``end`` of a stay still open at the data's end, in ``/api/stays``.
OPEN_DAY = 2**31 - 1
BINARY = "application/octet-stream"


def engine_tracks(st: Any, convention: str, where: dict[str, Any] | None) -> Any:
    """The engine's :class:`Tracks` for a convention and cohort (cached)."""
    if convention not in CONVENTIONS:
        raise bad(f"convention={convention[:20]!r} is not one of {', '.join(CONVENTIONS)}")

    def compute() -> Any:
        from cscflow.journeys import tracks

        t = tracks(st.ws, st.pmap, convention=convention, where=where)
        return t, t.to_bytes()

    return st.cached(("tracks", convention, where_key(where)), compute)


def stays_blob(st: Any, where: dict[str, Any] | None) -> bytes:
    """Every timeline stay as (child, station, start day, end day), days since 1970-01-01.

    Rows come in the timeline's order (child, then ``seq``), so same-day steps keep their order.
    They are a cohort subset of the engine's timeline rows, fetched once per workspace and map.
    """

    def compute() -> bytes:
        from cscflow.journeys.track_rows import OUTSIDE, cohort_mask

        rows, keep, renumber = cohort_mask(st.ws, st.pmap, where)
        ids = [s["id"] for s in st.pmap.stations]
        on_map = rows.st != OUTSIDE
        if keep is not None:
            on_map &= keep
        child = (rows.ci[on_map] if renumber is None else renumber[rows.ci[on_map]]).astype("<u4")
        end = np.where(rows.eday[on_map] >= OPEN_DAY, OPEN_DAY, rows.eday[on_map])
        header = {
            "version": 1,
            "kind": "stays",
            "day_zero": "1970-01-01",
            "open_day": OPEN_DAY,
            "n_stays": int(child.size),
            "n_children": int(child.max() + 1) if child.size else 0,
            "stations": ids,
        }
        return pack_blob(header, {"child": child, "station": rows.st[on_map].astype("uint16"),
                             "start": rows.sday[on_map].astype("<i4"), "end": end.astype("<i4")})

    blob: bytes = st.cached(("stays", where_key(where)), compute)
    return blob


@router.get("/tracks")
def get_tracks(request: Request, convention: str = Query("travel", max_length=20)) -> Response:
    """The animation legs of every child in the cohort, as the contract's binary blob."""
    where = cohort(request, {"convention"})
    st = state(request)
    _, blob = engine_tracks(st, convention, where)
    return Response(blob, media_type=BINARY, headers={"cache-control": "no-store"})


@router.get("/stays")
def get_stays(request: Request) -> Response:
    """Timeline stays (child index, station index, start and end day) for counts at stations."""
    where = cohort(request)
    return Response(stays_blob(state(request), where), media_type=BINARY, headers={"cache-control": "no-store"})


def counts_on(st: Any, day: Any, where: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Children at each station on ``day`` for the cohort (cached): the engine's ``stations_on`` rule, counted on
    its cached timeline rows (no query per filter change; tests/journeys/test_track_rows.py checks it equals
    :func:`cscflow.journeys.flow.stations_on`)."""

    def compute() -> list[dict[str, Any]]:
        from cscflow.journeys.track_rows import cohort_mask

        rows, keep, _ = cohort_mask(st.ws, st.pmap, where)
        return records(rows.stations_on(day, st.pmap.station_ids, keep))

    counts: list[dict[str, Any]] = st.cached(("counts", day, where_key(where)), compute)
    return counts


@router.get("/counts")
def get_counts(request: Request, date: str = Query(..., max_length=10)) -> Response:
    """Children at each station on ``date`` (the engine's ``stations_on`` rule, on its cached timeline rows)."""
    where = cohort(request, {"date"})
    day = parse_date(date, "date")
    st = state(request)
    return json_body(st, ("counts", day, where_key(where)), lambda: counts_on(st, day, where))
