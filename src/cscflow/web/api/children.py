"""``/api/children/{index}``: one child's journey (pseudonymised id only) by its index in the tracks.

Only the keyed pseudonym and the stays (station, dates, episode-of-need number)
leave the API: never the identifiers table, names, UPNs or dates of birth.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Path, Query, Request, Response

from cscflow.journeys.tracks import Tracks
from cscflow.web.api import bad, cohort, json_body, records, state
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
) -> Response:
    """The journey of the child at ``index`` in ``/api/tracks`` (same convention and filters)."""
    where = cohort(request, {"convention"})
    st = state(request)
    tracks, _ = engine_tracks(st, convention, where)
    n = len(tracks.child_ids)
    if index >= n:
        raise bad(f"index={index} is beyond the {n} children of these tracks")
    child = str(tracks.child_ids[index])
    return json_body(st, ("child", child, index), lambda: _journey(st, index, child))


def _journey(st: Any, index: int, child: str) -> dict[str, Any]:
    """The stays of ``child`` in timeline order (start, then seq), read from every child's stays fetched once."""
    frame, at = journeys(st)
    lo, hi = at.get(child, (0, 0))
    rows = frame.iloc[lo:hi]
    labels = {s["id"]: s.get("label", s["id"]) for s in st.pmap.stations}
    rows = rows.assign(
        label=rows["station"].map(labels),
        days=(pd.to_datetime(rows["end"]) - pd.to_datetime(rows["start"])).dt.days,
    )
    return {"index": index, "child_id": child, "stays": records(rows[["repeat", "station", "label", "start", "end",
                                                                       "days"]])}


def journeys(st: Any) -> tuple[pd.DataFrame, dict[str, tuple[int, int]]]:
    """Every child's timeline rows (repeat, station, start, end) ordered by child, start and seq, and each child's
    (first, past-last) row in it: one query for the workspace instead of one per child asked for (cached)."""

    def compute() -> tuple[pd.DataFrame, dict[str, tuple[int, int]]]:
        from cscflow.journeys import timelines

        tl = timelines(st.ws, st.pmap, where=None)
        frame = (tl.select("child_id", "repeat", "station", "start", "end", "seq")
                 .order_by(["child_id", "start", "seq"]).execute())
        ids = frame["child_id"].to_numpy()
        first = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.zeros(0, dtype=np.int64)
        past = np.r_[first[1:], len(ids)].astype(np.int64)
        at = {str(c): (int(a), int(b)) for c, a, b in zip(ids[first], first, past, strict=True)}
        return frame[["repeat", "station", "start", "end"]].reset_index(drop=True), at

    out: tuple[pd.DataFrame, dict[str, tuple[int, int]]] = st.cached(("journeys",), compute)
    return out
