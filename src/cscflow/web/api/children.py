"""``/api/children/{index}``: one child's journey (pseudonymised id only) by its index in the tracks.

Only the keyed pseudonym and the stays (station, dates, episode-of-need number)
leave the API: never the identifiers table, names, UPNs or dates of birth.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd
from fastapi import APIRouter, Path, Query, Request

from cscflow.journeys.tracks import Tracks
from cscflow.web.api import bad, cohort, records, state
from cscflow.web.api.tracks import engine_tracks

router = APIRouter(prefix="/api", tags=["children"])


def child_ids(tracks: Tracks) -> list[str]:
    """The pseudonymised ids of a Tracks object, in the order of its child index."""
    return [str(v) for v in tracks.child_ids]


@router.get("/children/{index}")
def get_child(
    request: Request,
    index: int = Path(..., ge=0, le=2**32 - 1),
    convention: str = Query("travel", max_length=20),
) -> dict[str, Any]:
    """The journey of the child at ``index`` in ``/api/tracks`` (same convention and filters)."""
    where = cohort(request, {"convention"})
    st = state(request)
    tracks, _ = engine_tracks(st, convention, where)
    ids = child_ids(tracks)
    if index >= len(ids):
        raise bad(f"index={index} is beyond the {len(ids)} children of these tracks")
    child = ids[index]

    def compute() -> dict[str, Any]:
        from cscflow.journeys import timelines

        tl = timelines(st.ws, st.pmap, where=None)
        frame = tl.filter(tl.child_id == ibis.literal(child)).order_by(["start", "seq"]).execute()
        labels = {s["id"]: s.get("label", s["id"]) for s in st.pmap.stations}
        frame = frame.assign(
            label=frame["station"].map(labels),
            days=(pd.to_datetime(frame["end"]) - pd.to_datetime(frame["start"])).dt.days,
        )
        stays = records(frame[["repeat", "station", "label", "start", "end", "days"]])
        return {"index": index, "child_id": child, "stays": stays}

    journey: dict[str, Any] = st.cached(("child", child), compute)
    return journey
