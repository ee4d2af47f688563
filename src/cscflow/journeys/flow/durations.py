"""Time in and between stations, in calendar and working days, with open stays censored.

Quartiles and medians are Kaplan-Meier quantiles: the smallest time t with S(t) <= 1 - q, where
S(t) = prod over event times t_i <= t of (1 - d_i / n_i). Open stays count as censored at the data's
end date, not dropped (dropping them would make long stays look short). When S never falls that
low, the quantile is not reached (NaN). Lifelines' ``median_survival_time_`` gives the same values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

from cscflow.journeys.flow.common import DateLike, _setup, days_between, in_period, lit, with_next
from cscflow.journeys.maps import EXIT_ZONE, ProcessMap
from cscflow.journeys.timeline import data_end, timelines
from cscflow.workspace.calendar import calendar_frame, with_working_days

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

QUANTILES = (0.25, 0.5, 0.75)


def km_quantiles(times: np.ndarray, events: np.ndarray, weights: np.ndarray | None = None,
                 qs: tuple[float, ...] = QUANTILES) -> list[float]:
    """Kaplan-Meier quantiles of durations ``times`` (``events`` True = ended, False = censored).

    ``weights`` counts rows sharing a (time, event) pair.

    >>> km_quantiles(np.array([1.0, 2, 3, 4]), np.array([True, True, True, False]))
    [1.0, 2.0, 3.0]
    """
    times = np.asarray(times, dtype="float64")
    events = np.asarray(events, dtype=bool)
    w = np.ones_like(times) if weights is None else np.asarray(weights, dtype="float64")
    known = ~np.isnan(times)  # a duration not known (no working-day count) is no one at risk
    if not known.all():
        times, events, w = times[known], events[known], w[known]
    if times.size == 0:
        return [float("nan")] * len(qs)
    uniq, inv = np.unique(times, return_inverse=True)  # sorted distinct times (numpy: pandas' groupby cost more)
    total = np.bincount(inv, weights=w, minlength=uniq.size)
    deaths = np.bincount(inv, weights=np.where(events, w, 0.0), minlength=uniq.size)
    at_risk = total[::-1].cumsum()[::-1]
    surv = np.cumprod(1.0 - deaths / at_risk)
    out = []
    for q in qs:
        hit = np.nonzero(surv <= 1.0 - q + 1e-12)[0]
        out.append(float(uniq[hit[0]]) if hit.size else float("nan"))
    return out


def _calendar(ws: WorkspaceLike) -> ibis.Table:
    try:
        return ws.calendar()
    except Exception:  # a read-only workspace cannot store the calendar: use it in memory
        return ibis.memtable(calendar_frame())


def durations(
    ws: WorkspaceLike, pmap: ProcessMap | str = "england", start: DateLike = None, end: DateLike = None,
    where: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Time in each station and between directly-following stations.

    Columns: kind ("in" or "between"), source, target (None for "in"), unit ("calendar" or "working"),
    n, ended, open, q1, median, q3. "in": stays starting in the period, open ones censored at the
    data's end date. "between": from entering source to entering the next station (always observed).
    Working days count the working days after the first date up to the second (England bank holidays).
    """
    pmap = _setup(ws, pmap)
    last = lit(data_end(ws))
    exits = set(pmap.exit_ids)
    tl = with_next(timelines(ws, pmap, where))
    tl = tl.filter(in_period(tl.start, start, end) & (tl.kind == "stay"))
    stay = tl.mutate(kind_=ibis.literal("in"), target=ibis.null("string"), until=tl.end.fill_null(last).cast("timestamp"),
                     ended=tl.end.notnull())
    step = tl.filter(tl.next_station.notnull())
    step = step.mutate(kind_=ibis.literal("between"), target=step.next_station, until=step.next_start.cast("timestamp"),
                       ended=ibis.literal(True))
    cols = ["kind_", "station", "target", "start", "until", "ended"]
    both = stay.select(*cols).union(step.select(*cols), distinct=False)
    both = both.mutate(days=days_between(both.until, both.start))
    both = with_working_days(both, _calendar(ws), "start", "until", name="wdays")
    agg = both.group_by(["kind_", "station", "target", "ended", "days", "wdays"]).aggregate(n=both.count())
    df = ws.execute(agg)
    rows = []
    for (kind, source, target), g in df.groupby(["kind_", "station", "target"], dropna=False, sort=False):
        if source in exits:
            continue
        for unit, col in (("calendar", "days"), ("working", "wdays")):
            q = km_quantiles(g[col].to_numpy(dtype="float64"), g["ended"].to_numpy(dtype=bool), g["n"].to_numpy())
            n = int(g["n"].sum())
            ended = int(g.loc[g["ended"], "n"].sum())
            rows.append({"kind": kind, "source": source, "target": None if pd.isna(target) else target,
                         "unit": unit, "n": n, "ended": ended, "open": n - ended,
                         "q1": q[0], "median": q[1], "q3": q[2]})
    out = pd.DataFrame(rows, columns=["kind", "source", "target", "unit", "n", "ended", "open", "q1", "median", "q3"])
    order = {s: i for i, s in enumerate(pmap.station_ids)}
    out = out.assign(_k=out["kind"].map({"in": 0, "between": 1}), _s=out["source"].map(order),
                     _t=out["target"].map(order).fillna(-1))
    out = out.sort_values(["_k", "_s", "_t", "unit"], kind="stable").drop(columns=["_k", "_s", "_t"])
    return out.reset_index(drop=True)


__all__ = ["EXIT_ZONE", "durations", "km_quantiles"]
