"""Flow analytics on the state timelines: tidy tables, filterable by period and cohort.

Every table is ``<table>(ws, pmap, start=None, end=None, where=None, ...) -> pandas.DataFrame``;
``start``/``end`` are dates (inclusive) and ``where`` the cohort filters of
:mod:`cscflow.journeys.filters`. The work runs as Ibis expressions on the workspace engine; only the
small aggregated result comes back. Map-based tables (stations, conversion, durations, dfg, variants,
caseload) read :func:`cscflow.journeys.timelines`; the sector tables (rereferrals, nfa_by_prior,
s47_outcomes, before_after) read the canonical stages of ``episodes``.

Durations between rows are start-to-start ("time from entering A to entering B"), in days
(fractions kept, so event logs with times of day work).

>>> import tempfile, pandas as pd
>>> from cscflow import Workspace
>>> ws = Workspace(tempfile.mkdtemp(), la="999")
>>> _ = ws.write("episodes", pd.DataFrame({"episode_id": ["1", "2"], "child_id": ["c", "c"],
...     "stage": ["contact", "referral"], "start": pd.to_datetime(["2024-01-02", "2024-01-03"]),
...     "end": pd.to_datetime(["2024-01-02", None]), "outcome": ["referral", None],
...     "need_id": [None, "n1"], "source": "x", "source_row": [1, 2]}))
>>> dfg(ws, "england")[["source", "target", "transitions", "mean_days"]].values.tolist()
[['contact', 'referral', 1, 1.0]]
>>> stations_on(ws, "england", "2024-01-05").values.tolist()
[['referral', 1]]
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import ibis
import pandas as pd

from cscflow.errors import AnalysisError
from cscflow.journeys.maps import ProcessMap, load_map
from cscflow.journeys.timeline import timelines

DateLike = str | _dt.date | _dt.datetime | pd.Timestamp | None
MS_PER_DAY = 86_400_000

__all__ = [
    "before_after", "caseload", "conversion", "dfg", "durations", "nfa_by_prior", "rereferrals",
    "s47_outcomes", "stations", "stations_on", "variants", "TABLES",
]


def to_timestamp(value: DateLike, what: str = "date") -> pd.Timestamp | None:
    """A date argument as a Timestamp (None stays None); bad text gives a clear error."""
    if value is None or value == "":
        return None
    try:
        return pd.Timestamp(value)
    except (ValueError, TypeError):
        raise AnalysisError(f"{what} {value!r} is not a date", hint="write dates as YYYY-MM-DD") from None


def lit(ts: pd.Timestamp) -> ibis.Value:
    return ibis.literal(ts.to_pydatetime(), type="timestamp")


def in_period(col: ibis.Value, start: DateLike, end: DateLike) -> ibis.Value:
    """``col`` within [start, end] (dates inclusive: ``end`` counts to the end of its day)."""
    s, e = to_timestamp(start, "--from"), to_timestamp(end, "--to")
    cond = ibis.literal(True)
    if s is not None:
        cond = cond & (col >= lit(s))
    if e is not None:
        cond = cond & (col < lit(e.normalize() + pd.Timedelta(days=1)))
    return cond


def days_between(later: ibis.Value, earlier: ibis.Value) -> ibis.Value:
    """Days (fractional, to the millisecond) from ``earlier`` to ``later``."""
    return later.delta(earlier, unit="millisecond") / MS_PER_DAY


def with_next(tl: ibis.Table) -> ibis.Table:
    """The timeline with the next row's station and start (``next_station``, ``next_start``)."""
    w = ibis.window(group_by=tl.child_id, order_by=tl.seq)
    return tl.mutate(next_station=tl.station.lead().over(w), next_start=tl.start.lead().over(w))


def _setup(ws: Any, pmap: ProcessMap | str) -> ProcessMap:
    return load_map(pmap, ws)


