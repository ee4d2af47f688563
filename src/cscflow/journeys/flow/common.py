"""Helpers shared by the flow tables: dates, periods, durations, the next row."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, TypeAlias

import ibis
import pandas as pd

from cscflow.errors import AnalysisError
from cscflow.journeys.maps import ProcessMap, load_map

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

DateLike: TypeAlias = str | _dt.date | _dt.datetime | pd.Timestamp | None
MS_PER_DAY = 86_400_000



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
    """The timeline with the next row's station and start (``next_station``, ``next_start``).

    Timelines carry them already (the next row of the whole timeline, so a cohort filter keeps the
    transitions out of the rows it keeps); other tables get them computed here.
    """
    if "next_station" in tl.columns and "next_start" in tl.columns:
        return tl
    w = ibis.window(group_by=tl.child_id, order_by=tl.seq)
    return tl.mutate(next_station=tl.station.lead().over(w), next_start=tl.start.lead().over(w))


def _setup(ws: WorkspaceLike, pmap: ProcessMap | str) -> ProcessMap:
    return load_map(pmap, ws)
