"""``/api/flow/{table}``: the engine's flow tables as JSON, or as CSV, both through disclosure control.

The JSON the pages read and the CSV download are the same disclosed table (:mod:`cscflow.disclosure`:
counts of 1 to 4 as "<5", counts that would give one back withheld as "[c]", rates and shares of
hidden counts blank); the JSON adds ``header`` and ``caption`` (method, data window, disclosure rule,
for the chart) and the CSV starts with them as ``# `` lines. ``suppress=false`` (internal use) turns it
off and says "NOT SUPPRESSED: internal use only".
"""

from __future__ import annotations

import inspect
from typing import Any

import pandas as pd
from fastapi import APIRouter, Path, Query, Request, Response

from cscflow.journeys.windows import data_window
from cscflow.model.flow_tables import API_NAMES, FLOW_TABLES, api_name
from cscflow.web.api import bad, cohort, json_body, parse_date, records, state, where_key

router = APIRouter(prefix="/api", tags=["flow"])

TABLES = API_NAMES  # the one list (cscflow.model.flow_tables)


def flow_table(st: Any, table: str, start: Any = None, end: Any = None, where: dict[str, Any] | None = None,
               **extra: Any) -> pd.DataFrame:
    """The engine's flow table ``table`` (cached); extra keywords are passed when the table takes them."""
    if table not in TABLES:
        raise bad(f"no flow table {table[:30]!r}; use one of {', '.join(TABLES)}")

    def compute() -> pd.DataFrame:
        from cscflow.journeys import flow

        fn = getattr(flow, table, None)
        if fn is None:
            raise bad(f"the journey engine has no {table!r} table yet")
        params = inspect.signature(fn).parameters
        given = {"start": start or data_window(st.ws)[1], "end": end, "where": where, **extra}
        frame = fn(st.ws, st.pmap, **{k: v for k, v in given.items() if k in params and v is not None})
        return frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)

    key = ("flow", table, start, end, where_key(where), tuple(sorted(extra.items())))
    return st.cached(key, compute)


def disclosed(st: Any, table: str, frame: pd.DataFrame, start: Any, end: Any, where: dict[str, Any] | None,
              suppress: bool = True, at: Any = None) -> Any:
    """``frame`` (flow table ``table``) through disclosure control, with its method and data window."""
    from cscflow.disclosure import disclose, flow_method

    span, observed = data_window(st.ws)
    method, window = flow_method(table, st.map_name, start, end, where, span, observed)
    if table == "before_after":
        method += f" Event date {at or 'the latest event'}."
    return disclose(frame, table, suppress=suppress, method=method, window=window)


@router.get("/flow")
def list_flow(request: Request) -> list[dict[str, str]]:
    """The flow tables the engine offers, in order, with a label for each (cscflow.model.flow_tables)."""
    cohort(request)
    return [{"table": api_name(name), "label": label} for name, label in FLOW_TABLES]


@router.get("/flow/{table}")
def get_flow(
    request: Request,
    table: str = Path(..., max_length=30),
    start: str | None = Query(None, max_length=10),
    end: str | None = Query(None, max_length=10),
    date: str | None = Query(None, max_length=10),
    format: str = Query("json", pattern="^(json|csv)$"),
    suppress_small: bool = Query(True, alias="suppress"),
) -> Any:
    """A flow table for the cohort and period; ``format=csv`` downloads it (small numbers suppressed)."""
    where = cohort(request, {"start", "end", "date", "format", "suppress"})
    st = state(request)
    frame = flow_table(st, table, parse_date(start, "start"), parse_date(end, "end"), where,
                       date=parse_date(date, "date"), at=parse_date(date, "date"))
    key = ("flow-disclosed", table, start, end, where_key(where), date, suppress_small)
    d = st.cached(key, lambda: disclosed(st, table, frame, start, end, where, suppress_small, date))
    if format == "csv":
        return Response(
            d.csv(),
            media_type="text/csv",
            headers={"content-disposition": f'attachment; filename="cscflow_{table}.csv"'},
        )
    return json_body(st, key, lambda: {"table": table, "columns": [str(c) for c in d.table.columns],
                                       "rows": records(d.table), "suppressed": d.suppressed, "header": d.header,
                                       "caption": d.caption()})
