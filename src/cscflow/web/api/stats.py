"""``/api/stats``: the statistics pages' data - each analysis as a plotly figure, a table and a
summary (JSON), or its table as CSV with small numbers suppressed.

GET /api/stats                      the analyses and their options
GET /api/stats/{name}?opt=...       {"name", "title", "figure", "columns", "rows", "summary", "header",
                                     "caption", "suppressed"}
GET /api/stats/{name}?format=csv    the table as CSV, its header as ``# `` lines

Table, summary and figure all come from :mod:`cscflow.disclosure` (counts 1-4 as "<5", secondary
suppression, coarsened curves, the figure drawn from the disclosed table with its method under it);
``suppress=false`` (internal use) turns it off and says "NOT SUPPRESSED: internal use only".
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Path, Query, Request, Response

from cscflow.web.api import bad, json_body, jsonable, records, state

router = APIRouter(prefix="/api/stats", tags=["stats"])

#: option -> accepted values (None = free text checked by length and characters)
CHOICES: dict[str, tuple[str, ...] | None] = {
    "by": ("proceedings", "legal_status", "age_at_entry", "entry_year"),
    "event": ("care", "referral", "cp_plan"),
    "overdispersion": ("auto", "none", "additive", "multiplicative"),
    "measure": None,
    "la": None,
    "year": None,
    "as_of": None,
    "window_start": None,
    "min_flow": None,
}


def _options(request: Request, allowed: tuple[str, ...]) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    for key, value in request.query_params.items():
        if key in ("format", "suppress", "token"):
            continue
        if key not in allowed:
            raise bad(f"unknown option {key!r}; this analysis takes {', '.join(allowed) or 'none'}")
        value = value.strip()
        choices = CHOICES.get(key)
        if choices is not None and value not in choices:
            raise bad(f"{key}={value[:30]!r} is not one of {', '.join(choices)}")
        if len(value) > 40 or not all(ch.isalnum() or ch in "-_ " for ch in value):
            raise bad(f"{key}={value[:30]!r} is not a valid value")
        if key in ("year", "min_flow"):
            if not value.isdigit():
                raise bad(f"{key}={value[:30]!r} is not a whole number")
            opts[key] = int(value)
        elif value:
            opts[key] = value
    return opts


@router.get("")
def list_analyses() -> dict[str, Any]:
    """The analyses, their descriptions and options, and the DfE measures for funnels."""
    from cscflow import reference
    from cscflow.analytics import ANALYSES

    return {
        "analyses": [{"name": k, "title": v[0], "options": list(v[1])} for k, v in ANALYSES.items()],
        "choices": {k: list(v) for k, v in CHOICES.items() if v},
        "measures": [{"name": k, "title": v[0]} for k, v in reference.MEASURES.items()],
    }


@router.get("/{name}")
def get_analysis(
    request: Request,
    name: str = Path(..., max_length=30),
    format: str = Query("json", pattern="^(json|csv)$"),
    suppress_small: bool = Query(True, alias="suppress"),
) -> Any:
    """One analysis as JSON (figure, table, summary), or its table as CSV."""
    from cscflow.analytics import ANALYSES, run

    if name not in ANALYSES:
        raise bad(f"no analysis {name[:30]!r}; use one of {', '.join(ANALYSES)}")
    opts = _options(request, ANALYSES[name][1])
    st = state(request)
    key = ("stats", name, tuple(sorted(opts.items())))
    result = st.cached(key, lambda: run(st.ws, name, **opts))
    if format == "csv":
        d = result.disclose(suppressed=suppress_small)
        return Response(d.csv(), media_type="text/csv",
                        headers={"content-disposition": f'attachment; filename="cscflow_{name}.csv"'})
    return json_body(st, (*key, suppress_small), lambda: _body(name, result, suppress_small))


def _body(name: str, result: Any, suppress_small: bool) -> dict[str, Any]:
    """The JSON answer of analysis ``name``: figure, disclosed table and summary, header and caption."""
    from cscflow.analytics import ANALYSES

    d = result.disclose(suppressed=suppress_small)
    summary = result.disclose_summary(suppressed=suppress_small).table
    table = d.table
    return {
        "name": name,
        "title": ANALYSES[name][0],
        "figure": json.loads(result.figure_for(suppress_small).to_json()),
        "columns": [str(c) for c in table.columns],
        "rows": records(table.head(5000)),
        "truncated": len(table) > 5000,
        "summary": jsonable(summary.to_dict(orient="records")),
        "suppressed": d.suppressed,
        "header": d.header,
        "caption": d.caption(),
    }
