"""Where the data start, for measures that look back in time (re-referrals within 12 or 36 months,
second or subsequent CP plans, previous referrals).

A referral is only visible from the date its source starts holding every referral: an Annex A
list from its first month, a CIN census from the start of its first collection year, an LA
extract from the date its history was cut. Before that date a source holds only the stays that
lasted (episodes of need still open at the cut): a thin, length-biased tail. So the *data start*
of a stage is not its earliest date but the first month from which a source's monthly count of
stays reaches 60% of its level in the source's latest year, three months in a row
(:func:`source_starts`; a source with fewer than 30 stays in a typical month starts at its first
month). The stage's data start is the earliest over its sources
(:func:`visible_from`); an explicit ``data_start`` (argument, or the workspace setting
``data_start``) overrides the estimate.

A measure whose look-back window (``start - months``) reaches before the data start is
*incomplete*: it can only be too low (:func:`lookback_complete`).

>>> lookback_complete(pd.Series(pd.to_datetime(["2015-03-31", "2015-04-01"])), 12,
...                   pd.Timestamp("2014-04-01")).tolist()
[False, True]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cscflow.errors import AnalysisError

#: a month opens a source's full coverage when it and the next two months each hold at least this
#: share of a typical month of the source's latest year (a demand trend of 4% a year leaves a month
#: seven years back at 0.76 of it)
LEVEL = 0.6
#: below this many stays in a typical month the first month is taken (a month of a Poisson count
#: of 30 falls under 60% of it about once in a hundred)
MIN_TYPICAL = 30


def _coverage_start(months: pd.Series) -> pd.Timestamp:
    """The first month (index: month starts, values: counts, gaps filled with 0) that opens three
    months in a row each holding at least ``LEVEL`` of the median month of the last 12 (the
    source's latest year, always held in full)."""
    typical = float(np.median(months.to_numpy()[-12:]))
    if typical < MIN_TYPICAL:  # too few stays a month to tell a thin tail from chance: the first month
        return pd.Timestamp(months.index[0])
    ok = (months >= LEVEL * typical).astype(float)
    run = ok[::-1].rolling(3, min_periods=1).min()[::-1]
    return pd.Timestamp(months.index[int(np.argmax(run.to_numpy() > 0))])


def source_starts(ws: Any, stage: str | None = None) -> pd.DataFrame:
    """Per source (of the sources holding ``stage``, or all): source, first (earliest start of any
    stay), start (first month of full coverage, the 1st of a month, see the module's docstring,
    read from all the source's stays: a source's window does not depend on the stage), last
    (latest start), stays."""
    ep = ws.table("episodes")
    t = ep
    if stage is not None:
        t = t.filter(t.source.isin(ep.filter(ep.stage == stage).select("source").distinct().source))
    agg = t.group_by([t.source, t.start.truncate("M").name("month")]).aggregate(
        n=t.count(), first=t.start.min(), last=t.start.max())
    df = ws.execute(agg)
    rows = []
    for src, g in df.groupby("source", dropna=False):
        counts = g.set_index(pd.to_datetime(g["month"]))["n"].sort_index()
        full = counts.reindex(pd.date_range(counts.index.min(), counts.index.max(), freq="MS"), fill_value=0)
        rows.append({"source": src, "first": pd.Timestamp(g["first"].min()), "start": _coverage_start(full),
                     "last": pd.Timestamp(g["last"].max()), "stays": int(g["n"].sum())})
    return pd.DataFrame(rows, columns=["source", "first", "start", "last", "stays"])


def visible_from(ws: Any, stage: str = "referral", data_start: Any = None) -> pd.Timestamp:
    """The data start of ``stage``: ``data_start`` when given, else the workspace setting
    ``data_start`` (a date, or a mapping stage -> date), else the earliest full-coverage start
    of the sources holding the stage."""
    given = data_start if data_start is not None else ws.settings.get("data_start")
    if isinstance(given, dict):
        given = given.get(stage)
    if given is not None:
        try:
            return pd.Timestamp(given)
        except (TypeError, ValueError) as exc:
            raise AnalysisError(f"data start {given!r} is not a date", hint="give it as YYYY-MM-DD") from exc
    starts = source_starts(ws, stage)
    if starts.empty:
        raise AnalysisError(f"no {stage} stays in workspace {ws.path}", hint="load data that hold them first")
    return pd.Timestamp(starts["start"].min())


def lookback_complete(starts: pd.Series, months: int | None, since: pd.Timestamp,
                      birth: pd.Series | None = None) -> pd.Series:
    """True where the window ``[start - months, start)`` lies inside the data (begins on or after
    ``since``). ``months=None`` is a look-back over the child's whole life: complete only for
    children born on or after ``since`` (``birth``; unknown birth: incomplete)."""
    starts = pd.to_datetime(starts)
    if months is None:
        if birth is None:
            return pd.Series(False, index=starts.index)
        return (pd.to_datetime(birth) >= since).fillna(False).astype(bool)
    back = starts.dt.normalize() - pd.DateOffset(months=months)
    return (back >= since).astype(bool)


def year_complete(fy_start: int, months: int | None, since: pd.Timestamp) -> bool:
    """Whether every start in the financial year beginning 1 April ``fy_start`` has a complete
    ``months`` look-back (whole-life look-backs, ``None``, are never complete by year)."""
    if months is None:
        return False
    return pd.Timestamp(fy_start, 4, 1) - pd.DateOffset(months=months) >= since


def method_note(stage: str, since: pd.Timestamp, what: str = "") -> str:
    """One sentence naming the data start behind a look-back measure."""
    lead = f"{what}: " if what else ""
    return (f"{lead}{stage} stays are taken to be held in full from {since.date()} (the data start); "
            "rows whose look-back reaches before it are marked incomplete (complete = False) and left "
            "out of totals and trends, since earlier stays cannot be seen and the rate is too low.")


__all__ = ["lookback_complete", "method_note", "source_starts", "visible_from", "year_complete"]
