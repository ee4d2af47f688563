"""``/api/report``: the board report (:mod:`cscflow.report`) of the served workspace as a download, the same
file ``cscflow report`` writes, for the period (``start``, ``end``), map date (``date``) and cohort asked for."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from cscflow.web.api import cohort, parse_date, state

router = APIRouter(prefix="/api", tags=["report"])


@router.get("/report")
def get_report(
    request: Request,
    start: str | None = Query(None, max_length=10),
    end: str | None = Query(None, max_length=10),
    date: str | None = Query(None, max_length=10),
) -> Response:
    """The self-contained HTML report (every count through disclosure control) as an attachment."""
    from cscflow.report import Options, report_html

    where = cohort(request, {"start", "end", "date"})
    st = state(request)
    first, last, day = parse_date(start, "start"), parse_date(end, "end"), parse_date(date, "date")
    opts = Options(first.isoformat() if first else None, last.isoformat() if last else None, where,
                   dates=(day.isoformat(),) if day else (), map_name=st.map_name)
    with st.lock:
        body = report_html(st.ws, opts)
    return Response(body, media_type="text/html; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="cscflow-report.html"'})
