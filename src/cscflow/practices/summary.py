"""Clocks summed by month and by team, the due-soon list, and the team funnel (small pandas results).

A clock is *due* in the month of its due date. Every clock due on or before the as-of date is
decided: ``met``, or ``late`` (stopped late, or still running past its due date: ``overdue``, a
part of ``late``). ``breach_rate = late / due``. Clocks not yet due are left out of the rates (they
are the ``open`` clocks of the due-soon list).

>>> import pandas as pd
>>> c = pd.DataFrame({"rule": ["r"] * 3, "child_id": list("abc"), "team": [None, "N", "N"],
...                   "start": pd.to_datetime(["2024-01-02"] * 3), "due": pd.to_datetime(["2024-01-20"] * 3),
...                   "stop": pd.to_datetime(["2024-01-10", "2024-01-25", None]),
...                   "working_days": [6, 17, 20], "status": ["met", "breached", "overdue"]})
>>> by_period(c, "team")[["team", "due", "met", "late", "overdue"]].values.tolist()
[['(not recorded)', 1, 1, 0, 0], ['N', 2, 0, 2, 1]]
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from cscflow.analytics.funnel import FunnelPlot
from cscflow.errors import AnalysisError
from cscflow.model.calendar import add_working_days

NO_TEAM = "(not recorded)"
SUMMARY_COLUMNS = ["due", "met", "late", "overdue", "breach_rate"]


def _decided(clocks: pd.DataFrame) -> pd.DataFrame:
    """The clocks due by the as-of date (``attrs["as_of"]``: one due later and met early would make its month
    look all on time), of those started in the data's window (``attrs["window_start"]``, set by
    :func:`~cscflow.practices.clocks.evaluate`: earlier ones are the tail of stays that lasted)."""
    c = clocks[clocks["status"].isin(["met", "breached", "overdue"])]
    since, as_of = clocks.attrs.get("window_start"), clocks.attrs.get("as_of")
    if since is not None and len(c):
        c = c[pd.to_datetime(c["start"]) >= pd.Timestamp(since)]
    if as_of is not None and len(c):  # a clock met early but due after the as-of date is not decided yet: its
        c = c[pd.to_datetime(c["due"]) <= pd.Timestamp(as_of)]  # month's late ones are still running
    c = c.copy()
    c["late"] = c["status"].isin(["breached", "overdue"]).astype("int64")
    c["is_met"] = (c["status"] == "met").astype("int64")
    c["is_overdue"] = (c["status"] == "overdue").astype("int64")
    return c


def by_period(clocks: pd.DataFrame, by: str = "month") -> pd.DataFrame:
    """Per rule and month of the due date (``by="month"``) or team (``by="team"``): clocks ``due``,
    ``met``, ``late`` (of which ``overdue``) and ``breach_rate``."""
    if by not in ("month", "team"):
        raise AnalysisError(f"cannot sum clocks by {by!r}", hint="use month or team")
    c = _decided(clocks)
    if by == "month":
        c["month"] = pd.to_datetime(c["due"]).dt.strftime("%Y-%m")
    else:
        c["team"] = c["team"].fillna(NO_TEAM)
    g = c.groupby(["rule", by], sort=True)
    out = pd.DataFrame({"due": g.size(), "met": g["is_met"].sum(), "late": g["late"].sum(),
                        "overdue": g["is_overdue"].sum()}).reset_index()
    for col in ("due", "met", "late", "overdue"):
        out[col] = out[col].astype("int64")
    out["breach_rate"] = (out["late"] / out["due"]).round(4)
    return out


def due_soon(clocks: pd.DataFrame, as_of: Any, days: int = 5) -> pd.DataFrame:
    """The clocks still running: overdue, or due within ``days`` working days after ``as_of``; most
    urgent first, with ``working_days_left`` (negative when overdue)."""
    day = pd.Timestamp(as_of).normalize()
    horizon = pd.Timestamp(add_working_days(day.date(), days)[0])
    run = clocks[clocks["status"].isin(["open", "overdue"])].copy()
    run = run[(run["status"] == "overdue") | (pd.to_datetime(run["due"]) <= horizon)]
    if run.empty:
        return run.assign(working_days_left=pd.Series(dtype="int64"))
    from cscflow.model.calendar import working_days

    left = working_days(np.full(len(run), day.date()), pd.to_datetime(run["due"]).dt.date.to_numpy())
    run["working_days_left"] = left.astype("int64")
    return run.sort_values(["working_days_left", "rule", "child_id"]).reset_index(drop=True)


def team_funnel(clocks: pd.DataFrame, rule: str, overdispersion: str | None = "auto") -> FunnelPlot:
    """Funnel plot of the teams on the breach rate of ``rule`` (late of the clocks due), the pooled rate
    as target, exact binomial limits (:class:`~cscflow.analytics.funnel.FunnelPlot`)."""
    t = by_period(clocks[clocks["rule"] == rule], "team")
    t = t[(t["due"] > 0) & (t["team"] != NO_TEAM)]
    if t.empty:
        raise AnalysisError(f"no clocks of {rule!r} with a team are due yet",
                            hint="load data that name teams (Annex A), or pick another rule")
    fp = FunnelPlot("proportion", overdispersion=overdispersion, target_name="teams' pooled", unit_name="teams")
    return fp.fit(t["late"].to_numpy(), t["due"].to_numpy(), labels=t["team"].tolist())


def window_text(clocks: pd.DataFrame) -> str:
    """The data window sentence of a clocks table (its as-of date and the span of the starts)."""
    as_of = clocks.attrs.get("as_of")
    if clocks.empty:
        return f"as of {as_of}; no clocks."
    starts = pd.to_datetime(clocks["start"])
    first, last = starts.min(), starts.max()
    text = f"clocks started {first.date()} to {last.date()}, evaluated as of {as_of}"
    since = clocks.attrs.get("window_start")
    early = int((starts < pd.Timestamp(since)).sum()) if since is not None else 0
    if early:
        text += (f"; rates count clocks started from {pd.Timestamp(since).date()} (the data's window: earlier clocks "
                 "are held only because their stays lasted, so they are left out of the rates)")
    return text + "."


def disclose(table: pd.DataFrame, name: str, *, suppress: bool = True, method: str = "", window: str = "") -> Any:
    """:func:`cscflow.disclosure.disclose`, with an empty table passed through as it is (nothing to hide;
    the cell protection does not take empty tables)."""
    from cscflow import disclosure

    if table.empty:
        return disclosure.Disclosed(name, table.copy(), suppress, method, window)
    return disclosure.disclose(table, name, suppress=suppress, method=method, window=window)


def as_date(value: Any) -> dt.date:
    """A date from text or a timestamp."""
    day: dt.date = pd.Timestamp(value).date()
    return day


__all__ = ["NO_TEAM", "SUMMARY_COLUMNS", "as_date", "by_period", "disclose", "due_soon", "team_funnel",
           "window_text"]