# -- children at stations ---------------------------------------------------------------------------
def stations_on(ws: Any, pmap: ProcessMap | str, date: DateLike, where: dict[str, Any] | None = None) -> pd.DataFrame:
    """Children at each station on ``date`` (day level): columns station, children (stations with none left out).

    A child is at S on day d when a stay at S has start date <= d and (end null or d < end date),
    or starts and ends on day d.
    """
    pmap = _setup(ws, pmap)
    d = to_timestamp(date)
    if d is None:
        raise AnalysisError("stations_on needs a date", hint="give a date as YYYY-MM-DD")
    tl = timelines(ws, pmap, where)
    day, nxt = lit(d.normalize()), lit(d.normalize() + pd.Timedelta(days=1))
    s_day, e_day = tl.start.truncate("D"), tl.end.truncate("D")
    here = (s_day <= day) & (tl.end.isnull() | (e_day > day) | (s_day == day))
    here = here & (tl.start < nxt)
    t = tl.filter(here)
    out = ws.execute(t.group_by("station").aggregate(children=t.child_id.nunique()))
    order = {s: i for i, s in enumerate(pmap.station_ids)}
    out = out.assign(_o=out["station"].map(order)).sort_values("_o").drop(columns="_o").reset_index(drop=True)
    out["children"] = out["children"].astype("int64")
    return out


# -- directly-follows graph and variants -------------------------------------------------------------
def dfg_expr(tl: ibis.Table, start: DateLike = None, end: DateLike = None) -> ibis.Table:
    """The directly-follows graph of timeline ``tl`` as an Ibis table (see :func:`dfg`)."""
    t = with_next(tl)
    t = t.filter(t.next_station.notnull() & in_period(t.next_start, start, end))
    t = t.mutate(days=days_between(t.next_start, t.start))
    return t.group_by([t.station.name("source"), t.next_station.name("target")]).aggregate(
        transitions=t.count(), cases=t.child_id.nunique(), mean_days=t.days.mean(), median_days=t.days.median()
    )


def dfg(
    ws: Any, pmap: ProcessMap | str = "england", start: DateLike = None, end: DateLike = None,
    where: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """The directly-follows graph: columns source, target, transitions, cases, mean_days, median_days.

    Each pair of consecutive timeline rows of a child (ordered by ``seq``: start, then source order)
    is one transition; ``cases`` counts children; days run from the source's start to the target's
    start (the median interpolates, as pandas does). ``start``/``end`` keep transitions whose target
    starts in the period; ``where`` keeps children's rows matching the cohort (before pairing).
    """
    pmap = _setup(ws, pmap)
    out = ws.execute(dfg_expr(timelines(ws, pmap, where), start, end))
    out = out.sort_values(["transitions", "source", "target"], ascending=[False, True, True], kind="stable")
    out = out.reset_index(drop=True)
    for c in ("transitions", "cases"):
        out[c] = out[c].astype("int64")
    return out[["source", "target", "transitions", "cases", "mean_days", "median_days"]]


def variants_expr(tl: ibis.Table, start: DateLike = None, end: DateLike = None, sep: str = " > ") -> ibis.Table:
    """Each child's path (station ids joined by ``sep`` in ``seq`` order) as an Ibis table (child_id, variant)."""
    t = tl.filter(in_period(tl.start, start, end))
    return t.group_by("child_id").aggregate(
        variant=t.station.group_concat(sep, order_by=t.seq), length=t.count()
    )


def variants(
    ws: Any, pmap: ProcessMap | str = "england", start: DateLike = None, end: DateLike = None,
    where: dict[str, Any] | None = None, top: int | None = None,
) -> pd.DataFrame:
    """Paths through the map and how many children took each: columns rank, variant, length, cases, share.

    A child's path is its timeline rows starting in the period (all rows by default), in order;
    ``share`` is cases / children with a path. ``top`` keeps the most common paths.
    """
    pmap = _setup(ws, pmap)
    v = variants_expr(timelines(ws, pmap, where), start, end)
    agg = v.group_by(["variant", "length"]).aggregate(cases=v.count())
    out = ws.execute(agg)
    total = out["cases"].sum()
    out = out.sort_values(["cases", "variant"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out["cases"] = out["cases"].astype("int64")
    out["length"] = out["length"].astype("int64")
    out["share"] = out["cases"] / total if total else 0.0
    out.insert(0, "rank", range(1, len(out) + 1))
    return out.head(top) if top else out


from cscflow.journeys.flow_counts import caseload, conversion, stations  # noqa: E402
from cscflow.journeys.flow_csc import before_after, nfa_by_prior, rereferrals, s47_outcomes  # noqa: E402
from cscflow.journeys.flow_durations import durations  # noqa: E402

#: CLI table name -> function
TABLES = {
    "stations": stations, "conversion": conversion, "durations": durations, "dfg": dfg, "variants": variants,
    "caseload": caseload, "rereferrals": rereferrals, "nfa-by-prior": nfa_by_prior,
    "s47-outcomes": s47_outcomes, "before-after": before_after,
}
