"""``/api/practices/...`` and the ``/timescales`` page: the key practices' clocks.

GET /timescales                           the Timescales page
GET /api/practices                        the rules, which the data can show (and why not), the as-of date
GET /api/practices/{rule}?as_of=&suppress=
                                          {"rule", "header", "counts", "spc": {figure, rows}, "funnel":
                                           {figure, rows} or {"none": why}, "due_soon": {columns, rows}}
GET /api/practices/{rule}/due-soon.csv    the due-soon list as CSV with its header
GET /api/practices/{rule}/breaches?as_of=&show=unreviewed|reviewed|all
                                          the rule's breached and overdue clocks with their review, latest due
                                          first (at most 1,000): {columns, rows, header, causes, notes_shown}
POST /api/practices/{rule}/reviews        {child_id, start, cause, note, action}: mark one breach reviewed
                                          (:func:`cscflow.practices.reviews.mark`, as ``cscflow practices
                                          --review`` does); from this machine only (loopback client), as the
                                          Linkage page's decisions

``reviews`` in the rule's answer: breaches reviewed and unreviewed and the causes by month (counts only,
disclosed, with a stacked bar chart drawn from the disclosed table); ``review_counts``: the rule's breaches,
reviewed and unreviewed in all, disclosed. The notes are free text: they stay in the workspace and are sent
only to a client on this machine, in the list of breaches.

The p-chart and the team funnel are drawn from their disclosed tables (counts of 1-4 as "<5",
secondary suppression, rates and limits of a hidden count left blank and their points dropped). The
due-soon list is child-level for the LA's own use: pseudonymised ids only, its header says so.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from cscflow.web.api import bad, is_local, jsonable, local_only, records, state

router = APIRouter(tags=["practices"])


def _disclose(*args: Any, **kwargs: Any) -> Any:
    from cscflow.practices.summary import disclose

    return disclose(*args, **kwargs)


PAGE = "timescales.html"
_DATE = r"^\d{4}-\d{2}-\d{2}$"
#: rows of the list of breaches sent at most (the latest due first)
BREACHES_SHOWN = 1000
#: colours of the causes in the reviews chart (Okabe & Ito), the unreviewed breaches grey and hatched
CAUSE_COLOURS = ("#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7")


@router.get("/timescales", include_in_schema=False)
def page() -> FileResponse:
    """The Timescales page."""
    from cscflow.web.app import STATIC

    return FileResponse(STATIC / PAGE, headers={"cache-control": "no-store"})


def _clocks(request: Request, as_of: str | None) -> pd.DataFrame:
    from cscflow.practices import evaluate

    st = state(request)

    def run() -> pd.DataFrame:
        with st.lock:
            return evaluate(st.ws, as_of=as_of)

    result: pd.DataFrame = st.cached(("practices", as_of), run)
    return result


@router.get("/api/practices")
def rules(request: Request) -> dict[str, Any]:
    """Every rule with its limit and source, whether the loaded data can show it, and the as-of date."""
    from cscflow.practices import coverage
    from cscflow.practices.clocks import as_of_default

    st = state(request)
    with st.lock:
        day = as_of_default(st.ws)
        cover = coverage(ws=st.ws, as_of=day)
    return {"as_of": day.isoformat(), "rules": records(cover)}


def _spc(rule_clocks: pd.DataFrame, suppress: bool, method: str, window: str) -> dict[str, Any]:
    from cscflow import disclosure
    from cscflow.practices.spc import PChart
    from cscflow.practices.summary import by_period

    m = by_period(rule_clocks, "month")
    if m.empty:
        return {"none": "no clocks of this rule are due yet"}
    pc = PChart().fit(m["late"], m["due"], labels=m["month"].tolist())
    t = pc.summary.rename(columns={"label": "month"})
    shown = t[["month", "n", "late", "p", "centre", "lower", "upper", "signal", "variation"]].copy()
    d = _disclose(shown, "practices-spc", suppress=suppress, method=pc.method_ + " " + method,
                            window=window)
    num = disclosure.numeric(d.table)
    drawn = pc.table_.copy()
    for col in ("p", "lower", "upper"):
        drawn[col] = num[col].to_numpy(dtype=float)
    drawn.loc[drawn["p"].isna(), "variation"] = "hidden"
    pc.table_ = drawn
    fig = d.annotate(pc.plot(title="Breach rate by month (late of due)", subtitle=False))
    return {"figure": json.loads(fig.to_json()), "columns": [str(c) for c in d.table.columns],
            "rows": records(d.table), "header": d.header}


def _funnel(rule_clocks: pd.DataFrame, rule: str, suppress: bool, window: str) -> dict[str, Any]:
    from cscflow import disclosure
    from cscflow.analytics import plotting
    from cscflow.errors import AnalysisError
    from cscflow.practices.summary import team_funnel

    try:
        fp = team_funnel(rule_clocks, rule)
    except AnalysisError as err:
        return {"none": err.message}
    d = _disclose(fp.summary, "practices-teams", suppress=suppress, method=fp.method_, window=window)
    t = disclosure.numeric(d.table)
    hidden = set(t.loc[t["value"].isna(), "label"].astype(str))
    fig = d.annotate(plotting.drop_points(fp.plot(title=f"{rule}: late of due, by team", value_title="late"),
                                          hidden))
    return {"figure": json.loads(fig.to_json()), "columns": [str(c) for c in d.table.columns],
            "rows": records(d.table), "header": d.header}


def _due_soon(request: Request, rule: str, as_of: str | None) -> tuple[pd.DataFrame, Any]:
    from cscflow.practices.summary import due_soon, window_text

    clocks = _clocks(request, as_of)
    day = clocks.attrs["as_of"]
    ds = due_soon(clocks[clocks["rule"] == rule], day)
    d = _disclose(ds, "practices-clocks", suppress=False,
                            method=f"Clocks of {rule} overdue or due within 5 working days of {day}.",
                            window=window_text(clocks))
    d.notes.append("Child-level list for the LA's own use: pseudonymised ids only; do not publish.")
    return clocks, d


def _rule_or_422(request: Request, rule: str, as_of: str | None = None) -> None:
    from cscflow.practices import load_rules

    rules = load_rules()
    if rule not in rules:
        raise bad(f"no rule {rule[:40]!r}; use one of {', '.join(rules)}")
    if not rules[rule].evaluable:
        raise bad(f"rule {rule!r} cannot be evaluated from the loaded returns: {rules[rule].why}")
    why = _clocks(request, as_of).attrs["unavailable"].get(rule)
    if why:
        raise bad(f"rule {rule!r} cannot be evaluated from the loaded returns: {why}")


@router.get("/api/practices/{rule}")
def one_rule(
    request: Request,
    rule: str = Path(..., max_length=40, pattern=r"^[\w-]+$"),
    as_of: str | None = Query(None, pattern=_DATE),
    suppress_small: bool = Query(True, alias="suppress"),
) -> dict[str, Any]:
    """One rule: its p-chart by month, its team funnel, its due-soon list and its reviewed breaches."""
    _rule_or_422(request, rule, as_of)
    clocks, d = _due_soon(request, rule, as_of)
    mine = clocks[clocks["rule"] == rule]
    raw = mine["status"].value_counts().reindex(["met", "breached", "open", "overdue"], fill_value=0)
    one = pd.DataFrame([{**{str(k): int(v) for k, v in raw.items()}, "clocks": int(raw.sum())}])
    if suppress_small:  # the four statuses add up to the clocks: a hidden one is not given back
        from cscflow.disclosure import suppress

        one = suppress(one, ["met", "breached", "open", "overdue"], row_total="clocks", column_totals=False)
    counts = one.iloc[0].to_dict()
    window = d.window
    method = "Breach = stopped late or still running past the due date; months by due date."
    from cscflow.practices import reviews as rev

    st = state(request)
    causes = rev.causes_by_month(rev.with_reviews(mine, rev.load(st.ws)))
    dr = _disclose(causes, "practices-reviews", suppress=suppress_small, method=method, window=window)
    return {
        "rule": rule, "as_of": str(clocks.attrs["as_of"]), "counts": jsonable(counts),
        "spc": _spc(mine, suppress_small, method, window),
        "funnel": _funnel(mine, rule, suppress_small, window),
        "due_soon": {"columns": [str(c) for c in d.table.columns], "rows": records(d.table.head(2000)),
                     "header": d.header, "truncated": len(d.table) > 2000},
        "reviews": {"columns": [str(c) for c in dr.table.columns], "rows": records(dr.table), "header": dr.header,
                    **_reviews_chart(dr, rule, clocks.attrs.get("window_start"))},
        "review_counts": _review_counts(causes, suppress_small),
    }


def _review_counts(causes: pd.DataFrame, suppress_small: bool) -> dict[str, Any]:
    """The rule's breaches, reviewed and unreviewed in all (reviewed + unreviewed = breaches: one hidden count is
    not given back by the other two)."""
    one = pd.DataFrame([{c: int(causes[c].sum()) if len(causes) else 0 for c in ("late", "reviewed", "unreviewed")}])
    if suppress_small:
        from cscflow.disclosure import suppress

        one = suppress(one, ["reviewed", "unreviewed"], row_total="late", column_totals=False)
    out: dict[str, Any] = jsonable(one.iloc[0].to_dict())
    return out


def _reviews_chart(d: Any, rule: str, since: Any = None) -> dict[str, Any]:
    """Breaches by month of the due date as stacked bars: the unreviewed (grey, hatched) and the reviewed by cause,
    drawn from the disclosed table (a hidden count is left out of its bar; the caption says how counts are
    shown). Months due from ``since`` (the data's window, as the p-chart's): before it the data hold only the
    clocks of stays that lasted, and their few breaches read as a rise (the demo's chart began in 2003, eight
    years of thin bars before its window opened in 2011); the table beside it keeps every month."""
    if d.table.empty:
        return {"none": "no breaches of this rule yet"}
    import plotly.graph_objects as go

    from cscflow import disclosure
    from cscflow.practices.reviews import CAUSES

    t = disclosure.numeric(d.table)
    if since is not None:
        t = t[t["month"] >= pd.Timestamp(since).strftime("%Y-%m")]
        if t.empty:
            return {"none": f"no breaches of this rule due since the data's window opened ({pd.Timestamp(since).date()})"}
    if not (t[["unreviewed", *CAUSES]].fillna(0).to_numpy() > 0).any():
        return {"none": "every month's count of breaches is under 5 or withheld: see the table (or turn suppression "
                        "off for internal use)"}
    fig = go.Figure()
    fig.add_trace(go.Bar(x=t["month"], y=t["unreviewed"], name="not reviewed",
                         marker={"color": "#bbbbbb", "pattern": {"shape": "/", "fgcolor": "#666666"}}))
    for cause, colour in zip(CAUSES, CAUSE_COLOURS, strict=True):
        if t[cause].fillna(0).sum() > 0:
            fig.add_trace(go.Bar(x=t["month"], y=t[cause], name=cause.replace("_", " "), marker={"color": colour}))
    fig.update_layout(barmode="stack", template="simple_white", legend={"title": {"text": "reviewed: cause"}},
                      title={"text": f"{rule}: breaches by month due, reviewed by cause and not reviewed"
                                     + (f" (from {pd.Timestamp(since):%B %Y}, the data's window)" if since is not None else "")},
                      yaxis={"title": "breaches"}, xaxis={"title": "month due", "type": "category"})
    return {"figure": json.loads(d.annotate(fig).to_json())}


@router.get("/api/practices/{rule}/breaches")
def breaches(
    request: Request,
    rule: str = Path(..., max_length=40, pattern=r"^[\w-]+$"),
    as_of: str | None = Query(None, pattern=_DATE),
    show: str = Query("all", pattern="^(all|reviewed|unreviewed)$"),
) -> dict[str, Any]:
    """The rule's breached and overdue clocks at ``as_of`` with their review, latest due first: the list a breach
    is marked reviewed from. Child-level, for the LA's own use; notes and actions only to a client on this
    machine."""
    from cscflow.practices import reviews as rev
    from cscflow.practices.summary import window_text

    _rule_or_422(request, rule, as_of)
    clocks = _clocks(request, as_of)
    notes = is_local(request)
    st = state(request)
    b = rev.breaches(clocks[clocks["rule"] == rule], rev.load(st.ws), notes=notes)
    if show != "all":
        b = b[(b["cause"] != "") == (show == "reviewed")]
    shown = b.head(BREACHES_SHOWN).reset_index(drop=True)
    d = _disclose(shown, "practices-breaches", suppress=False, window=window_text(clocks),
                  method=f"Clocks of {rule} stopped late (breached) or still running past their due date (overdue) "
                         f"at {clocks.attrs['as_of']}, with their review; the latest due first.")
    d.notes.append("Child-level list for the LA's own use: pseudonymised ids only; do not publish.")
    if not notes:
        d.notes.append("Notes and actions are shown only on the machine that holds the workspace.")
    from cscflow.practices.reviews import CAUSES

    return {"rule": rule, "as_of": str(clocks.attrs["as_of"]), "columns": [str(c) for c in d.table.columns],
            "rows": records(d.table), "header": d.header, "truncated": len(b) > BREACHES_SHOWN,
            "notes_shown": notes, "causes": CAUSES}


class Review(BaseModel):
    """One breach marked reviewed from the Timescales page."""

    child_id: str = Field(min_length=1, max_length=200)
    start: str = Field(pattern=_DATE)
    cause: str = Field(min_length=1, max_length=40)
    note: str = Field("", max_length=2000)
    action: str = Field("", max_length=2000)


@router.post("/api/practices/{rule}/reviews")
def review(request: Request, body: Review, rule: str = Path(..., max_length=40, pattern=r"^[\w-]+$")) -> dict[str, Any]:
    """Mark one breach reviewed (stored in the workspace by :func:`cscflow.practices.reviews.mark`, as ``cscflow
    practices --review`` does); only from this machine."""
    local_only(request, "reviews of breaches hold free-text notes and are stored in the workspace")
    from cscflow.practices import reviews as rev

    st = state(request)
    with st.lock:
        done = rev.mark(st.ws, rule, body.child_id, body.start, body.cause, body.note, body.action)
    return {"stored": done}


@router.get("/api/practices/{rule}/due-soon.csv")
def due_soon_csv(
    request: Request,
    rule: str = Path(..., max_length=40, pattern=r"^[\w-]+$"),
    as_of: str | None = Query(None, pattern=_DATE),
) -> Response:
    """The due-soon list of one rule as CSV, its header as ``# `` lines."""
    _rule_or_422(request, rule, as_of)
    _, d = _due_soon(request, rule, as_of)
    return Response(d.csv(), media_type="text/csv",
                    headers={"content-disposition": f'attachment; filename="cscflow_{rule}_due_soon.csv"'})


__all__ = ["router"]
