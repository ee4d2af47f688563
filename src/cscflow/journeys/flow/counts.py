"""Children at stations on a date, station counts, conversion and the open caseload per day (see :mod:`.flow`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from cscflow.errors import AnalysisError
from cscflow.journeys.flow.common import DateLike, _setup, in_period, lit, to_timestamp, with_next
from cscflow.journeys.maps import ProcessMap
from cscflow.journeys.timeline import data_end, data_start, timelines

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

OPEN, NONE = "(open)", "(none)"


# -- children at stations ---------------------------------------------------------------------------
def stations_on(ws: WorkspaceLike, pmap: ProcessMap | str, date: DateLike, where: dict[str, Any] | None = None) -> pd.DataFrame:
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


def _order(df: pd.DataFrame, pmap: ProcessMap, col: str = "station") -> pd.DataFrame:
    order = {s: i for i, s in enumerate(pmap.station_ids)}
    return df.assign(_o=df[col].map(order)).sort_values(["_o"], kind="stable").drop(columns="_o")


def stations(
    ws: WorkspaceLike, pmap: ProcessMap | str = "england", start: DateLike = None, end: DateLike = None,
    where: dict[str, Any] | None = None, on: DateLike = None,
) -> pd.DataFrame:
    """Per station: entered (stays starting in the period), children_entered, left (stays ending in it)
    and open (children there on ``on``: default the period's end, else the data's end date).

    Columns: station, label, zone, entered, children_entered, left, open, open_on.
    """
    pmap = _setup(ws, pmap)
    tl = timelines(ws, pmap, where)
    ent = tl.filter(in_period(tl.start, start, end))
    entered = ws.execute(ent.group_by("station").aggregate(entered=ent.count(), children_entered=ent.child_id.nunique()))
    lf = tl.filter(tl.end.notnull() & in_period(tl.end, start, end))
    left = ws.execute(lf.group_by("station").aggregate(left=lf.count()))
    day = to_timestamp(on) or to_timestamp(end) or data_end(ws)
    now = stations_on(ws, pmap, day, where).rename(columns={"children": "open"})
    out = pd.DataFrame([{k: s[k] for k in ("id", "label", "zone")} for s in pmap.stations]).rename(
        columns={"id": "station"}
    )
    for part in (entered, left, now):
        out = out.merge(part, on="station", how="left")
    for c in ("entered", "children_entered", "left", "open"):
        out[c] = out[c].fillna(0).astype("int64")
    out["open_on"] = pd.Timestamp(day).date().isoformat()
    return out.reset_index(drop=True)


def conversion(
    ws: WorkspaceLike, pmap: ProcessMap | str = "england", start: DateLike = None, end: DateLike = None,
    where: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Where stays at each station went next: columns source, target, n, of, rate.

    For stays starting in the period: ``target`` is the next row's station, "(open)" when the stay
    is still open, "(none)" when it ended with nothing after; ``of`` counts the source's stays.
    """
    pmap = _setup(ws, pmap)
    t = with_next(timelines(ws, pmap, where))
    t = t.filter(in_period(t.start, start, end) & (t.kind == "stay"))
    target = ibis.cases((t.next_station.notnull(), t.next_station), (t.end.isnull(), OPEN), else_=NONE)
    t = t.mutate(target=target)
    agg = t.group_by([t.station.name("source"), "target"]).aggregate(n=t.count())
    out = ws.execute(agg)
    out["n"] = out["n"].astype("int64")
    out["of"] = out.groupby("source")["n"].transform("sum").astype("int64")
    out["rate"] = out["n"] / out["of"]
    out = _order(out.sort_values(["n", "target"], ascending=[False, True], kind="stable"), pmap, "source")
    return out[["source", "target", "n", "of", "rate"]].reset_index(drop=True)


def caseload(
    ws: WorkspaceLike, pmap: ProcessMap | str = "england", start: DateLike = None, end: DateLike = None,
    where: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Children at each station on every day of the period (default: the data's span).

    Columns: date, station, children (zeros included). The same rule as
    :func:`cscflow.journeys.flow.stations_on`, computed for all days at once in the engine.
    """
    pmap = _setup(ws, pmap)
    first = (to_timestamp(start, "--from") or data_start(ws)).normalize()
    last = (to_timestamp(end, "--to") or data_end(ws)).normalize()
    after = last + pd.Timedelta(days=1)
    tl = timelines(ws, pmap, where)
    s_day = tl.start.truncate("D")
    e_day = tl.end.truncate("D")
    one = ibis.interval(days=1)
    e_excl = ibis.cases(
        (tl.end.isnull(), lit(after)), (e_day > s_day, e_day), else_=s_day + one
    )
    t = tl.select("child_id", "station", s=s_day, e=ibis.least(e_excl, lit(after)))
    t = t.filter((t.s <= lit(last)) & (t.e > lit(first)))
    # A child counts once per station per day: each stay (ordered by start) adds only the days after the
    # latest end of the child's earlier stays there. These new parts are disjoint and cover the union.
    w = ibis.window(group_by=[t.child_id, t.station], order_by=[t.s, t.e], rows=(None, -1))
    t = t.mutate(prev=t.e.max().over(w))
    t = t.filter(t.prev.isnull() | (t.e > t.prev))
    t = t.mutate(s=ibis.greatest(t.s, t.prev.fill_null(t.s), lit(first)))
    plus = t.select("station", day=t.s, delta=ibis.literal(1))
    minus = t.filter(t.e <= lit(last)).select("station", day=t.e, delta=ibis.literal(-1))
    deltas = plus.union(minus, distinct=False)
    deltas = deltas.group_by(["station", "day"]).aggregate(delta=deltas.delta.sum())
    out = ws.execute(deltas)
    days = pd.date_range(first, last, freq="D")
    grid = pd.MultiIndex.from_product([pmap.station_ids, days], names=["station", "date"])
    out["date"] = pd.to_datetime(out["day"])
    series = out.set_index(["station", "date"])["delta"].reindex(grid, fill_value=0)
    counts = series.groupby(level="station", sort=False).cumsum().astype("int64")
    res = counts.rename("children").reset_index()
    res["date"] = res["date"].dt.date
    return res.sort_values(["date", "station"], key=lambda c: c.map({s: i for i, s in enumerate(pmap.station_ids)})
                           if c.name == "station" else c, kind="stable")[["date", "station", "children"]].reset_index(drop=True)
