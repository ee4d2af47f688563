"""``/api/overdue``: the children of the map's dots with a key-practice clock overdue at a date (the map's overlay).

GET /api/overdue?as_of=YYYY-MM-DD&convention=travel&<cohort filters>
    {"as_of", "rules": [{"rule", "limit", "children"}], "unavailable": {rule: why}, "children": [index, ...],
     "rules_of": [[k, ...], ...], "any": count}

``children`` are indices into the child index of ``/api/tracks`` with the same convention and cohort (the dots'
own numbering: no pseudonymised id is sent), ascending; ``rules_of[i]`` lists the positions in ``rules`` of the
rules whose clock is overdue for ``children[i]``. A clock is overdue at ``as_of`` when its due date has passed and
it is still running: the status :func:`cscflow.practices.evaluate` gives at that date (the one source of truth;
only the clock rules are evaluated, a never event being never overdue). The counts of children (``any``, and per
rule) pass through disclosure control: 1-4 as "<5".

Answers are cached by date, convention and cohort (and kept by the answer cache of the app: they depend on the
workspace only, not on the reviews the Timescales page stores).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query, Request, Response

from cscflow.model.calendar import FIRST_YEAR, LAST_YEAR
from cscflow.web.api import bad, cohort, json_body, parse_date, state, where_key
from cscflow.web.api.tracks import engine_tracks

router = APIRouter(prefix="/api", tags=["practices"])


def overdue_clocks(st: Any, day: dt.date | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(rule, child_id) of every clock overdue at ``day`` (default: the data's last date), and the evaluation's
    as-of date, clock rules and the rules it could not evaluate (cached per date)."""

    def compute() -> tuple[pd.DataFrame, dict[str, Any]]:
        from cscflow.practices import evaluate, load_rules

        rules = {k: r for k, r in load_rules().items() if r.kind == "clock"}
        with st.lock:
            c = evaluate(st.ws, rules, as_of=day)
        late = c.loc[(c["status"] == "overdue") & c["child_id"].notna(), ["rule", "child_id"]]
        late = late.astype({"child_id": str}).drop_duplicates().reset_index(drop=True)
        unavailable = dict(c.attrs["unavailable"])
        shown = [{"rule": k, "limit": str(r.limit)} for k, r in rules.items() if k not in unavailable]
        return late, {"as_of": c.attrs["as_of"], "rules": shown, "unavailable": unavailable}

    out: tuple[pd.DataFrame, dict[str, Any]] = st.cached(("overdue", day), compute)
    return out


def overdue_on_map(st: Any, day: dt.date | None, convention: str, where: dict[str, Any] | None) -> dict[str, Any]:
    """The answer of ``/api/overdue``: the overdue clocks at ``day`` on the dots of the tracks of ``convention`` and
    cohort ``where``."""
    from cscflow.disclosure import suppress_value

    late, info = overdue_clocks(st, day)
    tracks, _ = engine_tracks(st, convention, where)
    at = pd.Index(np.asarray(tracks.child_ids).astype(str)).get_indexer(late["child_id"])
    on = late.assign(index=at)[at >= 0]  # children outside the cohort, or with no stay on the map, have no dot
    position = {r["rule"]: k for k, r in enumerate(info["rules"])}
    on = on.assign(k=on["rule"].map(position)).sort_values(["index", "k"])
    grouped = on.groupby("index", sort=True)["k"].apply(lambda s: [int(v) for v in s])
    per_rule = on.groupby("rule")["index"].nunique()
    rules = [{**r, "children": suppress_value(int(per_rule.get(r["rule"], 0)))} for r in info["rules"]]
    return {"as_of": info["as_of"].isoformat(), "rules": rules, "unavailable": info["unavailable"],
            "children": [int(i) for i in grouped.index], "rules_of": grouped.tolist(),
            "any": suppress_value(int(grouped.size))}


@router.get("/overdue")
def get_overdue(request: Request, as_of: str | None = Query(None, max_length=10),
                convention: str = Query("travel", max_length=20)) -> Response:
    """The dots (child indices of ``/api/tracks``) whose child has a clock overdue at ``as_of``, per rule."""
    where = cohort(request, {"as_of", "convention"})
    day = parse_date(as_of, "as_of")
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise bad(f"as_of={as_of} is outside the working-day calendar ({FIRST_YEAR} to {LAST_YEAR}); "
                  "pick a date of the data")
    st = state(request)
    return json_body(st, ("overdue", day, convention, where_key(where)),
                     lambda: overdue_on_map(st, day, convention, where))


__all__ = ["overdue_clocks", "overdue_on_map", "router"]
