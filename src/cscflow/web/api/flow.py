"""``/api/flow/{table}``: the engine's flow tables as JSON, or CSV with small numbers suppressed.

Downloads show counts of 1 to 4 as "<5", hide a second count in a column where the column's total would
give one away, and blank the rates of a row where a count was hidden (so a rate cannot give the count away),
unless ``suppress=false``.
"""

from __future__ import annotations

import inspect
import io
from typing import Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Path, Query, Request, Response

from cscflow.web.api import bad, cohort, parse_date, records, state, where_key

router = APIRouter(prefix="/api", tags=["flow"])

TABLES = (
    "stations",
    "conversion",
    "durations",
    "dfg",
    "variants",
    "caseload",
    "rereferrals",
    "nfa_by_prior",
    "s47_outcomes",
    "before_after",
)
#: Integer columns that are not counts of children (never suppressed).
NOT_COUNTS = frozenset({"repeat", "seq", "year", "month", "week", "rank", "prior", "prior_referrals", "step",
                        "n_prior", "days", "window_days", "months", "order"})
SUPPRESSED = "<5"


def flow_table(st: Any, table: str, start: Any = None, end: Any = None, where: dict | None = None,
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
        given = {"start": start, "end": end, "where": where, **extra}
        frame = fn(st.ws, st.pmap, **{k: v for k, v in given.items() if k in params and v is not None})
        return frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)

    key = ("flow", table, start, end, where_key(where), tuple(sorted(extra.items())))
    return st.cached(key, compute)


def suppress(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with counts 1 to 4 shown as "<5", the next smallest count of a column hidden too
    where a column's total would give one hidden count away (:func:`cscflow.analytics.suppression.suppress`),
    and the rates of every row with a hidden count blanked.

    >>> frame = pd.DataFrame({"station": ["a", "b", "c"], "children": [3, 12, 40], "rate": [0.5, 0.25, 0.1]})
    >>> suppress(frame).values.tolist()
    [['a', '<5', ''], ['b', '<5', ''], ['c', 40, 0.1]]
    """
    from cscflow.analytics.suppression import suppress as suppress_counts

    counts = [c for c in frame.columns if pd.api.types.is_integer_dtype(frame[c]) and c not in NOT_COUNTS
              and not pd.api.types.is_bool_dtype(frame[c])]
    if not counts or frame.empty:
        return frame.copy()
    out = suppress_counts(frame, counts, marker=SUPPRESSED)
    hidden = np.zeros(len(frame), dtype=bool)
    for col in counts:
        hidden |= (out[col].astype(str) == SUPPRESSED).to_numpy()
    for col in [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]:
        out[col] = out[col].astype(object).where(~hidden, "")
    return out


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
                       date=parse_date(date, "date"))
    if format == "csv":
        out = suppress(frame) if suppress_small else frame
        buf = io.StringIO()
        out.to_csv(buf, index=False)
        return Response(
            buf.getvalue(),
            media_type="text/csv",
            headers={"content-disposition": f'attachment; filename="cscflow_{table}.csv"'},
        )
    return {"table": table, "columns": [str(c) for c in frame.columns], "rows": records(frame)}
