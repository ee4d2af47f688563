"""``/api/linkage/...`` and the ``/linkage`` page: the linkage summary and quality report, and clerical review.

The summary and the report carry counts, probabilities and pseudonymised ids only. The review
endpoints are the one place where names and dates of birth leave the workspace: they answer only a
client on this machine (loopback address), never another host, with or without a token; decisions
are stored in the workspace folder (:mod:`cscflow.linkage.decisions`) and applied on the next
``cscflow link``.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from cscflow.web.api import local_only, records, state

router = APIRouter(tags=["linkage"])
PAGE = "linkage.html"


def _local(request: Request) -> None:
    local_only(request, "clerical review shows names")


def _latest(request: Request) -> Any:
    from cscflow.linkage.proceedings import latest

    st = state(request)
    with st.lock:
        return latest(st.ws)


@router.get("/linkage", include_in_schema=False)
def page() -> FileResponse:
    """The Linkage page (summary, report, review)."""
    from cscflow.web.app import STATIC

    return FileResponse(STATIC / PAGE)


@router.get("/api/linkage/summary")
def summary(request: Request) -> dict[str, Any]:
    """Rows per status, the threshold and review band of the last run; ``linked: false`` (and what to
    run) when the workspace has not been linked yet, which is a state of the page, not an error."""
    from cscflow.linkage import decisions

    st = state(request)
    with st.lock:
        done = st.ws.has_table(decisions.RESULTS)
    if not done:
        return {"linked": False, "message": "The workspace has not been linked yet: run "
                                           "`cscflow link WORKSPACE` (with the legal department's file loaded)."}
    from cscflow.disclosure import suppress_value

    r = _latest(request)
    counts = {k: suppress_value(v) for k, v in r.counts().items()}  # 1-4 as "<5", as every output
    return {"linked": True, "counts": counts, "threshold": r.threshold, "review_band": list(r.review_band)}


@router.get("/api/linkage/report")
def report(request: Request) -> dict[str, Any]:
    """The linkage quality report (match rates, linked vs unlinked, sensitivity) as JSON records."""
    from cscflow.linkage.quality import as_json
    from cscflow.linkage.quality import report as build

    st = state(request)
    r = _latest(request)
    with st.lock:
        key = ("linkage-report", r.threshold, tuple(r.counts().items()), st.ws.generation)
        return st.cached(key, lambda: as_json(build(st.ws, r)))


@router.get("/api/linkage/review")
def review(request: Request) -> dict[str, Any]:
    """Rows for clerical review: the legal row and its candidate child side by side, with the evidence."""
    _local(request)
    from cscflow.linkage.records import child_records, legal_records

    st = state(request)
    r = _latest(request)
    rows = r.rows[r.rows["status"] == "review"]
    with st.lock:
        legal, procs = legal_records(st.ws)
        kids = child_records(st.ws, sorted(set(procs["source"].dropna())))
    show = ["surname", "forenames", "dob", "sex"]
    left = legal.set_index("unique_id")[show]
    right = kids.set_index("unique_id")[show]
    evidence = [c for c in rows.columns if c.startswith(("gamma_", "bf_", "mw_"))]
    out = []
    for row in rows.itertuples(index=False):
        item = {"proceedings_id": row.proceedings_id, "source": row.source, "source_row": int(row.source_row),
                "child_id": row.candidate_child_id, "match_probability": float(row.match_probability),
                "second_probability": float(row.second_probability),
                "legal": _person(left, row.proceedings_id), "child": _person(right, row.candidate_child_id),
                "evidence": {c: getattr(row, c) for c in evidence}}
        out.append(item)
    return {"rows": records(pd.DataFrame(out)) if out else [], "threshold": r.threshold}


def _person(frame: pd.DataFrame, key: Any) -> dict[str, Any]:
    if key is None or key not in frame.index:
        return {}
    return {k: (None if pd.isna(v) else v) for k, v in frame.loc[key].items()}


class Decision(BaseModel):
    proceedings_id: str = Field(max_length=200)
    child_id: str = Field(max_length=200)
    decision: Literal["accept", "reject", "skip"]


@router.post("/api/linkage/decisions")
def decide(request: Request, body: Decision) -> dict[str, Any]:
    """Store one decision (applied when the linkage is next run)."""
    _local(request)
    from cscflow.linkage.decisions import record

    st = state(request)
    with st.lock:
        n = record(st.ws, pd.DataFrame([body.model_dump()]))
    return {"stored": n}
